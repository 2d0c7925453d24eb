// Every query of every generated dashboard (panels, template variables, annotations), with its
// variables and macros filled in the way Grafana fills them, runs against the real InfluxDB of the
// global setup holding data, and returns series with the columns the panel expects. Each query runs
// twice: with every variable on "All", and with one concrete value per variable, so that a wrong tag
// name in a filter (which "All" = /^.*$/ would hide) empties the second run and fails the test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, influxQuery } from '../../test/support/influx.ts';
import { AGGREGATE_RPS, downsample, ensureRetention } from '../../ingest/retention.ts';
import { generateDashboards } from '../generate.ts';
import { alarmLines, ENTERPRISE, eventLines, HAZARD_SOURCE, line, platformLines, readingLines, SITE, writeLines } from './fixture.ts';
import { simulatedData } from './pipeline.ts';
import { OPTIONAL_FIELDS } from '../schema.ts';
import { interpolate, type Selection, type TimeRange } from './grafana.ts';

type Json = Record<string, any>;
type Series = { name: string; columns: string[]; values: unknown[][]; tags?: Record<string, string> };

const HOUR = 3_600_000;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let range: TimeRange;

// Data from a simulator run through broker and ingest; HAZWATCH_TEST_DASHBOARDS_DATA=fixture writes
// the same measurements in line protocol instead (to tell a dashboard fault from a pipeline fault).
const SOURCE = process.env.HAZWATCH_TEST_DASHBOARDS_DATA === 'fixture' ? 'fixture' : 'pipeline';

/** Runs an InfluxQL statement on the test database; throws on an error in the answer. */
async function statement(q: string): Promise<unknown> {
  const res = await influxQuery(db.db, q);
  if (res.results[0]?.error) throw new Error(`${res.results[0].error}\n  in: ${q}`);
  return res;
}

