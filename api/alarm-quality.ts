// Alarm-quality figures after ISA-18.2 (ANSI/ISA-18.2-2016, IEC 62682) and EEMUA 191: how many alarms an
// operator position is asked to handle, how much of the time the room is in a flood, which alarms are
// the "bad actors", which chatter or stand, and how fast people acknowledge and close by level. The
// national hazardous-chemicals monitoring system cut its daily alarms from about 21,000 to 4,500 once
// these figures were worked on: they are a feature in themselves. Pure: alarms in, figures out.
import type { Alarm, AlarmCondition, AlarmLevel } from '../contract/alarms.ts';

const MINUTE = 60_000;
const TEN_MINUTES = 10 * MINUTE;
const DAY = 24 * 60 * MINUTE;

/** Benchmarks the figures are read against, each with its source. */
export const BENCHMARKS = {
  // ISA-18.2 Table 5 (and EEMUA 191 alike): about 1 alarm per 10 minutes is "very likely acceptable", 2 "maximum manageable".
  perTenMinutesAcceptable: 1,
  perTenMinutesManageable: 2,
  // ISA-18.2 Table 5: about 150 alarms per day "very likely acceptable", 300 "maximum manageable".
  perDayAcceptable: 150,
  perDayManageable: 300,
  // ISA-18.2 Table 5: a flood is more than 10 alarms in 10 minutes (domain.md); < 1 % of the time in flood.
  floodAlarmsPerTenMinutes: 10,
  floodShareTarget: 0.01,
  // ISA-18.2 Table 5: the top 10 most frequent alarms should make < 1 % to 5 % of all.
  topTenShareTarget: 0.05,
  // ISA-18.2 5.1 / TR18.2.5: chattering = raised 3 or more times within 1 minute.
  chatterCount: 3,
  chatterWindowMs: MINUTE,
  // ISA-18.2 Table 5: stale (standing) alarms are active for more than 24 h; fewer than 5 present on any day.
  staleMs: DAY,
  staleTarget: 5,
} as const;

export interface QualityFigures {
  from: number;
  to: number;
  /** Alarm instances raised in the period (consequences grouped under a cause included). */
  raised: number;
  /** Of those, alarms of their own: what an operator must act on. */
  actionable: number;
  perTenMinutes: { average: number; peak: number; peakAt: number | null };
  perDay: { average: number; peak: number; peakDay: number | null };
  flood: { intervals: number; share: number; longestMinutes: number };
  /** The 10 most frequent device/condition pairs and their share of all raised alarms. */
  topTen: { device: string; enterprise: string; condition: AlarmCondition; count: number; share: number }[];
  topTenShare: number;
  /** Device/condition pairs raised chatterCount times or more within chatterWindowMs. */
  chattering: { enterprise: string; device: string; condition: AlarmCondition; bursts: number }[];
  /** Alarms active (condition present) for longer than staleMs at `to`. */
  standing: { id: string; enterprise: string; device: string; condition: AlarmCondition; level: AlarmLevel; activeHours: number }[];
  /** Minutes from raised to acknowledged and to closed, by level: median, 90th percentile, how many. */
  response: Record<AlarmLevel, { acknowledge: Stat; close: Stat; unacknowledged: number }>;
  byLevel: Record<AlarmLevel, number>;
}

export interface Stat {
  count: number;
  medianMinutes: number | null;
  p90Minutes: number | null;
}

function quantile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return Math.round((sorted[i] / MINUTE) * 10) / 10;
}

