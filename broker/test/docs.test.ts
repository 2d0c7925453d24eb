// docs/protocol.md and docs/errors.md stay true: the mosquitto examples really run against a broker,
// the error examples match the schema, the tables match the catalog, errors.md is generated and current.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_CLASSES } from '../../contract/catalog.ts';
import { ERRORS, type ErrorCode } from '../../contract/errors.ts';
import { ErrorPayload } from '../../contract/payloads.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { examples, type Example } from '../../test/support/markdown.ts';
import { waitFor } from '../../test/support/net.ts';
import { ERRORS_DOC_PATH, renderErrorsDoc } from '../errors-doc.ts';
import { collect, connect, subscribe, type Received } from './helpers.ts';

const PROTOCOL = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

let tb: TestBroker;
let dir: string;
let env: NodeJS.ProcessEnv;
const background: { example: Example; child: ChildProcess; output: () => string }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hazwatch-doc-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  tb = await startTestBroker({ broker: { tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } } });
  const creds = await tb.registry.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible' });
  await tb.registry.addDevice({ enterprise: 'acme', id: 'gas-02', class: 'gas_combustible' });
  env = {
    PATH: process.env.PATH,
    HW_HOST: '127.0.0.1',
    HW_PORT: String(tb.port),
    HW_USER: creds.username,
    HW_PASS: creds.password,
    HW_TLS_PORT: String(tb.broker.tlsPort),
    HW_CAFILE: join(dir, 'cert.pem'),
  };
});

afterAll(async () => {
  for (const b of background) b.child.kill('SIGKILL');
  await tb?.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(code: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', code], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

function subscribedClients(): Set<string> {
  const clients = (tb.broker.aedes as unknown as { clients: Record<string, Client & { subscriptions: object }> }).clients;
  return new Set(Object.values(clients).filter((c) => Object.keys(c.subscriptions).length > 0).map((c) => c.id));
}

describe('docs/protocol.md', () => {
  it('every mosquitto example works as printed', async () => {
    const svc = await connect(tb.url, { ...tb.service, clientId: `${tb.service.clientId}:doc` });
    const seen: Received[] = collect(svc);
    await subscribe(svc, 'hw/v1/#');
    const runnable = examples(PROTOCOL).filter((e) => e.lang === 'sh' && !e.test.skip);
    expect(runnable.length).toBeGreaterThanOrEqual(10);
    const dropped: string[] = [];

    for (const example of runnable) {
      const where = `docs/protocol.md line ${example.line}`;
      if (example.test.background) {
        const before = subscribedClients();
        const child = spawn('bash', ['-c', example.code], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout?.on('data', (d) => (output += d));
        child.stderr?.on('data', (d) => (output += d));
        background.push({ example, child, output: () => output });
        // Wait until it has connected and subscribed, so that what follows reaches it.
        await waitFor(() => [...subscribedClients()].some((id) => !before.has(id)), 10_000).catch(() => {
          throw new Error(`${where}: did not subscribe: ${output}`);
        });
        continue;
      }
      const count = (topic: string) => seen.filter((m) => m.topic === topic && !m.retain).length;
      const deliversTo = typeof example.test.delivers === 'string' ? example.test.delivers : undefined;
      const before = deliversTo ? count(deliversTo) : 0;
      const { status, output } = await run(example.code);
      expect(status, `${where}: exit status; output: ${output}`).toBe(Number(example.test.exit ?? 0));
      if (typeof example.test.expect === 'string') expect(output, where).toContain(example.test.expect);
      if (deliversTo) {
        const publishes = (example.code.match(/mosquitto_pub/g) ?? []).length;
        await waitFor(() => count(deliversTo) >= before + publishes, 5000).catch(() => {
          throw new Error(`${where}: expected ${publishes} message(s) on ${deliversTo}, saw ${count(deliversTo) - before}`);
        });
      }
      if (typeof example.test.drops === 'string') dropped.push(example.test.drops);
    }

    for (const { example, output } of background) {
      if (typeof example.test.expect !== 'string') continue;
      await waitFor(() => output().includes(example.test.expect as string), 5000).catch(() => {
        throw new Error(`docs/protocol.md line ${example.line}: expected "${example.test.expect}" in: ${output()}`);
      });
    }
    for (const topic of dropped) expect(seen.filter((m) => m.topic === topic), `${topic} must not be delivered`).toEqual([]);
    await svc.endAsync();
  });

  it('shows a valid example of every error a device can receive', () => {
    const messages = examples(PROTOCOL)
      .filter((e) => e.lang === 'json')
      .flatMap((e) => e.code.split('\n').filter((l) => l.trim()))
      .map((l) => ErrorPayload.parse(JSON.parse(l)));
    const shown = new Set(messages.map((m) => m.code));
    const deviceVisible = (Object.keys(ERRORS) as ErrorCode[]).filter(
      (code) => ['message', 'value', 'warning'].includes(ERRORS[code].scope) || ['HW_ERR_ACL_PUBLISH', 'HW_ERR_ACL_SUBSCRIBE', 'HW_ERR_RATE_LIMIT'].includes(code),
    );
    expect(deviceVisible.filter((code) => !shown.has(code)), 'codes without an example in docs/protocol.md section 7').toEqual([]);
  });

  it('lists every metric with its catalog unit, the connection mode and every event type, for every class', () => {
    const rows = PROTOCOL.split('\n').filter((l) => l.startsWith('| '));
    const units = new Map<string, string>();
    const modes = new Map<string, string>();
    let cls = '';
    for (const row of rows) {
      const cells = row.split('|').slice(1, -1).map((c) => c.trim());
      if (cells.length !== 6) continue;
      const id = /^`(\w+)`/.exec(cells[0]);
      if (id) cls = id[1];
      if (id) modes.set(cls, cells[5]);
      const metric = /^`(\w+)`$/.exec(cells[1]);
      if (cls && metric) units.set(`${cls}.${metric[1]}`, cells[2]);
    }
    for (const [id, spec] of Object.entries(DEVICE_CLASSES)) {
      for (const [metric, m] of Object.entries(spec.metrics)) {
        const unit = units.get(`${id}.${metric}`);
        expect(unit, `${id}.${metric} missing from the units table`).toBeDefined();
        expect(unit!.startsWith(m.unit || 'true/false'), `${id}.${metric}: ${unit} vs ${m.unit}`).toBe(true);
      }
      expect(modes.get(id), `${id}: connection mode`).toBe(spec.connection.mode);
      const eventRow = rows.find((r) => r.split('|')[1]?.includes(`\`${id}\``) && r.includes('`heartbeat`'));
      expect(eventRow, `${id} missing from the event table`).toBeDefined();
      for (const event of spec.events) expect(eventRow, `${id}: ${event}`).toContain(`\`${event}\``);
    }
  });
});

describe('docs/errors.md', () => {
  it('is generated from the catalogs and current (npm run docs:errors)', () => {
    expect(readFileSync(ERRORS_DOC_PATH, 'utf8'), 'docs/errors.md is stale: run npm run docs:errors').toBe(renderErrorsDoc());
  });
});
