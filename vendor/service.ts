// `hazwatch vendor`: takes in what installed devices already send, their vendor's JSON on their vendor's
// topics, through vendor maps (vendor/map.ts). It subscribes to each map's topic, translates each
// message (vendor/translate.ts) and publishes the readings on the devices' hw/v1 telemetry topics; from
// there ingest and rules take them exactly as a native device's (same validation, spool, InfluxDB
// points, alarms, error counting). What does not fit a map is refused with a stable code, counted by
// map and code, logged, and told on the device's error topic when the device is known.
// An incoming message is acknowledged only once its readings have been acknowledged by the broker, on
// a persistent session: a translator that dies or is cut off loses nothing.
import mqtt from 'mqtt';
import type { Registry as MetricsRegistry } from 'prom-client';
import { ERRORS, HazwatchError, type ErrorCode } from '../contract/errors.ts';
import type { ErrorPayload } from '../contract/payloads.ts';
import { topicFor } from '../contract/topics.ts';
import type { Service } from '../core/command.ts';
import type { Config } from '../core/config.ts';
import { oncePer, type Logger } from '../core/log.ts';
import { counter, gauge } from '../core/metrics.ts';
import { serviceSession } from '../core/mqtt-session.ts';
import { subscribeWithDeadline } from '../core/subscribe.ts';
import type { Registry } from '../registry/registry.ts';
import { loadVendorMaps, type VendorMap } from './map.ts';
import { matchTopic, translate, type DeviceReadings, type Refusal } from './translate.ts';

export interface VendorService extends Service {
  /** Resolves once connected and subscribed the first time. */
  ready: Promise<void>;
}

export interface VendorDeps {
  config: Config;
  log: Logger;
  metrics: MetricsRegistry;
  registry: Registry;
}

/** A registry read for an unknown device at most this often: a flood of unknown ids must not hammer the database. */
const UNKNOWN_DEVICE_REREAD_MS = 1000;

