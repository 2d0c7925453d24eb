// Faults a scenario (or a test) injects into a simulated device. One zod schema validates them in
// scenario files and at `model.inject()`; durations are seconds of simulated time. A fault without
// `durationSeconds` lasts until the end of the run (or `model.clear(kind)`).
import { z } from 'zod';

const duration = z.number().positive().optional().describe('Seconds of simulated time the fault lasts; absent = until the end');

/** Malformed messages a device with broken firmware may send; each maps to the rejection ingest must give. */
export const MALFORMED_VARIANTS = {
  bad_json: 'HW_ERR_BAD_JSON',
  unknown_metric: 'HW_ERR_UNKNOWN_METRIC',
  out_of_range: 'HW_ERR_RANGE',
  nan_string: 'HW_ERR_NOT_FINITE',
  wrong_type: 'HW_ERR_TYPE',
  oversize_batch: 'HW_ERR_BATCH_TOO_LARGE',
  bad_timestamp: 'HW_ERR_TS_INVALID',
  schema: 'HW_ERR_SCHEMA',
  unknown_event: 'HW_ERR_UNKNOWN_EVENT',
} as const;
export type MalformedVariant = keyof typeof MALFORMED_VARIANTS;

export const Fault = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('gas_leak'),
      peak: z.number().positive().describe('Concentration at the source at full plume, in the detector unit (%LEL or ppm)'),
      rampSeconds: z.number().positive().default(60),
      holdSeconds: z.number().nonnegative().default(300),
      decaySeconds: z.number().positive().default(120),
      /** Set by the scenario for neighbours: the plume reaches them later and weaker. */
      delaySeconds: z.number().nonnegative().default(0),
      factor: z.number().positive().max(1).default(1),
      durationSeconds: duration,
    })
    .strict(),
  z
    .object({
      kind: z.literal('oxygen_shift'),
      target: z.number().min(0).max(30).describe('%VOL the space settles at (below 19.5 deficiency, above 23.5 enrichment)'),
      rampSeconds: z.number().positive().default(60),
      durationSeconds: duration,
    })
    .strict(),
  z
    .object({
      kind: z.literal('overfill'),
      flow: z.number().positive().default(120).describe('Inlet flow in m3/h with the inlet valve stuck open'),
      durationSeconds: duration,
    })
    .strict(),
  z
    .object({
      kind: z.literal('drain'),
      flow: z.number().positive().default(120).describe('Outlet flow in m3/h with the outlet stuck open (or a leak)'),
      durationSeconds: duration,
    })
    .strict(),
  z.object({ kind: z.literal('pump_failure'), durationSeconds: duration }).strict(),
  z
    .object({
      kind: z.literal('hydrant_draw'),
      flow: z.number().positive().default(54).describe('Water drawn in m3/h (one hydrant at 15 L/s = 54 m3/h)'),
      durationSeconds: duration,
    })
    .strict(),
  z
    .object({
      kind: z.literal('electrical_leakage'),
      ratePerMinute: z.number().positive().default(30).describe('Growth of the residual current in mA per minute'),
      peak: z.number().positive().max(3000).default(800).describe('mA where the growth stops'),
      durationSeconds: duration,
    })
    .strict(),
  z
    .object({
      kind: z.literal('overload'),
      factor: z.number().positive().default(1.4).describe('Load as a multiple of the rated current'),
      durationSeconds: duration,
    })
    .strict(),
  z.object({ kind: z.literal('arc_fault'), durationSeconds: duration }).strict(),
  z
    .object({
      kind: z.literal('fire'),
      ratePerMinute: z.number().positive().default(20).describe('Temperature rise in °C per minute at the vessel or cable'),
      durationSeconds: duration,
    })
    .strict(),
  z.object({ kind: z.literal('low_battery'), to: z.number().min(0).max(100).default(15), durationSeconds: duration }).strict(),
  z.object({ kind: z.literal('silence_button'), durationSeconds: duration }).strict(),
  // A camera's analytics: someone inside a hazard area's fence, someone without a helmet.
  z.object({ kind: z.literal('intrusion'), durationSeconds: duration }).strict(),
  z.object({ kind: z.literal('no_helmet'), durationSeconds: duration }).strict(),
  z.object({ kind: z.literal('tamper'), durationSeconds: duration }).strict(),
  z.object({ kind: z.literal('device_fault'), message: z.string().default('sensor fault'), durationSeconds: duration }).strict(),
  z
    .object({
      kind: z.literal('silent'),
      mode: z.enum(['mute', 'drop']).default('mute').describe('mute: stays connected and sends nothing; drop: connection lost without DISCONNECT (the broker publishes the last will)'),
      durationSeconds: duration,
    })
    .strict(),
  z
    .object({
      kind: z.literal('chatter'),
      metric: z.string(),
      around: z.number().describe('The threshold the value hovers at'),
      amplitude: z.number().nonnegative().default(1.5),
      periodSeconds: z.number().positive().default(30),
      durationSeconds: duration,
    })
    .strict(),
  z.object({ kind: z.literal('clock_skew'), offsetSeconds: z.number(), durationSeconds: duration }).strict(),
  z
    .object({
      kind: z.literal('malformed'),
      variant: z.enum(Object.keys(MALFORMED_VARIANTS) as [MalformedVariant, ...MalformedVariant[]]),
      count: z.number().int().positive().default(1).describe('How many malformed messages, one per report'),
      durationSeconds: duration,
    })
    .strict(),
]);
export type Fault = z.infer<typeof Fault>;
export type FaultInput = z.input<typeof Fault>;
export type FaultKind = Fault['kind'];
export const FAULT_KINDS = Fault.options.map((o) => o.shape.kind.value) as FaultKind[];

/** Faults every device class understands; the others belong to the physics of one class. */
export const COMMON_FAULTS: readonly FaultKind[] = ['silent', 'chatter', 'clock_skew', 'malformed', 'device_fault', 'tamper'];
