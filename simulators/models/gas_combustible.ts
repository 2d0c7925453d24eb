// Combustible gas detector (%LEL): the gas physics with GB/T 50493-2019 setpoints 25 / 50 %LEL.
export { gasCombustiblePhysics as physics, combustibleSetpoints as setpoints } from './gas.ts';
