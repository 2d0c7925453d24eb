// Sending one rendered message to the upper platform, over MQTT or HTTP(S), and saying what came of
// it: taken, to be tried again (outage, timeout, 5xx, 429, 401/403/404), or refused for good (another
// 4xx, or an answer that says not taken), so that one bad message never blocks the device behind it.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../core/log.ts';
import type { HttpsTransportSpec, MqttTransportSpec, TransportSpec } from './map.ts';

export type SendResult = { ok: true } | { ok: false; retry: boolean; reason: string; error: string };

export interface Sender {
  /** Where it sends, without credentials. */
  target: string;
  /** MQTT: connected now; HTTPS: the last request was answered 2xx (null before the first). */
  connected(): boolean | null;
  send(target: string, body: string): Promise<SendResult>;
  close(): Promise<void>;
}

function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

export function createSender(spec: TransportSpec, log: Logger, onConnectionChange: (connected: boolean, error?: string) => void): Sender {
  return spec.kind === 'mqtt' ? mqttSender(spec, log, onConnectionChange) : httpSender(spec, onConnectionChange);
}

/**
 * MQTT: its own connection management (mqtt.js reconnection off), so that a publish in flight when the
 * connection drops fails here and is retried from the spool, rather than being kept and re-sent by
 * mqtt.js as well. A new client per connection, reconnecting every `reconnectMs`.
 */
function mqttSender(spec: MqttTransportSpec, log: Logger, onConnectionChange: (connected: boolean, error?: string) => void, reconnectMs = 1000): Sender {
  const ca = spec.ca ? readFileSync(spec.ca) : undefined;
  let client: MqttClient | undefined;
  let connected = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let lastError: string | undefined;

  function connect(): void {
    if (closed) return;
    const c = mqtt.connect(spec.url, {
      clientId: spec.clientId,
      username: spec.username,
      password: spec.password,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: spec.timeoutMs,
      ...(ca ? { ca } : {}),
    });
    client = c;
    c.on('connect', () => {
      if (client !== c) return;
      connected = true;
      lastError = undefined;
      onConnectionChange(true);
    });
    c.on('error', (err) => {
      lastError = err.message;
    });
    c.on('close', () => {
      if (client !== c) return;
      const was = connected;
      connected = false;
      if (was || lastError) onConnectionChange(false, lastError ?? 'connection closed');
      client = undefined;
      // Fails the publishes still in flight on this connection: they are retried from the spool.
      c.end(true);
      if (!closed) timer = setTimeout(connect, reconnectMs);
    });
  }
  connect();
  log.debug({ url: withoutCredentials(spec.url) }, 'connecting to the upper platform');

  return {
    target: withoutCredentials(spec.url),
    connected: () => connected,
    async send(topic, body) {
      const c = client;
      if (!c || !connected) return { ok: false, retry: true, reason: 'not_connected', error: `not connected to ${withoutCredentials(spec.url)}${lastError ? `: ${lastError}` : ''}` };
      if (!topic || /[+#]/.test(topic) || topic.includes('\u0000')) return { ok: false, retry: false, reason: 'bad_topic', error: `"${topic}" is not a topic to publish on` };
      let t: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          c.publishAsync(topic, body, { qos: spec.qos }),
          new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`no PUBACK within ${spec.timeoutMs} ms`)), spec.timeoutMs))),
        ]);
        return { ok: true };
      } catch (err) {
        const message = (err as Error).message;
        // A broker that does not answer: start over on a new connection.
        if (/PUBACK/.test(message)) c.stream?.destroy();
        return { ok: false, retry: true, reason: /PUBACK/.test(message) ? 'timeout' : 'network', error: message };
      } finally {
        clearTimeout(t);
      }
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      if (c) await c.endAsync(!connected).catch(() => undefined);
    },
  };
}

/** HTTP(S): one request per message, JSON body; the answer decides. */
function httpSender(spec: HttpsTransportSpec, onConnectionChange: (connected: boolean, error?: string) => void): Sender {
  const ca = spec.ca ? readFileSync(spec.ca) : undefined;
  const base = spec.url.replace(/\/+$/, '');
  let connected: boolean | null = null;
  const setConnected = (v: boolean, error?: string) => {
    if (v !== connected) onConnectionChange(v, error);
    connected = v;
  };

  function post(url: URL, body: string): Promise<{ status: number; text: string; retryAfter?: string }> {
    return new Promise((resolve, reject) => {
      const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(
        url,
        {
          method: spec.method,
          headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...spec.headers },
          timeout: spec.timeoutMs,
          ...(ca ? { ca } : {}),
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            if (text.length < 4096) text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text, retryAfter: res.headers['retry-after'] }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${spec.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  return {
    target: withoutCredentials(base),
    connected: () => connected,
    async send(path, body) {
      let url: URL;
      try {
        url = new URL(`${base}/${path.replace(/^\/+/, '')}`);
      } catch {
        return { ok: false, retry: false, reason: 'bad_path', error: `"${path}" does not make a URL with ${base}` };
      }
      let res: { status: number; text: string };
      try {
        res = await post(url, body);
      } catch (err) {
        const error = `${url.pathname}: ${(err as Error).message}`;
        setConnected(false, error);
        return { ok: false, retry: true, reason: /no answer/.test(error) ? 'timeout' : 'network', error };
      }
      const answer = `${url.pathname}: HTTP ${res.status}${res.text ? `: ${res.text.slice(0, 300)}` : ''}`;
      if (res.status >= 200 && res.status < 300) {
        setConnected(true);
        if (spec.accept) {
          let said: unknown;
          try {
            said = (JSON.parse(res.text) as Record<string, unknown>)?.[spec.accept.field];
          } catch {
            said = undefined;
          }
          if (!spec.accept.values.some((v) => v === said || String(v) === String(said))) return { ok: false, retry: false, reason: 'not_accepted', error: `${answer} (${spec.accept.field} is not one of ${JSON.stringify(spec.accept.values)})` };
        }
        return { ok: true };
      }
      // 5xx, 408, 429: the platform is down or busy. 401/403/404: a configuration fault, fixed by a
      // person without the data being lost meanwhile. Other 4xx: this message will never be taken.
      const retry = res.status >= 500 || [401, 403, 404, 408, 429].includes(res.status);
      setConnected(res.status < 500 && res.status !== 408 && res.status !== 429, answer);
      return { ok: false, retry, reason: res.status >= 500 ? 'http_5xx' : 'http_4xx', error: answer };
    },
    async close() {},
  };
}
