import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';

const SCENARIOS = join(import.meta.dirname, '..', 'scenarios');

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
}

describe('hazwatch simulate', () => {
  let broker: TestBroker;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hazwatch-sim-'));
    // The command provisions into <data-dir>/registry.db, the registry this broker reads.
    broker = await startTestBroker({ registryPath: join(dir, 'registry.db') });
  });
  afterAll(async () => {
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a scenario at 120× and writes its expected alarms, then the rejections it provoked', async () => {
    const out = sink();
    const expected = join(dir, 'expected.json');
    const code = await main(
      ['simulate', '--data-dir', dir, '--log-level', 'silent', '--url', broker.url, '--scenario', join(SCENARIOS, 'demo.yaml'), '--speed', '120', '--expected', expected],
      { out: out.stream, err: out.stream },
    );
    expect(code, out.text()).toBe(0);
    expect(out.text()).toMatch(/scenario demo: 2\d expected alarms written to/);
    expect(out.text()).toMatch(/simulation stopped by duration/);
    expect(out.text()).toMatch(/rejected {4}0/); // nobody runs ingest here: the broker itself refused nothing
    const doc = JSON.parse(readFileSync(expected, 'utf8'));
    expect(doc).toMatchObject({ scenario: 'demo', speed: 120, exhaustive: true });
    expect(doc.alarms).toHaveLength(22);
    expect(doc.alarms[0]).toEqual(
      expect.objectContaining({ enterprise: 'demo-chem', condition: expect.stringMatching(/^HW_ALM_/), level: expect.any(Number), deadline: expect.any(Number), deadlineIso: expect.any(String) }),
    );
    expect(doc.simulatedEnd).toBeLessThanOrEqual(Date.now());
    expect(doc.rejections.map((r: { code: string }) => r.code)).toEqual(
      expect.arrayContaining(['HW_ERR_BAD_JSON', 'HW_ERR_NOT_FINITE', 'HW_ERR_RANGE', 'HW_ERR_UNKNOWN_METRIC', 'HW_ERR_BATCH_TOO_LARGE', 'HW_ERR_UNKNOWN_EVENT']),
    );
    // The vessel's process limits were registered for the rules engine to read.
    expect(broker.registry.device('demo-chem', 'tank-101')?.meta.limits).toMatchObject({ level: { HH: 10.8, H: 9.6, L: 2.4, LL: 1.2 } });
  });

  it('provisions a mix once into a credentials file, then reuses it; stops by its budget', async () => {
    const creds = join(dir, 'creds.json');
    const args = ['simulate', '--data-dir', dir, '--log-level', 'silent', '--url', broker.url, '--enterprises', '2', '--devices', '5', '--mix', 'gas_combustible=2,vessel=1', '--rate', '2', '--budget', '30', '--credentials', creds];
    const first = sink();
    expect(await main(args, { out: first.stream, err: first.stream }), first.text()).toBe(0);
    expect(first.text()).toMatch(/stopped by budget/);
    expect(first.text()).toMatch(/30 sent, 30 acknowledged/);
    expect(existsSync(creds)).toBe(true);
    expect(statSync(creds).mode & 0o077).toBe(0);
    const file = JSON.parse(readFileSync(creds, 'utf8'));
    expect(file.devices).toHaveLength(10);
    expect(file.devices[0]).toEqual(expect.objectContaining({ enterprise: 'sim-e001', class: expect.any(String), username: expect.stringMatching(/^sim-e001\//), password: expect.any(String) }));
    const second = sink();
    expect(await main(args, { out: second.stream, err: second.stream }), second.text()).toBe(0);
    expect(second.text()).toMatch(/10 connected/);
  });

  it('refuses wrong settings with HW_ERR_CONFIG naming the setting', async () => {
    const out = sink();
    expect(await main(['simulate', '--data-dir', dir, '--mix', 'lava_lamp=3'], { out: out.stream, err: out.stream })).toBe(2);
    expect(out.text()).toMatch(/HW_ERR_CONFIG.*simulate\.mix/s);
    const out2 = sink();
    expect(await main(['simulate', '--data-dir', dir, '--duration', 'soon'], { out: out2.stream, err: out2.stream })).toBe(2);
    expect(out2.text()).toMatch(/simulate\.duration/);
    const out3 = sink();
    expect(await main(['simulate', '--data-dir', dir, '--log-level', 'silent', '--url', broker.url, '--speed', '60'], { out: out3.stream, err: out3.stream })).toBe(1);
    expect(out3.text()).toMatch(/needs --duration/);
    const out4 = sink();
    expect(await main(['simulate', '--data-dir', dir, '--log-level', 'silent', '--scenario', join(dir, 'nope.yaml')], { out: out4.stream, err: out4.stream })).toBe(1);
    expect(out4.text()).toMatch(/HW_ERR_CONFIG: cannot read scenario/);
  });
});
