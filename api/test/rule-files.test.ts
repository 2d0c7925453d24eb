// Rule overrides through the API (issue 15): a device's thresholds beside the class's defaults from the
// standard; a candidate override checked as `hazwatch rules --check` checks it (the whole set with it in
// place; its scope must match); saved by supervisors and administrators only, into the rules directory,
// never when it does not pass; seen by an enterprise only for itself; removed; audited.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadRuleSet } from '../../rules/definitions.ts';
import { saveOverride } from '../rule-files.ts';
import { seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

let h: Harness;
let rulesDir: string;
const who: Record<string, Record<string, string>> = {};
const inject = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
  h.api.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

const GAS_OVERRIDE = `enterprise: acme
device: gas-1
rules:
  - id: lel_high
    stages:
      - { level: 2, raise: 20 }
      - { level: 1, raise: 40 }
`;
const FILE = 'device@acme@gas-1.yaml';

beforeAll(async () => {
  rulesDir = mkdtempSync(join(tmpdir(), 'hazwatch-rules-'));
  // An operator's own class-wide file, which the console shows but never rewrites.
  writeFileSync(join(rulesDir, 'site.yaml'), 'class: oxygen\nrules:\n  - id: o2_low\n    disabled: false\n');
  h = await startHarness({ config: { rules: { files: [rulesDir] } } });
  await seedPlant(h);
  who.admin = await login(h, ADMIN.username, ADMIN.password);
  for (const [username, role, enterprise] of [['sup', 'supervisor', null], ['op', 'operator', null], ['acme-user', 'enterprise', 'acme'], ['bravo-user', 'enterprise', 'bravo']] as const) {
    expect((await inject('POST', '/api/v1/accounts', who.admin, { username, password: `${username}-password-1`, role, enterprise })).statusCode).toBe(201);
    who[username] = await login(h, username, `${username}-password-1`);
  }
});

afterAll(async () => {
  await h?.close();
  rmSync(rulesDir, { recursive: true, force: true });
});

describe('rule overrides', () => {
  test("a device's thresholds in force beside the class's default and its standard", async () => {
    const res = await inject('GET', '/api/v1/enterprises/acme/devices/gas-1/rules', who.op);
    expect(res.statusCode).toBe(200);
    const lel = res.json().rules.find((r: { id: string }) => r.id === 'lel_high');
    expect(lel).toMatchObject({ metric: 'lel', direction: 'high', file: 'defaults' });
    expect(lel.stages.map((s: { level: number; raise: number; default: { raise: number } }) => [s.level, s.raise, s.default.raise])).toEqual([[2, 25, 25], [1, 50, 50]]);
    expect(lel.stages[0].default.source).toContain('GB/T 50493-2019');
    // A vessel's stages come from its own limits; its default refers to them.
    const tank = (await inject('GET', '/api/v1/enterprises/acme/devices/tank-1/rules', who.op)).json().rules.find((r: { id: string }) => r.id === 'level_high');
    expect(tank.stages.map((s: { raise: number; from: string; default: { from: string } }) => [s.raise, s.from, s.default.from])).toEqual([[8, 'limits.H', 'limits.H'], [9, 'limits.HH', 'limits.HH']]);
    // Another enterprise's device: refused, as every other route of the device.
    expect((await inject('GET', '/api/v1/enterprises/acme/devices/gas-1/rules', who['bravo-user'])).statusCode).toBe(403);
  });

  test('a candidate is checked as rules --check checks it, its scope included; nothing is written', async () => {
    const check = (headers: Record<string, string>, body: Record<string, unknown>) => inject('POST', '/api/v1/rules/check', headers, body);
    const ok = await check(who.op, { enterprise: 'acme', device: 'gas-1', text: GAS_OVERRIDE });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ ok: true, message: `rules ok: ${loadRuleSet([rulesDir]).files.length + 1} files (${join(rulesDir, 'site.yaml')}, ${join(rulesDir, FILE)})` });
    const wrongMetric = (await check(who.op, { enterprise: 'acme', device: 'gas-1', text: GAS_OVERRIDE.replace('- id: lel_high', '- id: lel_high\n    metric: ppm') })).json();
    expect(wrongMetric.ok).toBe(false);
    expect(wrongMetric.message).toContain(`rule file ${FILE}: rule lel_high: metric ppm is not a metric of gas_combustible`);
    const badYaml = (await check(who.op, { enterprise: 'acme', device: 'gas-1', text: 'rules: [' })).json();
    expect(badYaml).toMatchObject({ ok: false });
    expect(badYaml.message).toContain(FILE);
    const elsewhere = (await check(who.op, { enterprise: 'acme', device: 'gas-1', text: GAS_OVERRIDE.replace('enterprise: acme', 'enterprise: bravo') })).json();
    expect(elsewhere).toEqual({ ok: false, message: `rule file ${FILE}: it names enterprise: bravo, device: gas-1; an override for device acme/gas-1 must say enterprise: acme and device: gas-1` });
    expect(existsSync(join(rulesDir, FILE))).toBe(false);
    // An enterprise checks only its own; a device that does not exist is not found.
    expect((await check(who['bravo-user'], { enterprise: 'acme', text: '' })).statusCode).toBe(403);
    expect((await check(who.op, { enterprise: 'acme', device: 'nope', text: '' })).statusCode).toBe(404);
  });

  test('saved by a supervisor only when it passes; the thresholds follow; an enterprise sees only its own; removed', async () => {
    const put = (headers: Record<string, string>, text: string) => inject('PUT', '/api/v1/rules/overrides/acme/gas-1', headers, { text });
    expect((await put(who.op, GAS_OVERRIDE)).statusCode).toBe(403);
    expect((await put(who['acme-user'], GAS_OVERRIDE)).statusCode).toBe(403);
    const saved = await put(who.sup, GAS_OVERRIDE);
    expect(saved.statusCode).toBe(200);
    expect(saved.json().name).toBe(FILE);
    expect(readFileSync(join(rulesDir, FILE), 'utf8')).toBe(GAS_OVERRIDE);
    const lel = (await inject('GET', '/api/v1/enterprises/acme/devices/gas-1/rules', who.op)).json().rules.find((r: { id: string }) => r.id === 'lel_high');
    expect(lel.file).toBe(FILE);
    expect(lel.stages.map((s: { raise: number; default: { raise: number } }) => [s.raise, s.default.raise])).toEqual([[20, 25], [40, 50]]);
    // The plant route's view of the rules in force reads the same files.
    const view = (await inject('GET', '/api/v1/enterprises/acme/devices/gas-1/thresholds', who.op)).json();
    expect(view.rules.find((r: { id: string }) => r.id === 'lel_high').stages.map((s: { raise: number }) => s.raise)).toEqual([20, 40]);

    // A bad edit is refused with the check's words, and the good file stays as it was.
    const bad = await put(who.sup, GAS_OVERRIDE.replace('raise: 20', 'raise: twenty'));
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'HW_ERR_RULES_INVALID', field: 'body.text' });
    expect(bad.json().message).toContain(`rule file ${FILE}`);
    expect(readFileSync(join(rulesDir, FILE), 'utf8')).toBe(GAS_OVERRIDE);

    // Listed: everything for the bureau, only its own (no paths) for an enterprise.
    const all = (await inject('GET', '/api/v1/rules/overrides', who.op)).json();
    expect(all.saving).toBe(true);
    expect(all.files.map((f: { name: string; managed: boolean; path: string }) => [f.name, f.managed, f.path])).toEqual([
      ['site.yaml', false, join(rulesDir, 'site.yaml')],
      [FILE, true, join(rulesDir, FILE)],
    ]);
    const acme = (await inject('GET', '/api/v1/rules/overrides', who['acme-user'])).json();
    expect(acme.files.map((f: { name: string; path: string | null; text: string }) => [f.name, f.path, f.text])).toEqual([[FILE, null, GAS_OVERRIDE]]);
    expect((await inject('GET', '/api/v1/rules/overrides', who['bravo-user'])).json().files).toEqual([]);

    // Removed: back to the defaults.
    expect((await inject('DELETE', '/api/v1/rules/overrides/acme/gas-1', who.sup)).statusCode).toBe(200);
    expect(existsSync(join(rulesDir, FILE))).toBe(false);
    expect((await inject('DELETE', '/api/v1/rules/overrides/acme/gas-1', who.sup)).statusCode).toBe(404);
    // An enterprise-wide override.
    const ent = await inject('PUT', '/api/v1/rules/overrides/acme', who.admin, { text: 'enterprise: acme\nrules:\n  - id: lel_high\n    samples: 3\n' });
    expect(ent.statusCode).toBe(200);
    expect(existsSync(join(rulesDir, 'enterprise@acme.yaml'))).toBe(true);

    const audit = (await inject('GET', '/api/v1/audit?username=sup', who.admin)).json() as { action: string; status: number; target: string; detail: Record<string, unknown> }[];
    expect(audit.filter((e) => e.action.startsWith('rules.')).map((e) => `${e.action} ${e.status} ${e.target}`).reverse()).toEqual([
      'rules.save 200 acme/gas-1',
      'rules.save 400 acme/gas-1',
      'rules.delete 200 acme/gas-1',
      'rules.delete 404 acme/gas-1',
    ]);
    expect(audit.find((e) => e.action === 'rules.save' && e.status === 200)!.detail).toMatchObject({ text: GAS_OVERRIDE, file: join(rulesDir, FILE) });
  });

  test('the routes are in the OpenAPI document', async () => {
    const doc = (await inject('GET', '/docs/json', {})).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/rules/overrides', '/api/v1/rules/check', '/api/v1/rules/overrides/{enterprise}', '/api/v1/rules/overrides/{enterprise}/{device}', '/api/v1/enterprises/{enterprise}/devices/{device}/rules']));
  });

  test('without a directory in rules.files, saving is off', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hazwatch-rules-file-'));
    try {
      const only = join(dir, 'mine.yaml');
      writeFileSync(only, 'rules: []\n');
      mkdirSync(join(dir, 'sub'));
      expect(() => saveOverride([only], { enterprise: 'acme' }, 'enterprise: acme\n')).toThrow(/saving rule files is off/);
      expect(existsSync(join(dir, 'enterprise@acme.yaml'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
