// The API's timer that escalates overdue hidden dangers: every `everyMs` it asks the store for what
// is due (one transaction: several API nodes running it at once escalate each tier once) and hands
// each escalation to the hook of the moment (the lead's dispatcher to whoever is on duty). A hook
// that fails is logged; the escalation stays recorded in the danger's history either way.
import type { Logger } from '../core/log.ts';
import type { Danger } from './model.ts';
import type { DangerStore, Escalation } from './store.ts';

export type EscalationHook = (danger: Danger, tier: number) => Promise<void>;

/** One pass: escalates what is due and calls the hook for each; returns what was escalated. */
export async function escalateDue(store: Pick<DangerStore, 'escalateOverdue'>, at: number, hook: EscalationHook | undefined, log?: Logger): Promise<Escalation[]> {
  const done = await store.escalateOverdue(at);
  for (const { danger, tier } of done) {
    log?.warn({ danger: danger.id, enterprise: danger.enterprise, grade: danger.grade, tier, deadline: danger.deadline }, 'overdue hidden danger escalated');
    if (!hook) continue;
    try {
      await hook(danger, tier);
    } catch (err) {
      log?.error({ err, danger: danger.id, tier }, 'escalation hook failed');
    }
  }
  return done;
}

/** Runs escalateDue every `everyMs` (one pass at a time); returns the stop function. */
export function startEscalationTimer(options: { store: Pick<DangerStore, 'escalateOverdue'>; everyMs: number; now: () => number; hook: () => EscalationHook | undefined; log?: Logger }): () => void {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await escalateDue(options.store, options.now(), options.hook(), options.log);
    } catch (err) {
      options.log?.error({ err }, 'hidden-danger escalation check failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), options.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
