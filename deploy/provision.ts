// One-shot `init` service of docker-compose.yml: gives the platform services their MQTT accounts in
// the shared registry, with the passwords from .env, before the broker starts. Idempotent: run on
// every `docker compose up`, it re-sets the same passwords (a changed .env password takes effect).
import { loadConfig, registryTarget } from '../core/config.ts';
import { openRegistry } from '../registry/registry.ts';

const SERVICES = ['ingest', 'rules', 'api'] as const;

const config = loadConfig();
const registry = await openRegistry(registryTarget(config));
try {
  for (const name of SERVICES) {
    const variable = `MQTT_${name.toUpperCase()}_PASSWORD`;
    const password = process.env[variable];
    if (!password || password.length < 16) {
      console.error(`provision: ${variable} must be set to at least 16 characters (see .env.example)`);
      process.exitCode = 2;
      continue;
    }
    const creds = await registry.setService(name, password);
    console.log(`provision: MQTT account ${creds.username} ready`);
  }
} finally {
  await registry.close();
}
