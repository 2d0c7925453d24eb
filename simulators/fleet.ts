// The fleet: simulated devices on real MQTT connections, one per device with its own client id and
// credentials, as real devices connect. QoS 1, a retained `offline` last will on the status topic and
// a retained `online` at every connect; each device listens on its error topic, so a message the
// platform refuses is seen and counted, and on its command topic, answering each command of the catalog
// (contract/commands.ts) on its reply topic as its model carries it out: accepted, then done / failed /
// rejected. Connections are opened at a limited rate (a thousand mqtt.js
// clients connecting at once would make a CONNECT storm of scrypt checks on the broker), and reopened
// with exponential backoff and jitter when the broker goes away, keeping unacknowledged messages.
import mqtt, { type MqttClient } from 'mqtt';
import type { Registry as MetricsRegistry } from 'prom-client';
import { CommandPayload, commandSpec } from '../contract/commands.ts';
import { topicFor } from '../contract/topics.ts';
import type { Logger } from '../core/log.ts';
import { silentLogger } from '../core/log.ts';
import { counter, gauge } from '../core/metrics.ts';
import type { Credentials } from '../registry/registry.ts';
import { createClock, type SimClock } from './clock.ts';
import { statusPayload, type OutMessage } from './messages.ts';
import { createProgress } from './progress.ts';
import { deviceKey } from './provision.ts';
import { createRandom } from './random.ts';
import type { PlannedFault } from './scenario.ts';
import { createSimulation, type Report, type SentRejection, type SimDevice, type Simulation } from './simulation.ts';

/** Devices switched off together when the fleet stops. */
const SHUTDOWN_BATCH = 100;

export interface FleetOptions {
  url: string;
  devices: SimDevice[];
  /** Credentials per `<enterprise>/<device>`. */
  credentials: Map<string, Credentials>;
  seed?: number;
  /** Simulated seconds per real second (1 = real time). */
  speed?: number;
  /** Real seconds the fleet runs before it stops by itself. */
  durationSeconds?: number;
  /** Telemetry and event messages after which it stops by itself. */
  budget?: number;
  signal?: AbortSignal;
  faults?: PlannedFault[];
  /**
   * Start simulating (and count `durationSeconds`) only once every device is connected, or refused, or
   * after `maxWaitMs`: a large fleet then runs its whole duration at full strength. Not with `faults`,
   * whose times are planned from the start.
   */
  waitForConnections?: boolean;
  maxWaitMs?: number;
  /** Simulated epoch ms of the start (default: see clock.ts). */
  start?: number;
  qos?: 0 | 1;
  /** New connections per second. */
  connectRate?: number;
  keepaliveSeconds?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Messages a disconnected device keeps for later; older reports beyond it are dropped and counted. */
  maxQueue?: number;
  /** How long stop() waits for outstanding acknowledgements. */
  drainMs?: number;
  /** Live progress; false for none. */
  progress?: NodeJS.WritableStream | false;
  progressMs?: number;
  log?: Logger;
  metrics?: MetricsRegistry;
  maxBatch?: number;
  /** Called with every report (tests, the scenario runner). */
  onReport?(report: Report, sentAt: number): void;
  /** Called with every message received on a device's error topic. */
  onError?(device: SimDevice, error: unknown): void;
  /** How devices answer commands (by default: as their model carries them out, after `workMs`). */
  commands?: CommandBehaviour;
}

/** A device's answer to a command, decided by the test instead of the model ('ignore': no answer at all). */
export type CommandAnswer = 'model' | 'done' | 'failed' | 'rejected' | 'ignore';

export interface CommandBehaviour {
  /** Per device and command; default 'model'. The way tests make a device fail, refuse or stay silent. */
  answer?(device: SimDevice, command: CommandPayload): CommandAnswer;
  /** Real ms between `accepted` and the final answer (default 300). */
  workMs?: number;
  /** Called with every command received (tests). */
  onCommand?(device: SimDevice, command: CommandPayload): void;
}

