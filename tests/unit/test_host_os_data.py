"""Per-OS data of the host layer (Docker's repository, driver packages), checked as data:
Docker's and NVIDIA's repositories are not reachable from the test machines."""

from pathlib import Path

import pytest
import yaml

from conftest import ROOT

ROLES = ROOT / "collections" / "ansible_collections" / "openpai" / "cluster" / "roles"
SUPPORTED = {"Debian-12": ("debian", "bookworm"), "Ubuntu-20.04": ("ubuntu", "focal"),
             "Ubuntu-22.04": ("ubuntu", "jammy"), "Ubuntu-24.04": ("ubuntu", "noble")}


def load(path):
    return yaml.safe_load(Path(path).read_text())


@pytest.mark.parametrize("os_name", sorted(SUPPORTED))
def test_docker_repository_per_os(os_name):
    data = load(ROLES / "docker" / "vars" / (os_name + ".yml"))
    defaults = load(ROLES / "docker" / "defaults" / "main.yml")
    os_path, suite = SUPPORTED[os_name]
    assert (data["docker_repo_os"], data["docker_repo_suite"]) == (os_path, suite)
    # What the deb822 task builds: <base>/<os> with suite/channel, key <base>/<os>/gpg.
    uri = "%s/%s" % (defaults["docker_repo_base_url"], data["docker_repo_os"])
    assert uri == "https://download.docker.com/linux/" + os_path
    assert defaults["docker_repo_channel"] == "stable"
    assert data["docker_repo_packages"] == ["docker-ce", "docker-ce-cli", "containerd.io"]
    assert data["docker_distribution_packages"] == ["docker.io"]


@pytest.mark.parametrize("os_name", sorted(SUPPORTED))
def test_driver_packages_per_os(os_name):
    data = load(ROLES / "nvidia_driver" / "vars" / (os_name + ".yml"))
    if os_name.startswith("Ubuntu"):
        assert data["nvidia_driver_os_branch"] == "550"
        assert "nvidia-driver-{{ nvidia_driver_branch_effective }}-server" in data["nvidia_driver_packages"]
    else:
        assert data["nvidia_driver_os_branch"] == "535"
        assert {"nvidia-driver", "firmware-misc-nonfree"} <= set(data["nvidia_driver_packages"])
        assert data["nvidia_driver_debian_suites"] == ["bookworm", "bookworm-updates"]


def test_containerd_package_follows_docker_source():
    defaults = load(ROLES / "containerd" / "defaults" / "main.yml")
    assert "'containerd.io' if (docker_install_source" in defaults["containerd_package"]


def test_toolkit_repository_and_bundle_defaults():
    defaults = load(ROLES / "nvidia_container_toolkit" / "defaults" / "main.yml")
    assert defaults["nvidia_container_toolkit_repo_url"].startswith("https://nvidia.github.io/libnvidia-container/")
    assert defaults["nvidia_container_toolkit_bundle_binaries"] == [
        "nvidia-ctk", "nvidia-container-runtime", "nvidia-container-runtime-hook", "nvidia-cdi-hook"]
    build = (ROOT / "tools" / "nvidia" / "build-toolkit.sh").read_text()
    assert "v" + defaults["nvidia_container_toolkit_version"] in build


def test_every_role_default_is_documented():
    for role in ("common", "docker", "containerd", "nvidia_driver", "nvidia_container_toolkit"):
        defaults = load(ROLES / role / "defaults" / "main.yml")
        spec = load(ROLES / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
        assert set(defaults) <= set(spec), (role, sorted(set(defaults) - set(spec)))
