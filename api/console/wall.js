// The big screen on the wall of the monitoring room (issue 15): counts by level and by state, a row per
// enterprise with its worst level, the worst hazard sources, and today's alarms per hour. Large type,
// dark, high contrast; ISA-101: colour only where something needs attention (a zero stays grey).
// Live: the console's stream refreshes /api/v1/overview on every alarm change, and the trend with it.
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);
const HOUR = 3_600_000;

const localMidnight = (ms) => {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
};

/** Open alarms by how far they are handled (the closed loop's states). */
export function stateCounts(alarms) {
  const c = { unacked: 0, acked: 0, toClose: 0 };
  for (const a of alarms) {
    if (a.state === 'active_unacknowledged' || a.state === 'cleared_unacknowledged') c.unacked++;
    else if (a.state === 'active_acknowledged') c.acked++;
    else if (a.state === 'cleared_acknowledged') c.toClose++;
  }
  return c;
}

const total = (counts) => counts[1] + counts[2] + counts[3] + counts[4];

function Tile({ label, value, cls, testid, attrs }) {
  return html`<div class=${`tile ${value ? cls : 'zero'}`} data-testid=${testid} data-count=${value} ...${attrs ?? {}}>
    <div class="n">${value}</div><div class="label">${label}</div>
  </div>`;
}

export function WallPage({ t, lang, overview, alarms, api, now }) {
  const w = t.wall;
  const [trend, setTrend] = useState();
  const root = useRef();
  // The trend follows the overview: it is fetched again whenever the stream has refreshed that.
  useEffect(() => {
    const from = localMidnight(Date.now());
    api('GET', `/api/v1/alarms/trend?hours=24&from=${from}`).then(setTrend, () => {});
  }, [overview?.at]);
  if (!overview) return html`<div class="wall" data-testid="wall"><div class="muted">…</div></div>`;
  const counts = overview.counts;
  const states = stateCounts(alarms);
  // The level of the worst alarm still waiting for a signature: the colour of the "unacknowledged" tile.
  const worstUnacked = Math.min(5, ...alarms.filter((a) => a.state === 'active_unacknowledged' || a.state === 'cleared_unacknowledged').map((a) => a.level));
  const sources = overview.sources
    .filter((s) => s.worstLevel)
    .sort((a, b) => a.worstLevel - b.worstLevel || total(b.counts) - total(a.counts) || a.name.localeCompare(b.name))
    .slice(0, 8);
  const entName = new Map(overview.enterprises.map((e) => [e.id, e.name]));
  const enterprises = [...overview.enterprises].sort((a, b) => (a.worstLevel ?? 9) - (b.worstLevel ?? 9) || total(b.counts) - total(a.counts) || a.name.localeCompare(b.name));
  const full = () => (document.fullscreenElement ? document.exitFullscreen() : root.current?.requestFullscreen?.())?.catch?.(() => {});
  return html`<div class="wall" data-testid="wall" ref=${root}>
    <header>
      <h2>${w.title}</h2>
      <span class="grow"></span>
      <span class="clock">${new Date(now).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false })}</span>
      <button onClick=${full} data-testid="full-screen">${w.fullScreen}</button>
    </header>
    <section class="tiles">
      <div class="group" data-testid="wall-levels">
        <h3>${w.levels}</h3>
        <div class="row">${[1, 2, 3, 4].map((l) => html`<${Tile} label=${t.level[l]} value=${counts[l]} cls=${`l${l}`} testid=${`wall-level-${l}`} attrs=${{ 'data-level': l }} />`)}</div>
      </div>
      <div class="group" data-testid="wall-states">
        <h3>${w.states}</h3>
        <div class="row">
          <${Tile} label=${w.unacked} value=${states.unacked} cls=${`attn l${worstUnacked}`} testid="wall-unacked" />
          <${Tile} label=${w.acked} value=${states.acked} cls="plain" testid="wall-acked" />
          <${Tile} label=${w.toClose} value=${states.toClose} cls="plain" testid="wall-to-close" />
        </div>
      </div>
    </section>
    <section class="lists">
      <div class="group">
        <h3>${w.enterprises}</h3>
        <table data-testid="wall-enterprises">
          <thead><tr><th></th><th>${w.worst}</th>${[1, 2, 3, 4].map((l) => html`<th>${t.levelShort[l]}</th>`)}<th>${w.online}</th></tr></thead>
          <tbody>${enterprises.map(
            (e) => html`<tr data-enterprise=${e.id} data-worst=${e.worstLevel ?? ''}>
              <td class="name">${e.name}</td>
              <td>${e.worstLevel ? html`<span class=${`badge l${e.worstLevel}`}>${t.level[e.worstLevel]}</span>` : html`<span class="quiet">${w.none}</span>`}</td>
              ${[1, 2, 3, 4].map((l) => html`<td class=${`num ${e.counts[l] ? `n l${l}` : 'quiet'}`} data-level=${l}>${e.counts[l]}</td>`)}
              <td class=${`num ${e.devicesOnline < e.devices ? 'short' : 'quiet'}`}>${e.devicesOnline}/${e.devices}</td>
            </tr>`,
          )}</tbody>
        </table>
      </div>
      <div class="group">
        <h3>${w.sources}</h3>
        ${sources.length === 0
          ? html`<div class="quiet big" data-testid="wall-no-sources">${w.noSources}</div>`
          : html`<table data-testid="wall-sources"><tbody>${sources.map(
              (s) => html`<tr data-source=${`${s.enterprise}/${s.id}`} data-worst=${s.worstLevel}>
                <td><span class=${`badge l${s.worstLevel}`}>${t.levelShort[s.worstLevel]}</span></td>
                <td class="name">${s.name}<div class="quiet">${entName.get(s.enterprise) ?? s.enterprise} · ${t.grade(s.grade)}</div></td>
                <td class="num">${total(s.counts)}</td>
              </tr>`,
            )}</tbody></table>`}
      </div>
    </section>
    <section class="group trend">
      <h3>${w.trend}${trend ? html` <span class="quiet" data-testid="wall-trend-total">${w.total(trend.buckets.reduce((n, b) => n + b.count, 0))}</span>` : null}</h3>
      ${trend ? html`<${Bars} t=${t} trend=${trend} now=${now} />` : html`<div class="quiet">…</div>`}
    </section>
  </div>`;
}

