// The device-command store behaves the same on SQLite and PostgreSQL: one open command per device, the
// device's answers applied once and in order, late and repeated answers kept but not applied, expiry
// of the unanswered and of the accepted-but-unfinished, and a history nobody can rewrite.
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';
import { openCommandStore, type NewCommand } from '../commands-store.ts';

const cmd = (id: string, over: Partial<NewCommand> = {}): NewCommand => ({
  id,
  enterprise: 'acme',
  device: 'sa-1',
  deviceClass: 'smoke_alarm',
  name: 'silence',
  args: {},
  requestedBy: 'op',
  requestedAt: 1000,
  expiresAt: 61_000,
  runSeconds: 30,
  ...over,
});

describe.each(BACKENDS)('command store on $name', (backend) => {
  const made: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((d) => d.drop()));
  });
  const fresh = async () => {
    const d = await backend.fresh('commands.db');
    made.push(d);
    return d;
  };

  it('records sent → accepted → done with every step, one open command per device', async () => {
    const db = await fresh();
    const store = await openCommandStore(db.target);
    try {
      const first = await store.create(cmd('cmd-aaaaaaaa1'));
      expect('command' in first && first.command).toMatchObject({ status: 'sent', requestedBy: 'op', steps: [{ status: 'sent', at: 1000, by: 'op', applied: true }] });
      // Another command to the same device waits; another device does not.
      expect(await store.create(cmd('cmd-aaaaaaaa2', { requestedAt: 1500 }))).toMatchObject({ busy: { id: 'cmd-aaaaaaaa1' } });
      expect(await store.create(cmd('cmd-bbbbbbbb1', { device: 'sa-2' }))).toHaveProperty('command');

      // A reply from another device naming this command is not taken.
      expect(await store.reply('acme', 'sa-2', { id: 'cmd-aaaaaaaa1', status: 'done' }, 2000)).toEqual({ outcome: 'unknown' });
      expect(await store.reply('acme', 'sa-1', { id: 'cmd-aaaaaaaa1', status: 'accepted', deviceTs: 1990 }, 2000)).toMatchObject({ outcome: 'applied', command: { status: 'accepted', finishBy: 32_000 } });
      // QoS 1 may deliver twice: the repeat is ignored and not recorded again.
      expect((await store.reply('acme', 'sa-1', { id: 'cmd-aaaaaaaa1', status: 'accepted' }, 2100)).outcome).toBe('ignored');
      const done = await store.reply('acme', 'sa-1', { id: 'cmd-aaaaaaaa1', status: 'done', message: 'sounder silenced' }, 3000);
      expect(done).toMatchObject({ outcome: 'applied', command: { status: 'done', message: 'sounder silenced' } });
      const got = (await store.get('cmd-aaaaaaaa1'))!;
      expect(got.steps!.map((s) => [s.status, s.at, s.by, s.deviceTs, s.applied])).toEqual([
        ['sent', 1000, 'op', null, true],
        ['accepted', 2000, 'device', 1990, true],
        ['done', 3000, 'device', null, true],
      ]);
      // Ended: the device may be sent the next one.
      expect(await store.create(cmd('cmd-aaaaaaaa3', { requestedAt: 4000, name: 'self_test' }))).toHaveProperty('command');
      expect((await store.list('acme', 'sa-1')).map((c) => [c.id, c.status])).toEqual([
        ['cmd-aaaaaaaa3', 'sent'],
        ['cmd-aaaaaaaa1', 'done'],
      ]);
    } finally {
      await store.close();
    }
  });

  it('expires the unanswered at expiresAt and the accepted at finishBy; a late answer is kept, not applied', async () => {
    const db = await fresh();
    const store = await openCommandStore(db.target);
    try {
      await store.create(cmd('cmd-cccccccc1'));
      await store.create(cmd('cmd-cccccccc2', { device: 'sa-2' }));
      await store.reply('acme', 'sa-2', { id: 'cmd-cccccccc2', status: 'accepted' }, 2000);
      // Accepted at 2000 with 30 s to finish: it must be done by 32 000, whatever its expiresAt.
      expect(await store.expire(31_999)).toEqual([]);
      expect((await store.expire(32_000)).map((c) => [c.id, c.status, c.message])).toEqual([['cmd-cccccccc2', 'expired', 'accepted, but no final answer from the device in time']]);
      // Sent and never answered: expired at its expiresAt.
      expect(await store.expire(60_999)).toEqual([]);
      expect((await store.expire(61_000)).map((c) => [c.id, c.status, c.message])).toEqual([['cmd-cccccccc1', 'expired', 'no answer from the device before the command expired']]);
      expect(await store.expire(100_000)).toEqual([]);
      const late = await store.reply('acme', 'sa-1', { id: 'cmd-cccccccc1', status: 'done' }, 62_000);
      expect(late).toMatchObject({ outcome: 'ignored', command: { status: 'expired' } });
      const c1 = (await store.get('cmd-cccccccc1'))!;
      expect(c1.steps!.map((s) => [s.status, s.by, s.applied])).toEqual([
        ['sent', 'op', true],
        ['expired', 'platform', true],
        ['done', 'device', false],
      ]);
      // Nobody rewrites the history.
      await expect(db.exec(`update command_steps set status = 'done'`)).rejects.toThrow(/append-only/);
      await expect(db.exec('delete from command_steps')).rejects.toThrow(/append-only/);
    } finally {
      await store.close();
    }
  });
});
