// A TCP relay between the gateway and the broker, to cut the gateway's network for a while (a 4G
// link dropping) while the broker and ingest stay up. This is fault injection, not a fake broker:
// every byte goes to and from the real broker.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Relay {
  port: number;
  url: string;
  /** Drops every connection and refuses new ones, as an unreachable network does. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startRelay(target: { host: string; port: number }, port = 0): Promise<Relay> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let boundPort = port;
  const listen = async () => {
    server = createServer((client) => {
      const upstream = connect(target);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server!.listen(boundPort, '127.0.0.1', resolve));
    boundPort = (server!.address() as { port: number }).port;
  };
  const cut = async () => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return {
    get port() {
      return boundPort;
    },
    get url() {
      return `mqtt://127.0.0.1:${boundPort}`;
    },
    cut,
    restore: listen,
    close: cut,
  };
}
