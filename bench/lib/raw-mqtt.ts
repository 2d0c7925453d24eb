// A lean MQTT 3.1.1 client for load generation: packets built with mqtt-packet (the codec mqtt.js
// itself uses) and written to a plain socket, QoS1 acknowledgements counted, nothing else. mqtt.js
// keeps a store, timers and promises per message, which would make the load generator the bottleneck
// at 20,000 messages/s on a 2-core machine; this keeps the generator's share of the CPU small.
import { connect as tcpConnect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

export interface RawOptions {
  host: string;
  port: number;
  clientId: string;
  username?: string;
  password?: string;
  keepalive?: number;
  clean?: boolean;
  localAddress?: string;
}

export interface RawClient {
  socket: Socket;
  /** QoS1 publishes written and not yet acknowledged. */
  inflight(): number;
  acked(): number;
  publish(topic: string, payload: string | Buffer, qos?: 0 | 1): void;
  subscribe(filter: string, qos?: 0 | 1): Promise<number[]>;
  onMessage?: (topic: string, payload: Buffer) => void;
  onAck?: () => void;
  close(): void;
  closed: Promise<void>;
}

/** Connects and resolves on CONNACK 0; rejects with the CONNACK return code otherwise. */
export function rawConnect(opts: RawOptions): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: opts.host, port: opts.port, localAddress: opts.localAddress });
    socket.setNoDelay(true);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let nextId = 1;
    let inflight = 0;
    let acked = 0;
    let pending: ((granted: number[]) => void) | undefined;
    let ping: NodeJS.Timeout | undefined;
    let connected = false;
    let closedResolve!: () => void;
    const closed = new Promise<void>((r) => (closedResolve = r));
    const client: RawClient = {
      socket,
      inflight: () => inflight,
      acked: () => acked,
      publish(topic, payload, qos = 1) {
        const messageId = qos ? nextId : undefined;
        if (qos) {
          nextId = nextId === 65535 ? 1 : nextId + 1;
          inflight++;
        }
        socket.write(mqttPacket.generate({ cmd: 'publish', topic, payload, qos, messageId, retain: false, dup: false }));
      },
      subscribe(filter, qos = 1) {
        return new Promise((res) => {
          pending = res;
          socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 65535, subscriptions: [{ topic: filter, qos }] }));
        });
      },
      close() {
        clearInterval(ping);
        if (!socket.destroyed) socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
      },
      closed,
    };
    parser.on('packet', (p) => {
      switch (p.cmd) {
        case 'connack':
          if (p.returnCode === 0) {
            connected = true;
            const ka = opts.keepalive ?? 60;
            if (ka > 0) ping = setInterval(() => socket.write(mqttPacket.generate({ cmd: 'pingreq' })), (ka * 1000) / 2).unref();
            resolve(client);
          } else {
            socket.destroy();
            reject(new Error(`CONNACK ${p.returnCode}`));
          }
          break;
        case 'puback':
          inflight--;
          acked++;
          client.onAck?.();
          break;
        case 'suback':
          pending?.((p as { granted: number[] }).granted);
          pending = undefined;
          break;
        case 'publish':
          if (p.qos === 1) socket.write(mqttPacket.generate({ cmd: 'puback', messageId: p.messageId }));
          client.onMessage?.(p.topic, p.payload as Buffer);
          break;
      }
    });
    parser.on('error', (err) => socket.destroy(err));
    socket.on('data', (d) => parser.parse(d));
    socket.on('error', (err) => {
      if (!connected) reject(err);
    });
    socket.on('close', () => {
      clearInterval(ping);
      if (!connected) reject(new Error('connection closed before CONNACK'));
      closedResolve();
    });
    socket.on('connect', () => {
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: opts.clientId,
          clean: opts.clean ?? true,
          keepalive: opts.keepalive ?? 60,
          username: opts.username,
          password: opts.password === undefined ? undefined : Buffer.from(opts.password),
        }),
      );
    });
  });
}
