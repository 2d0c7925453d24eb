// The hidden dangers a shift hands over (issue 16, duty roster): those past their deadline and those
// waiting for their recheck, in the scope asked for.
import type { DangerStore } from './store.ts';

/** The shape the duty handover collects from every component (declared in api/context.ts). */
export interface DangerOpenItem {
  kind: 'danger';
  id: string;
  title: string;
  enterprise: string;
  since: number;
  overdue?: boolean;
  link: string;
}

export function dangerOpenWork(store: Pick<DangerStore, 'list'>) {
  return async (scope: { enterprise?: string }): Promise<DangerOpenItem[]> => {
    const [overdue, waiting] = await Promise.all([
      store.list({ enterprise: scope.enterprise, overdue: true, limit: 1000 }),
      store.list({ enterprise: scope.enterprise, states: ['rectified'], limit: 1000 }),
    ]);
    return [
      ...overdue.map((d) => ({ kind: 'danger' as const, id: d.id, title: d.title, enterprise: d.enterprise, since: d.deadline, overdue: true, link: `#/dangers/${d.id}` })),
      ...waiting.map((d) => ({ kind: 'danger' as const, id: d.id, title: d.title, enterprise: d.enterprise, since: d.rectifiedAt ?? d.updatedAt, overdue: false, link: `#/dangers/${d.id}` })),
    ];
  };
}
