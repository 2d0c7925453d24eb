import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVICE_CLASSES, interpretEvent, interpretTelemetry, parseTopic, topicFor, topicParser, ERRORS, type DeviceClass } from '../index.ts';
import { contractSchemas, renderSchema, telemetrySchemaFor } from '../json-schema.ts';

const NOW = Date.parse('2026-11-23T08:00:00Z');

describe('topics', () => {
  it('round-trips a device topic', () => {
    const topic = topicFor('acme', 'gas-01', 'telemetry');
    expect(topic).toBe('hw/v1/acme/gas-01/telemetry');
    expect(parseTopic(topic)).toEqual({ enterprise: 'acme', device: 'gas-01', channel: 'telemetry' });
  });

  it.each(['hw/v1/acme/gas-01', 'hw/v2/acme/gas-01/telemetry', 'hw/v1/acme/+/telemetry', 'hw/v1/acme/gas-01/other', 'hw/v1//gas/telemetry', 'hw/v1/acme/gas-01/telemetry/x'])('refuses %s', (topic) => {
    expect(parseTopic(topic)).toBeUndefined();
  });

  it('a remembering parser answers as parseTopic, for topics seen again and beyond its bound', () => {
    const parse = topicParser(50);
    const topics = Array.from({ length: 400 }, (_, i) =>
      [`hw/v1/e${i % 7}/d-${i % 130}/${['telemetry', 'event', 'status', 'other'][i % 4]}`, `hw/v1/e/+/telemetry`, `hw/v1/e/d${i % 3}`][i % 3],
    );
    for (const topic of [...topics, ...topics]) expect(parse(topic)).toEqual(parseTopic(topic));
    const first = parse('hw/v1/acme/gas-01/telemetry');
    expect(parse('hw/v1/acme/gas-01/telemetry')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });
});

describe('telemetry', () => {
  it('accepts a single reading with device time', () => {
    const r = interpretTelemetry('gas_combustible', JSON.stringify({ ts: NOW - 1000, values: { lel: 12.5 } }), NOW);
    expect(r.rejections).toEqual([]);
    expect(r.readings).toEqual([{ ts: NOW - 1000, tsSource: 'device', values: { lel: 12.5 } }]);
  });

  it('uses receive time when there is no timestamp, and parses ISO 8601 with zone', () => {
    expect(interpretTelemetry('oxygen', '{"values":{"o2":20.9}}', NOW).readings[0]).toMatchObject({ ts: NOW, tsSource: 'receive' });
    expect(interpretTelemetry('oxygen', '{"ts":"2026-11-23T15:59:59+08:00","values":{"o2":20.9}}', NOW).readings[0].ts).toBe(NOW - 1000);
  });

  it('keeps good siblings of a bad value and says why the bad one was refused', () => {
    const r = interpretTelemetry('power_meter', JSON.stringify({ values: { voltage: 230, current: 'high', residual_current: 5000, bogus: 1, cable_temperature: 41 } }), NOW);
    expect(r.readings).toEqual([{ ts: NOW, tsSource: 'receive', values: { voltage: 230, cable_temperature: 41 } }]);
    expect(r.rejections.map((x) => [x.code, x.metric])).toEqual([
      ['HW_ERR_TYPE', 'current'],
      ['HW_ERR_RANGE', 'residual_current'],
      ['HW_ERR_UNKNOWN_METRIC', 'bogus'],
    ]);
  });

  it('refuses NaN and Infinity however they are spelled', () => {
    const r = interpretTelemetry('vessel', '{"values":{"level":1e999,"temperature":"NaN","pressure":"-Infinity"}}', NOW);
    expect(r.readings).toEqual([]);
    expect(r.rejections.map((x) => x.code)).toEqual(['HW_ERR_NOT_FINITE', 'HW_ERR_NOT_FINITE', 'HW_ERR_NOT_FINITE']);
  });

  it('refuses bad JSON and bad envelopes as a whole', () => {
    expect(interpretTelemetry('vessel', '{"values":', NOW).rejections[0].code).toBe('HW_ERR_BAD_JSON');
    expect(interpretTelemetry('vessel', Buffer.from([0xff, 0xfe, 0x7b]), NOW).rejections[0].code).toBe('HW_ERR_BAD_JSON');
    expect(interpretTelemetry('vessel', '{"value":{"level":1}}', NOW).rejections[0].code).toBe('HW_ERR_SCHEMA');
    expect(interpretTelemetry('vessel', '[1,2]', NOW).rejections[0].code).toBe('HW_ERR_SCHEMA');
    expect(interpretTelemetry('vessel', '{"values":{}}', NOW).rejections[0].code).toBe('HW_ERR_EMPTY');
  });

  it('handles batches: per-reading time checks, index in every rejection, size limit', () => {
    const readings = [
      { ts: NOW - 60_000, values: { lel: 1 } },
      { ts: NOW + 2 * 3_600_000, values: { lel: 2 } },
      { ts: NOW - 30 * 86_400_000, values: { lel: 3 } },
      { ts: NOW + 120_000, values: { lel: 4 } },
      { ts: 'yesterday', values: { lel: 5 } },
    ];
    const r = interpretTelemetry('gas_combustible', JSON.stringify({ readings }), NOW);
    expect(r.readings).toEqual([
      { ts: NOW - 60_000, tsSource: 'device', values: { lel: 1 } },
      { ts: NOW, tsSource: 'receive', values: { lel: 4 } },
    ]);
    expect(r.rejections.map((x) => [x.code, x.index])).toEqual([
      ['HW_ERR_TS_FUTURE', 1],
      ['HW_ERR_TS_PAST', 2],
      ['HW_WARN_CLOCK_SKEW', 3],
      ['HW_ERR_TS_INVALID', 4],
    ]);
    const big = { readings: Array.from({ length: 1001 }, () => ({ values: { lel: 1 } })) };
    expect(interpretTelemetry('gas_combustible', JSON.stringify(big), NOW).rejections[0].code).toBe('HW_ERR_BATCH_TOO_LARGE');
  });

  it('takes 0/1 for boolean metrics and nothing else', () => {
    const r = interpretTelemetry('fire_water', '{"values":{"pump_running":1,"jockey_running":false,"pressure":0.3}}', NOW);
    expect(r.readings[0].values).toEqual({ pump_running: true, jockey_running: false, pressure: 0.3 });
    expect(interpretTelemetry('fire_water', '{"values":{"pump_running":"on"}}', NOW).rejections[0].code).toBe('HW_ERR_TYPE');
  });
});

describe('events', () => {
  it('accepts an event of the class and defaults active to true', () => {
    const r = interpretEvent('smoke_alarm', '{"type":"smoke"}', NOW);
    expect(r.event).toMatchObject({ type: 'smoke', active: true, ts: NOW });
    expect(interpretEvent('smoke_alarm', '{"type":"smoke","active":false}', NOW).event?.active).toBe(false);
  });

  it('refuses an event type the class does not have, and unknown types', () => {
    expect(interpretEvent('oxygen', '{"type":"smoke"}', NOW).rejections[0].code).toBe('HW_ERR_UNKNOWN_EVENT');
    expect(interpretEvent('oxygen', '{"type":"explosion"}', NOW).rejections[0].code).toBe('HW_ERR_UNKNOWN_EVENT');
    expect(interpretEvent('oxygen', '{"type":"fault","extra":1}', NOW).rejections[0].code).toBe('HW_ERR_SCHEMA');
  });
});

describe('catalog', () => {
  it('gives every numeric metric a unit and a physical range, and every class an interval', () => {
    for (const [cls, spec] of Object.entries(DEVICE_CLASSES)) {
      expect(spec.intervalSeconds, cls).toBeGreaterThan(0);
      for (const [metric, m] of Object.entries(spec.metrics) as [string, { type: string; unit: string; min?: number; max?: number }][]) {
        if (m.type === 'number') {
          expect(m.unit, `${cls}.${metric}`).not.toBe('');
          expect(m.min! < m.max!, `${cls}.${metric}`).toBe(true);
        }
      }
    }
  });

  it('has codes in the catalog for every rejection the interpreter produces', () => {
    for (const code of Object.keys(ERRORS)) expect(code).toMatch(/^HW_(ERR|WARN)_[A-Z_]+$/);
  });
});

describe('JSON Schema', () => {
  const dir = join(import.meta.dirname, '..', 'schema');

  it('committed files match the zod schemas (npm run contract:schema regenerates them)', () => {
    const generated = contractSchemas();
    expect(readdirSync(dir).sort()).toEqual(Object.keys(generated).sort());
    for (const [file, schema] of Object.entries(generated)) expect(readFileSync(join(dir, file), 'utf8'), file).toBe(renderSchema(schema));
  });

  it('per-class schema agrees with the interpreter on good and bad samples', () => {
    for (const cls of Object.keys(DEVICE_CLASSES) as DeviceClass[]) {
      const schema = telemetrySchemaFor(cls);
      const metrics = Object.entries(DEVICE_CLASSES[cls].metrics) as [string, { type: string; min?: number; max?: number }][];
      const good = Object.fromEntries(metrics.map(([m, s]) => [m, s.type === 'boolean' ? true : (s.min! + s.max!) / 2]));
      expect(schema.safeParse({ values: good }).success, cls).toBe(true);
      expect(interpretTelemetry(cls, JSON.stringify({ values: good }), NOW).rejections, cls).toEqual([]);
      const [name, spec] = metrics.find(([, s]) => s.type === 'number')!;
      const bad = { values: { [name]: spec.max! + 1 } };
      expect(schema.safeParse(bad).success, cls).toBe(false);
      expect(interpretTelemetry(cls, JSON.stringify(bad), NOW).rejections[0].code, cls).toBe('HW_ERR_RANGE');
    }
  });
});
