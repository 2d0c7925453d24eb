// A simulated Modbus device: the device models of simulators/models (one per channel) stepped on a
// timer, their readings written into the registers of a vendor-like layout (profiles.ts) and served on
// Modbus TCP. With source 'manual' the values are set by the caller (tests that need exact values).
import { MOMENTARY_EVENTS, type EventType } from '../../contract/catalog.ts';
import type { Logger } from '../../core/log.ts';
import { encodeRegisters } from '../../gateway/codec.ts';
import { createModel, type DeviceModel } from '../models/index.ts';
import { PROFILES, type BitField, type ChannelLayout, type ProfileName, type ValueField } from './profiles.ts';
import { createBank, startSlave, type RegisterBank, type SlaveServer } from './server.ts';

export interface SimChannel {
  /** Platform device id this channel stands for (used by set/condition and in logs). */
  device: string;
  seed?: number;
  meta?: Record<string, unknown>;
}

export interface ModbusSimOptions {
  profile: ProfileName;
  port: number;
  host?: string;
  unitId?: number;
  channels: SimChannel[];
  /** 'model': values from the device models; 'manual': only what set()/condition() write. */
  source?: 'model' | 'manual';
  stepMs?: number;
  /** How long a momentary event (calibration, hydrant draw) keeps its bit set, so that a poll sees it. */
  latchMs?: number;
  delayMs?: () => number;
  log?: Logger;
}

export interface ModbusSim {
  readonly port: number;
  readonly profile: ProfileName;
  readonly bank: RegisterBank;
  /** Writes engineering values of one channel into its registers. */
  set(device: string, values: Record<string, number | boolean>): void;
  /** Sets or clears the bit of a condition of one channel. */
  condition(device: string, type: EventType, active: boolean): void;
  /** What a correct master reads for a value after the register encoding (rounding, float32 precision). */
  expected(device: string, metric: string): number | boolean | undefined;
  /** Cuts connections and stops listening, as a device losing power; start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The value the registers carry for `value` once encoded as `field` describes. */
export function quantize(field: ValueField, value: number | boolean): number | boolean {
  if (typeof value === 'boolean' || field.type === undefined) return value;
  const scale = field.scale ?? 1;
  const offset = field.offset ?? 0;
  const raw = (value - offset) / scale;
  switch (field.type) {
    case 'float32':
      return Math.fround(raw) * scale + offset;
    case 'float64':
      return raw * scale + offset;
    default: {
      const r = Math.round(raw) * scale + offset;
      return Number.isInteger(scale) ? r : Number(r.toPrecision(12));
    }
  }
}

export async function startModbusSim(options: ModbusSimOptions): Promise<ModbusSim> {
  const profile = PROFILES[options.profile];
  if (options.channels.length < 1 || options.channels.length > profile.maxChannels) {
    throw new RangeError(`${options.profile} has 1 to ${profile.maxChannels} channels, ${options.channels.length} given`);
  }
  const bank = createBank();
  const layouts = new Map<string, ChannelLayout>(options.channels.map((c, i) => [c.device, profile.channel(i) as ChannelLayout]));
  const written = new Map<string, Record<string, number | boolean>>();
  const latched = new Map<string, NodeJS.Timeout>();
  const log = options.log;
  let slave: SlaveServer | undefined;
  let port = options.port;

  function layout(device: string): ChannelLayout {
    const l = layouts.get(device);
    if (!l) throw new Error(`no channel ${device} on this ${options.profile}`);
    return l;
  }

  function writeBit(field: BitField | ValueField, on: boolean): void {
    if (field.table === 'coils' || field.table === 'discrete') {
      bank[field.table][field.address] = on;
      return;
    }
    const regs = bank[field.table];
    const word = regs.readUInt16BE(field.address * 2);
    const mask = 1 << (field.bit ?? 0);
    regs.writeUInt16BE(on ? word | mask : word & ~mask, field.address * 2);
  }

  function set(device: string, values: Record<string, number | boolean>): void {
    const l = layout(device);
    const mine = written.get(device) ?? {};
    for (const [metric, value] of Object.entries(values)) {
      const field = l.metrics[metric];
      if (!field) continue;
      mine[metric] = value;
      if (typeof value === 'boolean' || field.type === undefined) {
        writeBit(field, Boolean(value));
        continue;
      }
      const raw = (value - (field.offset ?? 0)) / (field.scale ?? 1);
      encodeRegisters(raw, field.type, field.order ?? 'ABCD').copy(bank[field.table as 'holding' | 'input'], field.address * 2);
    }
    written.set(device, mine);
  }

  function condition(device: string, type: EventType, active: boolean): void {
    const field = layout(device).events[type];
    if (!field) return;
    writeBit(field, active);
    if (active && MOMENTARY_EVENTS.includes(type)) {
      const key = `${device}:${type}`;
      clearTimeout(latched.get(key));
      latched.set(key, setTimeout(() => writeBit(field, false), options.latchMs ?? 5000));
    }
  }

  const models = new Map<string, DeviceModel>();
  let stepTimer: NodeJS.Timeout | undefined;
  if ((options.source ?? 'model') === 'model') {
    for (const [i, c] of options.channels.entries()) {
      models.set(c.device, createModel(profile.deviceClass, { seed: c.seed ?? i + 1, device: c.device, meta: c.meta }));
    }
    const step = () => {
      const now = Date.now();
      for (const [device, model] of models) {
        try {
          const r = model.step(now);
          set(device, r.values);
          for (const e of r.events) condition(device, e.type, e.active ?? true);
        } catch (err) {
          log?.warn({ device, err: (err as Error).message }, 'model step failed');
        }
      }
    };
    step();
    stepTimer = setInterval(step, options.stepMs ?? 1000);
  }

  async function start(): Promise<void> {
    if (slave) return;
    slave = await startSlave({ host: options.host, port, unitId: options.unitId ?? 1, bank, blocks: [...profile.blocks], delayMs: options.delayMs });
    port = slave.port;
    log?.info({ profile: options.profile, port, unitId: options.unitId ?? 1, channels: options.channels.map((c) => c.device) }, 'Modbus simulator listening');
  }
  async function stop(): Promise<void> {
    const s = slave;
    slave = undefined;
    await s?.close();
  }
  await start();

  return {
    get port() {
      return port;
    },
    profile: options.profile,
    bank,
    set,
    condition,
    expected(device, metric) {
      const value = written.get(device)?.[metric];
      const field = layout(device).metrics[metric];
      return value === undefined || !field ? undefined : quantize(field, value);
    },
    start,
    stop,
    async close() {
      clearInterval(stepTimer);
      for (const t of latched.values()) clearTimeout(t);
      await stop();
    },
  };
}
