"""paictl: drive the openpai.cluster Ansible collection (ansible-runner underneath)."""

__version__ = "0.1.0"
