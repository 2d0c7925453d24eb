import { createServer } from 'node:net';
import { startTestBroker } from '/work/main/test/support/broker.ts';
const s = createServer(); await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
const port = (s.address() as any).port;
const t0 = Date.now();
await startTestBroker({ broker: { port } }).then(() => console.log('unexpected'), (e) => console.log('refused:', e.code));
s.close();
console.log('exits cleanly?', Date.now() - t0 < 5000);
