// The monitoring room's outgoing messages in the API process: the warning store and service, the
// outbox every message to people goes through, and its sender, elected among the API nodes (one sends;
// another takes over when it dies). Overdue hidden dangers are told to whoever is on duty through the
// same outbox and the same personal channels as warnings to people on duty.
import type { MqttClient } from 'mqtt';
import type { Registry as MetricsRegistry } from 'prom-client';
import { warningsTarget, type Config } from '../core/config.ts';
import { PERSONAL } from '../core/dispatch/config.ts';
import { createDispatcher } from '../core/dispatch/dispatcher.ts';
import { openOutbox, type DeliveryInput } from '../core/dispatch/store.ts';
import { electLeader } from '../core/leader.ts';
import type { Logger } from '../core/log.ts';
import type { Danger } from '../dangers/model.ts';
import { peopleAtTier, type RosterStore } from '../registry/roster.ts';
import { rosterDirectory } from '../warnings/directory.ts';
import { createWarningService } from '../warnings/service.ts';
import { openWarningStore } from '../warnings/store.ts';
import { formatTime } from '../warnings/templates.ts';
import type { OpenWorkSource } from './context.ts';

export interface WarningsSetupOptions {
  config: Config;
  log: Logger;
  metrics: MetricsRegistry;
  now: () => number;
  roster: RosterStore;
  /** The API's broker connection, for mqtt channels (field displays, PA controllers). */
  mqtt: () => MqttClient | undefined;
}

export async function startWarnings(o: WarningsSetupOptions) {
  const { config, log, now } = o;
  const target = warningsTarget(config);
  const warningStore = await openWarningStore(target, { now, log });
  const outbox = await openOutbox(target, { now, log });
  const publish = (topic: string, payload: string, retain: boolean) =>
    new Promise<void>((resolve, reject) => {
      const client = o.mqtt();
      if (!client?.connected) return reject(new Error('not connected to the broker'));
      client.publish(topic, payload, { qos: 1, retain }, (err) => (err ? reject(err) : resolve()));
    });
  const dispatcher = createDispatcher({ outbox, config: config.dispatch, log: log.child({ part: 'dispatch' }), metrics: o.metrics, now, publish });
  const warnings = createWarningService({ store: warningStore, outbox, config: config.warnings, dispatch: config.dispatch, directory: rosterDirectory(o.roster), log, now });
  const requeued = await warnings.requeue();
  if (requeued) log.warn({ publications: requeued }, 'warning publications queued again after a restart');
  const leadership = electLeader(target, 'dispatch', { log, onElected: () => dispatcher.start(), onDeposed: () => dispatcher.stop() });

  const openWork: OpenWorkSource = async (scope) => {
    const ws = await warningStore.list({ states: ['pending_approval', 'published'], enterprise: scope.enterprise, limit: 1000 });
    return ws.map((w) => ({ kind: 'warning' as const, id: w.id, title: w.title, enterprise: w.enterprises[0] ?? '', level: w.level, since: w.publishedAt ?? w.updatedAt, link: `#/warnings/${w.id}` }));
  };

  /** An overdue hidden danger: the duty chain of its enterprise's unit, tier by tier, by the duty audience's personal channels. */
  const dangerEscalated = async (danger: Danger, tier: number): Promise<void> => {
    const { tier: step } = await peopleAtTier(o.roster, danger.enterprise, tier, now());
    const duty = warnings.audiences.find((a) => a.onDuty);
    const channels = config.dispatch.channels.filter((c) => PERSONAL[c.type] && (duty?.channels ?? []).includes(c.name));
    if (!step || channels.length === 0) {
      log.error({ danger: danger.id, tier, people: step?.people.length ?? 0, channels: channels.length }, 'overdue hidden danger: nobody on duty can be told (no roster unit, shift or personal channel)');
      return;
    }
    const subject = `【隐患逾期】${danger.title}`;
    const body = `【隐患逾期未整改】${danger.enterprise}：${danger.title}（${danger.grade === 'major' ? '重大隐患' : '一般隐患'}），整改期限 ${formatTime(danger.deadline, config.warnings.timeZone)}，责任人 ${danger.responsible.name}。请督促整改。编号 ${danger.id}`;
    const rows: DeliveryInput[] = [];
    for (const p of step.people) {
      for (const c of channels) {
        const address = PERSONAL[c.type] === 'phone' ? p.phone : p.email;
        if (address) rows.push({ source: 'danger', sourceId: danger.id, revision: tier, recipient: p.id, recipientName: p.name, channel: c.name, address, subject, body, level: danger.grade === 'major' ? 2 : 3, mentions: [] });
      }
    }
    await outbox.enqueue(rows);
    log.warn({ danger: danger.id, tier, unit: step.unit.id, role: step.role, messages: rows.length }, 'overdue hidden danger escalated to the people on duty');
  };

  return {
    warnings,
    warningStore,
    outbox,
    dispatcher,
    openWork,
    dangerEscalated,
    async close() {
      await leadership.close();
      await dispatcher.stop();
      await warningStore.close();
      await outbox.close();
    },
  };
}