beforeAll(async () => {
  db = await createTestDatabase('hw_dash');
  // The retention policies and continuous queries ingest sets up on InfluxDB 1.x (the pipeline's ingest
  // does it again, changing nothing): the trend panels read the minute and hour aggregates.
  await ensureRetention(statement, db.db, { enabled: true, rawDays: 0, minuteDays: 730, hourDays: 3650 });
  const now = Date.now();
  range = { from: now - HOUR, to: now + 60_000 };
  if (SOURCE === 'pipeline') {
    // 20 real seconds at 150x: 50 simulated minutes ending about now.
    const result = await simulatedData({ url: db.url, db: db.db, realSeconds: 20, speed: 150 });
    expect(result.stored).toBeGreaterThan(1000);
    expect(result.rejected).toBeGreaterThan(0);
    // Written by the rules engine in a deployment (not part of this run).
    await writeLines(db.url, db.db, [...alarmLines(Date.now()), ...platformLines(Date.now(), HOUR - 60_000, 'rules')]);
  } else {
    await writeLines(db.url, db.db, [...readingLines(now, HOUR - 60_000), ...eventLines(now), ...platformLines(now, HOUR - 60_000)]);
  }
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

/** One concrete value per variable: each exists in the fixture and leaves every panel with data. */
const CONCRETE: Record<string, Record<string, string>> = {
  default: { enterprise: ENTERPRISE, site: SITE, hazard_source: HAZARD_SOURCE, smoke_condition: 'smoke', level: '3', condition: 'HW_ALM_LEVEL_HIGH' },
  'hazard-source.json': { device: 'T-101' },
  'gas.json': { device: 'GC-1', gas_class: 'gas_combustible' },
  'electrical-fire.json': { device: 'PM-1' },
  'fire-water.json': { device: 'FW-1' },
  'smoke-alarms.json': { device: 'SA-1' },
  'alarm-history.json': { device: 'T-101' },
};

async function run(query: string): Promise<Series[]> {
  const res = await influxQuery(db.db, query);
  const r = res.results[0];
  if (r.error) throw new Error(`${r.error}\n  in: ${query}`);
  return r.series ?? [];
}

/** Output names of the outermost SELECT, from their AS aliases (the builder aliases every column). */
function expectedColumns(query: string): string[] {
  const m = /^SELECT (.*?) FROM /.exec(query);
  if (!m) return [];
  return [...m[1].matchAll(/ AS "([^"]+)"/g)].map((x) => x[1]);
}

/** Columns that may be null in every row: optional fields (storage.md) selected from their measurement. */
function optionalColumns(query: string): string[] {
  const m = /^SELECT (.*?) FROM "(\w+)"/.exec(query);
  if (!m) return [];
  const optional = OPTIONAL_FIELDS[m[2] as keyof typeof OPTIONAL_FIELDS] ?? [];
  return [...m[1].matchAll(/"(\w+)" AS "([^"]+)"/g)].filter((x) => optional.includes(x[1])).map((x) => x[2]);
}

function expectData(series: Series[], columns: string[], what: string, optional: string[] = []): void {
  expect(series.length, `${what}: no series`).toBeGreaterThan(0);
  for (const column of columns) {
    if (optional.includes(column)) {
      expect(series.some((s) => s.columns.includes(column)), `${what}: column ${column} is missing`).toBe(true);
      continue;
    }
    const has = series.some((s) => {
      const i = s.columns.indexOf(column);
      return i >= 0 && s.values.some((row) => row[i] !== null && row[i] !== undefined);
    });
    expect(has, `${what}: column ${column} is missing or always null`).toBe(true);
  }
}

/** Resolves the dashboard's variables in order, as Grafana does on load; returns the selections. */
async function resolveVariables(d: Json, file: string, concrete: boolean): Promise<Record<string, Selection>> {
  const selections: Record<string, Selection> = {};
  const wanted = { ...CONCRETE.default, ...CONCRETE[file] };
  for (const v of d.templating.list as Json[]) {
    let options: string[];
    if (v.type === 'custom') options = String(v.query).split(',');
    else {
      const series = await run(interpolate(v.query, selections, range));
      options = series.flatMap((s) => s.values.map((row) => String(row[1])));
      expect(options.length, `${file}: variable $${v.name} has no values (${v.query})`).toBeGreaterThan(0);
    }
    if (concrete) {
      const value = wanted[v.name];
      expect(value, `${file}: no concrete test value for $${v.name}`).toBeDefined();
      expect(options, `${file}: $${v.name} does not offer ${value}`).toContain(value);
      selections[v.name] = { all: false, values: [value] };
    } else selections[v.name] = { all: true, allValue: v.allValue || undefined, options };
  }
  return selections;
}

const dashboards = generateDashboards();

describe.each(dashboards.map((g) => [g.file, JSON.parse(g.json) as Json] as const))('%s', (file, d) => {
  for (const concrete of [false, true]) {
    it(`every panel, variable and annotation query returns its columns (${concrete ? 'one value per variable' : 'all values'})`, async () => {
      const vars = await resolveVariables(d, file, concrete);
      let checked = 0;
      const panels: Json[] = [];
      const walk = (ps: Json[] | undefined) => ps?.forEach((p) => (panels.push(p), walk(p.panels)));
      walk(d.panels);
      for (const p of panels) {
        // Tables that merge several queries into one row per key need the same time in every row:
        // Grafana's merge joins on all common columns, Time included.
        const merged = ((p.transformations as Json[] | undefined) ?? []).some((tr) => tr.id === 'merge');
        const times = new Set<unknown>();
        for (const t of (p.targets as Json[] | undefined) ?? []) {
          const q = interpolate(t.query, vars, range, p.interval);
          const series = await run(q);
          if (merged) for (const s of series) for (const row of s.values) times.add(row[0]);
          const columns = expectedColumns(t.query);
          expect(columns.length, `${file} "${p.title}" ${t.refId}: no aliased columns`).toBeGreaterThan(0);
          expectData(series, columns, `${file} "${p.title}" ${t.refId}\n  ${q}\n `, optionalColumns(t.query));
          // Tags the legend alias or the table needs must come back as series tags.
          for (const m of String(t.alias ?? '').matchAll(/\$tag_(\w+)/g)) {
            expect(series.every((s) => s.tags && m[1] in s.tags), `${file} "${p.title}": alias needs tag ${m[1]}`).toBe(true);
          }
          checked++;
        }
        if (merged) expect([...times], `${file} "${p.title}": rows of the merged queries have different times`).toEqual([0]);
      }
      // Annotations: one query per level. With all values each level has alarms; narrowed to one
      // device, at least one level must have (the device filter is then proven by the narrowed run).
      let annotated = 0;
      for (const a of d.annotations.list as Json[]) {
        const q = interpolate(a.target.query, vars, range);
        const series = await run(q);
        const columns = [a.target.textColumn, ...String(a.target.tagsColumn).split(',')];
        if (concrete && series.length === 0) continue;
        expectData(series, columns, `${file} annotation ${a.name}\n  ${q}\n `, optionalColumns(a.target.query));
        annotated++;
      }
      if (d.annotations.list.length) expect(annotated, `${file}: no annotation returned data`).toBeGreaterThan(0);
      expect(checked).toBeGreaterThan(0);
    });
  }
});

describe('fixture sanity', () => {
  it('counts active alarms per level from the newest state of each alarm (an escalated alarm counts once, at its new level)', async () => {
    const overview = JSON.parse(dashboards.find((g) => g.file === 'overview.json')!.json) as Json;
    const vars: Record<string, Selection> = { enterprise: { all: true, allValue: '.*', options: [] } };
    const counts: Record<string, unknown> = {};
    for (const p of overview.panels.filter((x: Json) => x.type === 'stat')) {
      const series = await run(interpolate(p.targets[0].query, vars, range));
      counts[p.title] = series[0]?.values[0]?.[1] ?? 0;
    }
    // Fixture: level 1 T-101 pressure + GC-1 gas (SA-1 smoke cleared); level 2 T-101 level (escalated
    // from 3), PM-1, FW-1; level 3 T-102; level 4 T-102 offline + SA-2 tamper; R-201 closed.
    // Offline, counted here device by device from the raw alarm changes: the newest state of each
    // device's HW_ALM_DEVICE_OFFLINE alarm (in the fixture T-102; a device's own `offline` status, as
    // SA-2 and GC-9 say, is its connection and not counted by itself).
    const raw = await run(`SELECT "state", "enterprise", "device" FROM "alarm_event" WHERE "condition" = 'HW_ALM_DEVICE_OFFLINE'`);
    const latest = new Map<string, string>();
    for (const [, state, enterprise, device] of raw[0]?.values ?? []) latest.set(`${enterprise}/${device}`, state as string);
    const offline = [...latest.values()].filter((state) => state.startsWith('active_')).length;
    if (SOURCE === 'fixture') expect(offline).toBe(1);
    expect(counts).toEqual({ 'Level 1 (red)': 2, 'Level 2 (orange)': 3, 'Level 3 (yellow)': 1, 'Level 4 (blue)': 2, 'Devices offline': offline });
  });
});

describe('long ranges', () => {
  // The hazard-source dashboard's Level panel for one vessel; every trend panel is built the same way
  // (dashboards/tiers.ts), and the runs above prove each one's query against the real database.
  const MIN = 60_000;
  const DAY = 86_400_000;
  const tags = { enterprise: ENTERPRISE, site: SITE, hazard_source: HAZARD_SOURCE, device: 'T-101' };
  const one = (value: string): Selection => ({ all: false, values: [value] });
  const vars = { enterprise: one(ENTERPRISE), hazard_source: one(HAZARD_SOURCE), device: one('T-101') };
  const hazard = JSON.parse(dashboards.find((g) => g.file === 'hazard-source.json')!.json) as Json;
  const level = (hazard.panels as Json[]).find((p) => p.title === 'Level')!;
  let now: number;
  let old: number;
  let older: number;
  let boundary: number;

  /** The Level panel's rows with a value for T-101 over a range, as Grafana would get them: [time, level][]. */
  async function levelRows(from: number, to: number): Promise<[number, number][]> {
    const series = await run(interpolate(level.targets[0].query, vars, { from, to }, level.interval));
    expect(series.length, 'one series for one vessel').toBeLessThanOrEqual(1);
    const rows = (series[0]?.values ?? []) as [number, number][];
    // One row per interval: a time read from two sources would appear twice.
    expect(new Set(rows.map((r) => r[0])).size, 'a time appears twice').toBe(rows.length);
    // Intervals without readings are rows with null (the panel draws them as gaps).
    return rows.filter(([, v]) => v !== null);
  }

  const readings = (start: number, minutes: number, value: number) =>
    Array.from({ length: minutes }, (_, i) => line('vessel', tags, { level: value }, start + i * MIN));

  beforeAll(async () => {
    now = Date.now();
    const hourStart = (t: number) => Math.floor(t / HOUR) * HOUR;
    const write = (lines: string[], rp?: string) => writeLines(db.url, db.db, lines, rp);
    // 10 and 70 days ago: two hours of readings, folded into the minute and hour aggregates by
    // downsample() exactly as the continuous queries do. Then the raw readings at those times are
    // overwritten with ten times the value, and 70 days ago the minute aggregates too: a panel that
    // shows 40 or 50 read the raw readings where it should read the aggregates, 500 the minute ones
    // where it should read the hour ones.
    old = hourStart(now - 10 * DAY);
    older = hourStart(now - 70 * DAY);
    await write([...readings(old, 120, 4), ...readings(older, 120, 5)]);
    await downsample(statement, db.db, 'autogen', old, old + 2 * HOUR);
    await downsample(statement, db.db, 'autogen', older, older + 2 * HOUR);
    await write([...readings(old, 120, 40), ...readings(older, 120, 50)]);
    await write(Array.from({ length: 120 }, (_, i) => line('vessel', tags, { mean_level: 500 }, older + i * MIN)), AGGREGATE_RPS.minute);
    // Where the raw readings meet the minute aggregates (2 days ago), both hold a row 5 minutes either
    // side, with different values: each must be read from exactly one source.
    boundary = now - 2 * DAY;
    const before = Math.floor((boundary - 5 * MIN) / MIN) * MIN;
    const after = Math.floor((boundary + 5 * MIN) / MIN) * MIN;
    await write([line('vessel', tags, { level: 11 }, before), line('vessel', tags, { level: 11 }, after)]);
    await write([line('vessel', tags, { mean_level: 22 }, before), line('vessel', tags, { mean_level: 22 }, after)], AGGREGATE_RPS.minute);
    // Half an hour ago, a minute aggregate the recent range must not read (it reads the raw readings).
    await write([line('vessel', tags, { mean_level: 999 }, Math.floor((now - 30 * MIN) / MIN) * MIN)], AGGREGATE_RPS.minute);
  }, 60_000);

  it('a 30-day range shows readings of 10 days ago from the minute aggregates, and the recent ones raw', async () => {
    const rows = await levelRows(now - 30 * DAY, now + MIN);
    const tenDaysAgo = rows.filter(([t]) => t >= old && t < old + 2 * HOUR);
    expect(tenDaysAgo.length).toBeGreaterThan(0);
    expect(tenDaysAgo.map(([, v]) => v)).toEqual(tenDaysAgo.map(() => 4));
    const lastHour = rows.filter(([t]) => t >= now - HOUR);
    expect(lastHour.length, 'the recent raw readings').toBeGreaterThan(0);
    expect(rows.some(([, v]) => v === 40 || v === 999)).toBe(false);
  });

  it('a 90-day range reads the hour aggregates beyond 60 days', async () => {
    const rows = await levelRows(now - 90 * DAY, now + MIN);
    const seventyDaysAgo = rows.filter(([t]) => t >= older && t < older + 2 * HOUR);
    expect(seventyDaysAgo.length).toBeGreaterThan(0);
    expect(seventyDaysAgo.map(([, v]) => v)).toEqual(seventyDaysAgo.map(() => 5));
    expect(rows.filter(([t]) => t >= old && t < old + 2 * HOUR).map(([, v]) => v)).toContain(4);
  });

  it('a 1-hour range shows the raw readings, nothing from the aggregates', async () => {
    const from = now - HOUR;
    const rows = await levelRows(from, now + MIN);
    const raw = await run(
      `SELECT mean("level") FROM "vessel" WHERE "device" = 'T-101' AND time >= ${from}ms AND time <= ${now + MIN}ms GROUP BY time(${level.interval}) fill(none)`,
    );
    expect(rows.length).toBeGreaterThan(10);
    expect(rows).toEqual(raw[0].values);
  });

  it('where raw readings and minute aggregates meet, each row is read once, from the source its age says', async () => {
    const rows = await levelRows(boundary - 30 * MIN, boundary + 30 * MIN);
    expect(rows.map(([, v]) => v)).toEqual([22, 11]);
  });
});
