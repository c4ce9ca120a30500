"""Real-browser tests (pytest-playwright, Debian chromium)."""
