// The device catalog: every device class the platform knows, the metrics it reports with their one
// fixed unit and physical range, the events it may send, and how often it is expected to report.
// Physical ranges bound what a sensor of that kind can measure at all: a value outside them is a
// broken sensor or a broken encoder, never a reading (HW_ERR_RANGE). Alarm thresholds live in rules/.

export type MetricType = 'number' | 'boolean';

export interface MetricSpec {
  /** Unit, fixed per metric: devices convert before sending. */
  unit: string;
  type: MetricType;
  /** Physical range of the measuring principle, inclusive. Booleans have none. */
  min?: number;
  max?: number;
  description: string;
  /** Its name in the Chinese console. */
  zh: string;
  /** Reported only by some devices of the class (a battery-powered hydrant terminal's battery). */
  optional?: boolean;
}

export interface DeviceClassSpec {
  title: string;
  /** Its name in the Chinese console. */
  zh: string;
  description: string;
  metrics: Record<string, MetricSpec>;
  /** Event types this class may publish on its event topic. */
  events: readonly EventType[];
  /** Expected seconds between two messages (telemetry or heartbeat); silence is judged against it. */
  intervalSeconds: number;
  /** How devices of the class usually connect (contract/presence.ts); a device may declare otherwise. */
  connection: { mode: 'always' | 'intermittent'; graceSeconds: number; tolerance: number };
}

// Detectors, transmitters and meters sit on a controller, PLC or gateway that keeps its connection: a
// lost link is a blind spot. 30 s of grace rides out a reconnect after a network blip or a broker
// restart and stays well within the 100 s in which GB 16808 wants a gas alarm controller to signal a
// lost detector. Three missed intervals make a silent one offline (domain.md: reliable offline detection).
const ALWAYS = { mode: 'always', graceSeconds: 30, tolerance: 3 } as const;
// NB-IoT and battery devices connect, report and DISCONNECT; only silence beyond the promise counts.
const INTERMITTENT = { mode: 'intermittent', graceSeconds: 0, tolerance: 3 } as const;

/**
 * Every event type a device may send; each class allows a subset. A condition (fault, smoke, tamper,
 * a gas stage, ...) is reported with `active: true` when it starts and `active: false` when it ends;
 * momentary events (heartbeat, calibration, silence, hydrant_draw) carry no `active`.
 */
