// The device page's trend (issue 15): every numeric channel of the device on one time axis, each on its
// own scale and axis, drawn by uPlot (canvas; served from the package, docs/console.md). The alarm
// thresholds in force are bands in their level's colour, the periods an alarm of the device was active
// are shaded. The chart element carries what it drew as data attributes (and the uPlot instance as
// __uplot), for tests and for whoever inspects the page.
import { h } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import htm from 'htm';
import uPlot from 'uplot';

const html = htm.bind(h);
export const RANGES = [60, 1440, 10080, 43200, 525600];
const LEVEL_RGB = { 1: '211,47,47', 2: '245,124,0', 3: '251,192,45', 4: '25,118,210' };
// Series in neutral blues and greys: the values are not alarms, colour is kept for the bands (ISA-101).
const SERIES = ['#9cc3ff', '#cfd8dc', '#80cbc4', '#b39ddb', '#ffe0b2', '#90a4ae'];

/**
 * The threshold bands of each metric: the stages of the threshold rules in force (their level), and the
 * device's own process limits that no rule stage already draws (HH/LL orange, H/L yellow).
 */
export function thresholdBands(rules, limits) {
  const bands = [];
  const seen = new Set();
  const add = (metric, direction, value, level) => {
    const key = `${metric}/${direction}/${value}`;
    if (seen.has(key) || typeof value !== 'number') return;
    seen.add(key);
    bands.push({ metric, direction, value, level });
  };
  for (const r of rules ?? []) for (const st of r.stages) if (st.raise !== null) add(r.metric, r.direction, st.raise, st.level);
  for (const [metric, set] of Object.entries(limits ?? {})) {
    for (const [k, v] of Object.entries(set ?? {})) add(metric, k.startsWith('H') ? 'high' : 'low', v, k.length === 2 ? 2 : 3);
  }
  return bands;
}

/** When an alarm of the device was active, within [from, to]: raisedAt → clearedAt (or now). */
export function alarmPeriods(alarms, from, to) {
  const byId = new Map(alarms.map((a) => [a.id, a]));
  return [...byId.values()]
    .map((a) => ({ id: a.id, level: a.level, from: a.raisedAt, to: a.clearedAt ?? (a.state === 'closed' ? (a.closedAt ?? to) : to) }))
    .filter((p) => p.to >= from && p.from <= to)
    .map((p) => ({ ...p, from: Math.max(p.from, from), to: Math.min(p.to, to) }))
    .sort((a, b) => a.from - b.from);
}

const timeFormat = (minutes, lang) => (minutes <= 1440 ? '{HH}:{mm}' : minutes <= 43200 ? (lang === 'zh' ? '{M}月{D}日 {HH}:{mm}' : '{D} {MMM} {HH}:{mm}') : lang === 'zh' ? '{YYYY}年{M}月{D}日' : '{D} {MMM} {YYYY}');

// Axis ticks in numbers only (uPlot's default multi-day ticks name the month in English).
const tickFormat = (incr, lang) => (incr < 86_400 ? '{HH}:{mm}' : incr < 28 * 86_400 ? (lang === 'zh' ? '{M}月{D}日' : '{D} {MMM}') : lang === 'zh' ? '{YYYY}年{M}月' : '{MMM} {YYYY}');

