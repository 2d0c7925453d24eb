// The MQTT broker: aedes 1.x behind TCP, TLS and WebSocket listeners, with authentication against the
// registry, access decided from the topic alone, limits that protect the broker, and retained
// online/offline status kept by the broker itself.
//
// aedes 1.x speaks MQTT 3.1 and 3.1.1 (not 5): an MQTT 5 CONNECT is answered with CONNACK 1
// (unacceptable protocol version), which MQTT 5 clients understand as "fall back to 3.1.1".
import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Registry as MetricsRegistry } from 'prom-client';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { z } from 'zod';
import { ERRORS, type ErrorCode } from '../contract/errors.ts';
import { StatusPayload, type ErrorPayload } from '../contract/payloads.ts';
import { presencePolicy } from '../contract/presence.ts';
import { TOPIC_PREFIX } from '../contract/topics.ts';
import type { Logger } from '../core/log.ts';
import type { Registry } from '../registry/registry.ts';
import { gauge } from '../core/metrics.ts';
import { installSharedSubscriptions, parseSharedFilter, type SharedSubscriptions } from './shared.ts';
import { loadAccess } from './access.ts';
import { accessOf, errorTopicOf, isSharedFilter, statusTopicOf, type ClientAccess, type Identity } from './acl.ts';
import { authenticator, CONNACK, type ConnectRefusal } from './auth.ts';
import { brokerConfig, type BrokerConfig } from './config.ts';
import { coalesceWrites } from '../core/coalesce.ts';
import { installDelivery, markRedeliveries } from './delivery.ts';
import { withIndexedOutgoing } from './outgoing.ts';
import { connectGuard, tokenBucket, windowCounter } from './limits.ts';
import { brokerStats, type BrokerStats } from './stats.ts';
import { openRedisCluster } from './cluster.ts';
import { describeTarget } from '../core/sql.ts';

export type BrokerOptions = z.input<typeof brokerConfig> & {
  /** Base directory of the default level persistence path (the `dataDir` setting). */
  dataDir?: string;
};

export interface BrokerDeps {
  log: Logger;
  metrics: MetricsRegistry;
  registry: Registry;
  /**
   * An aedes persistence instance that replaces the configured one, e.g. aedes-persistence-redis shared
   * by several broker nodes (docs/broker.md, Clustering). The caller owns and closes it.
   */
  persistence?: unknown;
  /** An mqemitter replacing the in-process one, e.g. mqemitter-redis for a cluster. The caller owns it. */
  mq?: unknown;
}

export interface Broker {
  /** TCP port actually bound (useful with port 0). */
  port: number;
  wsPort?: number;
  tlsPort?: number;
  /** mqtt://host:port of the TCP listener, with 127.0.0.1 for a wildcard bind address. */
  url: string;
  wsUrl?: string;
  tlsUrl?: string;
  aedes: Aedes;
  stats(): BrokerStats;
  /** Shared subscription groups ($share/<group>/<filter>) with their members. */
  shared: SharedSubscriptions;
  close(): Promise<void>;
}

/** Where refused publishes are sent instead of their topic: no subscriber ever receives it (see authorizeForward). */
const DROPPED_TOPIC = '$SYS/hazwatch/dropped';
/** Room for the fixed header, topic and packet id on top of the payload limit. */
const PACKET_OVERHEAD_BYTES = 1024;
const RATE_ABUSE_WINDOW_MS = 10_000;
const TCP_KEEPALIVE_MS = 60_000;
/** One error message per code and connection per second at most: the error topic must not become a flood itself. */
const NOTIFY_INTERVAL_MS = 1000;

interface Connection {
  address?: string;
  identity?: Identity;
  /** The version of the password this session was opened with: a device's or gateway's rotation closes it. */
  secretVersion?: string;
  /** What it may publish and subscribe to: the access rules compiled for its account. */
  access?: ClientAccess;
  /** A granted subscription overlaps a deny rule: its deliveries are checked one by one. */
  checkDeliveries?: boolean;
  /** It subscribed a filter without wildcards (broker/delivery.ts: aedes' QoS downgrade applies). */
  exactFilter?: boolean;
  bucket?: ReturnType<typeof tokenBucket>;
  rateDrops?: ReturnType<typeof windowCounter>;
  notifiedAt?: Map<ErrorCode, number>;
  /** The broker keeps this device's status topic (it set no last will there). */
  brokerStatus?: boolean;
  /**
   * A gateway's status topics whose last status from this connection was `online`: MQTT gives the
   * gateway one will only, so the broker sets these offline when the gateway is lost.
   */
  gatewayOnline?: Set<string>;
  /** Why the broker closed it, for the log line and the counter. */
  closedFor?: ErrorCode;
  /** Already logged where it was refused. */
  logged?: boolean;
  /** CONNECT carried a zero-length client id (aedes has put a generated one in its place). */
  noClientId?: boolean;
  /** The last of its QoS 1 messages being published before their PUBACK. */
  publishing?: Promise<void>;
}

type ParserInternals = { _parseLength(): boolean; _emitError(err: Error): void; packet: { cmd: string; length: number } };

const noop = () => {};

type PublishAs = (packet: unknown, client: unknown, done?: (err?: Error) => void) => void;

/** Errors of mqtt-packet's parser and of aedes' packet checks (as opposed to resets and timeouts). */
const PROTOCOL_VIOLATION = /invalid|malformed|not allowed|not supported|must|cannot parse|too many levels|too short|empty topic|unknown property|maxInflightInbound|protocol/i;

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: NetServer | HttpServer | TlsServer, port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePort((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: NetServer | HttpServer | TlsServer): Promise<void> {
  return new Promise((done) => server.close(() => done()));
}

/**
 * Starts the broker; resolves once every configured listener is bound.
 * `options` is the `broker` configuration section (validated here), `deps` what the process provides.
 */
export async function startBroker(options: BrokerOptions, deps: BrokerDeps): Promise<Broker> {
  const { dataDir, ...section } = options;
  const config: BrokerConfig = brokerConfig.parse(section);
  const { registry, metrics } = deps;
  const log = deps.log.child({ component: 'broker' });
  const stats = brokerStats(metrics);
  const guard = connectGuard(config.ban);
  const auth = authenticator({ registry, allowAnonymous: config.allowAnonymous, guard });
  const accessRules = loadAccess(config.aclFile);
  const connections = new WeakMap<Client, Connection>();
  const maxPacketBytes = config.maxPayloadBytes + PACKET_OVERHEAD_BYTES;
  let closing = false;
  let parserWarned = false;
  let dedupeWarned = false;

  const cluster = !deps.mq && !deps.persistence && config.cluster.redis ? await openRedisCluster(config.cluster.redis, log) : undefined;
  const store: { instance?: unknown; close?: () => Promise<void> } = deps.persistence
    ? { instance: deps.persistence }
    : cluster
      ? { instance: cluster.persistence, close: cluster.close }
      : await openPersistence(config, dataDir);
  const sockets = new Set<Socket>();
  if (store.instance) markRedeliveries(store.instance);
  // Installed on aedes once it exists; authorizeForward runs only after that.
  let shared: SharedSubscriptions = { groups: () => [], authorized: () => undefined, forwarded: () => undefined };
  const aedes = await Aedes.createBroker({
    persistence: store.instance,
    mq: deps.mq ?? cluster?.mq,
    // MQTT 3.1 limits client ids to 23 characters; ours are `<enterprise>/<device>` (up to 129).
    maxClientsIdLength: 256,
    preConnect(client, packet, callback) {
      if (packet.protocolVersion !== 3 && packet.protocolVersion !== 4) {
        // aedes answers CONNACK 1 itself; counted here so that a fleet with the wrong setting shows up.
        stats.refused('HW_ERR_MQTT_VERSION');
        Object.assign(connectionOf(client), { closedFor: 'HW_ERR_MQTT_VERSION', logged: true });
        log.warn({ clientId: packet.clientId, protocolVersion: packet.protocolVersion, code: 'HW_ERR_MQTT_VERSION' }, 'connect refused: MQTT version not supported');
      }
      if (!packet.clientId) connectionOf(client).noClientId = true;
      callback(null, true);
    },
    authenticate(client, username, password, callback) {
      const conn = connectionOf(client);
      const refuse = (code: ConnectRefusal) => {
        stats.refused(code);
        Object.assign(conn, { closedFor: code, logged: true });
        log.warn({ clientId: client.id, username, address: conn.address, code }, `connect refused: ${ERRORS[code].message}`);
        callback(Object.assign(new Error(ERRORS[code].message), { returnCode: CONNACK[code].v3 }), null);
      };
      if (aedes.connectedClients >= config.maxConnections) return refuse('HW_ERR_CONNECTION_LIMIT');
      // [MQTT-3.1.3-8] a zero-length client id with CleanSession 0: CONNACK 2 (aedes would accept it).
      if (conn.noClientId && !client.clean) return refuse('HW_ERR_CLIENT_ID_REQUIRED');
      auth
        .authenticate({ clientId: client.id, username, password, address: conn.address })
        .then((result) => {
          if (!result.ok) return refuse(result.code);
          const identity = result.identity;
          conn.secretVersion = result.secretVersion;
          const will = (client as unknown as { _will?: PublishPacket | null })._will;
          const access = accessOf(accessRules, identity, client.id);
          if (will && !access.mayPublish(will.topic)) return refuse('HW_ERR_ACL_PUBLISH');
          const status = statusTopicOf(identity);
          conn.identity = identity;
          conn.access = access;
          // Connections of an intermittent device come and go by design (contract/presence.ts): no link status.
          conn.brokerStatus = config.statusByBroker && status !== undefined && will?.topic !== status && alwaysConnected(identity);
          if (identity.kind === 'device' || identity.kind === 'gateway') {
            const rate = identity.kind === 'device' ? config.publishRatePerSecond : config.gatewayPublishRatePerSecond;
            const burst = identity.kind === 'device' ? config.publishBurst : config.gatewayPublishBurst;
            conn.bucket = tokenBucket(rate, burst);
            conn.rateDrops = windowCounter(RATE_ABUSE_WINDOW_MS);
          }
          stats.accepted();
          callback(null, true);
        })
        .catch((err: unknown) => {
          log.error({ err, clientId: client.id }, 'authentication failed');
          callback(Object.assign(new Error('server unavailable'), { returnCode: 3 }), null);
        });
    },
    authorizePublish(client, packet, callback) {
      // A will left by a previous run of a persistent broker: checked when it was stored.
      if (!client) return callback(null);
      const conn = connectionOf(client);
      const identity = conn.identity;
      const isWill = packet === (client as unknown as { will?: unknown }).will;
      if (packet.payload && packet.payload.length > config.maxPayloadBytes) {
        conn.closedFor = 'HW_ERR_PAYLOAD_TOO_LARGE';
        stats.denied('HW_ERR_PAYLOAD_TOO_LARGE');
        return callback(new Error(`payload of ${packet.payload.length} bytes exceeds ${config.maxPayloadBytes}`));
      }
      if (!identity || !conn.access?.mayPublish(packet.topic)) return drop(client, conn, packet, 'HW_ERR_ACL_PUBLISH', callback);
      if (!isWill && conn.bucket && !conn.bucket.take()) {
        if (conn.rateDrops && conn.rateDrops.hit() > config.rateLimitDisconnectAfter) {
          conn.closedFor = 'HW_ERR_RATE_LIMIT';
          stats.denied('HW_ERR_RATE_LIMIT');
          return callback(new Error('publish rate abuse'));
        }
        return drop(client, conn, packet, 'HW_ERR_RATE_LIMIT', callback);
      }
      // Only status is retained in the contract. A retained reading would reach every future subscriber
      // again (ingest after a restart) and be stored twice at a new receive time.
      if (packet.retain && packet.topic.startsWith(`${TOPIC_PREFIX}/`) && (packet.topic.endsWith('/telemetry') || packet.topic.endsWith('/event'))) packet.retain = false;
      if (!isWill) stats.messageIn();
      if (identity.kind === 'gateway' && !isWill && packet.topic.endsWith('/status')) trackGatewayStatus(client, conn, packet);
      if (durable && packet.qos === 1 && !isWill) return publishBeforePuback(client, conn, packet, callback);
      callback(null);
    },
    authorizeSubscribe(client, sub: Subscription, callback) {
      const conn = connectionOf(client);
      // A group's members are chosen by the node they are connected to; on several nodes a message
      // would reach one member per node. Refused rather than delivered twice: partition by enterprise.
      const sharedOnCluster = cluster !== undefined && isSharedFilter(sub.topic);
      if (conn.access && !sharedOnCluster && conn.access.maySubscribe(sub.topic)) {
        if (conn.access.needsDeliveryCheck(sub.topic)) conn.checkDeliveries = true;
        if (!sub.topic.includes('+') && !sub.topic.includes('#')) conn.exactFilter = true;
        if (isSharedFilter(sub.topic)) shared.authorized(client, sub.topic);
        return callback(null, sub);
      }
      const code: ErrorCode = sharedOnCluster ? 'HW_ERR_SHARED_CLUSTER' : isSharedFilter(sub.topic) && !parseSharedFilter(sub.topic) ? 'HW_ERR_SHARED_SUBSCRIPTION' : 'HW_ERR_ACL_SUBSCRIBE';
      stats.denied(code);
      log.warn({ clientId: client.id, filter: sub.topic, code }, 'subscribe refused');
      if (due(conn, code)) notify(conn, code, sub.topic);
      // null (not an error) makes aedes answer SUBACK 0x80 for this filter and keep the connection.
      callback(null, null);
    },
    authorizeForward(client, packet: AedesPublishPacket) {
      if (packet.topic === DROPPED_TOPIC) return null;
      if (client && connections.get(client)?.checkDeliveries && !connections.get(client)!.access!.mayRead(packet.topic)) return null;
      stats.messageOut();
      shared.forwarded(client, packet);
      return packet;
    },
  });
  // A dropped packet (refused, or published already before its PUBACK) goes nowhere: not even on the bus.
  // aedes.publish(packet, client, done) names the publishing client (no-local, $SYS); its types omit that.
  const publish = aedes.publish.bind(aedes) as unknown as PublishAs;
  aedes.publish = ((packet: { topic: string }, client: unknown, done?: (err?: Error) => void) => {
    if (packet.topic !== DROPPED_TOPIC) return publish(packet, client, done);
    const callback = typeof client === 'function' ? (client as (err?: Error) => void) : done;
    callback?.();
  }) as typeof aedes.publish;
  // With sessions that outlive the process, the PUBACK of a QoS 1 message waits for its publish.
  const durable = cluster !== undefined || deps.persistence !== undefined || config.persistence === 'level';

  /**
   * MQTT 3.1.1 has no negative PUBACK: a refused publish is acknowledged as usual (so that the device
   * does not resend it forever) but goes to a topic nobody receives; the device learns why on its error topic.
   */
  /**
   * [MQTT-4.3.2-2] the PUBACK tells the sender the broker has taken the message over. aedes 1.2 writes it
   * first and publishes after (lib/handlers/publish.js), so a broker that dies in between loses a message
   * the sender was told is safe (test/faults/broker-node-kill.test.ts). With a persistence that outlives
   * the process, the message is published here, stored in every session queue and on the bus, before
   * aedes may acknowledge it; aedes' own publish after the PUBACK is then of a dropped packet. One at a time
   * per connection, so that a device's messages keep their order.
   */
  function publishBeforePuback(client: Client, conn: Connection, packet: PublishPacket, callback: (err?: Error | null) => void): void {
    const copy = { cmd: 'publish' as const, topic: packet.topic, payload: packet.payload, qos: packet.qos, retain: packet.retain, dup: false };
    conn.publishing = (conn.publishing ?? Promise.resolve()).then(
      () =>
        new Promise<void>((done) => {
          (aedes.publish as unknown as PublishAs)(copy, client, (err?: Error) => {
            if (err) callback(err);
            else {
              packet.topic = DROPPED_TOPIC;
              packet.retain = false;
              callback(null);
            }
            done();
          });
        }),
    );
  }

  function drop(client: Client, conn: Connection, packet: PublishPacket, code: ErrorCode, callback: (err?: Error | null) => void): void {
    stats.denied(code);
    if (due(conn, code)) {
      log.warn({ clientId: client.id, topic: packet.topic, code }, `publish dropped: ${ERRORS[code].message}`);
      notify(conn, code, packet.topic);
    }
    packet.topic = DROPPED_TOPIC;
    packet.retain = false;
    callback(null);
  }

  /** One log line and one error message per code and connection per second: a misbehaving device must not flood either. */
  function due(conn: Connection, code: ErrorCode): boolean {
    const now = Date.now();
    conn.notifiedAt ??= new Map();
    if (now - (conn.notifiedAt.get(code) ?? -Infinity) < NOTIFY_INTERVAL_MS) return false;
    conn.notifiedAt.set(code, now);
    return true;
  }

  function notify(conn: Connection, code: ErrorCode, topic: string): void {
    const errorTopic = conn.identity && errorTopicOf(conn.identity);
    if (!errorTopic) return;
    const payload: ErrorPayload = { code, message: ERRORS[code].message, topic, receivedAt: Date.now() };
    aedes.publish({ cmd: 'publish', topic: errorTopic, payload: Buffer.from(JSON.stringify(payload)), qos: 1, retain: false, dup: false }, noop);
  }

  /** Remembers which device statuses a gateway holds `online`; its own will topic is left to the will. */
  function trackGatewayStatus(client: Client, conn: Connection, packet: PublishPacket): void {
    const will = (client as unknown as { will?: PublishPacket | null }).will;
    if (will?.topic === packet.topic) return;
    let state: unknown;
    try {
      state = StatusPayload.safeParse(JSON.parse(packet.payload.toString())).data?.state;
    } catch {
      // Not JSON: ingest rejects it with a reason; it says nothing about the device's state.
      return;
    }
    if (state === 'online') (conn.gatewayOnline ??= new Set()).add(packet.topic);
    else if (state === 'offline') conn.gatewayOnline?.delete(packet.topic);
  }

  /** A gateway gone without DISCONNECT: the devices it reported online are offline for the platform. */
  function gatewayLost(client: Client, conn: Connection): Promise<void> {
    const topics = conn.gatewayOnline;
    if (!topics?.size) return Promise.resolve();
    conn.gatewayOnline = undefined;
    log.info({ clientId: client.id, devices: topics.size }, 'gateway lost: its devices set offline');
    return Promise.all([...topics].map((topic) => publishStatusOn(topic, 'offline'))).then(noop);
  }

  function alwaysConnected(identity: Identity): boolean {
    if (identity.kind !== 'device') return true;
    const device = registry.device(identity.enterprise, identity.device);
    return !device || presencePolicy(device).mode === 'always';
  }

  function publishStatus(identity: Identity, state: StatusPayload['state']): Promise<void> {
    const topic = statusTopicOf(identity);
    return topic ? publishStatusOn(topic, state) : Promise.resolve();
  }

  function publishStatusOn(topic: string, state: StatusPayload['state']): Promise<void> {
    const payload: StatusPayload = { state, ts: Date.now() };
    return new Promise((done) =>
      aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(payload)), qos: 1, retain: true, dup: false }, (err) => {
        if (err) log.error({ err, topic }, 'status publish failed');
        done();
      }),
    );
  }

  function connectionOf(client: Client): Connection {
    let conn = connections.get(client);
    if (!conn) {
      conn = {};
      connections.set(client, conn);
    }
    return conn;
  }

  /** Every new connection, whatever the listener: size guard, address for the ban guard, byte counters. */
  function accept(stream: Duplex, socket: Socket | TLSSocket, req?: IncomingMessage): void {
    socket.setNoDelay(true);
    // MQTT over TCP or TLS writes to the socket itself; WebSocket frames are left as ws writes them.
    if (stream === socket) coalesceWrites(socket);
    // A client may set MQTT keepalive 0; TCP keepalive still finds a peer that vanished (its will fires).
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    stats.track(socket);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const client = aedes.handle(stream, req);
    const conn: Connection = { address: socket.remoteAddress };
    connections.set(client, conn);
    if (!installDelivery(client, { hasExactFilter: () => conn.exactFilter === true }) && !dedupeWarned) {
      // aedes changed its internals: its own dedupe may drop messages overtaken by faster ones
      // (broker/delivery.ts); broker/test/persistence.test.ts fails in this case.
      log.error('aedes client internals changed: messages delivered out of order may be dropped');
      dedupeWarned = true;
    }
    limitPacketSize(client);
  }

  /**
   * Refuses a packet by its announced length, before aedes buffers it: a 256 MB PUBLISH (or CONNECT)
   * closes that connection after its first bytes. mqtt-packet has no such limit for MQTT 3.1.1.
   */
  function limitPacketSize(client: Client): void {
    const parser = (client as unknown as { _parser?: ParserInternals })._parser;
    if (typeof parser?._parseLength !== 'function' || typeof parser._emitError !== 'function') {
      // mqtt-packet changed its internals: the payload check in authorizePublish still applies, but only
      // after the packet has been buffered. broker/test/limits.test.ts fails in this case.
      if (!parserWarned) log.error('mqtt-packet parser internals changed: oversize packets are buffered before they are refused');
      parserWarned = true;
      return;
    }
    const parseLength = parser._parseLength;
    parser._parseLength = function (this: ParserInternals) {
      const ok = parseLength.call(this);
      if (ok && this.packet.length > maxPacketBytes) {
        connectionOf(client).closedFor = 'HW_ERR_PAYLOAD_TOO_LARGE';
        stats.denied('HW_ERR_PAYLOAD_TOO_LARGE');
        this._emitError(new Error(`${this.packet.cmd} packet of ${this.packet.length} bytes exceeds ${maxPacketBytes}`));
        return false;
      }
      return ok;
    };
  }

  const sharedMembers = gauge(metrics, 'hazwatch_broker_shared_members', 'Members of each shared subscription ($share/<group>/<filter>): connected, or away (persistent sessions the group queues for)', ['subscription', 'state']);
  shared = installSharedSubscriptions(aedes, () => {
    sharedMembers.reset();
    for (const g of shared.groups()) {
      sharedMembers.set({ subscription: g.topic, state: 'connected' }, g.members);
      sharedMembers.set({ subscription: g.topic, state: 'away' }, g.away);
    }
  });
  aedes.on('client', () => stats.connected(1));
  aedes.on('clientReady', (client) => {
    const conn = connectionOf(client);
    if (conn.brokerStatus && conn.identity && !closing) void publishStatus(conn.identity, 'online');
  });
  aedes.on('clientDisconnect', (client) => {
    stats.connected(-1);
    const conn = connectionOf(client);
    if (conn.brokerStatus && conn.identity && !closing) void publishStatus(conn.identity, 'offline');
    // A clean DISCONNECT means the gateway said what it had to say (its publisher sends offline itself).
    const disconnected = (client as unknown as { _disconnected?: boolean })._disconnected === true;
    if (!disconnected && !closing) void gatewayLost(client, conn);
  });
  const onClientError = (client: Client, err: Error) => {
    const conn = connectionOf(client);
    if (conn.closedFor) {
      if (conn.logged) return;
      log.warn({ clientId: client.id, address: conn.address, code: conn.closedFor, reason: err.message }, 'connection closed by the broker');
      return;
    }
    // Malformed packets and protocol violations close only this connection; so do resets and timeouts,
    // which are no fault of the packet and are not counted.
    const malformed = PROTOCOL_VIOLATION.test(err.message);
    if (malformed) stats.denied('HW_ERR_MALFORMED_PACKET');
    log.info({ clientId: client.id, address: conn.address, err: err.message, ...(malformed ? { code: 'HW_ERR_MALFORMED_PACKET' } : {}) }, 'connection closed');
  };
  aedes.on('clientError', onClientError);
  aedes.on('connectionError', onClientError);
  (aedes as EventEmitter).on('error', (err: Error) => log.error({ err }, 'broker error'));

  // Revocations take effect on connected sessions too, not only at the next CONNECT; so does a new
  // password of a device or gateway (rotated because the old one leaked: the session holding it ends).
  // Services are left alone: a service process sets its own secret at start, beside running peers.
  const stopWatching = registry.onChange(() => {
    const clients = Object.values((aedes as unknown as { clients: Record<string, Client> }).clients);
    // One query for many sessions; one lookup each for a few.
    const all = clients.length > 100 ? new Map(registry.accounts().map((a) => [a.username, a])) : undefined;
    for (const client of clients) {
      const conn = connections.get(client);
      const identity = conn?.identity;
      if (!identity || identity.kind === 'anonymous') continue;
      const account = all ? all.get(identity.username) : registry.account(identity.username);
      let code: 'HW_ERR_AUTH_REVOKED' | 'HW_ERR_AUTH_ROTATED' | undefined;
      if (!account || account.revokedAt !== null) code = 'HW_ERR_AUTH_REVOKED';
      else if (identity.kind !== 'service' && conn.secretVersion !== undefined && account.secretVersion !== conn.secretVersion) code = 'HW_ERR_AUTH_ROTATED';
      if (!code) continue;
      connectionOf(client).closedFor = code;
      stats.denied(code);
      log.warn({ clientId: client.id, username: identity.username, code }, `session closed: ${ERRORS[code].message}`);
      client.close();
    }
  });
  const timer = setInterval(() => {
    registry.pollChanges().catch((err) => log.error({ err }, 'registry check failed'));
    guard.sweep();
    stats.sample();
  }, config.revocationCheckMs);
  timer.unref();

  // Listeners
  const servers: (NetServer | HttpServer | TlsServer)[] = [];
  const tcp = createNetServer({ noDelay: true }, (socket) => accept(socket, socket));
  // Beyond the limit, sockets are refused before any byte is read; the slack lets CONNACK 3 reach some.
  tcp.maxConnections = config.maxConnections + 1000;
  const host = hostForUrl(config.host);
  const broker: Broker = {
    port: 0,
    url: '',
    aedes,
    stats: () => stats.snapshot({ bannedKeys: guard.bannedCount(), authCacheHits: auth.stats().cacheHits }),
    shared,
    close,
  };

  try {
    broker.port = await listen(tcp, config.port, config.host);
    broker.url = `mqtt://${host}:${broker.port}`;
    servers.push(tcp);
    if (config.wsPort !== false) {
      const http = createHttpServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect with a WebSocket client (subprotocol mqtt)\n');
      });
      const wss = new WebSocketServer({ server: http, maxPayload: maxPacketBytes + PACKET_OVERHEAD_BYTES, perMessageDeflate: false });
      wss.on('connection', (ws, req) => accept(createWebSocketStream(ws), req.socket, req));
      http.on('close', () => wss.close());
      broker.wsPort = await listen(http, config.wsPort, config.host);
      broker.wsUrl = `ws://${host}:${broker.wsPort}`;
      servers.push(http);
    }
    if (config.tlsPort !== false && config.tls.cert && config.tls.key) {
      const tls = createTlsServer({
        cert: readFileSync(config.tls.cert),
        key: readFileSync(config.tls.key),
        ...(config.tls.ca ? { ca: readFileSync(config.tls.ca), requestCert: true, rejectUnauthorized: true } : {}),
      });
      tls.on('secureConnection', (socket) => accept(socket, socket));
      tls.on('tlsClientError', (err) => log.info({ err: err.message }, 'TLS handshake failed'));
      tls.maxConnections = config.maxConnections + 1000;
      broker.tlsPort = await listen(tls, config.tlsPort, config.host);
      broker.tlsUrl = `mqtts://${host}:${broker.tlsPort}`;
      servers.push(tls);
    }
  } catch (err) {
    await close();
    throw err;
  }

  log.info(
    { tcp: broker.url, ws: broker.wsUrl, tls: broker.tlsUrl, persistence: deps.persistence ? 'external' : cluster ? `redis ${describeTarget(config.cluster.redis!)}` : config.persistence, allowAnonymous: config.allowAnonymous },
    'broker listening',
  );
  if (config.allowAnonymous) log.warn('anonymous clients are allowed (broker.allowAnonymous): every client without user name may read and publish any topic, device topics included');

  async function close(): Promise<void> {
    if (closing) return;
    closing = true;
    clearInterval(timer);
    stopWatching();
    for (const server of servers) server.close();
    // A broker going down takes its devices offline: say so while the persistence is still open.
    const clients = Object.values((aedes as unknown as { clients: Record<string, Client> }).clients);
    await Promise.all(
      clients.map((client) => {
        const conn = connections.get(client);
        if (!conn) return undefined;
        return Promise.all([conn.brokerStatus && conn.identity ? publishStatus(conn.identity, 'offline') : undefined, gatewayLost(client, conn)]);
      }),
    );
    await new Promise<void>((done) => aedes.close(() => done()));
    // Sockets that never sent CONNECT are not aedes clients; without this, close() would wait for them.
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map(closeServer));
    if (store.close) await store.close();
    auth.close();
    log.info('broker stopped');
  }

  return broker;
}

/** The configured session store: aedes' in-memory one, or LevelDB on disk that survives a restart. */
async function openPersistence(config: BrokerConfig, dataDir: string | undefined): Promise<{ instance?: unknown; close?: () => Promise<void> }> {
  if (config.persistence === 'memory') {
    const { default: MemoryPersistence } = await import('aedes-persistence/asyncPersistence.js');
    return { instance: withIndexedOutgoing(new MemoryPersistence()) };
  }
  const path = resolve(config.persistencePath ?? join(dataDir ?? './data', 'broker-sessions'));
  const { Level } = await import('level');
  // The package's main export wraps the store in a callback API that aedes 1.x no longer calls.
  const { default: LevelPersistence } = await import('aedes-persistence-level/asyncPersistence.js');
  const db = new Level(path);
  await db.open();
  const instance = new LevelPersistence(db);
  return { instance, close: () => instance.destroy() };
}
