import { describe, expect, it } from 'vitest';
import { DEFAULT_TIME_POLICY } from '../../contract/index.ts';
import type { DeviceRecord } from '../../registry/registry.ts';
import { createInterpreter } from '../interpret.ts';
import { line, receiveClock } from '../points.ts';

const now = Date.UTC(2026, 10, 23, 8, 0, 0);
const device = (over: Partial<DeviceRecord> = {}): DeviceRecord => ({
  enterprise: 'acme',
  id: 'gas-01',
  class: 'gas_combustible',
  name: '',
  site: 'north yard',
  hazardSource: 'T-101',
  intervalSeconds: null,
  meta: {}, connection: null,
  createdAt: 0,
  revokedAt: null,
  ...over,
});
const directory = new Map([
  ['acme/gas-01', device()],
  ['acme/pump-01', device({ id: 'pump-01', class: 'fire_water', site: '', hazardSource: null })],
]);
const interpret = createInterpreter({
  devices: { get: (e, d) => directory.get(`${e}/${d}`), gateway: (e, d) => e === 'acme' && d === 'gw-01' },
  time: DEFAULT_TIME_POLICY,
  limits: { maxBatch: 3 },
  maxPayloadBytes: 1024,
});
const msg = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('line protocol', () => {
  it('sorts tags, omits empty ones, escapes, types fields', () => {
    expect(line('gas_combustible', { enterprise: 'a b', device: 'd,1', site: '', hazard_source: null }, { lel: 12.5, alarm: true, message: 'say "hi"' }, 5)).toBe(
      'gas_combustible,device=d\\,1,enterprise=a\\ b lel=12.5,alarm=true,message="say \\"hi\\"" 5',
    );
  });
  it('never hands out the same receive time twice for one device', () => {
    const clock = receiveClock();
    expect([clock('a', 10), clock('a', 10), clock('a', 10), clock('b', 10), clock('a', 5), clock('a', 20)]).toEqual([10, 11, 12, 10, 13, 20]);
  });
});

