"""OpenPAI's web portal: the static page (``STATIC_DIR``) its image serves at pylon's ``/``."""

from pathlib import Path

__version__ = "0.1.0"
STATIC_DIR = Path(__file__).parent / "static"
ASSETS = ("index.html", "app.js", "lib.js", "style.css")
