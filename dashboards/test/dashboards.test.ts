// The generated dashboards are valid Grafana dashboards for the provisioned data source, and the
// committed files are exactly what the code generates.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { LEVEL_COLOURS } from '../../contract/alarms.ts';
import { main } from '../../cli/main.ts';
import { openRegistry } from '../../registry/registry.ts';
import { DATASOURCE_UID } from '../common.ts';
import { generateDashboards, writeDashboards } from '../generate.ts';
import { readVesselLimits } from '../limits.ts';
import { dashboardsCommand } from '../command.ts';
import { loadConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import type { Service } from '../../core/command.ts';
import { waitFor } from '../../test/support/net.ts';
import { limitSteps } from '../boards/hazard-source.ts';
import { from, fromSubquery } from '../influxql.ts';
import { fieldsOf } from '../schema.ts';
import { DEVICE_CLASSES } from '../../contract/catalog.ts';
import { DEFAULT_LONG_RANGES, longRangesFrom, tiers } from '../tiers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const COMMITTED = join(ROOT, 'deploy/grafana/dashboards');
const generated = generateDashboards();
const tmp: string[] = [];
afterAll(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })));

type Json = Record<string, unknown>;

function allPanels(d: Json): Json[] {
  const out: Json[] = [];
  const walk = (panels: unknown) => {
    for (const p of (panels as Json[] | undefined) ?? []) {
      out.push(p);
      walk(p.panels);
    }
  };
  walk(d.panels);
  return out;
}

/** Every object with a `datasource` key, anywhere in the dashboard. */
function datasourceRefs(value: unknown, path = '$'): { path: string; ref: unknown }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => datasourceRefs(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    const o = value as Json;
    return [
      ...('datasource' in o ? [{ path, ref: o.datasource }] : []),
      ...Object.entries(o).flatMap(([k, v]) => (k === 'datasource' ? [] : datasourceRefs(v, `${path}.${k}`))),
    ];
  }
  return [];
}

/** Every string where Grafana substitutes variables: queries, aliases, titles, variable queries. */
function templatedStrings(d: Json): string[] {
  const out: string[] = [];
  for (const p of allPanels(d)) {
    out.push(String(p.title ?? ''));
    for (const t of (p.targets as Json[] | undefined) ?? []) out.push(String(t.query ?? ''));
  }
  for (const v of ((d.templating as Json).list as Json[]) ?? []) if (typeof v.query === 'string') out.push(v.query);
  for (const a of ((d.annotations as Json).list as Json[]) ?? []) out.push(String((a.target as Json)?.query ?? ''));
  return out;
}

const BUILTIN = new Set(['timeFilter', '__interval', '__interval_ms', '__all', 'col']);