/** Alarms raised per hour today, as bars: neutral grey (history asks for no action); the hour now outlined. */
function Bars({ t, trend, now }) {
  const W = 1200;
  const H = 220;
  const top = 28;
  const bottom = 30;
  const n = trend.buckets.length;
  const max = Math.max(1, ...trend.buckets.map((b) => b.count));
  const step = W / n;
  const bw = step * 0.7;
  const y = (v) => top + (1 - v / max) * (H - top - bottom);
  return html`<svg class="bars" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label=${t.wall.trend} data-testid="wall-trend">
    <line x1="0" x2=${W} y1=${H - bottom} y2=${H - bottom} class="axis" />
    ${trend.buckets.map((b, i) => {
      const x = i * step + (step - bw) / 2;
      const hour = new Date(b.at).getHours();
      const current = now >= b.at && now < b.at + HOUR;
      return html`<g data-hour=${hour} data-at=${b.at} data-count=${b.count} class=${current ? 'now' : ''}>
        <rect x=${x} y=${y(b.count)} width=${bw} height=${Math.max(0, H - bottom - y(b.count))} />
        ${b.count ? html`<text x=${x + bw / 2} y=${y(b.count) - 6} text-anchor="middle" class="count">${b.count}</text>` : null}
        ${hour % 2 === 0 ? html`<text x=${x + bw / 2} y=${H - 8} text-anchor="middle" class="hour">${t.wall.hour(hour)}</text>` : null}
      </g>`;
    })}
  </svg>`;
}
