import { describe, expect, it } from 'vitest';
import { redeliveryKey, redeliveryTracker } from '../redelivery.ts';

describe('redelivery tracker', () => {
  const k = (id: number, body = '{"values":{"lel":0}}') => redeliveryKey('hw/v1/acme/gas-1/telemetry', id, Buffer.from(body));

  it('recognises the last messages of a lost connection once, right after the reconnect', () => {
    let t = 0;
    const r = redeliveryTracker({ tailMs: 5000, replayMs: 10_000, now: () => t });
    r.taken(k(1));
    t = 10_000;
    r.taken(k(2));
    r.unacknowledged(k(3));
    t = 11_000;
    r.disconnected();
    r.connected();
    expect(r.isRedelivery(k(1))).toBe(false); // acknowledged long before the connection ended
    expect(r.isRedelivery(k(2))).toBe(true);
    expect(r.isRedelivery(k(2))).toBe(false); // each suspect once
    expect(r.isRedelivery(k(3))).toBe(true);
    expect(r.isRedelivery(k(4))).toBe(false);
  });

  it('forgets suspects after the replay window, and restored keys count as suspects', () => {
    let t = 0;
    const r = redeliveryTracker({ tailMs: 5000, replayMs: 10_000, now: () => t });
    r.restored([k(7)]);
    r.connected();
    t = 20_000;
    expect(r.isRedelivery(k(7))).toBe(false);
    r.restored([k(8)]);
    r.connected();
    expect(r.isRedelivery(k(8, '{"values":{"lel":1}}'))).toBe(false); // another payload is another message
    expect(r.isRedelivery(k(8))).toBe(true);
  });
});
