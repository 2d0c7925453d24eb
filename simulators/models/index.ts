// One model per device class of the catalog. `createModel(class, { seed, meta })` is what the MQTT
// fleet here and the Modbus gateway simulator serve: pure physics, no transport, no wall clock.
import type { DeviceClass } from '../../contract/catalog.ts';
import { createBaseModel } from './base.ts';
import { vesselPhysics } from './vessel.ts';
import { gasCombustiblePhysics, gasToxicPhysics } from './gas.ts';
import { oxygenPhysics } from './oxygen.ts';
import { fireWaterPhysics } from './fire_water.ts';
import { powerMeterPhysics } from './power_meter.ts';
import { smokeAlarmPhysics } from './smoke_alarm.ts';
import { cameraPhysics } from './camera.ts';
import { COMMON_FAULTS, type FaultKind } from '../faults.ts';
import type { DeviceModel, ModelOptions, PhysicsFactory } from './types.ts';

export type { DeviceModel, ModelOptions, StepResult, ModelEvent, ActiveFault } from './types.ts';
export { vesselLimits, type VesselLimits, type Band } from './vessel.ts';
export { combustibleSetpoints, toxicSetpoints } from './gas.ts';

export const PHYSICS: Record<DeviceClass, PhysicsFactory> = {
  vessel: vesselPhysics,
  gas_combustible: gasCombustiblePhysics,
  gas_toxic: gasToxicPhysics,
  oxygen: oxygenPhysics,
  fire_water: fireWaterPhysics,
  power_meter: powerMeterPhysics,
  smoke_alarm: smokeAlarmPhysics,
  camera: cameraPhysics,
};

/** Class-specific faults of each class; every class also takes the COMMON_FAULTS of faults.ts. */
export const CLASS_FAULTS: Record<DeviceClass, readonly FaultKind[]> = {
  vessel: ['overfill', 'drain', 'fire'],
  gas_combustible: ['gas_leak'],
  gas_toxic: ['gas_leak'],
  oxygen: ['oxygen_shift'],
  fire_water: ['pump_failure', 'hydrant_draw'],
  power_meter: ['electrical_leakage', 'overload', 'arc_fault', 'fire'],
  smoke_alarm: ['fire', 'low_battery', 'silence_button'],
  camera: ['intrusion', 'no_helmet', 'fire', 'gas_leak'],
};

export function supportsFault(cls: DeviceClass, kind: FaultKind): boolean {
  return COMMON_FAULTS.includes(kind) || CLASS_FAULTS[cls].includes(kind);
}

export function createModel(cls: DeviceClass, options: ModelOptions): DeviceModel {
  const physics = PHYSICS[cls];
  if (!physics) throw new Error(`no model for device class "${cls}"`);
  return createBaseModel(cls, physics, options);
}
