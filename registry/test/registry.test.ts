import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';
import { deviceDirectory, openRegistry } from '../registry.ts';

describe.each(BACKENDS)('registry on $name', (backend) => {
  const made: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((d) => d.drop()));
  });
  const fresh = async () => {
    const d = await backend.fresh('registry.db');
    made.push(d);
    return d;
  };
  const tmp = async () => (await fresh()).target;

  it('issues device credentials once and verifies them against the stored hash only', async () => {
    const reg = await openRegistry(await tmp());
    const creds = await reg.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible', site: 'north' });
    expect(creds.username).toBe('acme/gas-01');
    expect(await reg.verify(creds.username, creds.password)).toBe('ok');
    expect(await reg.verify(creds.username, creds.password + 'x')).toBe('bad');
    expect(await reg.verify('acme/nobody', 'x')).toBe('unknown');
    expect(JSON.stringify(reg.accounts())).not.toContain(creds.password);
    await reg.revokeDevice('acme', 'gas-01');
    expect(await reg.verify(creds.username, creds.password)).toBe('revoked');
    await reg.close();
  });

  it('refuses ids that would break topics and unknown classes', async () => {
    const reg = await openRegistry(await tmp());
    await expect(reg.addDevice({ enterprise: 'acme', id: 'a/b', class: 'oxygen' })).rejects.toThrow(/not a valid id/);
    await expect(reg.addDevice({ enterprise: 'ac+me', id: 'a', class: 'oxygen' })).rejects.toThrow(/not a valid id/);
    await expect(reg.addDevice({ enterprise: 'acme', id: 'a', class: 'toaster' as never })).rejects.toThrow(/unknown device class/);
    // Alarms about the platform itself live under this enterprise (rules/platform.ts).
    await expect(reg.addDevice({ enterprise: 'platform', id: 'a', class: 'oxygen' })).rejects.toThrow(/reserved/);
    await expect(reg.addEnterprise('platform')).rejects.toThrow(/reserved/);
    await reg.close();
  });

  it('lets another process see a change without restart', async () => {
    const path = await tmp();
    const writer = await openRegistry(path);
    const reader = await openRegistry(path);
    let t = 0;
    const dir = deviceDirectory(reader, { checkMs: 1000, now: () => t });
    expect(dir.get('acme', 'o2-1')).toBeUndefined();
    await writer.addDevice({ enterprise: 'acme', id: 'o2-1', class: 'oxygen' });
    // The directory asks the registry to look for changes at most once per checkMs; the answer
    // arrives asynchronously, so the second lookup after the interval sees the device.
    t += 1000;
    dir.get('acme', 'o2-1');
    await reader.pollChanges();
    expect(dir.get('acme', 'o2-1')?.class).toBe('oxygen');
    await writer.revokeDevice('acme', 'o2-1');
    t += 1000;
    dir.get('acme', 'o2-1');
    await reader.pollChanges();
    expect(dir.get('acme', 'o2-1')).toBeUndefined();
    expect(reader.account('acme/o2-1')?.revokedAt).not.toBeNull();
    await writer.close();
    await reader.close();
  });

  it('keeps what each device promised and when it was last heard from; presence writes do not reload devices elsewhere', async () => {
    const path = await tmp();
    const writer = await openRegistry(path);
    const reader = await openRegistry(path);
    await writer.addDevice({ enterprise: 'acme', id: 'smk-1', class: 'smoke_alarm', intervalSeconds: 14_400, connection: { mode: 'intermittent', tolerance: 2 } });
    await writer.addDevice({ enterprise: 'acme', id: 'gas-1', class: 'gas_combustible' });
    expect(await reader.pollChanges()).toBe(true);
    expect(reader.device('acme', 'smk-1')).toMatchObject({ intervalSeconds: 14_400, connection: { mode: 'intermittent', tolerance: 2 } });
    expect(reader.device('acme', 'gas-1')?.connection).toBeNull();
    await expect(writer.addDevice({ enterprise: 'acme', id: 'x', class: 'oxygen', connection: { mode: 'sometimes' as never } })).rejects.toThrow(/connection: mode/);
    await expect(writer.addDevice({ enterprise: 'acme', id: 'x', class: 'oxygen', intervalSeconds: 0 })).rejects.toThrow(/reporting interval 0 s/);
    expect((await writer.updateDevice('acme', 'gas-1', { connection: { graceSeconds: 60 } }))?.connection).toEqual({ graceSeconds: 60 });
    expect(await reader.pollChanges()).toBe(true);

    // Rules writes its judgement every few seconds: readable by all, but not a change of devices.
    await writer.writePresence([{ enterprise: 'acme', device: 'smk-1', state: 'online', reason: null, heardAt: 1000, nextExpectedAt: 14_401_000, offlineAt: 28_801_000, updatedAt: 1000 }]);
    expect(await reader.pollChanges()).toBe(false);
    expect(await reader.presence('acme', 'smk-1')).toMatchObject({ state: 'online', heardAt: 1000 });
    // Not heard since a restart (heardAt null) keeps the time it was last heard.
    await writer.writePresence([{ enterprise: 'acme', device: 'smk-1', state: 'offline', reason: 'silent', heardAt: null, nextExpectedAt: 14_401_000, offlineAt: 28_801_000, updatedAt: 30_000_000 }]);
    expect(await reader.presence('acme', 'smk-1')).toMatchObject({ state: 'offline', reason: 'silent', heardAt: 1000 });
    expect((await reader.presences()).map((p) => p.device)).toEqual(['smk-1']);
    await writer.close();
    await reader.close();
  });

  it('writes a batch of presence records of any size, several rows a statement, each row its own values', async () => {
    const reg = await openRegistry(await tmp());
    // 123 = 2 x 50 + 2 x 10 + 3 x 1: every statement size, and the rows after a boundary.
    const record = (i: number, t: number) => ({
      enterprise: `e${i % 3}`, device: `d-${i}`, state: i % 2 ? ('online' as const) : ('offline' as const), reason: i % 2 ? null : `r${i}`,
      heardAt: (i + t / 1000) % 5 ? t + i : null, nextExpectedAt: t + 10_000 + i, offlineAt: t + 20_000 + i, updatedAt: t,
    });
    const first = Array.from({ length: 123 }, (_, i) => record(i, 1_000));
    await reg.writePresence(first);
    const key = (p: { enterprise: string; device: string }) => `${p.enterprise}/${p.device}`;
    const sorted = (l: typeof first) => [...l].sort((x, y) => key(x).localeCompare(key(y)));
    expect(sorted(await reg.presences())).toEqual(sorted(first));
    // The same devices again, one fewer: each row updated with its own values; null heardAt keeps the last.
    const second = Array.from({ length: 122 }, (_, i) => record(i, 5_000));
    await reg.writePresence(second);
    const expected = [...second.map((r, i) => ({ ...r, heardAt: r.heardAt ?? first[i].heardAt })), first[122]];
    expect(sorted(await reg.presences())).toEqual(sorted(expected));
    await reg.close();
  });

  it('adds the columns a registry written by an earlier version lacks', async () => {
    const db = await fresh();
    await db.exec(`create table enterprises (id text primary key, name text not null, created_at integer not null);
      create table devices (enterprise text not null references enterprises(id), id text not null, class text not null, name text not null default '',
        site text not null default '', hazard_source text, interval_s integer, meta text not null default '{}', created_at integer not null, revoked_at integer,
        primary key (enterprise, id));
      insert into enterprises values ('acme', 'Acme', 1);
      insert into devices (enterprise, id, class, interval_s, created_at) values ('acme', 'o2-1', 'oxygen', 5, 1);`);
    const reg = await openRegistry(db.target);
    expect(reg.device('acme', 'o2-1')).toMatchObject({ class: 'oxygen', intervalSeconds: 5, connection: null });
    expect((await reg.updateDevice('acme', 'o2-1', { connection: { mode: 'always', graceSeconds: 10 } }))?.connection).toEqual({ mode: 'always', graceSeconds: 10 });
    await reg.close();
  });

  it('registers a fleet in one transaction', async () => {
    const reg = await openRegistry(await tmp());
    const creds = await reg.addDevices(Array.from({ length: 50 }, (_, i) => ({ enterprise: `e${i % 5}`, id: `d${i}`, class: 'smoke_alarm' as const })));
    expect(creds).toHaveLength(50);
    expect(reg.devices()).toHaveLength(50);
    expect(reg.enterprises()).toHaveLength(5);
    expect(await reg.verify(creds[7].username, creds[7].password)).toBe('ok');
    await reg.close();
  });
});
