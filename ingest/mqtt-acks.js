const DEFERRED = new Error('PUBACK deferred until the message is in the spool');
/** `ack()` returns true when the PUBACK went out on the connection the message came on. */
export function deferAcks(client, onPublish) {
    const send = client._sendPacket;
    // Fails at start, not silently under load, should a future mqtt.js rename its writer.
    if (typeof send !== 'function')
        throw new Error('this mqtt.js has no _sendPacket: deferred acknowledgement is not possible');
    client.handleMessage = (packet, done) => {
        if (packet.qos !== 1 || packet.messageId === undefined) {
            onPublish(packet, () => true);
            done();
            return;
        }
        const stream = client.stream;
        const messageId = packet.messageId;
        let acked = false;
        onPublish(packet, () => {
            if (acked)
                return false;
            acked = true;
            if (client.stream !== stream || !client.connected)
                return false;
            send.call(client, { cmd: 'puback', messageId });
            return true;
        });
        done(DEFERRED);
    };
}
