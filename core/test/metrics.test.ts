// Hot-path increments (core/metrics.ts): summed in a number, handed to prom-client when the counter is read.
import { describe, expect, it } from 'vitest';
import { counter, createMetricsRegistry, hotIncrement } from '../metrics.ts';

describe('hotIncrement', () => {
  it('shows every increment at the next read, per label set, beside ordinary increments', async () => {
    const registry = createMetricsRegistry();
    const c = counter(registry, 'test_messages_total', 'messages', ['channel']);
    const telemetry = hotIncrement(c, { channel: 'telemetry' });
    const event = hotIncrement(c, { channel: 'event' });
    for (let i = 0; i < 1000; i++) telemetry();
    event(5);
    c.inc({ channel: 'status' });
    const values = async () => Object.fromEntries((await c.get()).values.map((v) => [v.labels.channel, v.value]));
    expect(await values()).toEqual({ telemetry: 1000, event: 5, status: 1 });
    telemetry(2);
    expect(await values()).toEqual({ telemetry: 1002, event: 5, status: 1 });
    expect(await registry.metrics()).toMatch(/test_messages_total\{channel="telemetry"\} 1002/);
    // A second hot increment of the same counter adds to the same series.
    hotIncrement(c, { channel: 'telemetry' })(3);
    expect((await values()).telemetry).toBe(1005);
  });
});