export function TrendChart({ t, lang, chart, minutes, names, bands, periods }) {
  const el = useRef();
  const series = chart.series.filter((s) => s.points.some((p) => p[1] !== null));
  useEffect(() => {
    const box = el.current;
    if (!box || series.length === 0) return;
    const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
    const data = [xs.map((x) => x / 1000), ...series.map((s) => {
      const m = new Map(s.points);
      return xs.map((x) => m.get(x) ?? null);
    })];
    const span = (metric, i) => {
      const vals = data[i + 1].filter((v) => v !== null);
      const lim = bands.filter((b) => b.metric === metric).map((b) => b.value);
      let lo = Math.min(...vals, ...lim);
      let hi = Math.max(...vals, ...lim);
      if (hi === lo) (hi += 1), (lo -= 1);
      const pad = (hi - lo) * 0.08;
      return [lo - pad, hi + pad];
    };
    const scales = { x: { time: true, range: () => [chart.from / 1000, chart.to / 1000] } };
    series.forEach((s, i) => (scales[s.metric] = { range: () => span(s.metric, i) }));
    const shown = (u, metric) => u.series.some((s, i) => i > 0 && s.scale === metric && s.show);
    const draw = (u) => {
      const { ctx } = u;
      const { left, top, width, height } = u.bbox;
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, top, width, height);
      ctx.clip();
      // Alarm periods: a light shade over the whole height, the level's colour as a strip on top.
      for (const p of periods) {
        const x0 = u.valToPos(p.from / 1000, 'x', true);
        const x1 = Math.max(x0 + 2, u.valToPos(p.to / 1000, 'x', true));
        ctx.fillStyle = 'rgba(255,255,255,0.09)';
        ctx.fillRect(x0, top, x1 - x0, height);
        ctx.fillStyle = `rgba(${LEVEL_RGB[p.level]},0.9)`;
        ctx.fillRect(x0, top, x1 - x0, 5 * devicePixelRatio);
      }
      // Threshold bands: from the threshold to the edge the alarm lies beyond, faint; the threshold dashed.
      for (const b of bands) {
        if (!shown(u, b.metric)) continue;
        const y = u.valToPos(b.value, b.metric, true);
        const [y0, y1] = b.direction === 'high' ? [top, y] : [y, top + height];
        ctx.fillStyle = `rgba(${LEVEL_RGB[b.level]},0.10)`;
        ctx.fillRect(left, y0, width, Math.max(0, y1 - y0));
        ctx.strokeStyle = `rgba(${LEVEL_RGB[b.level]},0.85)`;
        ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.lineWidth = devicePixelRatio;
        ctx.beginPath();
        ctx.moveTo(left, y);
        ctx.lineTo(left + width, y);
        ctx.stroke();
      }
      ctx.restore();
    };
    const label = (s) => `${names?.[s.metric] ?? s.metric} (${s.unit})`;
    const opts = {
      width: box.clientWidth || 600,
      height: 260,
      tzDate: (ts) => new Date(ts * 1000),
      scales,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      series: [{ label: t.time, value: (u, v) => (v === null ? '' : uPlot.fmtDate(timeFormat(minutes, lang))(new Date(v * 1000))) }, ...series.map((s, i) => ({ label: label(s), scale: s.metric, stroke: SERIES[i % SERIES.length], width: 1.5, spanGaps: false, points: { show: xs.length < 80 }, value: (u, v) => (v === null ? '–' : v.toFixed(2)) }))],
      axes: [
        { stroke: '#8aa0bb', grid: { stroke: '#1f3047' }, ticks: { stroke: '#2a3d57' }, values: (u, splits, ax, space, incr) => splits.map((v) => uPlot.fmtDate(tickFormat(incr, lang))(new Date(v * 1000))) },
        ...series.map((s, i) => ({ scale: s.metric, side: i % 2 === 0 ? 3 : 1, stroke: SERIES[i % SERIES.length], grid: { show: i === 0, stroke: '#1f3047' }, ticks: { stroke: '#2a3d57' }, size: 56, label: s.unit, labelSize: 18 })),
      ],
      hooks: { drawClear: [draw] },
    };
    const u = new uPlot(opts, data, box);
    box.__uplot = u;
    const resize = new ResizeObserver(() => u.setSize({ width: box.clientWidth || 600, height: 260 }));
    resize.observe(box);
    return () => (resize.disconnect(), u.destroy(), (box.__uplot = undefined));
  }, [chart, bands, periods, lang]);
  if (series.length === 0) return html`<div class="muted" data-testid="trend-empty" data-minutes=${minutes}>${t.noData}</div>`;
  const points = Object.fromEntries(series.map((s) => [s.metric, s.points.filter((p) => p[1] !== null).length]));
  return html`<div class="trend-chart" data-testid="trend-chart" data-minutes=${minutes} data-from=${chart.from} data-to=${chart.to}
      data-points=${JSON.stringify(points)} data-bands=${JSON.stringify(bands.filter((b) => points[b.metric] !== undefined))} data-periods=${JSON.stringify(periods)}>
    <div ref=${el}></div>
    <div class="trend-key muted">
      ${bands.length ? html`<span><i class="band"></i>${t.thresholdBands}</span>` : null}
      ${periods.length ? html`<span><i class="period"></i>${t.alarmPeriods}</span>` : null}
    </div>
  </div>`;
}

export function RangePicker({ t, minutes, setMinutes }) {
  return html`<span class="ranges" role="group" aria-label=${t.range.label} data-testid="range-picker">
    ${RANGES.map((m) => html`<button class=${m === minutes ? 'on' : ''} data-minutes=${m} onClick=${() => setMinutes(m)}>${t.range[m]}</button>`)}
  </span>`;
}
