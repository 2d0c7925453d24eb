// The outbox and its sender across a receiver's outage and a restart of the sending process: what was
// queued is sent once the receiver is back, by the process that runs then; nothing is lost and, the
// receiver having answered, nothing is sent twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../log.ts';
import { createMetricsRegistry } from '../../metrics.ts';
import { freePort, waitFor } from '../../../test/support/net.ts';
import { startHttpSink } from '../../../test/support/http-sink.ts';
import { dispatchConfig } from '../config.ts';
import { createDispatcher } from '../dispatcher.ts';
import { openOutbox, type DeliveryInput } from '../store.ts';

const dir = mkdtempSync(join(tmpdir(), 'hw-dispatch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const row = (recipient: string, channel = 'hook'): DeliveryInput => ({ source: 'warning', sourceId: 'W1', revision: 1, recipient, recipientName: recipient, channel, address: '', subject: 's', body: `to ${recipient}`, level: 1, mentions: [] });

describe('dispatch outbox', () => {
  it('keeps what is queued through a receiver outage and a restart, then sends each once', async () => {
    const port = await freePort();
    const config = dispatchConfig.parse({ channels: [{ name: 'hook', type: 'webhook', url: `http://127.0.0.1:${port}/in` }], pollMs: 20, retry: { initialMs: 20, maxMs: 100, maxAttempts: 1000 } });
    const target = join(dir, 'warnings.db');
    let outbox = await openOutbox(target);
    expect(await outbox.enqueue([row('a'), row('b'), row('c')])).toBe(3);
    // Queued twice (a crash between publication and queueing, mended at start): still one row each.
    expect(await outbox.enqueue([row('a'), row('b')])).toBe(0);
    let dispatcher = createDispatcher({ outbox, config, log: silentLogger(), metrics: createMetricsRegistry() });
    dispatcher.start();
    // Nobody listens: attempts pile up, nothing is lost.
    await waitFor(async () => (await outbox.list('warning', 'W1')).every((d) => d.attempts >= 2), 10_000);
    expect((await outbox.list('warning', 'W1')).every((d) => d.state === 'queued' && /fetch failed|ECONNREFUSED/.test(d.lastError ?? ''))).toBe(true);
    // The process stops (a restart), the receiver comes up, a new process sends.
    await dispatcher.stop();
    await outbox.close();
    const sink = await startHttpSinkOn(port);
    outbox = await openOutbox(target);
    dispatcher = createDispatcher({ outbox, config, log: silentLogger(), metrics: createMetricsRegistry() });
    dispatcher.start();
    await waitFor(async () => (await outbox.list('warning', 'W1')).every((d) => d.state === 'delivered'), 10_000);
    await dispatcher.stop();
    expect(sink.requests.map((r) => r.body.text).sort()).toEqual(['to a', 'to b', 'to c']);
    const progress = await outbox.progress('warning', ['W1']);
    expect(progress.get('W1')).toEqual({ queued: 0, sent: 0, delivered: 3, failed: 0 });
    await outbox.close();
    await sink.close();
  });

  it('fails a message for good after the configured attempts, with the last reason, and sends the rest', async () => {
    const sink = await startHttpSink((r) => (r.body.text === 'to bad' ? { status: 400, body: { error: 'unknown number' } } : { body: { ok: true } }));
    const config = dispatchConfig.parse({ channels: [{ name: 'hook', type: 'webhook', url: `${sink.url}/in` }], pollMs: 20, retry: { initialMs: 10, maxMs: 100, maxAttempts: 3 } });
    const outbox = await openOutbox(join(dir, 'fail.db'));
    await outbox.enqueue([row('bad'), row('good'), row('ghost', 'removed-channel')]);
    const dispatcher = createDispatcher({ outbox, config, log: silentLogger(), metrics: createMetricsRegistry() });
    dispatcher.start();
    await waitFor(async () => (await outbox.list('warning', 'W1')).every((d) => d.state !== 'queued'), 10_000);
    await dispatcher.stop();
    const by = Object.fromEntries((await outbox.list('warning', 'W1')).map((d) => [d.recipient, d]));
    expect(by.bad).toMatchObject({ state: 'failed', attempts: 3 });
    expect(by.bad.lastError).toContain('HTTP 400');
    expect(by.good.state).toBe('delivered');
    expect(by.ghost).toMatchObject({ state: 'failed', lastError: 'channel "removed-channel" is no longer configured' });
    await outbox.close();
    await sink.close();
  });
});

/** The fake receiver, on the port the messages were addressed to while it was down. */
async function startHttpSinkOn(port: number) {
  const { createServer } = await import('node:http');
  const requests: { body: any }[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      requests.push({ body: JSON.parse(text) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}
