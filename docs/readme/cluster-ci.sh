# PostgreSQL and Redis for test/store/postgres.test.ts and test/cluster/*.test.ts (issue 6).
# Without them those tests are skipped (visibly), so CI must make sure both are up.
# The Redis restart test starts a private redis-server of its own on a free port: the binary must exist.
if ! command -v pg_ctlcluster >/dev/null || ! command -v redis-server >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
for i in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
# A fresh Debian install asks for a password over TCP: the tests connect without one.
if ! psql -h 127.0.0.1 -U postgres -Atc 'select 1' >/dev/null 2>&1; then
  sed -i '1i host all all 127.0.0.1/32 trust' "$(ls /etc/postgresql/*/main/pg_hba.conf | head -1)"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main reload
fi
# The tests connect as postgres@127.0.0.1:5432 (trust auth on this machine kind); elsewhere set
# TEST_POSTGRES_URL (a server where that role may CREATE DATABASE) and TEST_REDIS_URL.
# Each test file creates its own database switchboard_test_<random> and drops it; Redis keys live
# under a prefix of their own (sbtest:<database>:*) and are deleted at the end.
