// Credentials of simulated devices: registered in the registry (which returns each password once)
// or read from a credentials file written at an earlier run, so a fleet can run against a broker on
// another machine whose registry we cannot open.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { DEVICE_CLASS_IDS } from '../contract/catalog.ts';
import { HazwatchError } from '../contract/errors.ts';
export const CredentialsFile = z
    .object({
    devices: z.array(z
        .object({
        enterprise: z.string(),
        id: z.string(),
        class: z.enum(DEVICE_CLASS_IDS),
        username: z.string(),
        password: z.string(),
        clientId: z.string(),
    })
        .strict()),
})
    .strict();
export const deviceKey = (enterprise, id) => `${enterprise}/${id}`;
/** Registers the devices (with their meta: vessel limits etc.) and returns their credentials. */
export async function provisionDevices(registry, devices, chunk = 250) {
    const out = new Map();
    for (let i = 0; i < devices.length; i += chunk) {
        const part = devices.slice(i, i + chunk);
        const creds = await registry.addDevices(part.map((d) => ({ enterprise: d.enterprise, id: d.id, class: d.class, name: d.name ?? d.id, site: d.site ?? '', hazardSource: d.hazardSource ?? null, intervalSeconds: Math.max(1, Math.round(d.intervalSeconds)), meta: d.meta ?? {} })));
        part.forEach((d, j) => out.set(deviceKey(d.enterprise, d.id), creds[j]));
    }
    return out;
}
export function writeCredentialsFile(file, devices, creds) {
    const body = {
        devices: devices.map((d) => {
            const c = creds.get(deviceKey(d.enterprise, d.id));
            if (!c)
                throw new Error(`no credentials for ${deviceKey(d.enterprise, d.id)}`);
            return { enterprise: d.enterprise, id: d.id, class: d.class, ...c };
        }),
    };
    // Passwords: readable by the owner only.
    writeFileSync(file, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
}
export function readCredentialsFile(file) {
    if (!existsSync(file))
        throw new HazwatchError('HW_ERR_CONFIG', `credentials file ${file} does not exist`);
    let parsed;
    try {
        parsed = CredentialsFile.parse(JSON.parse(readFileSync(file, 'utf8')));
    }
    catch (err) {
        throw new HazwatchError('HW_ERR_CONFIG', `credentials file ${file} is invalid: ${err.message}`);
    }
    return new Map(parsed.devices.map((d) => [deviceKey(d.enterprise, d.id), { username: d.username, password: d.password, clientId: d.clientId }]));
}
