#!/bin/sh
# Wraps the influxdb image's entrypoint: refuses a retention below 30 days before anything starts,
# and on every start after the first re-applies the retention, the DBRP mapping and the v1 users,
# so that changing INFLUXDB_RETENTION or a password in .env takes effect on `docker compose up`.
set -eu
. "$(dirname "$0")/lib.sh"
hazwatch_check_retention "${INFLUXDB_RETENTION:-}" || exit 64
export DOCKER_INFLUXDB_INIT_RETENTION="$(hazwatch_retention_value "$INFLUXDB_RETENTION")"

if [ -f /var/lib/influxdb2/influxd.bolt ]; then
  # Already set up: the image skips its init scripts, so apply the settings once influxd answers.
  (
    i=0
    until influx ping --host http://localhost:8086 >/dev/null 2>&1; do
      i=$((i + 1))
      [ "$i" -lt 120 ] || { echo "hazwatch: influxd did not answer, settings not applied" >&2; exit 1; }
      sleep 1
    done
    hazwatch_ensure || echo "hazwatch: applying retention/DBRP/users failed" >&2
  ) &
fi
exec /entrypoint.sh "$@"
