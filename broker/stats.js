import { counter, gauge } from '../core/metrics.ts';
export function brokerStats(metrics) {
    const m = {
        clients: gauge(metrics, 'hazwatch_broker_clients_connected', 'MQTT clients connected (authenticated sessions)'),
        connections: counter(metrics, 'hazwatch_broker_connections_total', 'CONNECTs by outcome (accepted, or the refusal code)', ['result']),
        messagesIn: counter(metrics, 'hazwatch_broker_messages_received_total', 'PUBLISH packets received from clients and accepted'),
        messagesOut: counter(metrics, 'hazwatch_broker_messages_sent_total', 'PUBLISH packets delivered to subscribers'),
        bytesIn: counter(metrics, 'hazwatch_broker_bytes_received_total', 'Bytes read from client connections'),
        bytesOut: counter(metrics, 'hazwatch_broker_bytes_sent_total', 'Bytes written to client connections'),
        denied: counter(metrics, 'hazwatch_broker_denied_total', 'Refused publishes, subscriptions, connections and closed connections, by code', ['code']),
    };
    const s = { clientsConnected: 0, connectionsAccepted: 0, connectionsRefused: {}, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, denied: {}, bannedKeys: 0, authCacheHits: 0 };
    const live = new Set();
    let closedIn = 0;
    let closedOut = 0;
    let reportedIn = 0;
    let reportedOut = 0;
    return {
        connected(delta) {
            s.clientsConnected += delta;
            m.clients.set(s.clientsConnected);
        },
        accepted() {
            s.connectionsAccepted++;
            m.connections.inc({ result: 'accepted' });
        },
        refused(code) {
            s.connectionsRefused[code] = (s.connectionsRefused[code] ?? 0) + 1;
            m.connections.inc({ result: code });
            this.denied(code);
        },
        denied(code) {
            s.denied[code] = (s.denied[code] ?? 0) + 1;
            m.denied.inc({ code });
        },
        messageIn() {
            s.messagesIn++;
            m.messagesIn.inc();
        },
        messageOut() {
            s.messagesOut++;
            m.messagesOut.inc();
        },
        track(socket) {
            live.add(socket);
            socket.once('close', () => {
                live.delete(socket);
                closedIn += socket.bytesRead;
                closedOut += socket.bytesWritten;
            });
        },
        /** Brings the byte counters up to date; called every second and by snapshot(). */
        sample() {
            let bytesIn = closedIn;
            let bytesOut = closedOut;
            for (const socket of live) {
                bytesIn += socket.bytesRead;
                bytesOut += socket.bytesWritten;
            }
            s.bytesIn = bytesIn;
            s.bytesOut = bytesOut;
            if (bytesIn > reportedIn)
                m.bytesIn.inc(bytesIn - reportedIn);
            if (bytesOut > reportedOut)
                m.bytesOut.inc(bytesOut - reportedOut);
            reportedIn = bytesIn;
            reportedOut = bytesOut;
        },
        snapshot(extra) {
            this.sample();
            return structuredClone({ ...s, ...extra });
        },
    };
}
