// Toxic gas detector (ppm): the gas physics with setpoints at 100 % / 200 % of the exposure limit.
export { gasToxicPhysics as physics, toxicSetpoints as setpoints } from './gas.ts';
