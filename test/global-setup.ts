// Starts the real servers the integration tests use, unless they are already given: InfluxDB 1.x
// (Debian's influxd) and PostgreSQL (Debian's postgresql), each on a free loopback port with its data
// in a temporary directory. HAZWATCH_TEST_INFLUX_URL and HAZWATCH_TEST_POSTGRES_URL point the tests at
// servers that are already running instead.
import { ownInflux, type OwnInflux } from './support/influxd.ts';
import { ownPostgres, type OwnPostgres } from './support/postgres.ts';

let influx: OwnInflux | undefined;
let postgres: OwnPostgres | undefined;

export async function setup(): Promise<void> {
  await Promise.all([
    (async () => {
      if (process.env.HAZWATCH_TEST_INFLUX_URL) return;
      influx = await ownInflux();
      await influx.start();
      process.env.HAZWATCH_TEST_INFLUX_URL = influx.url;
    })(),
    (async () => {
      if (process.env.HAZWATCH_TEST_POSTGRES_URL) return;
      postgres = await ownPostgres();
      await postgres.start();
      process.env.HAZWATCH_TEST_POSTGRES_URL = postgres.url;
    })(),
  ]);
}

export async function teardown(): Promise<void> {
  await Promise.all([influx?.remove(), postgres?.remove()]);
}
