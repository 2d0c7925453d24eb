#!/bin/sh
# First start only (run by the influxdb image after its setup): InfluxQL database mapping (DBRP),
# the v1 users of the platform and of Grafana, and the retention, checked against the 30-day minimum.
set -eu
. /hazwatch/lib.sh
hazwatch_check_retention "$INFLUXDB_RETENTION"
hazwatch_ensure
