// Register layouts of the simulated Modbus devices, modelled on what vendor manuals of such devices
// publish: a multi-channel gas controller with IEEE 754 floats in swapped word order and a status word
// per channel, a radar tank gauge with a 32-bit integer level in millimetres, a fire-pump panel with
// coils and discrete inputs, and a power meter with floats, a 32-bit energy counter and alarm inputs.
// Each layout names, per channel, where every metric and event bit lives and how it is encoded; the
// gateway's examples (gateway/examples/*.yaml) describe the same devices from the gateway's side.
import type { DeviceClass, EventType } from '../../contract/catalog.ts';
import type { DataType, WordOrder } from '../../gateway/codec.ts';
import type { Table } from '../../gateway/map.ts';
import type { Block } from './server.ts';

export interface ValueField {
  table: Table;
  address: number;
  /** Register type; coils and discrete inputs carry booleans. */
  type?: Exclude<DataType, 'bit'>;
  order?: WordOrder;
  /** Engineering value = raw × scale + offset (the same convention as the gateway's maps). */
  scale?: number;
  offset?: number;
  /** For a boolean held in a bit of a register. */
  bit?: number;
}

export interface BitField {
  table: Table;
  address: number;
  /** Bit of a register; absent for coils and discrete inputs. */
  bit?: number;
}

export interface ChannelLayout {
  metrics: Record<string, ValueField>;
  events: Partial<Record<EventType, BitField>>;
}

export interface Profile {
  title: string;
  deviceClass: DeviceClass;
  /** Channels the device has at most (a gas controller's detector heads); 1 for single devices. */
  maxChannels: number;
  blocks: Block[];
  channel(index: number): ChannelLayout;
}

export const PROFILES = {
  // 16-channel gas controller: %LEL as float32 with the low word first (CDAB), input registers 0..31;
  // one status word per channel at input 100+n: bit 0 first stage, bit 1 second stage, bit 2 fault,
  // bit 3 calibration in progress.
  'gas-controller': {
    title: 'Gas alarm controller, 16 channels',
    deviceClass: 'gas_combustible',
    maxChannels: 16,
    blocks: [
      { table: 'input', start: 0, count: 32 },
      { table: 'input', start: 100, count: 16 },
    ],
    channel: (n) => ({
      metrics: { lel: { table: 'input', address: n * 2, type: 'float32', order: 'CDAB' } },
      events: {
        alarm_stage1: { table: 'input', address: 100 + n, bit: 0 },
        alarm_stage2: { table: 'input', address: 100 + n, bit: 1 },
        fault: { table: 'input', address: 100 + n, bit: 2 },
        calibration: { table: 'input', address: 100 + n, bit: 3 },
      },
    }),
  },
  // Radar level gauge with a tank RTU: level int32 in mm (ABCD), temperature int16 in 0.1 °C, pressure
  // int16 in kPa, flow float64 little-endian (DCBA); status word at holding 10.
  'tank-gauge': {
    title: 'Radar tank gauge with RTU',
    deviceClass: 'vessel',
    maxChannels: 1,
    blocks: [{ table: 'holding', start: 0, count: 20 }],
    channel: () => ({
      metrics: {
        level: { table: 'holding', address: 0, type: 'int32', order: 'ABCD', scale: 0.001 },
        temperature: { table: 'holding', address: 2, type: 'int16', scale: 0.1 },
        pressure: { table: 'holding', address: 3, type: 'int16', scale: 0.001 },
        flow: { table: 'holding', address: 4, type: 'float64', order: 'DCBA' },
      },
      events: {
        interlock_trip: { table: 'holding', address: 10, bit: 0 },
        fault: { table: 'holding', address: 10, bit: 1 },
        tamper: { table: 'holding', address: 10, bit: 2 },
      },
    }),
  },
  // Fire-pump control panel: pump run feedback on coils, faults on discrete inputs, network pressure
  // int16 in kPa and pool level uint16 in cm on input registers.
  'pump-panel': {
    title: 'Fire-pump control panel',
    deviceClass: 'fire_water',
    maxChannels: 1,
    blocks: [
      { table: 'coils', start: 0, count: 16 },
      { table: 'discrete', start: 0, count: 16 },
      { table: 'input', start: 0, count: 10 },
    ],
    channel: () => ({
      metrics: {
        pump_running: { table: 'coils', address: 0 },
        jockey_running: { table: 'coils', address: 1 },
        pressure: { table: 'input', address: 0, type: 'int16', scale: 0.001 },
        pool_level: { table: 'input', address: 1, type: 'uint16', scale: 0.01 },
      },
      events: {
        pump_fault: { table: 'discrete', address: 0 },
        fault: { table: 'discrete', address: 1 },
        tilt: { table: 'discrete', address: 2 },
        hydrant_draw: { table: 'discrete', address: 3 },
      },
    }),
  },
  // Multifunction power meter with electrical-fire module: float32 big-endian (ABCD) voltage, current,
  // power; residual current float32 byte-swapped (BADC, as some meters send it); cable temperature
  // int16 in 0.1 °C; energy uint32 in 0.01 kWh with the low word first (CDAB); alarms on discrete inputs.
  'power-meter': {
    title: 'Power meter with residual-current and temperature module',
    deviceClass: 'power_meter',
    maxChannels: 1,
    blocks: [
      { table: 'input', start: 0, count: 40 },
      { table: 'discrete', start: 0, count: 8 },
    ],
    channel: () => ({
      metrics: {
        voltage: { table: 'input', address: 0, type: 'float32', order: 'ABCD' },
        current: { table: 'input', address: 2, type: 'float32', order: 'ABCD' },
        power: { table: 'input', address: 4, type: 'float32', order: 'ABCD' },
        residual_current: { table: 'input', address: 6, type: 'float32', order: 'BADC' },
        cable_temperature: { table: 'input', address: 8, type: 'int16', scale: 0.1 },
        energy: { table: 'input', address: 20, type: 'uint32', order: 'CDAB', scale: 0.01 },
      },
      events: {
        arc_fault: { table: 'discrete', address: 0 },
        sensor_short: { table: 'discrete', address: 1 },
        sensor_open: { table: 'discrete', address: 2 },
        fault: { table: 'discrete', address: 3 },
      },
    }),
  },
} as const satisfies Record<string, Profile>;

export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];
