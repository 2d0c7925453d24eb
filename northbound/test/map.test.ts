// Northbound maps: the checks at start (each problem named with its file and field), the shipped
// example, and the template language (typed values, code tables, local times).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AlarmEventPayload } from '../../contract/alarms.ts';
import { HazwatchError } from '../../contract/errors.ts';
import { alarmContext, deviceContext, enterpriseContext, readingContext, valueContext } from '../fields.ts';
import { compileNorthboundMap, loadNorthboundMap } from '../map.ts';
import { renderNode, renderText, timeFormat, type Context } from '../template.ts';

const EXAMPLE = new URL('../examples/province.yaml', import.meta.url).pathname;
const ENV = { NB_CLIENT_ID: 'cid-1', NB_USERNAME: 'user-1', NB_PASSWORD: 'secret-1' };
const dir = mkdtempSync(join(tmpdir(), 'hw-nb-map-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small valid map; each test breaks one thing. */
function valid(): Record<string, any> {
  return {
    name: 'p1',
    utcOffset: '+08:00',
    transport: { kind: 'mqtt', url: 'mqtt://127.0.0.1:1883', clientId: 'c1' },
    tables: { level: { 1: 'A', 2: 'B', 3: 'C', 4: 'D' }, equip: { '*': 'X' } },
    messages: {
      device: { topic: 'up/{enterprise}/device', body: { code: '{device}', type: '{device.class|equip}' } },
      reading: { topic: 'up/{enterprise}/data', body: { t: '{ts:yyyyMMddHHmmss}', datas: { $each: 'values', item: { k: '{metric}', v: '{value}' } } } },
      alarm: { topic: 'up/{enterprise}/alarm', body: { level: '{alarm.level|level}', state: '{alarm.state}' } },
    },
  };
}

function problemsOf(data: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  const problems: string[] = [];
  compileNorthboundMap(data, 'm.yaml', problems, env);
  return problems;
}

function broken(change: (m: Record<string, any>) => void, env: NodeJS.ProcessEnv = {}): string[] {
  const m = valid();
  change(m);
  return problemsOf(m, env);
}

const none = () => undefined;
const device = deviceContext(
  { enterprise: 'acme', id: 'tank-01', class: 'vessel', name: 'Tank 1', site: 'farm', hazardSource: 'hs-1', intervalSeconds: null, meta: { tag: 'T-101' }, connection: null, createdAt: 0, revokedAt: null },
  enterpriseContext({ id: 'acme', name: 'Acme Chemicals', createdAt: 0 }, undefined),
);

describe('northbound map checks', () => {
  it('takes the valid map', () => {
    expect(problemsOf(valid())).toEqual([]);
  });

  it.each<[string, (m: Record<string, any>) => void, string]>([
    ['an unknown top-level key', (m) => (m.extra = 1), 'm.yaml: (file): Unrecognized key: "extra"'],
    ['a bad name', (m) => (m.name = 'a b'), 'm.yaml: name: expected 1 to 64 letters'],
    ['an unknown transport kind', (m) => (m.transport.kind = 'ftp'), 'm.yaml: transport.kind: expected kind: mqtt or kind: https'],
    ['a transport without url', (m) => delete m.transport.url, 'm.yaml: transport.url:'],
    ['an MQTT transport with an http url', (m) => (m.transport.url = 'http://x'), 'm.yaml: transport.url: "http://x": expected mqtt://, mqtts://, ws://, wss://'],
    ['a url that is no URL', (m) => (m.transport.url = 'nowhere'), 'm.yaml: transport.url: "nowhere" is not a URL'],
    ['a QoS of 3', (m) => (m.transport.qos = 3), 'm.yaml: transport.qos:'],
    ['a CA file that is not there', (m) => (m.transport.ca = '/nonexistent/ca.pem'), 'm.yaml: transport.ca: cannot read /nonexistent/ca.pem'],
    ['an unknown message kind', (m) => (m.messages.sensor = m.messages.alarm), 'm.yaml: messages: Unrecognized key: "sensor"'],
    ['no messages', (m) => (m.messages = {}), 'm.yaml: messages: none given'],
    ['an MQTT message without topic', (m) => delete m.messages.alarm.topic, 'm.yaml: messages.alarm.topic: missing'],
    ['an MQTT message with a path', (m) => (m.messages.alarm.path = '/a'), 'm.yaml: messages.alarm.path: the mqtt transport sends to a topic, not a path'],
    ['a wildcard in a topic', (m) => (m.messages.alarm.topic = 'up/+/alarm'), 'm.yaml: messages.alarm.topic: "up/+/alarm": a topic to publish on has no + or #'],
    ['a missing body', (m) => delete m.messages.alarm.body, 'm.yaml: messages.alarm.body: missing or not an object'],
    ['an unknown field', (m) => (m.messages.alarm.body.c = '{alarm.colour}'), 'm.yaml: messages.alarm.body.c: {alarm.colour} is not a field of alarm messages'],
    ['a field of another kind', (m) => (m.messages.device.body.l = '{alarm.level}'), 'm.yaml: messages.device.body.l: {alarm.level} is not a field of device messages'],
    ['a value field outside $each', (m) => (m.messages.reading.body.v = '{value}'), 'm.yaml: messages.reading.body.v: {value} is a field of one value: use it inside { $each: values, item: ... }, or send the readings per: metric'],
    ['an unreadable reference', (m) => (m.messages.alarm.body.x = '{alarm level}'), 'm.yaml: messages.alarm.body.x: "{alarm level}": cannot read {alarm level}'],
    ['an unbalanced brace', (m) => (m.messages.alarm.body.x = 'a}'), 'm.yaml: messages.alarm.body.x: "a}": unbalanced "}"'],
    ['an unknown table', (m) => (m.messages.alarm.body.s = '{alarm.state|states}'), 'm.yaml: messages.alarm.body.s: {alarm.state|states}: no table "states" in tables (level, equip)'],
    ['a table lacking a level', (m) => delete m.tables.level[4], 'm.yaml: messages.alarm.body.level: {alarm.level|level}: table level lacks 4 (map every value, or give "*" for the rest)'],
    ['a table lacking alarm states', (m) => ((m.tables.state = { closed: 'Z' }), (m.messages.alarm.body.state = '{alarm.state|state}')), 'table state lacks active_unacknowledged, active_acknowledged'],
    ['a table lacking a listed action', (m) => ((m.tables.act = { raised: '1' }), (m.messages.alarm.actions = ['raised', 'cleared']), (m.messages.alarm.body.a = '{alarm.action|act}')), '{alarm.action|act}: table act lacks cleared'],
    ['an unknown alarm action', (m) => (m.messages.alarm.actions = ['exploded']), 'm.yaml: messages.alarm.actions.0:'],
    ['actions on readings', (m) => (m.messages.reading.actions = ['raised']), 'm.yaml: messages.reading.actions: only alarm messages are chosen by action'],
    ['per on alarms', (m) => (m.messages.alarm.per = 'metric'), 'm.yaml: messages.alarm.per: only reading messages are sent per device or per metric'],
    ['a format on a field that is no time', (m) => (m.messages.alarm.body.x = '{alarm.level:yyyy}'), 'm.yaml: messages.alarm.body.x: {alarm.level:yyyy}: only times take a format'],
    ['an unknown letter in a time format', (m) => (m.messages.alarm.body.x = '{ts:yyyyMMddQ}'), 'm.yaml: messages.alarm.body.x: {ts:yyyyMMddQ}: format "yyyyMMddQ": unknown letter "Q"'],
    ['a local time without utcOffset', (m) => delete m.utcOffset, 'm.yaml: messages.reading.body.t: {ts:yyyyMMddHHmmss}: format "yyyyMMddHHmmss" is local time: give utcOffset'],
    ['a malformed utcOffset', (m) => (m.utcOffset = '8'), 'm.yaml: utcOffset: "8": expected +HH:MM'],
    ['$each outside readings', (m) => (m.messages.alarm.body.list = { $each: 'values', item: {} }), 'm.yaml: messages.alarm.body.list.$each: only reading messages have values to iterate'],
    ['$each over something else', (m) => (m.messages.reading.body.datas.$each = 'alarms'), 'm.yaml: messages.reading.body.datas.$each: "alarms": the one list to iterate is values'],
    ['$each without item', (m) => delete m.messages.reading.body.datas.item, 'm.yaml: messages.reading.body.datas.item: missing'],
    ['$each beside other keys', (m) => (m.messages.reading.body.datas.extra = 1), 'm.yaml: messages.reading.body.datas: an object with $each has only $each and item (found extra)'],
    ['another $ key', (m) => (m.messages.alarm.body.$if = 'x'), 'm.yaml: messages.alarm.body.$if: keys starting with $ are reserved'],
    ['a bad table name', (m) => (m.tables['9x'] = {}), 'm.yaml: tables.9x: a table name is letters'],
    ['a secret variable not set', (m) => (m.transport.password = '${NB_PASSWORD}'), 'm.yaml: transport.password: environment variable NB_PASSWORD is not set'],
    ['a HAZWATCH_ variable as secret', (m) => (m.transport.password = '${HAZWATCH_X}'), 'm.yaml: transport.password: ${HAZWATCH_X}: HAZWATCH_* variables are settings of hazwatch'],
  ])('names %s', (_, change, expected) => {
    const problems = broken(change);
    expect(problems.join('\n')).toContain(expected);
  });

  it('an https transport wants paths, not topics, and an http(s) url', () => {
    const problems = broken((m) => (m.transport = { kind: 'https', url: 'mqtt://x' }));
    expect(problems).toContain('m.yaml: transport.url: "mqtt://x": expected https://, http://');
    expect(problems).toContain('m.yaml: messages.device.topic: the https transport sends to a path, not a topic');
    expect(problems).toContain('m.yaml: messages.device.path: missing: where the https transport sends device messages');
  });

  it('fills secrets from the environment', () => {
    const m = valid();
    m.transport.password = '${NB_PASSWORD}';
    const problems: string[] = [];
    expect(compileNorthboundMap(m, 'm.yaml', problems, { NB_PASSWORD: 's3' })!.transport).toMatchObject({ password: 's3' });
    expect(problems).toEqual([]);
  });

  it('throws HW_ERR_CONFIG naming the file, also for a file that is not YAML', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: [unclosed');
    expect(() => loadNorthboundMap(bad)).toThrow(HazwatchError);
    expect(() => loadNorthboundMap(bad)).toThrow(/^northbound\.map: .*bad\.yaml: /);
    expect(() => loadNorthboundMap(join(dir, 'missing.yaml'))).toThrow(/missing\.yaml: ENOENT/);
    const wrong = join(dir, 'wrong.yaml');
    writeFileSync(wrong, JSON.stringify({ ...valid(), utcOffset: 'CST' }));
    try {
      loadNorthboundMap(wrong);
      expect.unreachable();
    } catch (err) {
      expect((err as HazwatchError).code).toBe('HW_ERR_CONFIG');
      expect((err as Error).message).toBe(`northbound.map: ${wrong}: utcOffset: "CST": expected +HH:MM, e.g. "+08:00"`);
    }
  });
});

describe('the shipped example map (northbound/examples/province.yaml)', () => {
  const map = loadNorthboundMap(EXAMPLE, ENV);
  const render = (kind: 'device' | 'reading' | 'alarm', ctx: Context) => {
    const unmapped: unknown[] = [];
    const msg = map.messages[kind]!;
    const ctxAll = { ...ctx, kind, instance: 'example-province', messageId: 7, now: 0 };
    return { target: renderText(msg.target, ctxAll, map.tables, (_, v) => unmapped.push(v)), body: renderNode(msg.body, ctxAll, map.tables, (_, v) => unmapped.push(v)) as Record<string, unknown>, unmapped };
  };

  it('checks, with the secrets from the environment', () => {
    expect(map.transport).toMatchObject({ kind: 'mqtt', clientId: 'cid-1', username: 'user-1', password: 'secret-1', qos: 1 });
    expect(Object.keys(map.messages)).toEqual(['enterprise', 'hazardSource', 'device', 'reading', 'alarm']);
  });

  it('maps a device: codes from the tables', () => {
    const r = render('device', device);
    expect(r.target).toBe('hazchem/91370000EXAMPLE0002/base/equipment');
    expect(r.body).toMatchObject({ msgId: 'example-province-7', companyCode: '91370000EXAMPLE0002', hazardCode: '370000EX0002', equipCode: '91370000EXAMPLE0002-tank-01', equipName: 'Tank 1', equipType: 'CG', status: '1' });
  });

  it('maps a reading: one element per value, local time at +08:00, booleans as numbers', () => {
    // 2026-03-01 10:00:05 at UTC+8.
    const t = Date.UTC(2026, 2, 1, 2, 0, 5);
    const values = [valueContext('vessel', 'level', 3.5, t - 4000), valueContext('vessel', 'temperature', 21, t)];
    const r = render('reading', readingContext(device, values, { start: t - 5000, end: t + 55_000 }));
    expect(r.body).toEqual({
      msgId: 'example-province-7',
      companyCode: '91370000EXAMPLE0002',
      hazardCode: '370000EX0002',
      equipCode: '91370000EXAMPLE0002-tank-01',
      equipType: 'CG',
      collectTime: '20260301100005',
      datas: [
        { quotaCode: 'LT', quotaName: '液位', value: 3.5, unit: 'm', dataTime: '20260301100001' },
        { quotaCode: 'TE', quotaName: '温度', value: 21, unit: '°C', dataTime: '20260301100005' },
      ],
    });
    const pump = render('reading', readingContext(device, [valueContext('fire_water', 'pump_running', true, t)], { start: t, end: t }));
    expect((pump.body.datas as Array<Record<string, unknown>>)[0]).toMatchObject({ quotaCode: 'PR', value: 1 });
  });

  it('maps an alarm change: level, type and status codes, times', () => {
    const at = Date.UTC(2026, 2, 1, 2, 0, 0);
    const ctx = alarmContext(
      AlarmEventPayload.parse({
        alarm: {
          id: 'a1', enterprise: 'acme', device: 'tank-01', deviceClass: 'vessel', site: 'farm', hazardSource: 'hs-1', condition: 'HW_ALM_LEVEL_HIGH', level: 2, peakLevel: 2,
          state: 'active_unacknowledged', metric: 'level', value: 9.1, threshold: 9, message: 'level 9.1 m above HH 9 m', messageZh: null, raisedAt: at, updatedAt: at,
          acknowledgedAt: null, acknowledgedBy: null, clearedAt: null, closedAt: null, closedBy: null, shelvedUntil: null, cause: null, parentId: null,
        },
        change: { alarmId: 'a1', seq: 41, at: at + 60_000, action: 'escalated', by: 'system', level: 1, state: 'active_unacknowledged', value: 9.4, note: null, data: null },
      }),
      device,
    );
    const r = render('alarm', ctx);
    expect(r.target).toBe('hazchem/91370000EXAMPLE0002/alarm');
    expect(r.body).toEqual({
      msgId: 'example-province-7', companyCode: '91370000EXAMPLE0002', hazardCode: '370000EX0002', equipCode: '91370000EXAMPLE0002-tank-01', alarmId: 'a1',
      alarmType: 'H', alarmLevel: '1', alarmStatus: '2', quotaCode: 'LT', alarmValue: 9.4, threshold: 9, content: '液位高报', alarmTime: '20260301100000', changeTime: '20260301100100',
    });
    expect(r.unmapped).toEqual([]);
  });

  it('sends a value no table knows as it is, and says so', () => {
    const other = deviceContext({ enterprise: 'elsewhere', id: 'd', class: 'oxygen', name: '', site: '', hazardSource: null, intervalSeconds: null, meta: {}, connection: null, createdAt: 0, revokedAt: null }, enterpriseContext({ id: 'elsewhere', name: 'E', createdAt: 0 }, undefined));
    const r = render('device', other);
    expect(r.body).toMatchObject({ companyCode: 'elsewhere', hazardCode: null, equipType: 'YQ' });
    expect(r.unmapped).toEqual(['elsewhere', 'elsewhere', 'elsewhere']);
  });
});

describe('templates', () => {
  const map = compileNorthboundMap(
    { ...valid(), messages: { device: { topic: 'x/{device}', body: { text: 'id {device} ({{literal}})', typed: '{device.intervalSeconds}', meta: '{device.meta.tag}', absent: '{device.meta.none}', list: ['{device}', 2, null] } } } },
    'm.yaml',
    [],
  )!;

  it('keeps a reference alone typed, makes text of a mixture, and takes {{ }} as braces', () => {
    expect(renderNode(map.messages.device!.body, device, map.tables, none)).toEqual({ text: 'id tank-01 ({literal})', typed: 10, meta: 'T-101', absent: null, list: ['tank-01', 2, null] });
  });

  it('formats times', () => {
    const t = Date.UTC(2026, 0, 2, 16, 30, 4, 56);
    expect((timeFormat('yyyy-MM-dd HH:mm:ss.SSS', '+08:00') as (n: number) => string)(t)).toBe('2026-01-03 00:30:04.056');
    expect((timeFormat('iso8601', '+08:00') as (n: number) => string)(t)).toBe('2026-01-03T00:30:04.056+08:00');
    expect((timeFormat('iso8601', undefined) as (n: number) => string)(t)).toBe('2026-01-02T16:30:04.056Z');
    expect((timeFormat('epoch_s', undefined) as (n: number) => number)(t)).toBe(Math.floor(t / 1000));
    expect((timeFormat('HHmm', '-03:30') as (n: number) => string)(t)).toBe('1300');
  });
});
