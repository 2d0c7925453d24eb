// The alarms a shift hands over (issue 16, duty roster): every alarm not closed in the scope asked
// for, most severe and oldest first. Titles are the alarm condition's Chinese name and the device: the
// handover is kept as signed, in the language of the monitoring room.
import { ALARM_CONDITIONS, ALARM_STATES } from '../contract/alarms.ts';
import type { AlarmStore } from '../rules/store-types.ts';
import { allAlarms } from './alarm-pages.ts';
import type { OpenItem } from './context.ts';

/** At most this many alarms in one handover: a flood is handed over as its worst part, not as a book. */
export const MAX_HANDED_OVER_ALARMS = 500;

const NOT_CLOSED = ALARM_STATES.filter((s) => s !== 'closed');

export function alarmOpenWork(alarms: Pick<AlarmStore, 'list'>) {
  return async (scope: { enterprise?: string }): Promise<OpenItem[]> => {
    // Consequences grouped under a cause go with it: the cause is what the next shift acts on.
    const list = await allAlarms(alarms, { enterprise: scope.enterprise, states: NOT_CLOSED, topLevel: true });
    return list
      .sort((a, b) => a.level - b.level || a.raisedAt - b.raisedAt)
      .slice(0, MAX_HANDED_OVER_ALARMS)
      .map((a) => ({
        kind: 'alarm' as const,
        id: a.id,
        title: `${ALARM_CONDITIONS[a.condition]?.zh ?? a.condition} · ${a.device}`,
        enterprise: a.enterprise,
        level: a.level,
        since: a.raisedAt,
        // Raised and still nobody has signed for it.
        overdue: a.acknowledgedAt === null && (a.state === 'active_unacknowledged' || a.state === 'cleared_unacknowledged'),
        link: a.enterprise === 'platform' ? '#/quality' : `#/device/${a.enterprise}/${a.device}`,
      }));
  };
}
