"""paictl config generate from an OpenPAI quick-start.yaml."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import FIXTURES, ROOT

SECRET = "quick-Start-Secret-9"


def test_generate_three_machines(tmp_path, paictl):
    out_dir = tmp_path / "inv"
    rc, out, err = paictl("config", "generate", "-i", FIXTURES / "quick-start.yaml", "-o", out_dir)
    assert rc == 0, err
    assert SECRET not in out + err
    hosts = yaml.safe_load((out_dir / "hosts.yml").read_text())["all"]["children"]
    assert list(hosts["kube_control_plane"]["hosts"]) == ["192.168.1.11"]
    assert list(hosts["pai_master"]["hosts"]) == ["192.168.1.11"]
    assert list(hosts["kube_node"]["hosts"]) == ["192.168.1.12", "192.168.1.13"]
    assert list(hosts["pai_worker"]["hosts"]) == ["192.168.1.12", "192.168.1.13"]
    main = yaml.safe_load((out_dir / "group_vars/all/main.yml").read_text())
    assert main["ansible_user"] == "pai" and main["ansible_port"] == 22
    assert main["openpai_service_cidr"] == "10.254.0.0/16" and main["openpai_dns_servers"] == ["192.168.1.1"]
    assert SECRET not in (out_dir / "hosts.yml").read_text() + (out_dir / "group_vars/all/main.yml").read_text()
    vault = out_dir / "group_vars/all/vault.yml"
    assert stat.S_IMODE(vault.stat().st_mode) == 0o600
    assert yaml.safe_load(vault.read_text())["ansible_password"] == SECRET
    rc, out, err = paictl("check", "-i", out_dir)
    assert rc == 0, out + err
    assert SECRET not in out + err


def test_generate_single_machine_is_all_four(tmp_path, paictl):
    src = tmp_path / "qs.yaml"
    src.write_text("machines: [10.20.0.5]\nssh-username: admin\nssh-keyfile-path: /home/admin/.ssh/id_ed25519\n")
    rc, out, err = paictl("config", "generate", "-i", src, "-o", tmp_path / "inv")
    assert rc == 0, err
    groups = yaml.safe_load((tmp_path / "inv/hosts.yml").read_text())["all"]["children"]
    assert all(list(groups[g]["hosts"]) == ["10.20.0.5"]
               for g in ("kube_control_plane", "kube_node", "pai_master", "pai_worker"))
    assert not (tmp_path / "inv/group_vars/all/vault.yml").exists()
    main = yaml.safe_load((tmp_path / "inv/group_vars/all/main.yml").read_text())
    assert main["ansible_ssh_private_key_file"] == "/home/admin/.ssh/id_ed25519"
    rc, out, err = paictl("check", "-i", tmp_path / "inv")
    assert rc == 0, out + err


def test_generate_refuses_to_overwrite(tmp_path, paictl):
    out_dir = tmp_path / "inv"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("mine")
    rc, out, err = paictl("config", "generate", "-i", FIXTURES / "quick-start.yaml", "-o", out_dir)
    assert rc == 2 and "--force" in err
    assert (out_dir / "keep.txt").read_text() == "mine"
    rc, out, err = paictl("config", "generate", "-i", FIXTURES / "quick-start.yaml", "-o", out_dir, "--force")
    assert rc == 0 and (out_dir / "hosts.yml").exists() and not (out_dir / "keep.txt").exists()


def test_vault_file_can_be_encrypted_and_used(tmp_path, paictl):
    out_dir = tmp_path / "inv"
    assert paictl("config", "generate", "-i", FIXTURES / "quick-start.yaml", "-o", out_dir)[0] == 0
    pw = tmp_path / "vault-pass"
    pw.write_text("correct horse battery staple\n")
    bindir = Path(sys.executable).parent
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    vault = out_dir / "group_vars/all/vault.yml"
    subprocess.run([str(bindir / "ansible-vault"), "encrypt", "--vault-password-file", str(pw), str(vault)],
                   check=True, env=env, capture_output=True)
    assert SECRET not in vault.read_text() and vault.read_text().startswith("$ANSIBLE_VAULT")
    assert stat.S_IMODE(vault.stat().st_mode) == 0o600
    res = subprocess.run([str(bindir / "ansible"), "192.168.1.12", "-i", str(out_dir), "-m", "ansible.builtin.debug",
                          "-a", "msg={{ ansible_password | length }}", "--vault-password-file", str(pw)],
                         env=env, capture_output=True, text=True, cwd=str(ROOT))
    assert res.returncode == 0, res.stdout + res.stderr
    assert '"msg": %d' % len(SECRET) in res.stdout or "msg: %d" % len(SECRET) in res.stdout, res.stdout
    assert SECRET not in res.stdout + res.stderr


def test_paictl_reads_an_encrypted_vault(tmp_path, paictl):
    out_dir = tmp_path / "inv"
    assert paictl("config", "generate", "-i", FIXTURES / "quick-start.yaml", "-o", out_dir)[0] == 0
    pw = tmp_path / "vault-pass"
    pw.write_text("s3cret-vault\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    subprocess.run([str(Path(sys.executable).parent / "ansible-vault"), "encrypt", "--vault-password-file", str(pw),
                    str(out_dir / "group_vars/all/vault.yml")], check=True, env=env, capture_output=True)
    rc, out, err = paictl("check", "-i", out_dir)
    assert rc == 2 and "give --vault-password-file FILE or --ask-vault-pass" in err and "Traceback" not in err
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    rc, out, err = paictl("check", "-i", out_dir, "--vault-password-file", wrong)
    assert rc == 2 and "Decryption failed" in err
    rc, out, err = paictl("check", "-i", out_dir, "--vault-password-file", pw)
    assert rc == 0 and "valid" in out
    rc, out, err = paictl("config", "render", "-i", out_dir, "-o", tmp_path / "r", "--vault-password-file", pw)
    assert rc == 0 and SECRET not in out + err
    assert not any(SECRET in p.read_text() for p in (tmp_path / "r").rglob("*") if p.is_file())
