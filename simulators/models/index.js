import { createBaseModel } from './base.ts';
import { vesselPhysics } from './vessel.ts';
import { gasCombustiblePhysics, gasToxicPhysics } from './gas.ts';
import { oxygenPhysics } from './oxygen.ts';
import { fireWaterPhysics } from './fire_water.ts';
import { powerMeterPhysics } from './power_meter.ts';
import { smokeAlarmPhysics } from './smoke_alarm.ts';
import { COMMON_FAULTS } from '../faults.ts';
export { vesselLimits } from './vessel.ts';
export { combustibleSetpoints, toxicSetpoints } from './gas.ts';
export const PHYSICS = {
    vessel: vesselPhysics,
    gas_combustible: gasCombustiblePhysics,
    gas_toxic: gasToxicPhysics,
    oxygen: oxygenPhysics,
    fire_water: fireWaterPhysics,
    power_meter: powerMeterPhysics,
    smoke_alarm: smokeAlarmPhysics,
};
/** Class-specific faults of each class; every class also takes the COMMON_FAULTS of faults.ts. */
export const CLASS_FAULTS = {
    vessel: ['overfill', 'drain', 'fire'],
    gas_combustible: ['gas_leak'],
    gas_toxic: ['gas_leak'],
    oxygen: ['oxygen_shift'],
    fire_water: ['pump_failure', 'hydrant_draw'],
    power_meter: ['electrical_leakage', 'overload', 'arc_fault', 'fire'],
    smoke_alarm: ['fire', 'low_battery', 'silence_button'],
};
export function supportsFault(cls, kind) {
    return COMMON_FAULTS.includes(kind) || CLASS_FAULTS[cls].includes(kind);
}
export function createModel(cls, options) {
    const physics = PHYSICS[cls];
    if (!physics)
        throw new Error(`no model for device class "${cls}"`);
    return createBaseModel(cls, physics, options);
}
