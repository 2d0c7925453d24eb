// Unit conversions a vendor map may ask for: from the unit a device reports in to the one unit of the
// catalog metric (contract/catalog.ts). Linear conversions are a factor and an offset on a base unit of
// the same quantity; ppm ↔ mg/m³ needs the gas, through its molar mass.

interface LinearUnit {
  quantity: string;
  /** value in the quantity's base unit = value × factor + offset */
  factor: number;
  offset: number;
}

const LINEAR: Record<string, LinearUnit> = {
  // pressure, base MPa
  MPa: { quantity: 'pressure', factor: 1, offset: 0 },
  kPa: { quantity: 'pressure', factor: 1e-3, offset: 0 },
  Pa: { quantity: 'pressure', factor: 1e-6, offset: 0 },
  bar: { quantity: 'pressure', factor: 0.1, offset: 0 },
  mbar: { quantity: 'pressure', factor: 1e-4, offset: 0 },
  psi: { quantity: 'pressure', factor: 0.006_894_757, offset: 0 },
  // temperature, base °C
  '°C': { quantity: 'temperature', factor: 1, offset: 0 },
  '°F': { quantity: 'temperature', factor: 5 / 9, offset: -32 * (5 / 9) },
  K: { quantity: 'temperature', factor: 1, offset: -273.15 },
  // length (levels), base m
  m: { quantity: 'length', factor: 1, offset: 0 },
  cm: { quantity: 'length', factor: 0.01, offset: 0 },
  mm: { quantity: 'length', factor: 0.001, offset: 0 },
  // electrical; current in base mA (residual current is mA in the catalog, phase current A)
  mA: { quantity: 'current', factor: 1, offset: 0 },
  A: { quantity: 'current', factor: 1000, offset: 0 },
  V: { quantity: 'voltage', factor: 1, offset: 0 },
  kV: { quantity: 'voltage', factor: 1000, offset: 0 },
  kW: { quantity: 'power', factor: 1, offset: 0 },
  W: { quantity: 'power', factor: 1e-3, offset: 0 },
  kWh: { quantity: 'energy', factor: 1, offset: 0 },
  Wh: { quantity: 'energy', factor: 1e-3, offset: 0 },
  MWh: { quantity: 'energy', factor: 1000, offset: 0 },
  // fractions
  '%': { quantity: 'percent', factor: 1, offset: 0 },
  '%LEL': { quantity: 'lel', factor: 1, offset: 0 },
  '%VOL': { quantity: 'volume-fraction', factor: 1, offset: 0 },
  ppm: { quantity: 'ppm', factor: 1, offset: 0 },
  dBm: { quantity: 'dBm', factor: 1, offset: 0 },
  'm3/h': { quantity: 'flow', factor: 1, offset: 0 },
  'L/s': { quantity: 'flow', factor: 3.6, offset: 0 },
};

/** Molar masses (g/mol) of the gases toxic detectors name, for ppm ↔ mg/m³ (IUPAC standard atomic weights). */
export const MOLAR_MASS: Record<string, number> = {
  H2S: 34.08,
  CO: 28.01,
  NH3: 17.03,
  Cl2: 70.9,
  SO2: 64.07,
  NO2: 46.01,
  NO: 30.01,
  HCN: 27.03,
  HCl: 36.46,
  HF: 20.01,
  PH3: 34.0,
  O3: 48.0,
  CH2O: 30.03,
  C6H6: 78.11,
  C7H8: 92.14,
  C2H4O: 44.05,
  CH3OH: 32.04,
  COCl2: 98.92,
};

/**
 * Molar volume of an ideal gas at 25 °C and 101.325 kPa (L/mol): the reference conditions of the
 * ppm ↔ mg/m³ conversion used with occupational exposure limits (GBZ 2.1-2019 gives its limits in mg/m³
 * at these conditions); mg/m³ = ppm × M / 24.45.
 */
export const MOLAR_VOLUME_25C = 24.45;

export type Convert = (value: number) => number;

/** The conversion from `from` to the catalog unit `to`, or a sentence saying why there is none. */
export function conversion(from: string, to: string, gas?: string): Convert | string {
  if (from === to) return (v) => v;
  if ((from === 'mg/m3' || from === 'mg/m³') && to === 'ppm') {
    if (!gas) return `converting mg/m3 to ppm needs the gas (gas: H2S, CO, ...)`;
    const m = MOLAR_MASS[gas];
    if (!m) return `unknown gas "${gas}" for mg/m3 → ppm (known: ${Object.keys(MOLAR_MASS).join(', ')})`;
    return (v) => (v * MOLAR_VOLUME_25C) / m;
  }
  if (from === 'ppb' && to === 'ppm') return (v) => v / 1000;
  const a = LINEAR[from];
  const b = LINEAR[to];
  if (!a) return `unknown unit "${from}" (known: ${[...Object.keys(LINEAR), 'mg/m3', 'ppb'].join(', ')})`;
  if (!b) return `the catalog unit "${to}" has no conversions`;
  if (a.quantity !== b.quantity) return `cannot convert ${from} to ${to}`;
  return (v) => (v * a.factor + a.offset - b.offset) / b.factor;
}
