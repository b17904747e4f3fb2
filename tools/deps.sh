#!/bin/sh
# deps.sh -- make sure the Debian packages a target needs are installed.
#
# Usage: sh tools/deps.sh build|test|fuzz
# As root, installs what is missing with apt-get; otherwise prints the one
# apt-get line needed and fails, so a newcomer knows exactly what to type.

set -u
case "${1:-build}" in
    build)   want="gcc make libc6-dev tcl8.6 tcl8.6-dev libssl-dev zlib1g-dev openssl" ;;
    test)    want="gcc make libc6-dev tcl8.6 tcl8.6-dev libssl-dev zlib1g-dev openssl
             python3-websockets valgrind" ;;
    fuzz)    want="clang libclang-rt-14-dev" ;;
    browser)
        # tests/browser.test: Debian's Chromium, and Node.js with npm to
        # install playwright-core (npm ci in tests/browser).  Commands count,
        # not packages: a Node.js from elsewhere (e.g. NodeSource, which
        # brings its own npm) is fine.
        want=""
        [ -x /usr/bin/chromium ] || want="$want chromium"
        command -v node >/dev/null 2>&1 || want="$want nodejs"
        command -v npm >/dev/null 2>&1 || want="$want npm"
        ;;
    *)       echo "deps.sh: unknown set \"$1\"" >&2; exit 2 ;;
esac

missing=""
for pkg in $want; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $pkg" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "nsws: missing Debian packages; run:" >&2
    echo "    sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "nsws: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing
