// Small helpers for the broker's tests: real MQTT clients (mqtt.js) and raw sockets for bad packets.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { connect as netConnect, type Socket } from 'node:net';

export { collect, connectCollecting, type Received } from '../../test/support/mqtt.ts';

/** Connects or rejects with the CONNACK return code as `code`. */
export function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
}

/** The CONNACK return code the broker answers (0 = accepted); the connection is closed again. */
export async function connackCode(url: string, options: IClientOptions): Promise<number> {
  try {
    const client = await connect(url, options);
    await client.endAsync();
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    throw err;
  }
}

/** Granted QoS per filter (128 = refused); mqtt.js rejects a SUBACK containing 128, so the packet is read from the error. */
export async function subscribe(client: MqttClient, filter: string | string[], qos: 0 | 1 = 1): Promise<number[]> {
  try {
    const granted = await client.subscribeAsync(filter, { qos });
    return granted.map((g) => g.qos);
  } catch (err) {
    const packet = (err as { packet?: { granted?: number[] } }).packet;
    if (packet?.granted) return packet.granted;
    throw err;
  }
}

/** Resolves when the client's connection has closed. */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) return resolve();
    client.once('close', () => resolve());
  });
}

/** Drops the TCP connection without DISCONNECT, as a device losing power or network would. */
export function dropConnection(client: MqttClient): void {
  (client as unknown as { stream: Socket }).stream.destroy();
}

function mqttString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

export function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    bytes.push(digit);
  } while (n > 0);
  return Buffer.from(bytes);
}

/** An MQTT 3.1.1 CONNECT with clean session, user name and password, written by hand. */
export function connectPacket(clientId: string, username: string, password: string): Buffer {
  const body = Buffer.concat([mqttString('MQTT'), Buffer.from([4, 0xc2, 0, 60]), mqttString(clientId), mqttString(username), mqttString(password)]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** A raw TCP connection that has sent CONNECT and received CONNACK; `closed` resolves when the broker closes it. */
export async function rawSession(port: number, clientId: string, username: string, password: string): Promise<{ socket: Socket; connack: Buffer; closed: Promise<void> }> {
  const socket = netConnect(port, '127.0.0.1');
  const closedP = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(connectPacket(clientId, username, password));
  const connack = await new Promise<Buffer>((resolve, reject) => {
    socket.once('data', resolve);
    socket.once('close', () => reject(new Error('closed before CONNACK')));
  });
  return { socket, connack, closed: closedP };
}
