// broker/outgoing.ts against the aedes-persistence memory store it replaces: the same random
// sequences of operations, as aedes issues them, must give the same answers and the same queues.
import { describe, expect, it } from 'vitest';
import MemoryPersistence from 'aedes-persistence/asyncPersistence.js';
import { indexedOutgoing, type OutgoingStore } from '../outgoing.ts';

/** A deterministic generator (mulberry32), so a failure can be replayed from its seed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function queue(store: OutgoingStore, id: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const p of store.outgoingStream({ id })) out.push({ ...(p as object) });
  return out;
}

async function settle<T>(p: Promise<T>): Promise<{ ok: T } | { error: string }> {
  try {
    const ok = await p;
    return { ok: ok && typeof ok === 'object' ? ({ ...ok } as T) : ok };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe('indexed outgoing queues', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`answers as aedes-persistence does (seed ${seed})`, async () => {
      const rnd = random(seed);
      const reference = new MemoryPersistence() as unknown as OutgoingStore;
      const indexed = indexedOutgoing();
      const clients = ['svc:ingest', 'svc:rules', 'acme/gw-1'];
      let counter = 0;
      let nextId = 1;
      const inFlight = new Map<string, { brokerId: string; brokerCounter: number; messageId?: number }[]>();
      for (let step = 0; step < 2000; step++) {
        const client = clients[Math.floor(rnd() * clients.length)];
        const list = inFlight.get(client) ?? [];
        inFlight.set(client, list);
        const r = rnd();
        let a: unknown;
        let b: unknown;
        let op = '';
        if (r < 0.35) {
          // A message for one or several persistent sessions.
          const packet = { cmd: 'publish', topic: 'hw/v1/acme/gas-01/telemetry', payload: Buffer.from(String(step)), qos: 1, retain: false, dup: false, brokerId: 'b1', brokerCounter: ++counter };
          op = 'enqueue';
          const subs = clients.filter(() => rnd() < 0.5).map((clientId) => ({ clientId }));
          a = await settle(reference.outgoingEnqueueCombi(subs, packet));
          b = await settle(indexed.outgoingEnqueueCombi(subs, packet));
          for (const s of subs) inFlight.get(s.clientId)?.push({ brokerId: 'b1', brokerCounter: counter }) ?? inFlight.set(s.clientId, [{ brokerId: 'b1', brokerCounter: counter }]);
        } else if (r < 0.65 && list.some((x) => x.brokerCounter !== -1)) {
          // Delivery: the packet gets its identifier (again, after a reconnect).
          const publishes = list.filter((x) => x.brokerCounter !== -1);
          const p = publishes[Math.floor(rnd() * publishes.length)];
          op = `update ${JSON.stringify(p)}`;
          p.messageId = nextId = (nextId % 65535) + 1;
          const packet = { cmd: 'publish', topic: 't', qos: 1, brokerId: p.brokerId, brokerCounter: p.brokerCounter, messageId: p.messageId };
          a = await settle(reference.outgoingUpdate({ id: client }, packet));
          b = await settle(indexed.outgoingUpdate({ id: client }, packet));
        } else if (r < 0.7 && list.some((p) => p.messageId) && list.filter((p) => p.brokerCounter === -1).length <= 1) {
          // QoS 2: PUBREL takes its PUBLISH's place, or is sent again. One PUBREL in flight at most:
          // with two, aedes-persistence rewrites the wrong one (see broker/outgoing.ts).
          const pubrels = list.filter((x) => x.brokerCounter === -1);
          const p = pubrels.length ? pubrels[0] : list.find((x) => x.messageId)!;
          const pubrel = { cmd: 'pubrel', messageId: p.messageId };
          op = `pubrel ${JSON.stringify(p)}`;
          a = await settle(reference.outgoingUpdate({ id: client }, pubrel as never));
          b = await settle(indexed.outgoingUpdate({ id: client }, pubrel as never));
          p.brokerCounter = -1;
        } else if (r < 0.95) {
          // PUBACK: mostly for a delivered packet, sometimes for an unknown identifier.
          const delivered = list.filter((p) => p.messageId !== undefined);
          const p = delivered.length && rnd() < 0.9 ? delivered[Math.floor(rnd() * Math.min(delivered.length, 3))] : undefined;
          const messageId = p?.messageId ?? 70000 + step;
          op = `clear ${messageId}`;
          a = await settle(reference.outgoingClearMessageId({ id: client }, { messageId }));
          b = await settle(indexed.outgoingClearMessageId({ id: client }, { messageId }));
          if (p) list.splice(list.indexOf(p), 1);
        } else {
          // An update for a packet that is not there.
          const packet = { cmd: 'publish', qos: 1, brokerId: 'b1', brokerCounter: 1e9 + step, messageId: 60000 };
          a = await settle(reference.outgoingUpdate({ id: client }, packet));
          b = await settle(indexed.outgoingUpdate({ id: client }, packet));
        }
        expect(b, `step ${step} ${client} ${op} ${JSON.stringify(await queue(reference, client))}`).toEqual(a);
        if (step % 100 === 0)
          for (const c of clients) {
            const [x, y] = [await queue(indexed, c), await queue(reference, c)];
            const i = x.findIndex((v, k) => JSON.stringify(v) !== JSON.stringify(y[k]));
            const diff = i === -1 && x.length === y.length ? 'same' : `step ${step} ${c} at ${i}: ${JSON.stringify(x[i])} vs ${JSON.stringify(y[i])}`;
            expect(diff).toBe('same');
          }
      }
      for (const c of clients) expect(await queue(indexed, c)).toEqual(await queue(reference, c));
    });
  }
});
