"""OpenPAI REST API v2 on Hadoop YARN."""

__version__ = "v1.8.0-yarn.0.1.0"
