// The data the dashboard tests query, produced the way a deployment produces it: a simulated fleet
// (simulators/) publishes over real MQTT to the real broker (test/support/broker.ts), ingest
// (ingest/) validates, spools and writes to the real InfluxDB. Faults make the devices report
// events (gas stages, pump fault, hydrant draw, arc fault, smoke, tamper, low battery) and malformed
// messages (rejections by reason). Alarm changes (alarm_event) and platform_rules are written by the
// rules engine, which is not part of this run: fixture.ts writes those in line protocol.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVICE_CLASSES } from '../../contract/catalog.ts';
import { loadConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { startIngest } from '../../ingest/command.ts';
import { runFleet } from '../../simulators/fleet.ts';
import { defaultMeta } from '../../simulators/mix.ts';
import { provisionDevices } from '../../simulators/provision.ts';
import { startTestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import { FIXTURE_DEVICES } from './fixture.ts';
/**
 * Runs the fleet of FIXTURE_DEVICES for `realSeconds` at `speed` times real time, so that simulated
 * time covers the last `realSeconds * speed` seconds up to now, and waits until ingest stored it all.
 */
export async function simulatedData(options) {
    const dir = mkdtempSync(join(tmpdir(), 'hw-dash-pipeline-'));
    const broker = await startTestBroker();
    let ingest;
    try {
        const devices = FIXTURE_DEVICES.map((d) => ({
            enterprise: d.enterprise,
            id: d.id,
            class: d.cls,
            site: d.site,
            hazardSource: d.hazardSource,
            intervalSeconds: DEVICE_CLASSES[d.cls].intervalSeconds,
            meta: defaultMeta(d.cls),
        }));
        const credentials = await provisionDevices(broker.registry, devices);
        const config = loadConfig({
            env: {},
            overrides: {
                dataDir: dir,
                mqtt: { url: broker.url, username: broker.service.username, password: broker.service.password },
                ingest: {
                    instance: 'ingest-test',
                    clientId: `${broker.service.clientId}:ingest`,
                    influx: { kind: 'v1', url: options.url, database: options.db, createDatabase: false },
                    spool: { sync: 'normal' },
                    batch: { flushMs: 100 },
                    healthIntervalS: 1,
                },
            },
        });
        ingest = await startIngest({ config, log: silentLogger(), metrics: createMetricsRegistry(), registry: broker.registry });
        await ingest.ready;
        const spanMs = options.realSeconds * options.speed * 1000;
        // Simulated time ends about now: start a span earlier, less the real seconds the run takes.
        const start = Date.now() - spanMs + options.realSeconds * 1000;
        const min = 60000;
        const fault = (device, offsetMs, f) => ({ enterprise: FIXTURE_DEVICES[0].enterprise, device, at: start + offsetMs, fault: f });
        const faults = [
            fault('T-101', 2 * min, { kind: 'overfill', flow: 120, durationSeconds: 900 }),
            fault('GC-1', 3 * min, { kind: 'gas_leak', peak: 70, rampSeconds: 120, holdSeconds: 300, decaySeconds: 120, delaySeconds: 0, factor: 1, durationSeconds: 900 }),
            fault('PM-1', 4 * min, { kind: 'arc_fault', durationSeconds: 120 }),
            fault('PM-1', 5 * min, { kind: 'electrical_leakage', ratePerMinute: 60, peak: 600, durationSeconds: 900 }),
            fault('FW-1', 4 * min, { kind: 'pump_failure', durationSeconds: 600 }),
            fault('FW-1', 6 * min, { kind: 'hydrant_draw', flow: 54, durationSeconds: 300 }),
            fault('SA-1', 3 * min, { kind: 'fire', ratePerMinute: 20, durationSeconds: 600 }),
            fault('SA-1', 5 * min, { kind: 'low_battery', to: 12, durationSeconds: 1200 }),
            fault('SA-1', 6 * min, { kind: 'tamper', durationSeconds: 600 }),
            fault('SA-1', 7 * min, { kind: 'device_fault', message: 'chamber dirty', durationSeconds: 600 }),
            fault('GC-2', 5 * min, { kind: 'malformed', variant: 'out_of_range', count: 3 }),
            fault('GT-1', 5 * min, { kind: 'malformed', variant: 'unknown_metric', count: 2 }),
        ];
        const summary = await runFleet({
            url: broker.url,
            devices,
            credentials,
            seed: 8,
            speed: options.speed,
            start,
            durationSeconds: options.realSeconds,
            faults,
            progress: false,
            connectRate: 1000,
        });
        // Everything the fleet sent is stored or rejected before the dashboards are queried.
        await waitFor(() => {
            const s = ingest.stats();
            return s.spool.messages === 0 && s.received >= summary.sent;
        }, 30000, 100);
        // Status messages (the `offline` each device says when the fleet stops) come last: wait until
        // nothing more arrives for a second.
        let last = -1;
        await waitFor(() => {
            const s = ingest.stats();
            const settled = s.received === last && s.spool.messages === 0;
            last = s.received;
            return settled;
        }, 30000, 1000);
        await ingest.writeHealth();
        const s = ingest.stats();
        return { messagesSent: summary.sent, stored: s.stored, rejected: s.rejected };
    }
    finally {
        await ingest?.close();
        await broker.close();
        rmSync(dir, { recursive: true, force: true });
    }
}
