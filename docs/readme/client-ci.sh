# CI lines for the client, page and example tests (run as root before `npm test`).
# Chromium drives the browser tests (test/browser); python3-websockets runs the seed's Python example.
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium python3 python3-websockets
test -x /usr/bin/chromium
