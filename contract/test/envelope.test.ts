// The hand-written telemetry envelope check against the zod schema it stands in for: on a large corpus
// of generated messages, good and bad (parsed from JSON text, as devices send them), both give the same answer.
import { describe, expect, it } from 'vitest';
import { TelemetryPayload, telemetryEnvelope } from '../payloads.ts';

/** A small seeded generator (mulberry32): the corpus is the same in every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = random(18);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)];
const KEYS = ['ts', 'values', 'readings', 'value', 'Values', '__proto__', 'constructor', 'toString', 'lel', ''];
// Text, not values: JSON.parse makes 1e999 Infinity and "__proto__" an own key, as for a device's message.
const SCALARS = ['0', '1', '-1.5', '1e999', '-1e999', '1733550000000', 'true', 'false', 'null', '"2026-12-07T08:00:00+08:00"', '"x"', '""'];

function anyJson(depth: number): string {
  const r = rnd();
  if (depth <= 0 || r < 0.4) return pick(SCALARS);
  if (r < 0.55) return `[${Array.from({ length: Math.floor(rnd() * 3) }, () => anyJson(depth - 1)).join(',')}]`;
  return `{${Array.from({ length: Math.floor(rnd() * 3) }, () => `${JSON.stringify(pick(KEYS))}:${anyJson(depth - 1)}`).join(',')}}`;
}

function valuesJson(): string {
  if (rnd() < 0.15) return anyJson(2);
  const entries = Array.from({ length: Math.floor(rnd() * 4) }, () => `${JSON.stringify(pick(['lel', 'ppm', 'temperature', '__proto__', 'constructor', '']))}:${anyJson(1)}`);
  return `{${entries.join(',')}}`;
}

function readingJson(): string {
  const parts: string[] = [];
  if (rnd() < 0.9) parts.push(`"values":${valuesJson()}`);
  if (rnd() < 0.5) parts.push(`"ts":${rnd() < 0.8 ? pick(SCALARS) : anyJson(1)}`);
  if (rnd() < 0.1) parts.push(`${JSON.stringify(pick(KEYS))}:${anyJson(1)}`);
  if (rnd() < 0.5) parts.reverse();
  return `{${parts.join(',')}}`;
}

function messageJson(): string {
  const r = rnd();
  if (r < 0.45) return readingJson();
  if (r < 0.85) {
    const readings = `[${Array.from({ length: Math.floor(rnd() * 4) }, () => (rnd() < 0.9 ? readingJson() : anyJson(2))).join(',')}]`;
    const extra = rnd() < 0.1 ? `,${JSON.stringify(pick(KEYS))}:${anyJson(1)}` : '';
    return `{"readings":${rnd() < 0.9 ? readings : anyJson(2)}${extra}}`;
  }
  return anyJson(3);
}

describe('telemetryEnvelope', () => {
  it('agrees with TelemetryPayload on 50,000 generated messages, about half of them valid', () => {
    let valid = 0;
    const disagreements: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const text = messageJson();
      const json = JSON.parse(text) as unknown;
      const zod = TelemetryPayload.safeParse(json).success;
      if (zod) valid++;
      if ((telemetryEnvelope(json) !== undefined) !== zod) disagreements.push(`${text} (zod: ${zod})`);
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
    // The corpus must exercise both answers in earnest, or agreeing proves little.
    expect(valid).toBeGreaterThan(10_000);
    expect(valid).toBeLessThan(40_000);
  });

  it('returns the message itself when valid, so the values read are the values sent', () => {
    const json = JSON.parse('{"ts":1733550000000,"values":{"lel":12.5}}') as unknown;
    expect(telemetryEnvelope(json)).toBe(json);
    expect(telemetryEnvelope(JSON.parse('{"readings":[]}'))).toBeUndefined();
  });
});