function stat(durations: number[]): Stat {
  const s = [...durations].sort((a, b) => a - b);
  return { count: s.length, medianMinutes: quantile(s, 0.5), p90Minutes: quantile(s, 0.9) };
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Figures of the alarms raised in [from, to) (`alarms` may hold others: they are filtered), judged at `to`. */
export function alarmQuality(alarms: readonly Alarm[], from: number, to: number): QualityFigures {
  const inPeriod = alarms.filter((a) => a.raisedAt >= from && a.raisedAt < to).sort((a, b) => a.raisedAt - b.raisedAt);
  const span = Math.max(to - from, 1);

  // Rates, over fixed 10-minute and day intervals aligned to `from`.
  const tens = new Map<number, number>();
  const days = new Map<number, number>();
  for (const a of inPeriod) {
    const ten = from + Math.floor((a.raisedAt - from) / TEN_MINUTES) * TEN_MINUTES;
    const day = from + Math.floor((a.raisedAt - from) / DAY) * DAY;
    tens.set(ten, (tens.get(ten) ?? 0) + 1);
    days.set(day, (days.get(day) ?? 0) + 1);
  }
  const peak = (m: Map<number, number>) => [...m].reduce<[number | null, number]>((best, [k, n]) => (n > best[1] ? [k, n] : best), [null, 0]);
  const [peakTenAt, peakTen] = peak(tens);
  const [peakDayAt, peakDay] = peak(days);
  const tenIntervals = Math.ceil(span / TEN_MINUTES);
  const dayIntervals = Math.max(1, Math.ceil(span / DAY));

  // Floods: 10-minute intervals with more than the benchmark; the longest run of them.
  const floodStarts = [...tens].filter(([, n]) => n > BENCHMARKS.floodAlarmsPerTenMinutes).map(([k]) => k).sort((a, b) => a - b);
  let longest = 0;
  let run = 0;
  for (let i = 0; i < floodStarts.length; i++) {
    run = i > 0 && floodStarts[i] - floodStarts[i - 1] === TEN_MINUTES ? run + 1 : 1;
    longest = Math.max(longest, run);
  }

  // Bad actors and chattering, per device and condition.
  const byPair = new Map<string, Alarm[]>();
  for (const a of inPeriod) {
    const key = `${a.enterprise}/${a.device}/${a.condition}`;
    const list = byPair.get(key);
    if (list) list.push(a);
    else byPair.set(key, [a]);
  }
  const total = inPeriod.length;
  const topTen = [...byPair.values()]
    .sort((x, y) => y.length - x.length || x[0].device.localeCompare(y[0].device))
    .slice(0, 10)
    .map((list) => ({ enterprise: list[0].enterprise, device: list[0].device, condition: list[0].condition, count: list.length, share: round(list.length / total) }));
  const chattering = [...byPair.values()].flatMap((list) => {
    let bursts = 0;
    for (let i = BENCHMARKS.chatterCount - 1; i < list.length; i++) {
      if (list[i].raisedAt - list[i - BENCHMARKS.chatterCount + 1].raisedAt <= BENCHMARKS.chatterWindowMs) {
        bursts++;
        i += BENCHMARKS.chatterCount - 1;
      }
    }
    return bursts ? [{ enterprise: list[0].enterprise, device: list[0].device, condition: list[0].condition, bursts }] : [];
  });

  const active = (a: Alarm) => a.state === 'active_unacknowledged' || a.state === 'active_acknowledged' || (a.state === 'shelved' && a.clearedAt === null);
  const standing = alarms
    .filter((a) => active(a) && a.raisedAt <= to - BENCHMARKS.staleMs)
    .map((a) => ({ id: a.id, enterprise: a.enterprise, device: a.device, condition: a.condition, level: a.level, activeHours: round((to - a.raisedAt) / 3_600_000, 1) }))
    .sort((a, b) => b.activeHours - a.activeHours);

  const levels = [1, 2, 3, 4] as const;
  const response = Object.fromEntries(
    levels.map((l) => {
      const mine = inPeriod.filter((a) => a.peakLevel === l);
      return [
        l,
        {
          acknowledge: stat(mine.flatMap((a) => (a.acknowledgedAt !== null ? [a.acknowledgedAt - a.raisedAt] : []))),
          close: stat(mine.flatMap((a) => (a.closedAt !== null ? [a.closedAt - a.raisedAt] : []))),
          unacknowledged: mine.filter((a) => a.acknowledgedAt === null).length,
        },
      ];
    }),
  ) as QualityFigures['response'];

  return {
    from,
    to,
    raised: total,
    actionable: inPeriod.filter((a) => !a.parentId).length,
    perTenMinutes: { average: round(total / tenIntervals, 2), peak: peakTen, peakAt: peakTenAt },
    perDay: { average: round(total / dayIntervals, 1), peak: peakDay, peakDay: peakDayAt },
    flood: { intervals: floodStarts.length, share: round(floodStarts.length / tenIntervals, 4), longestMinutes: longest * 10 },
    topTen,
    topTenShare: round(topTen.reduce((n, t) => n + t.count, 0) / Math.max(total, 1)),
    chattering,
    standing,
    response,
    byLevel: Object.fromEntries(levels.map((l) => [l, inPeriod.filter((a) => a.peakLevel === l).length])) as Record<AlarmLevel, number>,
  };
}