describe('interpret', () => {
  it('stores a reading at the device time with the device tags', () => {
    const r = interpret('hw/v1/acme/gas-01/telemetry', msg({ ts: now - 1000, values: { lel: 12 } }), now);
    expect(r.rejections).toEqual([]);
    expect(r.receiveTime).toBe(false);
    expect(r.lines).toEqual([`gas_combustible,device=gas-01,enterprise=acme,hazard_source=T-101,site=north\\ yard lel=12 ${now - 1000}`]);
  });

  it('marks receive-time points and keeps a batch without timestamps apart', () => {
    const r = interpret('hw/v1/acme/gas-01/telemetry', msg({ readings: [{ values: { lel: 1 } }, { values: { lel: 2 } }] }), now);
    expect(r.receiveTime).toBe(true);
    expect(r.lines.map((l) => l.split(' ').slice(-2))).toEqual([
      ['lel=1,receive_time=true', String(now)],
      ['lel=2,receive_time=true', String(now + 1)],
    ]);
  });

  it('tags receive-time points with the receiver when several ingest processes share the load', () => {
    const shared = createInterpreter({ devices: { get: (e, d) => directory.get(`${e}/${d}`), gateway: () => false }, time: DEFAULT_TIME_POLICY, limits: { maxBatch: 3 }, maxPayloadBytes: 1024, receiver: 'ingest-b' });
    // Two processes both stamp this device at `now`: the tag keeps them two points, not one overwritten.
    expect(shared('hw/v1/acme/gas-01/telemetry', msg({ values: { lel: 1 } }), now).lines).toEqual([`gas_combustible,device=gas-01,enterprise=acme,hazard_source=T-101,receiver=ingest-b,site=north\\ yard lel=1,receive_time=true ${now}`]);
    expect(shared('hw/v1/acme/gas-01/event', msg({ type: 'heartbeat' }), now).lines[0]).toMatch(/^device_event,.*receiver=ingest-b,.*receive_time=true/);
    expect(shared('hw/v1/acme/gas-01/status', msg({ state: 'online' }), now).lines[0]).toMatch(/^device_status,.*receiver=ingest-b/);
    // A reading with its device time is the same point whoever stores it: no tag, so a duplicate overwrites.
    expect(shared('hw/v1/acme/gas-01/telemetry', msg({ ts: now - 1000, values: { lel: 1 } }), now).lines[0]).not.toContain('receiver=');
  });

  it('keeps good siblings of a bad value and reports the bad one', () => {
    const r = interpret('hw/v1/acme/pump-01/telemetry', msg({ ts: now, values: { pressure: 0.3, pool_level: 99, pump_running: 1, bogus: 1 } }), now);
    expect(r.rejections.map((x) => [x.code, x.metric])).toEqual([
      ['HW_ERR_RANGE', 'pool_level'],
      ['HW_ERR_UNKNOWN_METRIC', 'bogus'],
    ]);
    expect(r.lines).toEqual([`fire_water,device=pump-01,enterprise=acme pressure=0.3,pump_running=true ${now}`]);
    expect(r.errorTopic).toBe('hw/v1/acme/pump-01/error');
  });

  it.each([
    ['HW_ERR_UNKNOWN_DEVICE', 'hw/v1/acme/ghost/telemetry', msg({ values: { lel: 1 } })],
    ['HW_ERR_TOPIC', 'hw/v1/acme/bad id/telemetry', msg({ values: { lel: 1 } })],
    ['HW_ERR_PAYLOAD_TOO_LARGE', 'hw/v1/acme/gas-01/telemetry', Buffer.alloc(2000, 32)],
    ['HW_ERR_BAD_JSON', 'hw/v1/acme/gas-01/telemetry', Buffer.from('{lel:1')],
    ['HW_ERR_SCHEMA', 'hw/v1/acme/gas-01/telemetry', msg({ value: 1 })],
    ['HW_ERR_BATCH_TOO_LARGE', 'hw/v1/acme/gas-01/telemetry', msg({ readings: [1, 2, 3, 4].map(() => ({ values: { lel: 1 } })) })],
    ['HW_ERR_EMPTY', 'hw/v1/acme/gas-01/telemetry', msg({ values: {} })],
    ['HW_ERR_TYPE', 'hw/v1/acme/gas-01/telemetry', msg({ values: { lel: 'high' } })],
    ['HW_ERR_NOT_FINITE', 'hw/v1/acme/gas-01/telemetry', msg({ values: { lel: 'NaN' } })],
    ['HW_ERR_TS_FUTURE', 'hw/v1/acme/gas-01/telemetry', msg({ ts: now + 2 * 3600_000, values: { lel: 1 } })],
    ['HW_ERR_TS_PAST', 'hw/v1/acme/gas-01/telemetry', msg({ ts: now - 30 * 86400_000, values: { lel: 1 } })],
    ['HW_ERR_TS_INVALID', 'hw/v1/acme/gas-01/telemetry', msg({ ts: 'yesterday', values: { lel: 1 } })],
    ['HW_ERR_UNKNOWN_EVENT', 'hw/v1/acme/gas-01/event', msg({ type: 'smoke' })],
    ['HW_ERR_SCHEMA', 'hw/v1/acme/gas-01/status', msg({ state: 'sleeping' })],
  ])('refuses with %s', (code, topic, payload) => {
    const r = interpret(topic, payload, now);
    expect(r.lines).toEqual([]);
    expect(r.rejections.map((x) => x.code)).toEqual([code]);
  });

  it('uses the receive time for a skewed clock and says so', () => {
    const r = interpret('hw/v1/acme/gas-01/telemetry', msg({ ts: now + 120_000, values: { lel: 3 } }), now);
    expect(r.warnings.map((w) => w.code)).toEqual(['HW_WARN_CLOCK_SKEW']);
    expect(r.rejections).toEqual([]);
    expect(r.lines[0]).toMatch(/lel=3,receive_time=true \d+$/);
  });

  it('stores events and status in their measurements', () => {
    const e = interpret('hw/v1/acme/gas-01/event', msg({ ts: now, type: 'alarm_stage1', message: 'LEL 26' }), now);
    expect(e.lines).toEqual([`device_event,class=gas_combustible,device=gas-01,enterprise=acme,site=north\\ yard,type=alarm_stage1 active=true,message="LEL 26" ${now}`]);
    const s = interpret('hw/v1/acme/gas-01/status', msg({ state: 'offline', ts: now }), now);
    expect(s.lines).toEqual([`device_status,class=gas_combustible,device=gas-01,enterprise=acme,site=north\\ yard online=false ${now}`]);
  });

  it("stores a gateway's own status, and refuses telemetry on its name", () => {
    const s = interpret('hw/v1/acme/gw-01/status', msg({ state: 'online', ts: now }), now);
    expect(s.rejections).toEqual([]);
    expect(s.lines).toEqual([`gateway_status,enterprise=acme,gateway=gw-01 online=true ${now}`]);
    expect(interpret('hw/v1/acme/gw-01/telemetry', msg({ values: { lel: 1 } }), now).rejections.map((r) => r.code)).toEqual(['HW_ERR_UNKNOWN_DEVICE']);
    expect(interpret('hw/v1/other/gw-01/status', msg({ state: 'online' }), now).rejections.map((r) => r.code)).toEqual(['HW_ERR_UNKNOWN_DEVICE']);
  });

  it('does not store a retained status without its own time again', () => {
    const r = interpret('hw/v1/acme/gas-01/status', msg({ state: 'online' }), now, true);
    expect(r).toMatchObject({ lines: [], rejections: [], retainedReplay: true });
  });
});

describe('line protocol edge cases', () => {
  it('keeps a line break in a message or a site inside its one line', () => {
    const l = line('device_event', { site: 'a\nb' }, { message: 'line one\nline two "quoted"' }, 1);
    expect(l.split('\n')).toHaveLength(1);
    // Stored as the two characters \n (the backslash itself escaped in line protocol).
    expect(l).toBe('device_event,site=a\\ b message="line one\\\\nline two \\"quoted\\"" 1');
  });
});

// Device commands (issue 15): replies are the API's record; ingest neither stores nor refuses them.
it('neither stores nor refuses a reply to a command', () => {
  const r = interpret('hw/v1/acme/gas-01/reply', msg({ id: 'cmd-0123456789', status: 'done' }), now);
  expect(r).toMatchObject({ channel: 'reply', lines: [], rejections: [], warnings: [] });
});
