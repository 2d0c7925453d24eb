// Server-Sent Events: every alarm change (tailing the store's history, so changes made by the rules
// process and by other API instances arrive too) and latest values, each client seeing only its scope.
// Alarm events carry the history seq as event id: a browser that reconnects sends Last-Event-ID and
// gets every change it missed, so a dropped connection never hides an alarm.
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { AlarmEventPayload } from '../../contract/alarms.ts';
import { gauge, counter } from '../../core/metrics.ts';
import { authenticate, inScope, require, scopeOf } from '../auth.ts';
import type { User } from '../accounts.ts';
import type { ApiContext } from '../context.ts';
import type { DeviceLatest } from '../latest.ts';

interface Client {
  user: User;
  res: ServerResponse;
  wantsValues: boolean;
}

export interface Streamer {
  close(): void;
}

export function streamRoutes(app: FastifyInstance, ctx: ApiContext, options: { pollMs?: number; valuesEveryMs?: number; heartbeatMs?: number } = {}): Streamer {
  const auth = authenticate(ctx.accounts);
  const clients = new Set<Client>();
  const connected = gauge(ctx.metrics, 'hazwatch_api_sse_clients', 'Connected live-stream clients');
  const sent = counter(ctx.metrics, 'hazwatch_api_sse_events_total', 'Events sent on live streams', ['event']);
  let lastSeq = 0;
  let started = false;
  let polling = false;
  const dirty = new Map<string, DeviceLatest>();

  /** The client's scope as the tree is now: a node moved or an enterprise placed counts from the next event. */
  const sees = (user: User, enterprise: string) => inScope(scopeOf(user, ctx.jurisdictions), enterprise);

  const write = (c: Client, event: string, data: unknown, id?: number) => {
    c.res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    sent.inc({ event });
  };

  const broadcast = (changes: AlarmEventPayload[]) => {
    for (const change of changes) {
      for (const c of clients) if (sees(c.user, change.alarm.enterprise)) write(c, 'alarm', change, change.change.seq);
    }
  };

  const poll = async () => {
    if (polling || !started) return;
    polling = true;
    try {
      for (;;) {
        const changes = await ctx.alarms.tailHistory(lastSeq, 500);
        if (changes.length === 0) break;
        lastSeq = changes[changes.length - 1].change.seq;
        broadcast(changes);
        if (changes.length < 500) break;
      }
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message }, 'live stream: alarm store tail failed');
    } finally {
      polling = false;
    }
  };

  const flushValues = () => {
    if (dirty.size === 0) return;
    const batch = [...dirty.values()];
    dirty.clear();
    for (const c of clients) {
      if (!c.wantsValues) continue;
      const mine = batch.filter((l) => sees(c.user, l.enterprise));
      if (mine.length) write(c, 'latest', mine);
    }
  };

  const offLatest = ctx.latest.onUpdate((l) => dirty.set(`${l.enterprise}/${l.device}`, l));
  const timers = [
    setInterval(poll, options.pollMs ?? 250),
    setInterval(flushValues, options.valuesEveryMs ?? 1000),
    setInterval(() => {
      for (const c of clients) c.res.write(': keep-alive\n\n');
    }, options.heartbeatMs ?? 15_000),
  ];
  ctx.alarms
    .lastSeq()
    .then((seq) => {
      lastSeq = seq;
      started = true;
    })
    .catch((err) => ctx.log.error({ err }, 'live stream: cannot read the alarm store'));

  app.get(
    '/api/v1/stream',
    {
      schema: {
        tags: ['stream'],
        summary: 'Server-Sent Events: `alarm` (every change, id = history seq; Last-Event-ID replays missed ones) and `latest` (values, at most once a second)',
        querystring: z.object({ values: z.enum(['true', 'false']).optional(), since: z.string().regex(/^\d+$/).optional() }).strict(),
      },
      preValidation: auth,
    },
    async (req, reply) => {
      const user = require(req, 'read');
      const query = req.query as { values?: string; since?: string };
      const fromHeader = Number(req.headers['last-event-id'] ?? query.since);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write('retry: 2000\n\n');
      const client: Client = { user, res, wantsValues: query.values !== 'false' };
      // Replay what this client missed, up to the point the shared tail has broadcast (no duplicates).
      if (Number.isInteger(fromHeader) && fromHeader >= 0) {
        let after = fromHeader;
        while (after < lastSeq) {
          const missed = (await ctx.alarms.tailHistory(after, 500)).filter((c) => c.change.seq <= lastSeq);
          if (missed.length === 0) break;
          for (const change of missed) if (sees(user, change.alarm.enterprise)) write(client, 'alarm', change, change.change.seq);
          after = missed[missed.length - 1].change.seq;
        }
      }
      write(client, 'hello', { user: user.username, seq: lastSeq });
      clients.add(client);
      connected.set(clients.size);
      req.raw.on('close', () => {
        clients.delete(client);
        connected.set(clients.size);
      });
    },
  );

  return {
    close() {
      offLatest();
      for (const t of timers) clearInterval(t);
      for (const c of clients) c.res.end();
      clients.clear();
    },
  };
}
