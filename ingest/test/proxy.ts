// A TCP relay between ingest and the broker that can lose what ingest sends (its PUBACKs) and then
// drop the connection: a network fault no real broker produces on demand.
import { createServer, connect, type Socket } from 'node:net';

export async function startRelay(targetPort: number): Promise<{ url: string; loseUpstream(): void; cut(): void; close(): Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>();
  let lose = false;
  const server = createServer((down) => {
    const up = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [down, up];
    pairs.add(pair);
    down.on('data', (d) => {
      if (!lose) up.write(d);
    });
    up.on('data', (d) => down.write(d));
    const end = () => {
      down.destroy();
      up.destroy();
      pairs.delete(pair);
    };
    down.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    loseUpstream() {
      lose = true;
    },
    cut() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
      lose = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
