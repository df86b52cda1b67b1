"""Browser tests: Debian's Chromium, driven by Playwright, against the app served by `python wsgi.py`."""
