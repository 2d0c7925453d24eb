// The monthly alarm-quality report as one printable HTML page (the browser's "print" makes the PDF):
// the figures of api/alarm-quality.ts beside the ISA-18.2 benchmarks, in Chinese or English.
import { ALARM_CONDITIONS, LEVEL_COLOURS, type AlarmLevel } from '../contract/alarms.ts';
import { BENCHMARKS, type QualityFigures } from './alarm-quality.ts';

type Lang = 'zh' | 'en';

const WORDS = {
  zh: {
    title: '报警质量月报',
    scope: '范围',
    all: '全部企业',
    period: '统计期间',
    summary: '概况',
    raised: '产生报警',
    actionable: '需处置报警（不含归入起因的后果报警）',
    per10: '每10分钟报警数（平均 / 峰值）',
    perDay: '每日报警数（平均 / 峰值）',
    flood: '报警泛滥时间占比（10分钟内超过10条）',
    longestFlood: '最长泛滥持续',
    topTenShare: '前10频发报警占比',
    benchmark: '参考值（ISA-18.2）',
    figure: '本期',
    topTen: '频发报警前10（“坏分子”）',
    device: '设备',
    enterprise: '企业',
    condition: '报警类型',
    count: '次数',
    share: '占比',
    chattering: '振荡报警（1分钟内3次及以上）',
    bursts: '振荡次数',
    standing: '长期未消除报警（超过24小时）',
    hours: '持续小时',
    response: '响应时间（分钟，按报警级别）',
    level: '级别',
    ackMedian: '签收 中位数',
    ackP90: '签收 90%',
    closeMedian: '关闭 中位数',
    closeP90: '关闭 90%',
    unacked: '未签收',
    none: '无',
    minutes: '分钟',
    levels: { 1: '一级（红）', 2: '二级（橙）', 3: '三级（黄）', 4: '四级（蓝）' },
    within: (x: string) => `≤ ${x}`,
    note: '依据 ANSI/ISA-18.2-2016（IEC 62682）表5与 EEMUA 191 的报警系统性能指标；统计至少30天的数据方有意义。',
  },
  en: {
    title: 'Alarm quality, monthly report',
    scope: 'Scope',
    all: 'all enterprises',
    period: 'Period',
    summary: 'Summary',
    raised: 'Alarms raised',
    actionable: 'Alarms to act on (consequences under a cause not counted)',
    per10: 'Alarms per 10 minutes (average / peak)',
    perDay: 'Alarms per day (average / peak)',
    flood: 'Time in flood (more than 10 alarms in 10 minutes)',
    longestFlood: 'Longest flood',
    topTenShare: 'Share of the 10 most frequent alarms',
    benchmark: 'Benchmark (ISA-18.2)',
    figure: 'This period',
    topTen: 'The 10 most frequent alarms ("bad actors")',
    device: 'Device',
    enterprise: 'Enterprise',
    condition: 'Condition',
    count: 'Count',
    share: 'Share',
    chattering: 'Chattering alarms (3 or more within 1 minute)',
    bursts: 'Bursts',
    standing: 'Standing alarms (active for more than 24 hours)',
    hours: 'Hours active',
    response: 'Response times (minutes, by level)',
    level: 'Level',
    ackMedian: 'Acknowledge, median',
    ackP90: 'Acknowledge, 90 %',
    closeMedian: 'Close, median',
    closeP90: 'Close, 90 %',
    unacked: 'Not acknowledged',
    none: 'none',
    minutes: 'min',
    levels: { 1: 'Level 1 (red)', 2: 'Level 2 (orange)', 3: 'Level 3 (yellow)', 4: 'Level 4 (blue)' },
    within: (x: string) => `≤ ${x}`,
    note: 'Alarm system performance metrics of ANSI/ISA-18.2-2016 (IEC 62682) Table 5 and EEMUA 191; meaningful over at least 30 days of data.',
  },
} as const;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const num = (x: number | null) => (x === null ? '–' : String(x));

