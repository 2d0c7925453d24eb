// The leader election on both engines: exactly one of several candidates leads, another takes over
// when the leader closes or its process is killed, and a leader whose PostgreSQL connection is cut
// stands down before anyone else can lead.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { electLeader, type Leadership } from '../leader.ts';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await sleep(25);
  }
  return check();
}

interface Candidate {
  name: string;
  events: string[];
  leadership: Leadership;
}
const candidates: Candidate[] = [];
const databases: TestDatabase[] = [];
afterEach(async () => {
  for (const c of candidates.splice(0)) await c.leadership.close();
  for (const d of databases.splice(0)) await d.drop();
});

function candidate(target: string, name: string, role = 'publisher'): Candidate {
  const events: string[] = [];
  const c: Candidate = {
    name,
    events,
    leadership: electLeader(target, role, { retryMs: 100, onElected: () => void events.push('elected'), onDeposed: () => void events.push('deposed') }),
  };
  candidates.push(c);
  return c;
}
const leaders = () => candidates.filter((c) => c.leadership.leader);

describe.each(BACKENDS)('leader election on $name', (backend) => {
  it('elects exactly one of three candidates, and another when the leader closes', async () => {
    const db = await backend.fresh('alarms.db');
    databases.push(db);
    const all = [candidate(db.target, 'a'), candidate(db.target, 'b'), candidate(db.target, 'c')];
    await Promise.all(all.map((c) => c.leadership.decided));
    expect(await until(() => leaders().length === 1, 2000)).toBe(true);
    await sleep(400); // several retry periods: nobody else may take it meanwhile
    expect(leaders().length).toBe(1);
    const first = leaders()[0];
    await first.leadership.close();
    expect(first.events).toEqual(['elected', 'deposed']);
    candidates.splice(candidates.indexOf(first), 1);
    expect(await until(() => leaders().length === 1, 3000)).toBe(true);
    expect(leaders()[0]).not.toBe(first);
    // Different roles do not exclude each other.
    const other = candidate(db.target, 'd', 'another-role');
    expect(await until(() => other.leadership.leader, 2000)).toBe(true);
  });

  it('takes over from a leader whose process is killed', async () => {
    const db = await backend.fresh('alarms.db');
    databases.push(db);
    const script = `import { electLeader } from './core/leader.ts';
      electLeader(process.argv[1], 'publisher', { retryMs: 100, onElected: () => console.log('elected'), onDeposed: () => undefined });
      setInterval(() => undefined, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, db.target], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      expect(await until(() => out.includes('elected'), 20_000)).toBe(true);
      const local = candidate(db.target, 'local');
      await local.leadership.decided;
      await sleep(400);
      expect(local.leadership.leader).toBe(false);
      child.kill('SIGKILL');
      expect(await until(() => local.leadership.leader, 5000)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('leader election on PostgreSQL, connection cut', () => {
  it('stands down when its lock connection is terminated, and one leader follows', async () => {
    const db = await BACKENDS.find((b) => b.name === 'PostgreSQL')!.fresh();
    databases.push(db);
    const a = candidate(db.target, 'a');
    await a.leadership.decided;
    expect(a.leadership.leader).toBe(true);
    const b = candidate(db.target, 'b');
    await b.leadership.decided;
    expect(b.leadership.leader).toBe(false);
    // What a PostgreSQL restart or a network cut does to the holder's session.
    await db.exec(`select pg_terminate_backend(l.pid) from pg_locks l join pg_stat_activity a on a.pid = l.pid where l.locktype = 'advisory' and l.granted and a.datname = current_database() and a.application_name = 'hazwatch-leader-publisher'`);
    expect(await until(() => a.events.includes('deposed'), 3000)).toBe(true);
    expect(await until(() => leaders().length === 1, 3000)).toBe(true);
    await sleep(400);
    expect(leaders().length).toBe(1);
  });
});
