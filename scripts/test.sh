#!/usr/bin/env bash
# Run every test: the whole suite on SQLite, then the server and end-to-end tests on PostgreSQL.
#   FIELDSYNC_TEST_DATABASE_URL  PostgreSQL server/database to test against (.ci/run sets it);
#                                without it, 127.0.0.1:5432 is tried, and the leg is skipped
#                                (with a message) when no PostgreSQL answers — except in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export SDL_VIDEODRIVER=offscreen KIVY_NO_ARGS=1 MESA_SHADER_CACHE_DISABLE=true
export KIVY_HOME="${KIVY_HOME:-$(mktemp -d)}"
PYTEST=(.venv/bin/python -m pytest -q -p no:cacheprovider)

echo "== ruff"
.venv/bin/ruff check .

echo "== tests on SQLite (tests marked postgres run in the PostgreSQL leg)"
env -u FIELDSYNC_TEST_DATABASE_URL "${PYTEST[@]}" -m "not postgres" "$@"

pg_url="${FIELDSYNC_TEST_DATABASE_URL:-}"
if [ -z "$pg_url" ]; then
  if .venv/bin/python - <<'PY' 2>/dev/null
import psycopg
psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=2).close()
PY
  then
    pg_url="postgresql://postgres@127.0.0.1:5432/test"
  elif [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL is not reachable and CI=true: the PostgreSQL leg cannot be skipped" >&2
    exit 1
  else
    echo "== PostgreSQL leg skipped: no PostgreSQL at 127.0.0.1:5432 (set FIELDSYNC_TEST_DATABASE_URL)"
    exit 0
  fi
fi
echo "== server and end-to-end tests on PostgreSQL"
FIELDSYNC_TEST_DATABASE_URL="$pg_url" "${PYTEST[@]}" tests/server tests/e2e "$@"
