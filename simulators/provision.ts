// Credentials of simulated devices: registered in the registry (which returns each password once)
// or read from a credentials file written at an earlier run, so a fleet can run against a broker on
// another machine whose registry we cannot open.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { DEVICE_CLASS_IDS, type DeviceClass } from '../contract/catalog.ts';
import { HazwatchError } from '../contract/errors.ts';
import type { Credentials, Registry } from '../registry/registry.ts';
import { vesselLimits } from './models/index.ts';
import type { SimDevice } from './simulation.ts';

/**
 * The meta a device is registered with: its own, plus the defaults its model runs with where the rules
 * engine reads them (a vessel's process limits, a toxic detector's exposure limit), so that the platform
 * judges the device by the same numbers it is simulated with.
 */
export function registryMeta(device: SimDevice): Record<string, unknown> {
  const meta = { ...(device.meta ?? {}) };
  if (device.class === 'vessel') meta.limits = vesselLimits(meta);
  if (device.class === 'gas_toxic' && typeof meta.exposureLimit !== 'number') meta.exposureLimit = 10;
  return meta;
}

export const CredentialsFile = z
  .object({
    devices: z.array(
      z
        .object({
          enterprise: z.string(),
          id: z.string(),
          class: z.enum(DEVICE_CLASS_IDS as [DeviceClass, ...DeviceClass[]]),
          username: z.string(),
          password: z.string(),
          clientId: z.string(),
        })
        .strict(),
    ),
  })
  .strict();
export type CredentialsFile = z.infer<typeof CredentialsFile>;

export const deviceKey = (enterprise: string, id: string) => `${enterprise}/${id}`;

/** Registers the devices (with their meta: vessel limits etc.) and returns their credentials. */
export async function provisionDevices(registry: Registry, devices: (SimDevice & { name?: string; site?: string; hazardSource?: string })[], chunk = 250): Promise<Map<string, Credentials>> {
  const out = new Map<string, Credentials>();
  for (let i = 0; i < devices.length; i += chunk) {
    const part = devices.slice(i, i + chunk);
    const creds = await registry.addDevices(
      part.map((d) => ({ enterprise: d.enterprise, id: d.id, class: d.class, name: d.name ?? d.id, site: d.site ?? '', hazardSource: d.hazardSource ?? null, intervalSeconds: Math.max(1, Math.round(d.intervalSeconds)), meta: registryMeta(d) })),
    );
    part.forEach((d, j) => out.set(deviceKey(d.enterprise, d.id), creds[j]));
  }
  return out;
}

export function writeCredentialsFile(file: string, devices: SimDevice[], creds: Map<string, Credentials>): void {
  const body: CredentialsFile = {
    devices: devices.map((d) => {
      const c = creds.get(deviceKey(d.enterprise, d.id));
      if (!c) throw new Error(`no credentials for ${deviceKey(d.enterprise, d.id)}`);
      return { enterprise: d.enterprise, id: d.id, class: d.class, ...c };
    }),
  };
  // Passwords: readable by the owner only.
  writeFileSync(file, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
}

export function readCredentialsFile(file: string): Map<string, Credentials> {
  if (!existsSync(file)) throw new HazwatchError('HW_ERR_CONFIG', `credentials file ${file} does not exist`);
  let parsed: CredentialsFile;
  try {
    parsed = CredentialsFile.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new HazwatchError('HW_ERR_CONFIG', `credentials file ${file} is invalid: ${(err as Error).message}`);
  }
  return new Map(parsed.devices.map((d) => [deviceKey(d.enterprise, d.id), { username: d.username, password: d.password, clientId: d.clientId }]));
}
