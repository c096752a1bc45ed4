#!/usr/bin/env bash
# The system tools some tests need, installed when missing: Debian's chromium (the HTML report
# is checked in a real headless browser) and 7z (archives we write are read back by another
# zip implementation). Run by `make test`; the machines run as root with Debian's apt.
# Without root or apt it only says what is missing: those tests then skip locally and FAIL
# under CI=true (`require_tool` in tests/conftest.py, behind the `chromium` and `seven_zip`
# fixtures), so CI never passes without them.
# With --build it checks only what building the C extensions needs beyond gcc and Python's
# headers: zlib's headers (read/_imagehead.c inflates deflated image heads with zlib; without
# them that one extension is skipped and the test that it was built from the current source
# fails). The Makefile runs that before it builds .venv.
set -u
missing=()
if [ "${1:-}" = "--build" ]; then
    [ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
else
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v 7zz >/dev/null 2>&1 || command -v 7z >/dev/null 2>&1 || missing+=(7zip)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test tools: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || echo "could not install ${missing[*]}: the tests that need them will fail under CI=true" >&2
else
    echo "missing test tools: ${missing[*]} (apt-get install ${missing[*]} as root)" >&2
fi
exit 0
