#!/usr/bin/env bash
# Set everything up and run the demo: the server with demo data on SQLite (API + console), and the
# tablet app signed in as tech1 when a display is available.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
HOST=${FIELDSYNC_HOST:-127.0.0.1}
PORT=${FIELDSYNC_PORT:-5000}
export FIELDSYNC_DATA_DIR="${FIELDSYNC_DATA_DIR:-$PWD/data}"
.venv/bin/fieldsync init-db
.venv/bin/fieldsync demo-data
URL="http://$HOST:$PORT"
.venv/bin/fieldsync serve --host "$HOST" --port "$PORT" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 50); do
  curl -fsS "$URL/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.2
done
echo
echo "fieldsync is running:"
echo "  API     $URL/api/v1/health   (OpenAPI: $URL/api/v1/openapi.json)"
echo "  console $URL/console/        (dispatcher1 / fieldsync-demo)"
if [ -f mobile/__main__.py ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  echo "  tablet  starting the Kivy app (tech1 / fieldsync-demo)"
  .venv/bin/python -m mobile --server "$URL" &
else
  echo "  tablet  no display here: run '.venv/bin/python -m mobile --server $URL' on a desktop"
fi
echo "Press Ctrl-C to stop."
wait $server
