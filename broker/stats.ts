// Broker statistics: plain counters for `stats()` (tests, `hazwatch start`) mirrored on the process's
// Prometheus registry. Byte counts are sampled from the sockets, so the hot path adds nothing for them.
import type { Registry as MetricsRegistry } from 'prom-client';
import { counter, gauge } from '../core/metrics.ts';

export interface BrokerStats {
  clientsConnected: number;
  connectionsAccepted: number;
  connectionsRefused: Record<string, number>;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Refused publishes, subscriptions and connections, by error code. */
  denied: Record<string, number>;
  bannedKeys: number;
  authCacheHits: number;
}

/** What the byte counters read: a TCP socket (or the socket under a WebSocket). */
export interface ByteSource {
  bytesRead: number;
  bytesWritten: number;
}

export function brokerStats(metrics: MetricsRegistry) {
  const m = {
    clients: gauge(metrics, 'hazwatch_broker_clients_connected', 'MQTT clients connected (authenticated sessions)'),
    connections: counter(metrics, 'hazwatch_broker_connections_total', 'CONNECTs by outcome (accepted, or the refusal code)', ['result']),
    messagesIn: counter(metrics, 'hazwatch_broker_messages_received_total', 'PUBLISH packets received from clients and accepted'),
    messagesOut: counter(metrics, 'hazwatch_broker_messages_sent_total', 'PUBLISH packets delivered to subscribers'),
    bytesIn: counter(metrics, 'hazwatch_broker_bytes_received_total', 'Bytes read from client connections'),
    bytesOut: counter(metrics, 'hazwatch_broker_bytes_sent_total', 'Bytes written to client connections'),
    denied: counter(metrics, 'hazwatch_broker_denied_total', 'Refused publishes, subscriptions, connections and closed connections, by code', ['code']),
  };
  const s: BrokerStats = { clientsConnected: 0, connectionsAccepted: 0, connectionsRefused: {}, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, denied: {}, bannedKeys: 0, authCacheHits: 0 };
  const live = new Set<ByteSource>();
  let closedIn = 0;
  let closedOut = 0;
  let reportedIn = 0;
  let reportedOut = 0;

  return {
    connected(delta: 1 | -1): void {
      s.clientsConnected += delta;
      m.clients.set(s.clientsConnected);
    },
    accepted(): void {
      s.connectionsAccepted++;
      m.connections.inc({ result: 'accepted' });
    },
    refused(code: string): void {
      s.connectionsRefused[code] = (s.connectionsRefused[code] ?? 0) + 1;
      m.connections.inc({ result: code });
      this.denied(code);
    },
    denied(code: string): void {
      s.denied[code] = (s.denied[code] ?? 0) + 1;
      m.denied.inc({ code });
    },
    messageIn(): void {
      s.messagesIn++;
      m.messagesIn.inc();
    },
    messageOut(): void {
      s.messagesOut++;
      m.messagesOut.inc();
    },
    track(socket: ByteSource & { once(event: 'close', listener: () => void): unknown }): void {
      live.add(socket);
      socket.once('close', () => {
        live.delete(socket);
        closedIn += socket.bytesRead;
        closedOut += socket.bytesWritten;
      });
    },
    /** Brings the byte counters up to date; called every second and by snapshot(). */
    sample(): void {
      let bytesIn = closedIn;
      let bytesOut = closedOut;
      for (const socket of live) {
        bytesIn += socket.bytesRead;
        bytesOut += socket.bytesWritten;
      }
      s.bytesIn = bytesIn;
      s.bytesOut = bytesOut;
      if (bytesIn > reportedIn) m.bytesIn.inc(bytesIn - reportedIn);
      if (bytesOut > reportedOut) m.bytesOut.inc(bytesOut - reportedOut);
      reportedIn = bytesIn;
      reportedOut = bytesOut;
    },
    snapshot(extra: { bannedKeys: number; authCacheHits: number }): BrokerStats {
      this.sample();
      return structuredClone({ ...s, ...extra });
    },
  };
}
