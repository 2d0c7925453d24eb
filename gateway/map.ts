// Register maps as data: which Modbus device the gateway polls, where each value sits in its registers,
// how it is encoded, and which platform device, metric or event it feeds. Validated once with zod and
// against the device catalog, so a wrong map stops the gateway at start with the line that is wrong.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEVICE_CLASSES, DEVICE_CLASS_IDS, EVENT_TYPES, metricSpec, type DeviceClass, type EventType } from '../contract/catalog.ts';
import { HazwatchError } from '../contract/errors.ts';
import { ID_PATTERN } from '../contract/topics.ts';
import { DATA_TYPES, WORD_ORDERS, registerCount, type DataType, type WordOrder } from './codec.ts';

/** Modbus data tables, by the names vendor manuals use. */
export const TABLES = ['coils', 'discrete', 'holding', 'input'] as const;
export type Table = (typeof TABLES)[number];

export function isBitTable(table: Table): boolean {
  return table === 'coils' || table === 'discrete';
}

const Id = z.string().regex(ID_PATTERN, 'letters, digits, _ . - (max 64), starting with a letter or digit');

const Location = z.object({
  table: z.enum(TABLES).describe('coils (FC1), discrete (FC2, discrete inputs), holding (FC3), input (FC4, input registers)'),
  address: z.number().int().min(0).max(65535).describe('Zero-based protocol address (register 40001 is holding address 0)'),
  type: z.enum(DATA_TYPES).optional().describe('Register data type; ignored for coils and discrete inputs. Default uint16 for values, bit for events'),
  order: z.enum(WORD_ORDERS).default('ABCD').describe('Byte and word order of multi-byte values'),
  bit: z.number().int().min(0).max(15).optional().describe('Bit number (0 = least significant) when type is bit'),
});

const MetricPoint = Location.extend({
  metric: z.string().describe('Metric of the device class (contract/catalog.ts), in its unit'),
  scale: z.number().default(1).describe('Engineering value = raw × scale + offset'),
  offset: z.number().default(0),
  deadband: z.number().min(0).optional().describe('Report by exception: publish only when the value moved more than this since the last publish'),
  invert: z.boolean().default(false).describe('Boolean metrics: true when the bit is 0'),
}).strict();
export type MetricPoint = z.infer<typeof MetricPoint>;

const EventPoint = Location.extend({
  event: z.enum(EVENT_TYPES).describe('Event type of the device class; active while the bit is set'),
  invert: z.boolean().default(false).describe('Active when the bit is 0 (normally-closed contacts)'),
  message: z.string().max(500).optional(),
}).strict();
export type EventPoint = z.infer<typeof EventPoint>;

const PlatformDevice = z
  .object({
    id: Id.describe('Device id in the registry (the <device> of its topics)'),
    class: z.enum(DEVICE_CLASS_IDS as [DeviceClass, ...DeviceClass[]]),
    metrics: z.array(MetricPoint).default([]),
    events: z.array(EventPoint).default([]),
    heartbeatS: z.number().positive().optional().describe('Report by exception: publish every metric at least this often even without change'),
  })
  .strict();
export type PlatformDevice = z.infer<typeof PlatformDevice>;

const Tcp = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535).default(502) }).strict();
const Rtu = z
  .object({
    path: z.string().min(1).describe('Serial port, e.g. /dev/ttyUSB0'),
    baudRate: z.number().int().positive().default(9600),
    parity: z.enum(['none', 'even', 'odd']).default('even').describe('Modbus RTU default is even parity (Modbus over serial line V1.02, 2.5.1)'),
    dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
    stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
  })
  .strict();

const ModbusDevice = z
  .object({
    name: Id.describe('Name of the Modbus device (PLC, RTU, controller) in logs and metrics'),
    tcp: Tcp.optional(),
    rtu: Rtu.optional(),
    unitId: z.number().int().min(0).max(255).default(1),
    pollMs: z.number().int().min(50).optional().describe('Poll period'),
    timeoutMs: z.number().int().min(10).optional().describe('Response timeout of one request'),
    offlineAfter: z.number().int().min(1).optional().describe('Consecutive failed polls before its devices are reported offline'),
    maxGap: z.number().int().min(0).max(120).optional().describe('Unused registers (or bits ÷ 16) a read may span to join two neighbouring values into one request'),
    maxRegisters: z.number().int().min(1).max(125).optional().describe('Registers per request (Modbus limit 125; some devices accept fewer)'),
    maxBits: z.number().int().min(1).max(2000).optional().describe('Coils or inputs per request (Modbus limit 2000)'),
    devices: z.array(PlatformDevice).min(1),
  })
  .strict()
  .refine((d) => (d.tcp ? 1 : 0) + (d.rtu ? 1 : 0) === 1, { message: 'give exactly one of tcp or rtu' });
export type ModbusDevice = z.infer<typeof ModbusDevice>;

export const Defaults = z
  .object({
    pollMs: z.number().int().min(50).default(1000),
    timeoutMs: z.number().int().min(10).default(1000),
    offlineAfter: z.number().int().min(1).default(3),
    maxGap: z.number().int().min(0).max(120).default(8),
    maxRegisters: z.number().int().min(1).max(125).default(125), // Modbus Application Protocol V1.1b3, 6.3
    maxBits: z.number().int().min(1).max(2000).default(2000), // Modbus Application Protocol V1.1b3, 6.1
    maxBackoffMs: z.number().int().min(100).default(30_000).describe('Longest wait between retries of a failing device'),
  })
  .strict()
  .prefault({});

export const RegisterMap = z
  .object({
    enterprise: Id,
    gateway: Id.describe('Gateway id: the gateway account is <enterprise>/<gateway>'),
    defaults: Defaults,
    modbus: z.array(ModbusDevice).min(1),
  })
  .strict();
