// Starts the real servers the integration tests use, unless they are already given:
// InfluxDB 1.x (Debian's influxd) on a free loopback port with its data in a temporary directory.
// HAZWATCH_TEST_INFLUX_URL points the tests at a server that is already running instead.
import { ownInflux, type OwnInflux } from './support/influxd.ts';

let influx: OwnInflux | undefined;

export async function setup(): Promise<void> {
  if (process.env.HAZWATCH_TEST_INFLUX_URL) return;
  influx = await ownInflux();
  await influx.start();
  process.env.HAZWATCH_TEST_INFLUX_URL = influx.url;
}

export async function teardown(): Promise<void> {
  await influx?.remove();
}
