// The interface every device model offers, whatever the transport that serves it (MQTT here, Modbus TCP
// in gateway/). A model is pure and deterministic: the same seed, meta and sequence of step times give
// the same readings. Time is simulated epoch milliseconds, supplied by the caller at each step.
import type { DeviceClass, EventType } from '../../contract/catalog.ts';
import type { Fault, FaultInput, FaultKind, MalformedVariant } from '../faults.ts';
import type { Random } from '../random.ts';

export interface ModelEvent {
  type: EventType;
  /** Conditions: true when they start, false when they end. Absent for momentary events. */
  active?: boolean;
  message?: string;
  data?: Record<string, number | string | boolean>;
}

export interface StepResult {
  /** True simulated time of the reading. */
  now: number;
  /** Time on the device's own clock (differs from `now` under a clock_skew fault). */
  ts: number;
  /** Values keyed by the catalog's metric names, in the catalog's units, inside its physical ranges. */
  values: Record<string, number | boolean>;
  /** Device events since the previous step, in order. */
  events: ModelEvent[];
  /** Set while a `silent` fault is active: the transport sends nothing (and drops the link for `drop`). */
  silent?: 'mute' | 'drop';
  /** Set while a `malformed` fault still has messages to spoil: the transport sends this instead. */
  malformed?: MalformedVariant;
}

export interface ActiveFault {
  fault: Fault;
  /** Simulated epoch ms when the fault started. */
  start: number;
  /** Simulated epoch ms when it ends by itself, if it does. */
  end?: number;
}

export interface ModelOptions {
  /** Seed of this device's random numbers (see deviceSeed() for a fleet). */
  seed: number;
  enterprise?: string;
  device?: string;
  /** Registry meta of the device: limits of a vessel, rated current of a circuit, gas of a detector, ... */
  meta?: Record<string, unknown>;
}

/** What a device makes of a command of the catalog (contract/commands.ts): its final answer. */
export interface CommandResult {
  status: 'done' | 'failed' | 'rejected';
  message?: string;
}

export interface DeviceModel {
  readonly deviceClass: DeviceClass;
  /**
   * Advances the physics to `now` (simulated epoch ms, never earlier than the previous step) and reads
   * the device. `report: false` marks a look at the sensors between two reports: a malformed-message
   * fault then keeps its messages for the next report.
   */
  step(now: number, options?: { report?: boolean }): StepResult;
  /** Starts a fault at `at` (default: the time of the last step). Throws for a fault this class cannot have. */
  inject(fault: FaultInput, at?: number): ActiveFault;
  /** Ends every active fault of that kind (or every fault). */
  clear(kind?: FaultKind, at?: number): void;
  faults(): readonly ActiveFault[];
  /** Registry meta this model runs with, including defaults it derived (e.g. vessel limits). */
  readonly meta: Record<string, unknown>;
  /**
   * Carries out a command at `at` (simulated epoch ms, not before the last step) as the real device
   * would: it changes the device's state (a silenced sounder, a pump test run) and says how it went.
   * Events it causes come with the next step.
   */
  command(name: string, args: Record<string, unknown>, at?: number): CommandResult;
}

/** The class-specific part of a model: its physics. The base (base.ts) adds what every device does. */
export interface Physics {
  /** Fault kinds of this class besides the common ones. */
  faults: readonly FaultKind[];
  /** Integrates the state over `dt` seconds ending at `t`. */
  advance(t: number, dt: number, faults: readonly ActiveFault[]): void;
  /** Reads the instruments at `t`; `override` holds values forced by a chatter fault. */
  read(t: number, faults: readonly ActiveFault[], override: Record<string, number>): { values: Record<string, number | boolean>; events: ModelEvent[] };
  /** A command of the class's own (silence, pump test); self_test is the base's unless the class says more. */
  command?(name: string, args: Record<string, unknown>, t: number, faults: readonly ActiveFault[]): CommandResult | undefined;
  /** Events the device sends at once when a fault starts or ends (e.g. pump fault, arc fault). */
  started?(active: ActiveFault, t: number): ModelEvent[];
  ended?(active: ActiveFault, t: number): ModelEvent[];
}

export interface PhysicsContext {
  rnd: Random;
  meta: Record<string, unknown>;
  /** Time of the first step, simulated epoch ms. */
  start: number;
}

export type PhysicsFactory = (ctx: PhysicsContext) => Physics;