export function renderQualityReport(f: QualityFigures, options: { lang: Lang; enterprise?: string; timeZone?: string }): string {
  const w = WORDS[options.lang];
  const date = (t: number) => new Intl.DateTimeFormat(options.lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: options.timeZone ?? 'Asia/Shanghai', dateStyle: 'medium', timeStyle: 'short' }).format(t);
  const cond = (c: keyof typeof ALARM_CONDITIONS) => esc(options.lang === 'zh' ? ALARM_CONDITIONS[c].zh : ALARM_CONDITIONS[c].title);
  const row = (cells: string[]) => `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  const table = (head: string[], rows: string[]) =>
    rows.length ? `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>` : `<p class="none">${w.none}</p>`;
  const flag = (ok: boolean) => (ok ? 'ok' : 'over');
  // "acceptable (maximum manageable)"
  const pair = (a: number, b: number) => (options.lang === 'zh' ? `${a}（最多 ${b}）` : `${a} (at most ${b})`);
  const summary = [
    row([w.raised, String(f.raised), '']),
    row([w.actionable, String(f.actionable), '']),
    `<tr class="${flag(f.perTenMinutes.average <= BENCHMARKS.perTenMinutesAcceptable)}"><td>${w.per10}</td><td>${f.perTenMinutes.average} / ${f.perTenMinutes.peak}</td><td>${w.within(pair(BENCHMARKS.perTenMinutesAcceptable, BENCHMARKS.perTenMinutesManageable))}</td></tr>`,
    `<tr class="${flag(f.perDay.average <= BENCHMARKS.perDayAcceptable)}"><td>${w.perDay}</td><td>${f.perDay.average} / ${f.perDay.peak}</td><td>${w.within(pair(BENCHMARKS.perDayAcceptable, BENCHMARKS.perDayManageable))}</td></tr>`,
    `<tr class="${flag(f.flood.share <= BENCHMARKS.floodShareTarget)}"><td>${w.flood}</td><td>${pct(f.flood.share)}</td><td>${w.within(pct(BENCHMARKS.floodShareTarget))}</td></tr>`,
    row([w.longestFlood, `${f.flood.longestMinutes} ${w.minutes}`, '']),
    `<tr class="${flag(f.topTenShare <= BENCHMARKS.topTenShareTarget)}"><td>${w.topTenShare}</td><td>${pct(f.topTenShare)}</td><td>${w.within(pct(BENCHMARKS.topTenShareTarget))}</td></tr>`,
    `<tr class="${flag(f.chattering.length === 0)}"><td>${w.chattering}</td><td>${f.chattering.length}</td><td>0</td></tr>`,
    `<tr class="${flag(f.standing.length < BENCHMARKS.staleTarget)}"><td>${w.standing}</td><td>${f.standing.length}</td><td>&lt; ${BENCHMARKS.staleTarget}</td></tr>`,
  ];
  const levels = [1, 2, 3, 4] as AlarmLevel[];
  const lang = options.lang === 'zh' ? 'zh-CN' : 'en';
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>${w.title}</title>
<style>
  @page { size: A4; margin: 16mm; }
  body { font-family: "Hazwatch Sans SC", "Noto Sans CJK SC", sans-serif; color: #222; font-size: 11pt; }
  h1 { font-size: 18pt; margin: 0 0 4pt; } h2 { font-size: 13pt; margin: 14pt 0 4pt; border-bottom: 1px solid #999; }
  table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #bbb; padding: 3pt 6pt; text-align: left; }
  th { background: #eee; } tr.over td:nth-child(2) { font-weight: bold; color: #b71c1c; } .meta, .note { color: #555; }
  .lv { display: inline-block; width: 9pt; height: 9pt; border-radius: 2pt; margin-right: 4pt; vertical-align: -1pt; }
</style></head><body>
<h1>${w.title}</h1>
<p class="meta">${w.scope}: ${esc(options.enterprise ?? w.all)} · ${w.period}: ${esc(date(f.from))} – ${esc(date(f.to))}</p>
<h2>${w.summary}</h2>
<table data-section="summary"><thead><tr><th></th><th>${w.figure}</th><th>${w.benchmark}</th></tr></thead><tbody>${summary.join('')}</tbody></table>
<h2>${w.topTen}</h2>
${table([w.enterprise, w.device, w.condition, w.count, w.share], f.topTen.map((t) => row([esc(t.enterprise), esc(t.device), cond(t.condition), String(t.count), pct(t.share)])))}
<h2>${w.chattering}</h2>
${table([w.enterprise, w.device, w.condition, w.bursts], f.chattering.map((c) => row([esc(c.enterprise), esc(c.device), cond(c.condition), String(c.bursts)])))}
<h2>${w.standing}</h2>
${table([w.enterprise, w.device, w.condition, w.level, w.hours], f.standing.map((s) => row([esc(s.enterprise), esc(s.device), cond(s.condition), w.levels[s.level], String(s.activeHours)])))}
<h2>${w.response}</h2>
${table(
  [w.level, w.count, w.ackMedian, w.ackP90, w.closeMedian, w.closeP90, w.unacked],
  levels.map((l) => {
    const r = f.response[l];
    return row([`<span class="lv" style="background:${LEVEL_COLOURS[l].hex}"></span>${w.levels[l]}`, String(f.byLevel[l]), num(r.acknowledge.medianMinutes), num(r.acknowledge.p90Minutes), num(r.close.medianMinutes), num(r.close.p90Minutes), String(r.unacknowledged)]);
  }),
)}
<p class="note">${w.note}</p>
</body></html>
`;
}
