#!/bin/sh
# Install headless Chromium for the HTML report's browser test (tests/test_report_browser.py).
# Idempotent: does nothing when Chromium is already installed. Uses apt-get when run as root on
# Debian/Ubuntu; otherwise prints what to run. Exit 0 when Chromium is (now) available.
set -eu

found() {
    for name in chromium chromium-browser google-chrome google-chrome-stable; do
        if command -v "$name" >/dev/null 2>&1; then
            echo "install-browser: $(command -v "$name") is installed"
            return 0
        fi
    done
    return 1
}

if found; then
    exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: installing the Debian packages chromium and chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver
    found && exit 0
    echo "install-browser: apt-get finished but no chromium binary is on PATH" >&2
    exit 1
fi

cat <<'MSG'
install-browser: Chromium is not installed, and this script can only install it as root with
apt-get. Install it yourself, then re-run the tests:

    sudo apt-get update && sudo apt-get install -y chromium chromium-driver   # Debian/Ubuntu

or point $CHROMIUM at an existing Chromium or Chrome binary. Without it the browser test of the
HTML report is skipped (and says so).
MSG
exit 0
