// One-shot `init` (and `init-cluster`) service of docker-compose.yml: gives the platform services their
// MQTT accounts in the shared registry, with the passwords from .env, before the broker starts.
// Idempotent: run on every `docker compose up`, it re-sets the same passwords (a changed .env password
// takes effect). In the cluster profile (PARTITION_<n>_ENTERPRISES set) it also checks the database and
// Redis passwords and the partition map against the registry (deploy/partitions.ts); exit code 2 with
// every problem named stops the start of the brokers and everything after them.
import { loadConfig, registryTarget } from '../core/config.ts';
import { openRegistry } from '../registry/registry.ts';
import { checkPartitions, urlSecretError } from './partitions.ts';

const SERVICES = ['ingest', 'rules', 'api'] as const;
const cluster = Object.keys(process.env).some((k) => /^PARTITION_\d+_ENTERPRISES$/.test(k));

const fail = (message: string) => {
  console.error(`provision: ${message}`);
  process.exitCode = 2;
};

if (cluster) {
  for (const name of ['POSTGRES_PASSWORD', 'REDIS_PASSWORD']) {
    const error = urlSecretError(name, process.env[name]);
    if (error) fail(error);
  }
}

if (!process.exitCode) {
  const config = loadConfig();
  const registry = await openRegistry(registryTarget(config));
  try {
    for (const name of SERVICES) {
      const variable = `MQTT_${name.toUpperCase()}_PASSWORD`;
      const password = process.env[variable];
      if (!password || password.length < 16) {
        fail(`${variable} must be set to at least 16 characters (see .env.example)`);
        continue;
      }
      const creds = await registry.setService(name, password);
      console.log(`provision: MQTT account ${creds.username} ready`);
    }
    if (cluster) {
      const check = checkPartitions(process.env, registry.enterprises().map((e) => e.id));
      for (const error of check.errors) fail(error);
      for (const [n, list] of [...check.partitions].sort((a, b) => a[0] - b[0])) console.log(`provision: partition ${n}: ${list.join(', ')}`);
      if (check.unregistered.length) console.log(`provision: in a partition, not registered yet: ${check.unregistered.join(', ')}`);
    }
  } finally {
    await registry.close();
  }
}
