// Warning publication as the monitoring room runs it: a draft (by hand, or from an alarm with its
// template filled in), approval by a second supervisor for the levels that need it, then one queued
// message per recipient and channel in the durable outbox (core/dispatch), which the dispatcher sends
// with retries. Updates and the all-clear go to the recipients of the first publication.
import type { Alarm } from '../contract/alarms.ts';
import { HazwatchError } from '../contract/errors.ts';
import type { DispatchConfig } from '../core/dispatch/config.ts';
import type { Outbox } from '../core/dispatch/store.ts';
import type { Logger } from '../core/log.ts';
import { audiencesOf, type WarningsConfig } from './config.ts';
import type { Recipient, Warning, WarningDraft } from './model.ts';
import { deliveriesOf, resolveRecipients, type Directory } from './recipients.ts';
import type { Publication, WarningStore } from './store.ts';
import { alarmVariables, fill, formatTime, levelVariables, TEMPLATES, templateFor, type Template } from './templates.ts';

export interface WarningServiceOptions {
  store: WarningStore;
  outbox: Outbox;
  config: WarningsConfig;
  dispatch: DispatchConfig;
  directory: Directory;
  log: Logger;
  now?: () => number;
}

export function createWarningService(o: WarningServiceOptions) {
  const now = o.now ?? Date.now;
  const audiences = audiencesOf(o.config);
  const templates: Record<string, Template> = { ...TEMPLATES, ...o.config.templates };

  function checkAudiences(ids: string[]): void {
    for (const id of ids) if (!audiences.some((a) => a.id === id)) throw new HazwatchError('HW_ERR_WARNING_AUDIENCE', `unknown audience "${id}" (known: ${audiences.map((a) => a.id).join(', ')})`);
  }

  /** Recipients for a warning about to go out, refusing when no channel would reach anyone. */
  async function recipientsFor(w: Warning): Promise<Recipient[]> {
    const recipients = await resolveRecipients(w, audiences, o.directory, now());
    const trial = deliveriesOf({ warning: { ...w, recipients }, revision: 1, kind: 'published', title: w.title, text: w.text }, audiences, o.dispatch.channels);
    if (trial.length === 0) throw new HazwatchError('HW_ERR_WARNING_NO_RECIPIENTS', `warning ${w.id}: the audiences ${w.audiences.join(', ')} reach nobody through the configured channels (${recipients.length} people found)`);
    return recipients;
  }

  async function queue(p: Publication): Promise<void> {
    const rows = deliveriesOf(p, audiences, o.dispatch.channels);
    const added = await o.outbox.enqueue(rows);
    await o.store.queued(p.warning.id, p.revision);
    o.log.info({ warning: p.warning.id, revision: p.revision, kind: p.kind, deliveries: rows.length, added }, 'warning queued for sending');
  }

  async function existing(id: string): Promise<Warning> {
    const w = await o.store.get(id);
    if (!w) throw new HazwatchError('HW_ERR_NOT_FOUND', `warning ${id} does not exist`);
    return w;
  }

  return {
    audiences,
    templates,
    needsApproval: (level: number) => o.config.approvalLevels.includes(level as 1),

    /** A draft pre-filled from an alarm: level, enterprise, texts from the template that fits its condition. */
    draftFromAlarm(alarm: Alarm, enterpriseName: string, templateId?: string): WarningDraft {
      const t = templates[templateId ?? templateFor(alarm.condition)] ?? templates.alarm;
      const vars = alarmVariables(alarm, enterpriseName, o.config.timeZone);
      return {
        level: alarm.level,
        title: fill(t.titleZh ?? '{levelZh}预警', vars),
        text: fill(t.zh, vars),
        textEn: fill(t.en, vars),
        enterprises: [alarm.enterprise],
        area: alarm.site ?? '',
        audiences: audiences.filter((a) => a.channels.length > 0).map((a) => a.id).slice(0, 3),
        alarmId: alarm.id,
      };
    },

    /** Texts of a template for a hand-made warning of this level. */
    manualTexts(level: 1 | 2 | 3 | 4, templateId = 'manual'): { title: string; text: string; textEn: string } {
      const t = templates[templateId] ?? templates.manual;
      const vars = { ...levelVariables(level), time: formatTime(now(), o.config.timeZone) };
      return { title: fill(t.titleZh ?? '', vars), text: fill(t.zh, vars), textEn: fill(t.en, vars) };
    },

    async create(d: WarningDraft, by: string): Promise<Warning> {
      checkAudiences(d.audiences);
      return o.store.create(d, by);
    },

    async edit(id: string, d: WarningDraft, by: string): Promise<Warning> {
      checkAudiences(d.audiences);
      return o.store.edit(id, d, by);
    },

    async submit(id: string, by: string): Promise<Warning> {
      const w = await existing(id);
      const approval = o.config.approvalLevels.includes(w.level);
      const resolved = approval ? [] : await recipientsFor(w);
      const p = await o.store.submit(id, by, approval, async () => resolved);
      if (p) await queue(p);
      return existing(id);
    },

    async approve(id: string, by: string, note: string | null): Promise<Warning> {
      const w = await existing(id);
      if (w.state === 'pending_approval' && (by === w.submittedBy || by === w.createdBy)) throw new HazwatchError('HW_ERR_FOUR_EYES', `warning ${id} was drafted or submitted by ${by}: another supervisor must approve it`);
      const resolved = w.state === 'pending_approval' ? await recipientsFor(w) : [];
      const p = await o.store.approve(id, by, note, async () => resolved);
      await queue(p);
      return existing(id);
    },

    reject: (id: string, by: string, note: string) => o.store.reject(id, by, note),
    withdraw: (id: string, by: string, note: string | null) => o.store.withdraw(id, by, note),

    async update(id: string, by: string, u: { text: string; textEn?: string; level?: 1 | 2 | 3 | 4 }): Promise<Warning> {
      const w = await existing(id);
      const t = templates.update;
      const p = await o.store.update(id, by, { ...u, text: fill(t.zh, { title: w.title, text: u.text }) });
      await queue(p);
      return existing(id);
    },

    async allClear(id: string, by: string, note = ''): Promise<Warning> {
      const w = await existing(id);
      const t = templates.all_clear;
      const p = await o.store.allClear(id, by, fill(t.zh, { title: w.title, text: note, time: formatTime(now(), o.config.timeZone) }).trim());
      await queue(p);
      return existing(id);
    },

    /** Queues publications a crash left unqueued (run at start). */
    async requeue(): Promise<number> {
      const missing = await o.store.unqueued();
      for (const p of missing) await queue(p);
      return missing.length;
    },
  };
}

export type WarningService = ReturnType<typeof createWarningService>;
