// The latest value of every metric of every device, kept in memory from the MQTT telemetry, event and
// status topics (as service account svc:api). Values are checked with the same contract code as
// ingest, so the console never shows a reading the platform refused.
import mqtt from 'mqtt';
import { channelFilter, interpretEvent, interpretTelemetry, parseTopic } from '../contract/index.ts';
import { DEVICE_CLASSES } from '../contract/catalog.ts';
import { counter } from '../core/metrics.ts';
export function createLatestStore(options) {
    const now = options.now ?? Date.now;
    const latest = new Map();
    const listeners = new Set();
    const messages = options.metrics ? counter(options.metrics, 'hazwatch_api_device_messages_total', 'Device messages seen by the API for its latest values', ['channel', 'outcome']) : undefined;
    const entry = (enterprise, device) => {
        const key = `${enterprise}/${device}`;
        let l = latest.get(key);
        if (!l)
            latest.set(key, (l = { enterprise, device, values: {}, lastSeen: null, status: null, activeEvents: [] }));
        return l;
    };
    return {
        get: (enterprise, device) => latest.get(`${enterprise}/${device}`),
        all: () => [...latest.values()],
        online(enterprise, device, cls, intervalSeconds) {
            const l = latest.get(`${enterprise}/${device}`);
            if (!l || l.lastSeen === null || l.status === 'offline')
                return false;
            const interval = (intervalSeconds ?? DEVICE_CLASSES[cls].intervalSeconds) * 1000;
            return now() - l.lastSeen <= interval * options.graceFactor;
        },
        onUpdate(listener) {
            listeners.add(listener);
            return () => listeners.delete(listener);
        },
        apply(topic, payload, receivedAt = now()) {
            const parsed = parseTopic(topic);
            if (!parsed)
                return;
            const device = options.devices.get(parsed.enterprise, parsed.device);
            if (!device) {
                messages?.inc({ channel: parsed.channel, outcome: 'unknown_device' });
                return;
            }
            const l = entry(parsed.enterprise, parsed.device);
            let changed = false;
            if (parsed.channel === 'telemetry') {
                const result = interpretTelemetry(device.class, payload, receivedAt);
                for (const reading of result.readings) {
                    for (const [metric, value] of Object.entries(reading.values)) {
                        const prev = l.values[metric];
                        // Batches replayed after an outage may be older than what we hold.
                        if (!prev || prev.ts <= reading.ts)
                            l.values[metric] = { value, ts: reading.ts };
                    }
                }
                changed = result.readings.length > 0;
                messages?.inc({ channel: 'telemetry', outcome: changed ? 'applied' : 'rejected' });
            }
            else if (parsed.channel === 'event') {
                const result = interpretEvent(device.class, payload, receivedAt);
                if (result.event) {
                    const { type, active } = result.event;
                    const set = new Set(l.activeEvents);
                    if (active && !['heartbeat', 'calibration', 'silence', 'hydrant_draw'].includes(type))
                        set.add(type);
                    else
                        set.delete(type);
                    l.activeEvents = [...set].sort();
                    changed = true;
                }
                messages?.inc({ channel: 'event', outcome: result.event ? 'applied' : 'rejected' });
            }
            else if (parsed.channel === 'status') {
                try {
                    const state = JSON.parse(payload.toString('utf8')).state;
                    if (state === 'online' || state === 'offline') {
                        l.status = state;
                        changed = true;
                    }
                }
                catch {
                    /* refused by ingest with a reason sent to the device; nothing to show here */
                }
                messages?.inc({ channel: 'status', outcome: changed ? 'applied' : 'rejected' });
                // A retained status says nothing about when the device was last heard: lastSeen stays.
                if (changed)
                    for (const listener of listeners)
                        listener(l);
                return;
            }
            else
                return;
            if (changed) {
                l.lastSeen = receivedAt;
                for (const listener of listeners)
                    listener(l);
            }
        },
    };
}
/** Subscribes the store to the broker; returns the client (closed by the caller). */
export function subscribeLatest(store, options) {
    const client = mqtt.connect(options.url, {
        username: options.username,
        password: options.password,
        clientId: `${options.username}:${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
        clean: true,
        reconnectPeriod: 2000,
        connectTimeout: 10000,
    });
    let complained = false;
    client.on('connect', () => {
        complained = false;
        options.log.info({ url: options.url }, 'latest values: connected to broker');
        // Every API instance needs every value: no shared subscription. QoS 0: a missed value is
        // replaced by the next one; the record of every reading is ingest's job.
        client.subscribe([channelFilter('telemetry'), channelFilter('event'), channelFilter('status')], { qos: 0 }, (err) => {
            if (err)
                options.log.error({ err }, 'latest values: subscribe failed');
        });
    });
    // Once per outage, not at every reconnect attempt; readiness (/readyz) tells the state meanwhile.
    client.on('error', (err) => {
        if (!complained)
            options.log.warn({ err: err.message }, 'latest values: broker connection error; retrying');
        complained = true;
    });
    client.on('message', (topic, payload) => {
        try {
            store.apply(topic, payload);
        }
        catch (err) {
            options.log.error({ err, topic }, 'latest values: message could not be applied');
        }
    });
    return client;
}
