#!/bin/sh
# Install Debian's Chromium for the review app's browser tests when it is missing and apt-get can
# install it (as root, or with passwordless sudo). Never fails: without a browser those tests
# skip and say why. Used by the README's test command (and so by .ci/run).
[ -x /usr/bin/chromium ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: no apt-get here; the browser tests will skip" >&2
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "ensure-chromium: not root and no passwordless sudo; the browser tests will skip" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "ensure-chromium: installing the Debian package chromium (for the browser tests)" >&2
$SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null 2>&1 \
         && $SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; } \
    || echo "ensure-chromium: apt-get could not install chromium; the browser tests will skip" >&2
exit 0
