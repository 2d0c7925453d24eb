import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deviceDirectory, openRegistry } from '../registry.ts';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'hw-reg-')), 'registry.db');

describe('registry', () => {
  it('issues device credentials once and verifies them against the stored hash only', async () => {
    const reg = openRegistry(tmp());
    const creds = await reg.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible', site: 'north' });
    expect(creds.username).toBe('acme/gas-01');
    expect(await reg.verify(creds.username, creds.password)).toBe('ok');
    expect(await reg.verify(creds.username, creds.password + 'x')).toBe('bad');
    expect(await reg.verify('acme/nobody', 'x')).toBe('unknown');
    expect(JSON.stringify(reg.accounts())).not.toContain(creds.password);
    reg.revokeDevice('acme', 'gas-01');
    expect(await reg.verify(creds.username, creds.password)).toBe('revoked');
    reg.close();
  });

  it('refuses ids that would break topics and unknown classes', async () => {
    const reg = openRegistry(tmp());
    await expect(reg.addDevice({ enterprise: 'acme', id: 'a/b', class: 'oxygen' })).rejects.toThrow(/not a valid id/);
    await expect(reg.addDevice({ enterprise: 'ac+me', id: 'a', class: 'oxygen' })).rejects.toThrow(/not a valid id/);
    await expect(reg.addDevice({ enterprise: 'acme', id: 'a', class: 'toaster' as never })).rejects.toThrow(/unknown device class/);
    // Alarms about the platform itself live under this enterprise (rules/platform.ts).
    await expect(reg.addDevice({ enterprise: 'platform', id: 'a', class: 'oxygen' })).rejects.toThrow(/reserved/);
    expect(() => reg.addEnterprise('platform')).toThrow(/reserved/);
    reg.close();
  });

  it('lets another process see a change without restart', async () => {
    const path = tmp();
    const writer = openRegistry(path);
    const reader = openRegistry(path);
    let t = 0;
    const dir = deviceDirectory(reader, { checkMs: 1000, now: () => t });
    expect(dir.get('acme', 'o2-1')).toBeUndefined();
    await writer.addDevice({ enterprise: 'acme', id: 'o2-1', class: 'oxygen' });
    t += 1000;
    expect(dir.get('acme', 'o2-1')?.class).toBe('oxygen');
    writer.revokeDevice('acme', 'o2-1');
    t += 1000;
    expect(dir.get('acme', 'o2-1')).toBeUndefined();
    writer.close();
    reader.close();
  });

  it('registers a fleet in one transaction', async () => {
    const reg = openRegistry(tmp());
    const creds = await reg.addDevices(Array.from({ length: 50 }, (_, i) => ({ enterprise: `e${i % 5}`, id: `d${i}`, class: 'smoke_alarm' as const })));
    expect(creds).toHaveLength(50);
    expect(reg.devices()).toHaveLength(50);
    expect(reg.enterprises()).toHaveLength(5);
    expect(await reg.verify(creds[7].username, creds[7].password)).toBe('ok');
    reg.close();
  });
});
