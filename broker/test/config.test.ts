// The broker's settings through the real configuration loader and the command's flags.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { HazwatchError } from '../../contract/errors.ts';
import { brokerCommand } from '../command.ts';

describe('broker configuration', () => {
  it('has safe defaults: anonymous off, limits on', () => {
    const { broker } = loadConfig({ env: {} });
    expect(broker).toMatchObject({ port: 1883, wsPort: 8083, tlsPort: 8883, allowAnonymous: false, persistence: 'memory' });
    expect(broker.publishRatePerSecond).toBeGreaterThan(0);
  });

  it('reads HAZWATCH_BROKER_* variables, including false for a listener', () => {
    const { broker } = loadConfig({ env: { HAZWATCH_BROKER_PORT: '1884', HAZWATCH_BROKER_WS_PORT: 'false', HAZWATCH_BROKER_BAN_DURATION_SECONDS: '60', HAZWATCH_BROKER_PERSISTENCE: 'level' } });
    expect(broker).toMatchObject({ port: 1884, wsPort: false, persistence: 'level', ban: { durationSeconds: 60 } });
  });

  it('takes --port and --allow-anonymous, and names a wrong value', () => {
    const overrides = brokerCommand.overrides!({ port: '2883', 'allow-anonymous': true });
    expect(loadConfig({ env: {}, overrides }).broker).toMatchObject({ port: 2883, allowAnonymous: true });
    let error: unknown;
    try {
      loadConfig({ env: {}, overrides: brokerCommand.overrides!({ port: 'abc' }) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HazwatchError);
    expect((error as HazwatchError).message).toContain('broker.port');
  });
});
