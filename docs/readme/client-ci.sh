# CI lines for the client, page and example tests, in the style of .ci/run (uses its apt_install).
# Chromium drives test/browser/*.test.ts (playwright-core, /usr/bin/chromium); python3-websockets
# runs the seed's Python example in test/examples.test.ts (PyPI is not reachable; Debian's package is).
[ -x /usr/bin/chromium ] || apt_install chromium
/usr/bin/python3 -c 'import websockets' 2>/dev/null || apt_install python3 python3-websockets
