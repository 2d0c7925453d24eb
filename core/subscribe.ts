// SUBSCRIBE with a deadline, for the platform's own services (ingest, rules). mqtt.js waits for a SUBACK
// forever; a service whose SUBACK never comes (a broker node that lost the request, as seen once on the
// Redis cluster: test/faults/workers-kill.test.ts) would stay connected and hear nothing, the worst way to
// fail for a monitoring system. After the deadline the connection is dropped, so that the client connects
// again and its 'connect' handler subscribes anew.
import type { ISubscriptionGrant, MqttClient, Packet } from 'mqtt';
import { ERRORS } from '../contract/errors.ts';
import type { Logger } from './log.ts';

/** Far above the milliseconds a SUBACK takes, even from a broker cluster under load. */
export const SUBACK_DEADLINE_MS = 20_000;

export function subscribeWithDeadline(
  client: MqttClient,
  filters: string[],
  log: Logger,
  done: (err: Error | null, granted: ISubscriptionGrant[] | undefined, suback: Packet | undefined) => void,
  deadlineMs = SUBACK_DEADLINE_MS,
): void {
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    log.warn({ code: 'HW_ERR_SUBSCRIBE_TIMEOUT', filters: filters.length, waitedMs: deadlineMs }, ERRORS.HW_ERR_SUBSCRIBE_TIMEOUT.message);
    client.stream?.destroy();
  }, deadlineMs);
  timer.unref?.();
  client.subscribe(filters, { qos: 1 }, (err, granted, suback) => {
    clearTimeout(timer);
    // The answer (or the "connection closed" error) of a request already given up on.
    if (expired) return;
    done(err ?? null, granted, suback as Packet | undefined);
  });
}