export const EVENT_TYPES = [
  'heartbeat',
  'fault',
  'low_battery',
  'tamper',
  'calibration',
  'alarm_stage1',
  'alarm_stage2',
  'smoke',
  'silence',
  'pump_fault',
  'hydrant_draw',
  'tilt',
  'arc_fault',
  'sensor_short',
  'sensor_open',
  'interlock_trip',
  // Video analytics of a camera or NVR (issue 17): what the picture shows, each with an optional snapshot.
  'intrusion',
  'smoke_fire',
  'no_helmet',
  'leak_spotted',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Events that mark an instant rather than the start or end of a condition. */
export const MOMENTARY_EVENTS: readonly EventType[] = ['heartbeat', 'calibration', 'silence', 'hydrant_draw', 'intrusion', 'smoke_fire', 'no_helmet', 'leak_spotted'];

const common = ['heartbeat', 'fault', 'tamper'] as const;
const gasEvents = [...common, 'calibration', 'alarm_stage1', 'alarm_stage2'] as const;

export const DEVICE_CLASSES = {
  vessel: {
    title: 'Major hazard source vessel',
    zh: '储罐 / 反应器',
    description: 'Tank, reactor or storage vessel of a major hazard source, with level, temperature and pressure transmitters.',
    metrics: {
      level: { unit: 'm', type: 'number', min: 0, max: 50, description: 'Liquid level above the vessel bottom', zh: '液位' },
      temperature: { unit: '°C', type: 'number', min: -200, max: 1000, description: 'Medium temperature', zh: '温度' },
      pressure: { unit: 'MPa', type: 'number', min: -0.1, max: 100, description: 'Gauge pressure', zh: '压力' },
      flow: { unit: 'm3/h', type: 'number', min: 0, max: 10000, description: 'Inlet or outlet flow', zh: '流量' },
    },
    events: [...common, 'interlock_trip'],
    intervalSeconds: 10,
    connection: ALWAYS,
  },
  gas_combustible: {
    title: 'Combustible gas detector',
    zh: '可燃气体探测器',
    description: 'Catalytic or infrared detector reading the lower explosive limit fraction.',
    metrics: {
      lel: { unit: '%LEL', type: 'number', min: 0, max: 100, description: 'Combustible gas concentration', zh: '可燃气体浓度' },
    },
    events: gasEvents,
    intervalSeconds: 5,
    connection: ALWAYS,
  },
  gas_toxic: {
    title: 'Toxic gas detector',
    zh: '有毒气体探测器',
    description: 'Electrochemical detector for one toxic gas (H2S, CO, NH3, Cl2, ...), named in the device registry.',
    metrics: {
      ppm: { unit: 'ppm', type: 'number', min: 0, max: 10000, description: 'Toxic gas concentration', zh: '有毒气体浓度' },
    },
    events: gasEvents,
    intervalSeconds: 5,
    connection: ALWAYS,
  },
  oxygen: {
    title: 'Oxygen detector',
    zh: '氧气探测器',
    description: 'Oxygen concentration in a confined or enclosed space.',
    metrics: {
      o2: { unit: '%VOL', type: 'number', min: 0, max: 30, description: 'Oxygen concentration by volume', zh: '氧气浓度' },
    },
    events: [...common, 'calibration'],
    intervalSeconds: 5,
    connection: ALWAYS,
  },
  fire_water: {
    title: 'Fire-water pump and pipe network',
    zh: '消防给水',
    description: 'Pressure at a point of the fire-water network, the state of its pumps and the level of its pool.',
    metrics: {
      pressure: { unit: 'MPa', type: 'number', min: 0, max: 4, description: 'Pipe network pressure', zh: '管网压力' },
      pump_running: { unit: '', type: 'boolean', description: 'Main fire pump running', zh: '主泵运行' },
      jockey_running: { unit: '', type: 'boolean', description: 'Jockey (pressure-maintaining) pump running', zh: '稳压泵运行' },
      pool_level: { unit: 'm', type: 'number', min: 0, max: 20, description: 'Fire-water pool or tank level', zh: '水池液位' },
      // NB-IoT hydrant pressure terminals run on a battery for years and report its charge.
      battery: { unit: '%', type: 'number', min: 0, max: 100, description: 'Battery charge of a battery-powered terminal (hydrant)', zh: '电量', optional: true },
    },
    events: [...common, 'pump_fault', 'hydrant_draw', 'tilt', 'low_battery'],
    intervalSeconds: 10,
    connection: ALWAYS,
  },
  power_meter: {
    title: 'Smart electricity meter / electrical-fire monitor',
    zh: '电气火灾监控探测器',
    description: 'Residual current and cable temperature monitoring of a distribution circuit.',
    metrics: {
      residual_current: { unit: 'mA', type: 'number', min: 0, max: 3000, description: 'Residual (leakage) current', zh: '剩余电流' },
      cable_temperature: { unit: '°C', type: 'number', min: -40, max: 250, description: 'Cable or terminal temperature', zh: '线缆温度' },
      voltage: { unit: 'V', type: 'number', min: 0, max: 500, description: 'Phase voltage', zh: '电压' },
      current: { unit: 'A', type: 'number', min: 0, max: 2000, description: 'Phase current', zh: '电流' },
      power: { unit: 'kW', type: 'number', min: -2000, max: 2000, description: 'Active power', zh: '有功功率' },
      energy: { unit: 'kWh', type: 'number', min: 0, max: 1e9, description: 'Cumulative active energy', zh: '电能' },
    },
    events: [...common, 'arc_fault', 'sensor_short', 'sensor_open'],
    intervalSeconds: 10,
    connection: ALWAYS,
  },
  smoke_alarm: {
    title: 'Networked smoke alarm',
    zh: '独立式感烟火灾探测报警器',
    description: 'Independent smoke alarm on NB-IoT or 4G: heartbeat with battery and signal, and alarm events.',
    metrics: {
      battery: { unit: '%', type: 'number', min: 0, max: 100, description: 'Battery charge', zh: '电量' },
      signal: { unit: 'dBm', type: 'number', min: -150, max: 0, description: 'Radio signal strength', zh: '信号强度' },
    },
    events: [...common, 'low_battery', 'smoke', 'silence'],
    intervalSeconds: 300,
    connection: INTERMITTENT,
  },
  camera: {
    title: 'Camera or NVR with video analytics',
    zh: '智能视频监控',
    description: 'A camera (or an NVR channel) whose analytics report what the picture shows: intrusion into a hazard area, smoke or flame, a missing helmet, a leak; each event may carry a snapshot reference (data.snapshot); the live stream is the registry entry meta.streamUrl.',
    metrics: {
      persons: { unit: 'count', type: 'number', min: 0, max: 1000, description: 'People counted in the watched area', zh: '区域人数' },
    },
    // tamper: video loss, a covered or turned camera.
    events: [...common, 'intrusion', 'smoke_fire', 'no_helmet', 'leak_spotted'],
    intervalSeconds: 60,
    connection: ALWAYS,
  },
} as const satisfies Record<string, DeviceClassSpec>;

export type DeviceClass = keyof typeof DEVICE_CLASSES;
export const DEVICE_CLASS_IDS = Object.keys(DEVICE_CLASSES) as DeviceClass[];

export function isDeviceClass(value: string): value is DeviceClass {
  return Object.hasOwn(DEVICE_CLASSES, value);
}

export function deviceClass(id: DeviceClass): DeviceClassSpec {
  return DEVICE_CLASSES[id];
}

export function metricSpec(cls: DeviceClass, metric: string): MetricSpec | undefined {
  const metrics: Record<string, MetricSpec> = DEVICE_CLASSES[cls].metrics;
  return Object.hasOwn(metrics, metric) ? metrics[metric] : undefined;
}