export interface FleetStats {
  devices: number;
  connected: number;
  /** Devices that connected at least once. */
  everConnected: number;
  connects: number;
  reconnects: number;
  connectionLosses: number;
  /** Refused CONNECTs and socket errors, by message. */
  connectErrors: Record<string, number>;
  /** Telemetry and event messages handed to MQTT. */
  sent: number;
  acked: number;
  failed: number;
  /** Reports dropped because a disconnected device's queue was full. */
  dropped: number;
  /** Reports of devices still waiting for their first connection (not powered on yet). */
  beforeFirstConnect: number;
  statusSent: number;
  /** Deliberately malformed messages sent (scenario faults). */
  malformedSent: number;
  /** Commands received on command topics, and replies sent. */
  commandsReceived: number;
  repliesSent: number;
  /** Messages received on error topics, by code. */
  rejected: Record<string, number>;
  rejectedTotal: number;
  startedAt: number;
  /** Ms after the start when simulating began (later than 0 with waitForConnections). */
  runningSinceMs?: number;
  elapsedMs: number;
  /** Ms after the start when every device was connected for the first time. */
  allConnectedAfterMs?: number;
  /** Messages sent from that moment on. */
  sentSinceAllConnected: number;
  simulatedStart: number;
  simulatedNow: number;
}

export interface FleetSummary extends FleetStats {
  stoppedBy: 'duration' | 'budget' | 'signal' | 'stop';
  /** Messages per second over the run. */
  rate: number;
  /** Messages per second once every device was connected. */
  steadyRate?: number;
  expectedRejections: SentRejection[];
}

export interface Fleet {
  stats(): FleetStats;
  clock: SimClock;
  simulation: Simulation;
  /** Stops sending, waits for acknowledgements, says `offline` and disconnects every device. */
  stop(): Promise<FleetSummary>;
  done: Promise<FleetSummary>;
}

interface Conn {
  device: SimDevice;
  client?: MqttClient;
  connected: boolean;
  everConnected: boolean;
  dropped: boolean;
  pending: number;
  attempt: number;
  topics: { telemetry: string; event: string; status: string; error: string; command: string; reply: string };
}