describe('generated dashboards', () => {
  it('are the eight dashboards of the issue, with unique uids under the hazwatch tag', () => {
    expect(generated.map((g) => g.file)).toEqual([
      'overview.json',
      'hazard-source.json',
      'gas.json',
      'electrical-fire.json',
      'fire-water.json',
      'smoke-alarms.json',
      'alarm-history.json',
      'platform-health.json',
    ]);
    const uids = generated.map((g) => g.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const g of generated) {
      expect(g.dashboard.uid).toMatch(/^hazwatch-[a-z-]+$/);
      expect(g.dashboard.uid!.length).toBeLessThanOrEqual(40); // Grafana's uid limit
      expect(g.dashboard.tags).toContain('hazwatch');
      expect(g.dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
      expect(g.dashboard).not.toHaveProperty('id');
    }
  });

  it('have unique panel ids, panels inside the 24-column grid, and a query on every non-row panel', () => {
    for (const g of generated) {
      const panels = allPanels(g.json ? (JSON.parse(g.json) as Json) : {});
      const ids = panels.map((p) => p.id);
      expect(ids.every((id) => Number.isInteger(id) && (id as number) > 0), g.file).toBe(true);
      expect(new Set(ids).size, g.file).toBe(ids.length);
      for (const p of panels) {
        const pos = p.gridPos as { x: number; w: number; h: number };
        expect(pos.x + pos.w, `${g.file} ${p.title}`).toBeLessThanOrEqual(24);
        expect(pos.h).toBeGreaterThan(0);
        if (p.type !== 'row') {
          expect((p.targets as unknown[]).length, `${g.file} ${p.title}`).toBeGreaterThan(0);
          expect(['timeseries', 'stat', 'table', 'state-timeline']).toContain(p.type);
        }
      }
      const refIds = panels.map((p) => ((p.targets as Json[] | undefined) ?? []).map((t) => t.refId));
      for (const r of refIds) expect(new Set(r).size).toBe(r.length);
    }
  });

  it('reference only the provisioned InfluxDB data source', () => {
    const provisioning = parseYaml(readFileSync(join(ROOT, 'deploy/grafana/provisioning/datasources/influxdb.yaml'), 'utf8')) as {
      datasources: { uid: string; type: string; jsonData: { version: string } }[];
    };
    const ds = provisioning.datasources.find((d) => d.uid === DATASOURCE_UID);
    expect(ds?.type).toBe('influxdb');
    expect(ds?.jsonData.version).toBe('InfluxQL');
    for (const g of generated) {
      const refs = datasourceRefs(JSON.parse(g.json));
      expect(refs.length).toBeGreaterThan(0);
      for (const { path, ref } of refs) expect(ref, `${g.file} ${path}`).toEqual({ type: 'influxdb', uid: DATASOURCE_UID });
    }
  });

  it('define every variable their queries use, and use every variable they define', () => {
    for (const g of generated) {
      const d = JSON.parse(g.json) as Json;
      const defined = (((d.templating as Json).list as Json[]) ?? []).map((v) => String(v.name));
      const used = new Set<string>();
      for (const s of templatedStrings(d)) for (const m of s.matchAll(/\$\{?(\w+)/g)) used.add(m[1]);
      for (const name of used) {
        if (BUILTIN.has(name) || name.startsWith('tag_')) continue;
        expect(defined, `${g.file} uses $${name}`).toContain(name);
      }
      for (const name of defined) expect(used.has(name), `${g.file} defines $${name} but never uses it`).toBe(true);
      // A variable may only refer to variables defined before it (Grafana resolves them in order).
      const vars = ((d.templating as Json).list as Json[]) ?? [];
      vars.forEach((v, i) => {
        for (const m of String(v.query ?? '').matchAll(/\$(\w+)/g)) expect(defined.slice(0, i), `${g.file} $${v.name}`).toContain(m[1]);
      });
    }
  });

  it('colour thresholds only with the alarm level colours (and green/transparent for normal)', () => {
    const allowed = new Set([...Object.values(LEVEL_COLOURS).map((c) => c.hex), 'green', 'transparent']);
    let seen = 0;
    for (const g of generated) {
      for (const m of g.json.matchAll(/"steps": \[([^\]]*)\]/g)) {
        for (const c of m[1].matchAll(/"color": "([^"]+)"/g)) {
          expect(allowed, `${g.file}: ${c[1]}`).toContain(c[1]);
          seen++;
        }
      }
    }
    expect(seen).toBeGreaterThan(20);
  });

  it('show alarm changes as annotations on every dashboard that has devices', () => {
    for (const g of generated.filter((x) => x.file !== 'platform-health.json')) {
      const list = ((g.dashboard.annotations as { list?: Json[] }).list ?? []) as Json[];
      expect(list.map((a) => a.iconColor)).toEqual(Object.values(LEVEL_COLOURS).map((c) => c.hex));
      for (const a of list) expect(String((a.target as Json).query)).toMatch(/FROM "alarm_event"/);
    }
  });

  it('regenerate to identical bytes, equal to the committed files', () => {
    const again = generateDashboards();
    expect(again.map((g) => g.json)).toEqual(generated.map((g) => g.json));
    const committed = readdirSync(COMMITTED).filter((f) => f.endsWith('.json')).sort();
    expect(committed).toEqual(generated.map((g) => g.file).sort());
    for (const g of generated) {
      expect(readFileSync(join(COMMITTED, g.file), 'utf8'), `${g.file} is stale: run npm run dashboards`).toBe(g.json);
    }
  });
});

