// Every alarm of a filter, read page by page: the store answers at most 1,000 a call (rules/store.ts),
// and the quality figures, the wall's trend and the exports need them all.
import type { Alarm } from '../contract/alarms.ts';
import type { AlarmFilter, AlarmStore } from '../rules/store-types.ts';

const PAGE = 1000;

/** The alarms of `filter`, newest first as the store lists them, at most `max`. */
export async function allAlarms(store: Pick<AlarmStore, 'list'>, filter: Omit<AlarmFilter, 'limit' | 'offset'>, max = Infinity): Promise<Alarm[]> {
  const out: Alarm[] = [];
  while (out.length < max) {
    const page = await store.list({ ...filter, limit: PAGE, offset: out.length });
    out.push(...page.slice(0, max - out.length));
    if (page.length < PAGE) break;
  }
  return out;
}