export type RegisterMap = z.infer<typeof RegisterMap>;

/** A Modbus device with every default filled in. */
export type ResolvedModbusDevice = ModbusDevice & Required<Pick<ModbusDevice, 'pollMs' | 'timeoutMs' | 'offlineAfter' | 'maxGap' | 'maxRegisters' | 'maxBits'>> & { maxBackoffMs: number };

export function pointType(p: { table: Table; type?: DataType; bit?: number }, kind: 'metric' | 'event'): DataType {
  if (isBitTable(p.table)) return 'bit';
  return p.type ?? (kind === 'event' || p.bit !== undefined ? 'bit' : 'uint16');
}

/** Registers (or bits) a point occupies. */
export function pointWidth(p: { table: Table; type?: DataType; bit?: number }, kind: 'metric' | 'event'): number {
  return isBitTable(p.table) ? 1 : registerCount(pointType(p, kind));
}

/** Checks the map against the catalog and itself; returns every problem found, one line each. */
export function checkMap(map: RegisterMap): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const serialPorts = new Set<string>();
  const deviceIds = new Set<string>();
  map.modbus.forEach((mb, i) => {
    const at = `modbus[${i}] (${mb.name})`;
    if (names.has(mb.name)) problems.push(`${at}: duplicate name`);
    names.add(mb.name);
    if (mb.rtu) {
      // One connection per entry: two entries cannot share a serial line (docs/gateway.md, Modbus RTU).
      if (serialPorts.has(mb.rtu.path)) problems.push(`${at}: serial port ${mb.rtu.path} is used by another entry; one slave per serial port`);
      serialPorts.add(mb.rtu.path);
    }
    mb.devices.forEach((dev, j) => {
      const dat = `${at}.devices[${j}] (${dev.id})`;
      if (deviceIds.has(dev.id)) problems.push(`${dat}: device fed by two entries; each platform device belongs to one Modbus device`);
      deviceIds.add(dev.id);
      if (dev.metrics.length === 0 && dev.events.length === 0) problems.push(`${dat}: no metrics and no events`);
      const cls = DEVICE_CLASSES[dev.class];
      const seen = new Set<string>();
      dev.metrics.forEach((m, k) => {
        const pat = `${dat}.metrics[${k}]`;
        const spec = metricSpec(dev.class, m.metric);
        if (!spec) {
          problems.push(`${pat}: metric ${m.metric} is not defined for class ${dev.class} (${Object.keys(cls.metrics).join(', ')})`);
          return;
        }
        if (seen.has(m.metric)) problems.push(`${pat}: metric ${m.metric} mapped twice`);
        seen.add(m.metric);
        const type = pointType(m, 'metric');
        if (spec.type === 'boolean' && !isBitTable(m.table) && type !== 'bit') problems.push(`${pat}: boolean metric ${m.metric} needs a coil, a discrete input or type bit`);
        if (spec.type === 'number' && (isBitTable(m.table) || type === 'bit')) problems.push(`${pat}: numeric metric ${m.metric} cannot be read from a single bit`);
        problems.push(...checkLocation(m, 'metric', pat));
      });
      dev.events.forEach((e, k) => {
        const pat = `${dat}.events[${k}]`;
        if (!(cls.events as readonly EventType[]).includes(e.event)) problems.push(`${pat}: event ${e.event} is not defined for class ${dev.class} (${cls.events.join(', ')})`);
        if (!isBitTable(e.table) && pointType(e, 'event') !== 'bit') problems.push(`${pat}: events are read from a coil, a discrete input or type bit`);
        problems.push(...checkLocation(e, 'event', pat));
      });
    });
  });
  return problems;
}

function checkLocation(p: z.infer<typeof Location>, kind: 'metric' | 'event', at: string): string[] {
  const out: string[] = [];
  const type = pointType(p, kind);
  if (type === 'bit' && !isBitTable(p.table) && p.bit === undefined) out.push(`${at}: type bit needs bit: 0..15`);
  if (type !== 'bit' && p.bit !== undefined) out.push(`${at}: bit is only used with type bit`);
  if (p.address + pointWidth(p, kind) - 1 > 65535) out.push(`${at}: value runs past address 65535`);
  return out;
}

/** Validates a parsed map (from YAML, JSON or inline configuration); throws HW_ERR_CONFIG naming every problem. */
export function parseRegisterMap(raw: unknown, source = 'register map'): RegisterMap {
  const result = RegisterMap.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new HazwatchError('HW_ERR_CONFIG', `invalid ${source}:\n  ${lines.join('\n  ')}`);
  }
  const problems = checkMap(result.data);
  if (problems.length) throw new HazwatchError('HW_ERR_CONFIG', `invalid ${source}:\n  ${problems.join('\n  ')}`);
  return result.data;
}

export function loadRegisterMap(file: string): RegisterMap {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HazwatchError('HW_ERR_CONFIG', `cannot read register map ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new HazwatchError('HW_ERR_CONFIG', `register map ${file} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  return parseRegisterMap(raw, `register map ${file}`);
}

export function resolveDevice(map: RegisterMap, mb: ModbusDevice): ResolvedModbusDevice {
  const d = map.defaults;
  return {
    ...mb,
    pollMs: mb.pollMs ?? d.pollMs,
    timeoutMs: mb.timeoutMs ?? d.timeoutMs,
    offlineAfter: mb.offlineAfter ?? d.offlineAfter,
    maxGap: mb.maxGap ?? d.maxGap,
    maxRegisters: mb.maxRegisters ?? d.maxRegisters,
    maxBits: mb.maxBits ?? d.maxBits,
    maxBackoffMs: d.maxBackoffMs,
  };
}

export type { WordOrder };
