#!/bin/sh
# Shared by entrypoint.sh and init/10-hazwatch.sh (POSIX sh: the influxdb image's shell).
# hazwatch_retention_seconds <duration>: prints the duration in seconds, 0 for infinite; fails on
# anything InfluxDB would not take as one <number><unit> duration.
hazwatch_retention_seconds() {
  d=$1
  case "$d" in
    0 | infinite | INF | inf) echo 0; return 0 ;;
  esac
  n=$(printf '%s' "$d" | sed -n 's/^\([0-9][0-9]*\)\(s\|m\|h\|d\|w\)$/\1/p')
  u=$(printf '%s' "$d" | sed -n 's/^\([0-9][0-9]*\)\(s\|m\|h\|d\|w\)$/\2/p')
  [ -n "$n" ] || return 1
  case "$u" in
    s) m=1 ;; m) m=60 ;; h) m=3600 ;; d) m=86400 ;; w) m=604800 ;;
  esac
  echo $((n * m))
}

# Electronic records of major hazard monitoring are kept at least 30 days (shared/domain.md).
HAZWATCH_MIN_RETENTION_S=2592000

# hazwatch_check_retention <duration>: exits the caller's shell with a message when it is too short.
hazwatch_check_retention() {
  s=$(hazwatch_retention_seconds "$1") || {
    echo "hazwatch: INFLUXDB_RETENTION=$1 is not a duration like 30d, 720h, 5w, or infinite" >&2
    return 1
  }
  if [ "$s" -ne 0 ] && [ "$s" -lt "$HAZWATCH_MIN_RETENTION_S" ]; then
    echo "hazwatch: INFLUXDB_RETENTION=$1 is shorter than the 30 days the regulations require for monitoring records; refusing to start" >&2
    return 1
  fi
  return 0
}

# hazwatch_retention_value <duration>: the duration as the influx CLI takes it (0 = infinite).
hazwatch_retention_value() {
  if [ "$(hazwatch_retention_seconds "$1")" = 0 ]; then echo 0; else echo "$1"; fi
}

# hazwatch_ensure: DBRP mapping for InfluxQL, the v1 users, and the bucket retention; idempotent.
# Needs INFLUX_HOST (default http://localhost:8086), DOCKER_INFLUXDB_INIT_ADMIN_TOKEN, _ORG, _BUCKET.
hazwatch_ensure() {
  export INFLUX_TOKEN="$DOCKER_INFLUXDB_INIT_ADMIN_TOKEN" INFLUX_ORG="$DOCKER_INFLUXDB_INIT_ORG"
  export INFLUX_HOST="${INFLUX_HOST:-http://localhost:8086}"
  bucket_id=$(influx bucket list --name "$DOCKER_INFLUXDB_INIT_BUCKET" --hide-headers | awk '{print $1; exit}')
  [ -n "$bucket_id" ] || { echo "hazwatch: bucket $DOCKER_INFLUXDB_INIT_BUCKET not found" >&2; return 1; }
  influx bucket update --id "$bucket_id" --retention "$(hazwatch_retention_value "$INFLUXDB_RETENTION")" >/dev/null
  if ! influx v1 dbrp list --db "$INFLUXQL_DATABASE" --hide-headers | grep -q .; then
    influx v1 dbrp create --bucket-id "$bucket_id" --db "$INFLUXQL_DATABASE" --rp autogen --default >/dev/null
    echo "hazwatch: InfluxQL database $INFLUXQL_DATABASE mapped to bucket $DOCKER_INFLUXDB_INIT_BUCKET"
  fi
  hazwatch_v1_user "$PLATFORM_INFLUX_USER" "$PLATFORM_INFLUX_PASSWORD" "$bucket_id" --write-bucket "$bucket_id"
  hazwatch_v1_user "$GRAFANA_INFLUX_USER" "$GRAFANA_INFLUX_PASSWORD" "$bucket_id"
}

# hazwatch_v1_user <name> <password> <bucket-id> [extra permissions]: read access (and more), password kept current.
hazwatch_v1_user() {
  user=$1 password=$2 bucket=$3
  shift 3
  if influx v1 auth list --username "$user" --hide-headers | grep -q .; then
    influx v1 auth set-password --username "$user" --password "$password" >/dev/null
  else
    influx v1 auth create --username "$user" --password "$password" --read-bucket "$bucket" "$@" >/dev/null
    echo "hazwatch: v1 user $user created"
  fi
}
