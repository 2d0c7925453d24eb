// JSON Schema for enterprises, generated from the same zod schemas the platform validates with.
// The committed files in contract/schema/ are checked against this generator by a test, so the
// published contract and the running one cannot drift apart.
import { z } from 'zod';
import { DEVICE_CLASSES, type DeviceClass, type MetricSpec } from './catalog.ts';
import { ErrorPayload, EventPayload, StatusPayload, Timestamp } from './payloads.ts';
import { PresencePayload } from './presence.ts';
import { commandSchemaFor, ReplyPayload } from './commands.ts';

function metricSchema(name: string, spec: MetricSpec) {
  if (spec.type === 'boolean') return z.boolean().describe(spec.description);
  let schema = z.number();
  if (spec.min !== undefined) schema = schema.min(spec.min);
  if (spec.max !== undefined) schema = schema.max(spec.max);
  return schema.describe(`${spec.description} (${spec.unit || name})`);
}

/** The telemetry payload of one device class, with its metrics, units and physical ranges spelled out. */
export function telemetrySchemaFor(cls: DeviceClass) {
  const metrics: Record<string, MetricSpec> = DEVICE_CLASSES[cls].metrics;
  const values = z
    .object(Object.fromEntries(Object.entries(metrics).map(([name, spec]) => [name, metricSchema(name, spec).optional()])))
    .strict();
  const reading = z.object({ ts: Timestamp.optional(), values }).strict();
  return z.union([reading, z.object({ readings: z.array(reading).min(1) }).strict()]).describe(`${DEVICE_CLASSES[cls].title}: telemetry payload`);
}

/** File name → JSON Schema document. */
export function contractSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const doc = (id: string, schema: z.ZodType) => ({ $id: `https://hazwatch.dev/contract/v1/${id}`, ...z.toJSONSchema(schema, { target: 'draft-2020-12' }) });
  for (const cls of Object.keys(DEVICE_CLASSES) as DeviceClass[]) {
    out[`telemetry.${cls}.schema.json`] = doc(`telemetry.${cls}.schema.json`, telemetrySchemaFor(cls));
  }
  out['event.schema.json'] = doc('event.schema.json', EventPayload);
  out['status.schema.json'] = doc('status.schema.json', StatusPayload);
  out['error.schema.json'] = doc('error.schema.json', ErrorPayload);
  out['presence.schema.json'] = doc('presence.schema.json', PresencePayload);
  // Device commands (issue 15): one command schema per class that accepts any, and the reply.
  for (const cls of Object.keys(DEVICE_CLASSES) as DeviceClass[]) {
    const schema = commandSchemaFor(cls);
    if (schema) out[`command.${cls}.schema.json`] = doc(`command.${cls}.schema.json`, schema);
  }
  out['reply.schema.json'] = doc('reply.schema.json', ReplyPayload);
  return out;
}

export function renderSchema(schema: unknown): string {
  return JSON.stringify(schema, null, 2) + '\n';
}