describe('long ranges', () => {
  const READINGS = Object.keys(DEVICE_CLASSES);
  /** Trend panels: time series and state timelines over a reading measurement (a device class). */
  const trends = (files: typeof generated) =>
    files.flatMap((g) =>
      allPanels(g.dashboard as unknown as Json)
        .filter((p) => p.type === 'timeseries' || p.type === 'state-timeline')
        .flatMap((p) => ((p.targets as Json[]) ?? []).map((t) => ({ panel: `${g.file} ${String(p.title)}`, query: String(t.query) })))
        .filter((t) => READINGS.some((m) => t.query.includes(`FROM "${m}"`) || t.query.includes(`."${m}"`))),
    );

  it('every trend panel reads the raw readings for 2 days, the minute aggregates to 60 days and the hour ones beyond', () => {
    const all = trends(generated);
    // Hazard source 4, gas 4, electrical fire 5, fire water 4 (two of them pump timelines), smoke alarms 2.
    expect(all.length).toBe(19);
    for (const { panel, query } of all) {
      const fn = /^SELECT (mean|max|min)\("(\w+)"\)/.exec(query);
      expect(fn, panel).not.toBeNull();
      const [, f, metric] = fn!;
      const m = /FROM \(SELECT \w+\("\w+"\) AS "\w+" FROM "(\w+)"/.exec(query)![1];
      expect(query, panel).toContain(`FROM "${m}" WHERE time > now() - 2d AND`);
      expect(query, panel).toContain(`SELECT ${f}("${f}_${metric}") AS "${metric}" FROM "minute"."${m}" WHERE time > now() - 60d AND time <= now() - 2d AND`);
      expect(query, panel).toContain(`SELECT ${f}("${f}_${metric}") AS "${metric}" FROM "hour"."${m}" WHERE time <= now() - 60d AND`);
      // The dashboard's time range once, on the outer query.
      expect(query.match(/\$timeFilter/g), panel).toHaveLength(1);
      expect(query, panel).toMatch(/\) WHERE \$timeFilter GROUP BY time\(\$__interval\)/);
    }
  });

  it('draw a gap where an interval has no readings, whatever the interval (not a fixed disconnect threshold)', () => {
    let checked = 0;
    for (const g of generated) {
      for (const p of allPanels(g.dashboard as unknown as Json).filter((x) => x.type === 'timeseries')) {
        const query = String(((p.targets as Json[])[0] as Json).query);
        if (!READINGS.some((m) => query.includes(`FROM "${m}"`))) continue;
        const custom = ((p.fieldConfig as Json).defaults as Json).custom as Json;
        expect(custom.insertNulls, `${g.file} ${String(p.title)}`).toBeUndefined();
        expect(custom.spanNulls, `${g.file} ${String(p.title)}`).toBe(3 * 1000 * Number(String(p.interval).replace('s', '')));
        expect(query, `${g.file} ${String(p.title)}`).toMatch(/ fill\(null\)$/);
        checked++;
      }
    }
    expect(checked).toBe(17);
  });

  it('without aggregates, every trend panel reads only the raw readings', () => {
    const raw = generateDashboards([], { ...DEFAULT_LONG_RANGES, aggregates: false });
    const all = trends(raw);
    expect(all.length).toBe(19);
    for (const { panel, query } of all) {
      expect(query, panel).toMatch(/^SELECT (mean|max|min)\("\w+"\) AS "\w+" FROM "\w+" WHERE \$timeFilter AND /);
      expect(query, panel).not.toMatch(/"minute"|"hour"|now\(\)/);
    }
    // Only the trend panels differ.
    expect(raw.map((g) => g.file)).toEqual(generated.map((g) => g.file));
    for (const [i, g] of raw.entries()) if (!trends([g]).length) expect(g.json).toBe(generated[i].json);
  });

  it('follow the settings: aggregates only where ingest makes them, the minute ones no longer than they are kept', () => {
    const retention = { enabled: true, minuteDays: 730 };
    expect(longRangesFrom({ aggregates: true, kind: 'auto', retention })).toEqual(DEFAULT_LONG_RANGES);
    expect(longRangesFrom({ aggregates: true, kind: 'v1', retention: { enabled: true, minuteDays: 30 } })).toEqual({ aggregates: true, rawDays: 2, minuteDays: 30 });
    expect(longRangesFrom({ aggregates: true, kind: 'v2', retention }).aggregates).toBe(false);
    expect(longRangesFrom({ aggregates: true, kind: 'v1', retention: { enabled: false, minuteDays: 730 } }).aggregates).toBe(false);
    expect(longRangesFrom({ aggregates: false, kind: 'v1', retention }).aggregates).toBe(false);
    // Minute aggregates kept a day: raw readings for 2 days, the hour ones beyond.
    expect(tiers(longRangesFrom({ aggregates: true, kind: 'v1', retention: { enabled: true, minuteDays: 1 } }))).toEqual([
      { rp: null, newerThanDays: 2 },
      { rp: 'hour', olderThanDays: 2 },
    ]);
  });

  it('hazwatch dashboards --aggregates off writes trend panels on the raw readings; a wrong value is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-dash-'));
    tmp.push(dir);
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const code = await main(['dashboards', '--out', dir, '--limits', 'none', '--aggregates', 'off', '--log-level', 'warn'], { out, err: out });
    expect(code, text).toBe(0);
    expect(text).toMatch(/trends read the raw readings at every age/);
    expect(readFileSync(join(dir, 'gas.json'), 'utf8')).toBe(generateDashboards([], { ...DEFAULT_LONG_RANGES, aggregates: false })[2].json);
    text = '';
    expect(await main(['dashboards', '--out', dir, '--limits', 'none', '--aggregates', 'sometimes'], { out, err: out })).not.toBe(0);
    expect(text).toMatch(/HW_ERR_CONFIG[\s\S]*dashboards\.aggregates/);
  });
});

