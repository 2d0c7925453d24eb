// When a device counts as offline: one definition for the offline alarm (rules), the retained presence
// topic (rules), the console (api) and the dashboards (which count the offline alarms). Offline means
// "not heard from within what the device promised", not "its TCP connection closed":
// - always connected (a detector on a controller, a gateway's PLC): offline once its connection has been
//   lost for longer than a grace period, or when nothing arrived for interval × tolerance;
// - intermittent (NB-IoT and battery devices: connect, report, DISCONNECT): offline only when nothing
//   arrived for interval × tolerance; connections coming and going are normal.
// Any message counts as heard from: telemetry, events (heartbeats), an `online` status.
import { z } from 'zod';
import { DEVICE_CLASSES, type DeviceClass } from './catalog.ts';

export const CONNECTION_MODES = ['always', 'intermittent'] as const;
export type ConnectionMode = (typeof CONNECTION_MODES)[number];

/** What a device declares in the registry; every field left out takes its class default. */
export const ConnectionSettings = z
  .object({
    mode: z.enum(CONNECTION_MODES).optional().describe('always: offline on a lost connection after graceSeconds; intermittent: a DISCONNECT is normal'),
    graceSeconds: z.number().int().min(0).max(86_400).optional().describe('always: how long a lost connection may last before the device is offline'),
    tolerance: z.number().min(1).max(100).optional().describe('Offline when nothing is heard for tolerance × the reporting interval'),
  })
  .strict();
export type ConnectionSettings = z.infer<typeof ConnectionSettings>;

export interface PresencePolicy {
  mode: ConnectionMode;
  intervalSeconds: number;
  graceSeconds: number;
  tolerance: number;
}

/** A device as the registry knows it, reduced to what presence needs. */
export interface PresenceDevice {
  class: DeviceClass;
  intervalSeconds: number | null;
  connection?: ConnectionSettings | null;
}

export function presencePolicy(device: PresenceDevice): PresencePolicy {
  const cls = DEVICE_CLASSES[device.class];
  const c = device.connection ?? {};
  return {
    mode: c.mode ?? cls.connection.mode,
    intervalSeconds: device.intervalSeconds ?? cls.intervalSeconds,
    graceSeconds: c.graceSeconds ?? cls.connection.graceSeconds,
    tolerance: c.tolerance ?? cls.connection.tolerance,
  };
}

/** What was observed of a device: when it was last heard from, and since when its connection is down. */
export interface PresenceObservation {
  /** Receive time of the newest message of any kind (or when watching began), epoch ms. */
  heardAt: number;
  /** When its connection was reported lost (last will, broker, gateway) and not restored since; null while up. */
  linkLostAt: number | null;
}

export type OfflineReason = 'silent' | 'connection_lost';

export interface Presence {
  state: 'online' | 'offline';
  reason: OfflineReason | null;
  /** When the next message is due (heardAt + interval). */
  nextExpectedAt: number;
  /** When the device is (or was) judged offline if nothing is heard meanwhile. */
  offlineAt: number;
}

export function judgePresence(policy: PresencePolicy, seen: PresenceObservation, now: number): Presence {
  const interval = policy.intervalSeconds * 1000;
  const silentAt = seen.heardAt + interval * policy.tolerance;
  const lostAt = policy.mode === 'always' && seen.linkLostAt !== null ? seen.linkLostAt + policy.graceSeconds * 1000 : Infinity;
  const offlineAt = Math.min(silentAt, lostAt);
  // A message exactly on its deadline is in time; a grace of zero makes a lost connection offline at once.
  const lost = now >= lostAt;
  const silent = now > silentAt;
  return {
    state: lost || silent ? 'offline' : 'online',
    reason: lost && lostAt <= silentAt ? 'connection_lost' : silent ? 'silent' : lost ? 'connection_lost' : null,
    nextExpectedAt: seen.heardAt + interval,
    offlineAt,
  };
}

/** hw/v1/<enterprise>/<device>/presence, retained, published by rules whenever its judgement changes. */
export const PresencePayload = z
  .object({
    state: z.enum(['online', 'offline']),
    reason: z.enum(['silent', 'connection_lost']).nullable().describe('Why it is offline; null while online'),
    mode: z.enum(CONNECTION_MODES),
    heardAt: z.number().nullable().describe('Receive time of its newest message, epoch ms; null when not heard from since rules started'),
    nextExpectedAt: z.number().describe('When its next message is due, epoch ms'),
    offlineAt: z.number().describe('When it is (or was) offline if nothing is heard, epoch ms'),
    ts: z.number().describe('When this judgement was made, epoch ms'),
  })
  .strict();
export type PresencePayload = z.infer<typeof PresencePayload>;