export async function startVendor({ config, log: parentLog, metrics, registry }: VendorDeps): Promise<VendorService> {
  const cfg = config.vendor;
  const log = parentLog.child({ component: 'vendor' });
  if (!cfg.maps.length) throw new HazwatchError('HW_ERR_CONFIG', 'vendor.maps: no map file given: name the files or directories of vendor maps');
  const maps = loadVendorMaps(cfg.maps);
  const m = {
    messages: counter(metrics, 'hazwatch_vendor_messages_total', 'Vendor messages received, by map', ['map']),
    refused: counter(metrics, 'hazwatch_vendor_refused_total', 'Vendor messages (or readings of one) not taken, by map and code', ['map', 'code']),
    readings: counter(metrics, 'hazwatch_vendor_readings_total', 'Readings published on hw/v1 telemetry topics, by map', ['map']),
    absent: counter(metrics, 'hazwatch_vendor_fields_absent_total', 'Mapped fields a message did not carry (partial reports), by map', ['map']),
    registered: counter(metrics, 'hazwatch_vendor_devices_registered_total', 'Devices registered at their first message (register: true), by map', ['map']),
    connected: gauge(metrics, 'hazwatch_vendor_connected', 'Connected to the broker (1) or not (0)'),
  };

  const clientId = cfg.clientId ?? config.mqtt.username ?? 'svc:vendor';
  const client = mqtt.connect(config.mqtt.url, serviceSession(config, clientId));
  // Readings go out on a connection of their own: mqtt.js reads one incoming packet at a time, so a
  // PUBACK for a publish of ours could not be read on the connection whose message waits for it.
  const out = mqtt.connect(config.mqtt.url, serviceSession(config, `${clientId}:out`, { clean: true }));
  out.on('error', () => undefined);

  const firstThisMinute = oncePer(60_000);
  async function refuse(map: VendorMap, topic: string, r: Refusal, receivedAt: number): Promise<void> {
    m.refused.inc({ map: map.name, code: r.code });
    // One line per map and code a minute: a device that keeps sending what is refused must not flood the log.
    if (firstThisMinute(`${map.name}\0${r.code}`)) {
      log.warn({ code: r.code, map: map.name, topic, detail: r.detail, device: r.device && `${r.enterprise}/${r.device}` }, ERRORS[r.code].message);
    }
    // Told where the device's integrators and the console look, when the device is one of ours.
    if (r.enterprise && r.device && registry.device(r.enterprise, r.device)) {
      const body: ErrorPayload = { code: r.code, message: `${ERRORS[r.code].message}: ${r.detail}`, topic, receivedAt };
      await out.publishAsync(topicFor(r.enterprise, r.device, 'error'), JSON.stringify(body), { qos: 1 });
    }
  }

  let lastReread = 0;
  /** The code that keeps these readings out, or undefined when the device is (now) registered with this class. */
  async function admit(map: VendorMap, d: DeviceReadings): Promise<ErrorCode | undefined> {
    let known = registry.device(d.enterprise, d.device);
    if (!known && Date.now() - lastReread >= UNKNOWN_DEVICE_REREAD_MS) {
      lastReread = Date.now();
      await registry.pollChanges();
      known = registry.device(d.enterprise, d.device);
    }
    if (known) return known.class === d.class ? undefined : 'HW_ERR_MAP_CLASS';
    if (!map.register) return 'HW_ERR_UNKNOWN_DEVICE';
    await registry.addDevice({ enterprise: d.enterprise, id: d.device, class: d.class, meta: { vendorMap: map.name } });
    m.registered.inc({ map: map.name });
    log.info({ device: `${d.enterprise}/${d.device}`, class: d.class, map: map.name }, 'device registered from its first vendor message');
    return undefined;
  }

  async function handle(topic: string, payload: Buffer): Promise<void> {
    const receivedAt = Date.now();
    let map: VendorMap | undefined;
    let captures: Record<string, string> | undefined;
    for (const candidate of maps) {
      captures = matchTopic(candidate, topic);
      if (captures) {
        map = candidate;
        break;
      }
    }
    if (!map || !captures) return;
    m.messages.inc({ map: map.name });
    const t = translate(map, captures, payload);
    if (t.absent) m.absent.inc({ map: map.name }, t.absent);
    for (const r of t.refusals) await refuse(map, topic, r, receivedAt);
    for (const d of t.devices) {
      const code = await admit(map, d);
      if (code) {
        const detail = code === 'HW_ERR_MAP_CLASS' ? `registered as ${registry.device(d.enterprise, d.device)?.class}, mapped as ${d.class} (${map.source})` : `${d.enterprise}/${d.device} (${map.source}; register: true registers it)`;
        await refuse(map, topic, { code, detail, enterprise: d.enterprise, device: d.device }, receivedAt);
        continue;
      }
      const body = d.readings.length === 1 ? d.readings[0] : { readings: d.readings };
      await out.publishAsync(topicFor(d.enterprise, d.device, 'telemetry'), JSON.stringify(body), { qos: 1 });
      m.readings.inc({ map: map.name }, d.readings.length);
    }
  }

  // mqtt.js sends the PUBACK of an incoming message when this calls back: after its readings are acknowledged.
  client.handleMessage = (packet, done) => {
    handle(packet.topic, packet.payload as Buffer).then(
      () => done(),
      (err: Error) => {
        // Not acknowledged: the broker sends it again on the next connection.
        log.warn({ err: err.message, topic: packet.topic }, 'vendor message not taken yet; it comes again');
        done(err);
      },
    );
  };

  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  client.on('connect', (connack) => {
    m.connected.set(1);
    log.info({ url: config.mqtt.url, clientId, sessionPresent: connack.sessionPresent, maps: maps.map((x) => `${x.name}: ${x.filter}`) }, 'connected to the broker');
    subscribeWithDeadline(client, maps.map((x) => x.filter), log, (err, granted) => {
      if (err) return log.error({ err: err.message }, 'vendor subscriptions refused');
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (refused.length) log.error({ code: 'HW_ERR_ACL_SUBSCRIBE', filters: refused }, 'the broker refused these vendor topics to the vendor service: nothing of them comes in');
      resolveReady();
    });
  });
  client.on('close', () => m.connected.set(0));
  let lastError = 0;
  client.on('error', (err) => {
    if (Date.now() - lastError < 60_000) return;
    lastError = Date.now();
    log.warn({ err: err.message, url: config.mqtt.url }, 'MQTT error; retrying every second');
  });

  return {
    name: 'vendor',
    ready,
    async close() {
      await client.endAsync();
      await out.endAsync();
    },
  };
}