describe('InfluxQL builder', () => {
  it('quotes names, aliases every column and orders the clauses', () => {
    const q = from('gas_combustible', { type: 'influxdb', uid: 'x' })
      .select({ field: 'lel', fn: 'max' }, { rate: 'lel', per: '1s', as: 'rate' })
      .whereVariable('enterprise', 'enterprise')
      .whereTag('site', '=', "o'brien")
      .groupByTime()
      .groupBy('device')
      .fill('none')
      .orderByTimeDesc()
      .limit(10);
    expect(q.toString()).toBe(
      `SELECT max("lel") AS "lel", non_negative_derivative(max("lel"), 1s) AS "rate" FROM "gas_combustible" WHERE $timeFilter AND "enterprise" =~ /^$enterprise$/ AND "site" = 'o\\'brien' GROUP BY time($__interval), "device" fill(none) ORDER BY time DESC LIMIT 10`,
    );
    expect(q.build()).toMatchObject({ rawQuery: true, resultFormat: 'time_series', refId: 'A' });
  });

  it('lets an outer query use only what its subquery outputs', () => {
    const inner = from('device_status', { type: 'influxdb', uid: 'x' }).select({ field: 'online', fn: 'last' }).groupBy('device');
    expect(() => fromSubquery(inner, { type: 'influxdb', uid: 'x' }).select({ field: 'onlien' })).toThrow(/no column onlien/);
    expect(fromSubquery(inner, { type: 'influxdb', uid: 'x' }).select({ field: 'online', fn: 'count' }).anyTime().toString()).toMatch(
      /^SELECT count\("online"\) AS "online" FROM \(SELECT last\("online"\) AS "online" FROM "device_status" WHERE \$timeFilter GROUP BY "device"\)$/,
    );
  });

  it('knows the reading fields from the catalog', () => {
    expect(fieldsOf('fire_water')).toEqual(['pressure', 'pump_running', 'jockey_running', 'pool_level', 'battery', 'receive_time']);
    // @ts-expect-error a field that is not in the catalog does not compile
    from('vessel', { type: 'influxdb', uid: 'x' }).select({ field: 'lel' });
  });
});