export function startFleet(options: FleetOptions): Fleet {
  const log = options.log ?? silentLogger();
  const qos = options.qos ?? 1;
  const seed = options.seed ?? 1;
  const speed = options.speed ?? 1;
  const connectRate = options.connectRate ?? 200;
  const minMs = options.reconnectMinMs ?? 1000;
  const maxMs = options.reconnectMaxMs ?? 30_000;
  const maxQueue = options.maxQueue ?? 1000;
  const jitter = createRandom(seed ^ 0x1eaf);
  if (options.waitForConnections && options.faults?.length) throw new Error('waitForConnections cannot be used with planned faults: their times are fixed from the start');
  const newClock = () => createClock({ speed, start: options.start, spanSeconds: options.durationSeconds !== undefined ? options.durationSeconds * speed : undefined });
  const newSimulation = (start: number) => createSimulation({ devices: options.devices, seed, start, faults: options.faults, maxBatch: options.maxBatch });
  let clock = newClock();
  let simulation = newSimulation(clock.start);
  let running = !options.waitForConnections;
  /** Devices connected at least once, or refused for good. */
  const settled = new Set<string>();
  const m = options.metrics
    ? {
        connected: gauge(options.metrics, 'hazwatch_sim_devices_connected', 'Simulated devices connected'),
        sent: counter(options.metrics, 'hazwatch_sim_messages_sent_total', 'Telemetry and event messages sent by simulated devices', ['channel']),
        rejected: counter(options.metrics, 'hazwatch_sim_messages_rejected_total', 'Messages the platform refused on simulated devices\' error topics', ['code']),
        reconnects: counter(options.metrics, 'hazwatch_sim_reconnects_total', 'Reconnections of simulated devices'),
      }
    : undefined;

  const stats: FleetStats = {
    devices: options.devices.length,
    connected: 0,
    everConnected: 0,
    connects: 0,
    reconnects: 0,
    connectionLosses: 0,
    connectErrors: {},
    sent: 0,
    acked: 0,
    failed: 0,
    dropped: 0,
    beforeFirstConnect: 0,
    statusSent: 0,
    malformedSent: 0,
    commandsReceived: 0,
    repliesSent: 0,
    rejected: {},
    rejectedTotal: 0,
    startedAt: Date.now(),
    runningSinceMs: running ? 0 : undefined,
    elapsedMs: 0,
    sentSinceAllConnected: 0,
    simulatedStart: clock.start,
    simulatedNow: clock.start,
  };

  const conns = new Map<string, Conn>();
  for (const device of options.devices) {
    const key = deviceKey(device.enterprise, device.id);
    if (!options.credentials.has(key)) throw new Error(`no credentials for ${key}`);
    conns.set(key, {
      device,
      connected: false,
      everConnected: false,
      dropped: false,
      pending: 0,
      attempt: 0,
      topics: {
        telemetry: topicFor(device.enterprise, device.id, 'telemetry'),
        event: topicFor(device.enterprise, device.id, 'event'),
        status: topicFor(device.enterprise, device.id, 'status'),
        error: topicFor(device.enterprise, device.id, 'error'),
        command: topicFor(device.enterprise, device.id, 'command'),
        reply: topicFor(device.enterprise, device.id, 'reply'),
      },
    });
  }

  const backoff = (attempt: number) => Math.min(maxMs, minMs * 2 ** Math.min(attempt, 16)) * (0.5 + jitter.next() * 0.5);

  function connect(conn: Conn): void {
    const creds = options.credentials.get(deviceKey(conn.device.enterprise, conn.device.id))!;
    const client = mqtt.connect(options.url, {
      clientId: creds.clientId,
      username: creds.username,
      password: creds.password,
      clean: true,
      keepalive: options.keepaliveSeconds ?? 60,
      connectTimeout: 30_000,
      reconnectPeriod: backoff(0),
      resubscribe: true,
      // Reports while disconnected wait in the client's store; bounded by maxQueue below.
      queueQoSZero: false,
      will: { topic: conn.topics.status, payload: Buffer.from(statusPayload('offline')), qos: 1, retain: true },
    });
    conn.client = client;
    client.on('connect', () => {
      conn.connected = true;
      if (conn.attempt > 0 || conn.everConnected) {
        stats.reconnects++;
        m?.reconnects.inc();
      }
      if (!conn.everConnected) stats.everConnected++;
      settled.add(creds.username);
      conn.everConnected = true;
      conn.attempt = 0;
      client.options.reconnectPeriod = backoff(0);
      stats.connects++;
      stats.connected++;
      if (stats.connected === stats.devices && stats.allConnectedAfterMs === undefined) stats.allConnectedAfterMs = Date.now() - stats.startedAt;
      m?.connected.set(stats.connected);
      stats.statusSent++;
      client.publish(conn.topics.status, statusPayload('online', clock.now()), { qos: 1, retain: true });
    });
    client.on('reconnect', () => {
      // mqtt.js retries at a fixed period; each failed attempt arms the next one with this value.
      conn.attempt++;
      client.options.reconnectPeriod = backoff(conn.attempt);
    });
    client.on('close', () => {
      if (conn.connected) {
        conn.connected = false;
        stats.connected--;
        if (!stopping) stats.connectionLosses++;
        m?.connected.set(stats.connected);
      }
    });
    client.on('error', (err) => {
      // A CONNACK refusal is final (mqtt.js does not retry it); anything else is retried.
      if ((err as { code?: unknown }).code !== undefined && typeof (err as { code?: unknown }).code === 'number') settled.add(creds.username);
      const key = err.message;
      stats.connectErrors[key] = (stats.connectErrors[key] ?? 0) + 1;
      log.debug({ device: creds.username, err: err.message }, 'simulated device connection error');
    });
    client.on('message', (topic, payload) => {
      if (topic === conn.topics.command) return onCommand(conn, payload);
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        body = payload.toString('utf8');
      }
      const code = typeof body === 'object' && body && 'code' in body ? String((body as { code: unknown }).code) : 'unknown';
      stats.rejected[code] = (stats.rejected[code] ?? 0) + 1;
      stats.rejectedTotal++;
      m?.rejected.inc({ code });
      options.onError?.(conn.device, body);
    });
    client.subscribe([conn.topics.error, conn.topics.command], { qos: 1 }, (err) => {
      if (err) log.warn({ device: creds.username, err: err.message }, 'cannot subscribe to the error and command topics');
    });
  }

  /** A command as a real device takes it: check it, say accepted, carry it out, say how it went. */
  function onCommand(conn: Conn, payload: Buffer): void {
    let command: CommandPayload;
    try {
      command = CommandPayload.parse(JSON.parse(payload.toString('utf8')));
    } catch (err) {
      log.warn({ device: conn.device.id, err: (err as Error).message }, 'simulated device got a command it cannot read');
      return;
    }
    stats.commandsReceived++;
    const behaviour = options.commands;
    behaviour?.onCommand?.(conn.device, command);
    const reply = (status: 'accepted' | 'done' | 'failed' | 'rejected', message?: string) => {
      stats.repliesSent++;
      conn.client?.publish(conn.topics.reply, JSON.stringify({ id: command.id, status, ...(message ? { message } : {}), ts: Date.now() }), { qos: 1 });
    };
    const answer = behaviour?.answer?.(conn.device, command) ?? 'model';
    if (answer === 'ignore') return;
    // A device must not act on a command past its expiry (a late delivery after a reconnect).
    if (Date.now() > command.expiresAt) return reply('rejected', 'expired before it arrived');
    if (!commandSpec(conn.device.class, command.name)) return reply('rejected', `unknown command ${command.name}`);
    reply('accepted');
    setTimeout(() => {
      if (answer !== 'model') return reply(answer, `simulated ${answer}`);
      const state = simulation.states.find((s) => s.device.enterprise === conn.device.enterprise && s.device.id === conn.device.id);
      if (!state) return reply('failed', 'device not simulated');
      const result = state.model.command(command.name, command.args ?? {}, Math.max(stats.simulatedNow, 0));
      reply(result.status, result.message);
    }, behaviour?.workMs ?? 300).unref?.();
  }

  function publish(conn: Conn, msg: OutMessage): void {
    const client = conn.client!;
    if (!conn.connected && conn.pending >= maxQueue) {
      stats.dropped++;
      return;
    }
    stats.sent++;
    if (stats.allConnectedAfterMs !== undefined) stats.sentSinceAllConnected++;
    if (msg.expectRejection) stats.malformedSent++;
    m?.sent.inc({ channel: msg.channel });
    conn.pending++;
    client.publish(conn.topics[msg.channel], msg.payload, { qos, retain: msg.retain ?? false }, (err) => {
      conn.pending--;
      if (err) stats.failed++;
      else stats.acked++;
    });
  }

  // Connection ramp: a few connections per tick, in device order.
  const queue = [...conns.values()];
  const rampEvery = Math.max(1, Math.floor(1000 / Math.min(connectRate, 1000)));
  const perRamp = Math.max(1, Math.round(connectRate / (1000 / rampEvery)));
  const ramp = setInterval(() => {
    for (let i = 0; i < perRamp && queue.length; i++) connect(queue.shift()!);
    if (!queue.length) clearInterval(ramp);
  }, rampEvery);

  let stopping: Promise<FleetSummary> | undefined;
  let stoppedBy: FleetSummary['stoppedBy'] = 'stop';
  const progress = options.progress === false ? undefined : createProgress(options.progress ?? process.stdout, () => stats, options.progressMs);

  // The simulated span of a run of known length: nothing is simulated past its end.
  let simulatedEnd = options.durationSeconds !== undefined ? clock.start + options.durationSeconds * speed * 1000 : Infinity;
  let runningSince = Date.now();

  const tick = setInterval(() => {
    if (!running) {
      if (settled.size < conns.size && Date.now() - stats.startedAt < (options.maxWaitMs ?? 300_000)) return;
      // Everyone is here: the run (its clock, its duration) starts now.
      running = true;
      runningSince = Date.now();
      stats.runningSinceMs = runningSince - stats.startedAt;
      clock = newClock();
      simulation = newSimulation(clock.start);
      simulatedEnd = options.durationSeconds !== undefined ? clock.start + options.durationSeconds * speed * 1000 : Infinity;
      stats.simulatedStart = clock.start;
    }
    const now = Math.min(clock.now(), simulatedEnd);
    stats.simulatedNow = now;
    for (const report of simulation.due(now)) {
      const conn = conns.get(deviceKey(report.state.device.enterprise, report.state.device.id))!;
      options.onReport?.(report, Date.now());
      if (report.step.silent === 'drop') {
        if (conn.client && !conn.dropped) {
          // The device loses power or its link: no DISCONNECT, so the broker publishes its will.
          conn.dropped = true;
          conn.client.end(true);
        }
        continue;
      }
      if (conn.dropped) {
        conn.dropped = false;
        conn.client?.reconnect();
      }
      if (!conn.client || !conn.everConnected) {
        // Not powered on yet (still waiting in the connection ramp).
        stats.beforeFirstConnect += report.messages.length;
        continue;
      }
      for (const msg of report.messages) {
        if (options.budget !== undefined && stats.sent >= options.budget) break;
        publish(conn, msg);
      }
    }
    if (options.budget !== undefined && stats.sent >= options.budget) finish('budget');
    else if (options.durationSeconds !== undefined && Date.now() - runningSince >= options.durationSeconds * 1000) finish('duration');
  }, 20);

  const onAbort = () => finish('signal');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) queueMicrotask(onAbort);

  let resolveDone!: (s: FleetSummary) => void;
  const done = new Promise<FleetSummary>((r) => (resolveDone = r));

  function switchOff(c: Conn): Promise<void> {
    return new Promise<void>((resolve) => {
      const client = c.client;
      if (!client) return resolve();
      if (!c.connected || c.dropped) return void client.end(true, () => resolve());
      const timer = setTimeout(() => client.end(true, () => resolve()), 3000);
      // A clean DISCONNECT suppresses the will: say offline first, as a device switched off by hand.
      stats.statusSent++;
      client.publish(c.topics.status, statusPayload('offline', clock.now()), { qos: 1, retain: true }, () =>
        client.end(false, () => {
          clearTimeout(timer);
          resolve();
        }),
      );
    });
  }

  function finish(by: FleetSummary['stoppedBy']): Promise<FleetSummary> {
    if (stopping) return stopping;
    stoppedBy = by;
    clearInterval(tick);
    clearInterval(ramp);
    options.signal?.removeEventListener('abort', onAbort);
    stopping = (async () => {
      const deadline = Date.now() + (options.drainMs ?? 5000);
      const outstanding = () => [...conns.values()].reduce((s, c) => s + (c.connected ? c.pending : 0), 0);
      while (outstanding() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      stats.elapsedMs = Date.now() - stats.startedAt;
      // Devices are switched off a hundred at a time: a thousand `offline` publishes and DISCONNECTs in
      // one tick is a burst no real plant makes, and one that has overflowed aedes' mqemitter stack.
      const all = [...conns.values()];
      for (let i = 0; i < all.length; i += SHUTDOWN_BATCH) {
        await Promise.all(all.slice(i, i + SHUTDOWN_BATCH).map(switchOff));
        if (i + SHUTDOWN_BATCH < all.length) await new Promise((r) => setTimeout(r, 10));
      }
      stats.connected = 0;
      m?.connected.set(0);
      progress?.stop();
      const summary: FleetSummary = {
        ...structuredClone(stats),
        stoppedBy,
        rate: stats.elapsedMs > 0 ? (stats.sent / stats.elapsedMs) * 1000 : 0,
        ...(stats.allConnectedAfterMs !== undefined && stats.elapsedMs > stats.allConnectedAfterMs
          ? { steadyRate: (stats.sentSinceAllConnected / (stats.elapsedMs - stats.allConnectedAfterMs)) * 1000 }
          : {}),
        expectedRejections: [...simulation.rejections].sort((a, b) => a.at - b.at),
      };
      log.info({ sent: summary.sent, acked: summary.acked, rejected: summary.rejectedTotal, stoppedBy }, 'fleet stopped');
      resolveDone(summary);
      return summary;
    })();
    return stopping;
  }

  return {
    get clock() {
      return clock;
    },
    get simulation() {
      return simulation;
    },
    stats: () => ({ ...stats, elapsedMs: Date.now() - stats.startedAt }),
    stop: () => finish('stop'),
    done,
  };
}

/** Runs a fleet until it stops by itself (duration, budget) or by the signal. */
export function runFleet(options: FleetOptions): Promise<FleetSummary> {
  if (options.durationSeconds === undefined && options.budget === undefined && !options.signal) {
    throw new Error('a fleet needs a duration, a message budget or an abort signal to stop');
  }
  return startFleet(options).done;
}
