"""The browser tests (tests/browser) need a running portal: they are collected
only when PAI_PORTAL_URL names one (the whole-stack scenario sets it)."""

import os

collect_ignore = [] if os.environ.get("PAI_PORTAL_URL") else ["browser"]