describe('vessel limits from the registry', () => {
  it('draw LL/L/H/HH bands in level colours, ordered by value', () => {
    expect(limitSteps({ ll: 1, l: 2, h: 8, hh: 9 }).build().steps).toEqual([
      { value: null, color: LEVEL_COLOURS[2].hex },
      { value: 1, color: LEVEL_COLOURS[3].hex },
      { value: 2, color: 'transparent' },
      { value: 8, color: LEVEL_COLOURS[3].hex },
      { value: 9, color: LEVEL_COLOURS[2].hex },
    ]);
    expect(limitSteps({ h: 8, hh: undefined, l: undefined, ll: undefined }).build().steps).toEqual([
      { value: null, color: 'transparent' },
      { value: 8, color: LEVEL_COLOURS[3].hex },
    ]);
  });

  it('hazwatch dashboards reads meta.limits and overrides each vessel series; same registry, same bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-dash-'));
    tmp.push(dir);
    const registryFile = join(dir, 'registry.db');
    const registry = await openRegistry(registryFile);
    await registry.addEnterprise('acme');
    await registry.addDevice({ enterprise: 'acme', id: 'T-1', class: 'vessel', hazardSource: 'hs', meta: { limits: { level: { HH: 9, H: 8, L: 1, LL: 0.5 }, pressure: { hh: 1.6 } } } });
    await registry.addDevice({ enterprise: 'acme', id: 'T-2', class: 'vessel', meta: { limits: { level: 'bad' } } });
    await registry.addDevice({ enterprise: 'acme', id: 'G-1', class: 'gas_combustible' });
    await registry.close();
    expect((await readVesselLimits(registryFile)).map((l) => `${l.series} ${l.metric}`)).toEqual(['acme/T-1 level', 'acme/T-1 pressure']);

    const run = async () => {
      const out = new PassThrough();
      let text = '';
      out.on('data', (d) => (text += d));
      const code = await main(['dashboards', '--out', join(dir, 'out'), '--limits', 'registry', '--log-level', 'warn'], { out, err: out });
      return { code, text };
    };
    process.env.HAZWATCH_REGISTRY_PATH = registryFile;
    try {
      const first = await run();
      expect(first.code, first.text).toBe(0);
      expect(first.text).toMatch(/8 written, 0 unchanged; H\/HH\/L\/LL bands for 2 vessel metric/);
      const second = await run();
      expect(second.text).toMatch(/0 written, 8 unchanged/);
    } finally {
      delete process.env.HAZWATCH_REGISTRY_PATH;
    }
    const hs = JSON.parse(readFileSync(join(dir, 'out', 'hazard-source.json'), 'utf8')) as Json;
    const level = allPanels(hs).find((p) => p.title === 'Level')!;
    const overrides = (level.fieldConfig as { overrides: { matcher: { options: string }; properties: { id: string; value: { steps?: unknown[] } }[] }[] }).overrides;
    expect(overrides.map((o) => o.matcher.options)).toEqual(['acme/T-1']);
    expect(overrides[0].properties.find((p) => p.id === 'thresholds')!.value.steps).toHaveLength(5);
    // Every other file is the same as without limits.
    for (const g of generated.filter((x) => x.file !== 'hazard-source.json')) expect(readFileSync(join(dir, 'out', g.file), 'utf8')).toBe(g.json);
  });

  it('with --watch, keeps running and redraws the bands when a vessel with limits is registered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-dash-'));
    tmp.push(dir);
    const registryFile = join(dir, 'registry.db');
    await (await openRegistry(registryFile)).close();
    const config = loadConfig({ env: {}, overrides: { registry: { path: registryFile }, dashboards: { out: join(dir, 'out'), watchSeconds: 1 } } });
    const out = new PassThrough();
    const service = (await dashboardsCommand.run({ config, log: silentLogger(), metrics: createMetricsRegistry(), args: [], flags: {}, signal: new AbortController().signal, out })) as Service;
    try {
      const file = join(dir, 'out', 'hazard-source.json');
      expect(readFileSync(file, 'utf8')).toBe(generated[1].json);
      const registry = await openRegistry(registryFile);
      await registry.addEnterprise('acme');
      await registry.addDevice({ enterprise: 'acme', id: 'T-9', class: 'vessel', meta: { limits: { temperature: { H: 45, HH: 55 } } } });
      await registry.close();
      await waitFor(() => readFileSync(file, 'utf8') !== generated[1].json, 10_000, 100);
      expect(readFileSync(file, 'utf8')).toContain('"options": "acme/T-9"');
    } finally {
      await service.close();
    }
  });

  it('removes a stale hazwatch dashboard from the output folder, and leaves other files alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-dash-'));
    tmp.push(dir);
    writeFileSync(join(dir, 'old.json'), JSON.stringify({ uid: 'hazwatch-old' }));
    writeFileSync(join(dir, 'mine.json'), JSON.stringify({ uid: 'my-own' }));
    const result = writeDashboards(dir, generated);
    expect(result.removed).toEqual(['old.json']);
    expect(readdirSync(dir).sort()).toEqual([...generated.map((g) => g.file), 'mine.json'].sort());
  });
});
