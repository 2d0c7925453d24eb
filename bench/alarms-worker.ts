// The rules service of bench/alarms.ts, on its own thread (its own event loop, as in a separate process).
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfig } from '../core/config.ts';
import { silentLogger } from '../core/log.ts';
import { createMetricsRegistry } from '../core/metrics.ts';
import { openRegistry } from '../registry/registry.ts';
import { startRules } from '../rules/service.ts';

const { overrides, registryPath } = workerData as { overrides: Record<string, unknown>; registryPath: string };
const registry = await openRegistry(registryPath);
const metrics = createMetricsRegistry();
const rules = await startRules({ config: loadConfig({ env: {}, overrides }), log: silentLogger(), metrics, registry });
await rules.ready;
const readings = async () => ((await metrics.getSingleMetric('hazwatch_rules_readings_total')?.get())?.values ?? []).reduce((s, v) => s + v.value, 0);
parentPort!.on('message', async (msg: { id: number; op: 'readings' | 'settle' | 'close' }) => {
  if (msg.op === 'readings') parentPort!.postMessage({ id: msg.id, value: await readings() });
  else if (msg.op === 'settle') {
    await rules.settle(10_000);
    parentPort!.postMessage({ id: msg.id, value: 0 });
  } else {
    await rules.close();
    await registry.close();
    parentPort!.postMessage({ id: msg.id, value: 0 });
  }
});
parentPort!.postMessage({ ready: true });
