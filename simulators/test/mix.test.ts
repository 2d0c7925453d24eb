import { describe, expect, it } from 'vitest';
import { DEVICE_CLASS_IDS } from '../../contract/catalog.ts';
import { allocate, DEFAULT_MIX, fleetDevices, parseMix } from '../mix.ts';

describe('fleet mix', () => {
  it('parses class=weight lists and refuses unknown classes and bad weights', () => {
    expect(parseMix('gas_combustible=3, vessel=1')).toEqual({ gas_combustible: 3, vessel: 1 });
    expect(parseMix('oxygen')).toEqual({ oxygen: 1 });
    expect(Object.keys(parseMix('all')).sort()).toEqual([...DEVICE_CLASS_IDS].sort());
    expect(() => parseMix('lava_lamp=1')).toThrow(/unknown device class "lava_lamp"/);
    expect(() => parseMix('vessel=-1')).toThrow(/non-negative/);
    expect(() => parseMix('vessel=0')).toThrow(/positive weight/);
  });

  it('allocates exactly the number of devices asked, in proportion', () => {
    for (const n of [1, 7, 14, 100, 333]) {
      const a = allocate(DEFAULT_MIX, n);
      expect(a.reduce((s, [, k]) => s + k, 0)).toBe(n);
    }
    expect(Object.fromEntries(allocate({ gas_combustible: 3, vessel: 1 }, 100))).toEqual({ gas_combustible: 75, vessel: 25 });
  });

  it('names devices per enterprise, with the rate and the registry meta of their class', () => {
    const devices = fleetDevices({ enterprises: 3, devicesPerEnterprise: 4, mix: { vessel: 1, gas_toxic: 1 }, rate: 2, prefix: 'p' });
    expect(devices).toHaveLength(12);
    expect(new Set(devices.map((d) => `${d.enterprise}/${d.id}`)).size).toBe(12);
    expect(devices[0]).toMatchObject({ enterprise: 'p-e001', id: 'tank-0001', class: 'vessel', intervalSeconds: 0.5 });
    expect(devices[0].meta).toMatchObject({ limits: { level: { HH: 9, H: 8, L: 2, LL: 1 } } });
    expect(devices.find((d) => d.class === 'gas_toxic')!.meta).toEqual({ gas: 'H2S', exposureLimit: 10 });
    // Without a rate, each class reports at its catalog interval.
    expect(fleetDevices({ enterprises: 1, devicesPerEnterprise: 2, mix: { smoke_alarm: 1 } })[0].intervalSeconds).toBe(300);
  });
});

describe('registry meta', () => {
  it('carries the limits and exposure limit the models run with', async () => {
    const { registryMeta } = await import('../provision.ts');
    expect(registryMeta({ enterprise: 'e', id: 't', class: 'vessel', intervalSeconds: 10, meta: { height: 20 } })).toEqual({
      height: 20,
      limits: { level: { HH: 18, H: 16, L: 4, LL: 2 }, temperature: { HH: 55, H: 45, L: 5, LL: -5 }, pressure: { HH: 0.4, H: 0.325, L: 0.125, LL: 0.075 } },
    });
    const given = { level: { HH: 9, H: 8, L: 2, LL: 1 }, temperature: { HH: 60, H: 50, L: 0, LL: -10 }, pressure: { HH: 2, H: 1.5, L: 0.5, LL: 0.2 } };
    expect(registryMeta({ enterprise: 'e', id: 't', class: 'vessel', intervalSeconds: 10, meta: { limits: given } }).limits).toEqual(given);
    expect(registryMeta({ enterprise: 'e', id: 'x', class: 'gas_toxic', intervalSeconds: 5 })).toEqual({ exposureLimit: 10 });
    expect(registryMeta({ enterprise: 'e', id: 'o', class: 'oxygen', intervalSeconds: 5 })).toEqual({});
  });
});
