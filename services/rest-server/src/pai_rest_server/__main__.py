"""``pai-rest-server``: load the settings, then serve the API with uvicorn."""

from __future__ import annotations

import logging
import sys

import uvicorn

from .app import create_app
from .settings import SettingsError, load_settings


def main() -> int:
    """Run the server; exit 2 with one line per bad setting (no traceback)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"pai-rest-server: bad settings: {exc}", file=sys.stderr)
        return 2
    try:
        app = create_app(settings)
    except Exception as exc:  # noqa: BLE001 -- e.g. an unwritable database path: one line, not a traceback
        print(f"pai-rest-server: cannot start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", proxy_headers=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
