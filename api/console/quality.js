// Alarm quality (issue 17): the ISA-18.2 / EEMUA 191 figures of GET /api/v1/alarm-quality beside their
// benchmarks, the bad actors, chattering and standing alarms, response times by level, the printable
// monthly report; and, for the monitoring room, the platform's own processes as they last said on
// hw/platform (ingest's spool, reporting upward to the province: connected, backlog).
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import * as icon from './icons.js';

const html = htm.bind(h);
const DAY = 86_400_000;
const pct = (x) => `${(x * 100).toFixed(1)} %`;

export function QualityPage({ t, lang, catalog, user, api, can }) {
  const q = t.quality;
  const [days, setDays] = useState(30);
  const [f, setF] = useState();
  const [platform, setPlatform] = useState();
  const [error, setError] = useState('');
  useEffect(() => {
    const to = Date.now();
    setF(undefined);
    api('GET', `/api/v1/alarm-quality?from=${to - days * DAY}&to=${to}`).then(setF, (e) => setError(e.message));
  }, [days]);
  useEffect(() => {
    if (!can(user, catalog, 'platform.read')) return;
    const load = () => api('GET', '/api/v1/platform').then(setPlatform, () => {});
    load();
    const timer = setInterval(load, 10_000);
    return () => clearInterval(timer);
  }, [catalog]);
  const cond = (c) => (lang === 'zh' ? catalog?.conditions?.[c]?.zh : catalog?.conditions?.[c]?.title) ?? c;
  const b = f?.benchmarks;
  const row = (label, value, benchmark, ok, key) =>
    html`<tr data-figure=${key} class=${ok === false ? 'over' : ''}><td>${label}</td><td class="num">${value}</td><td class="muted">${benchmark}</td></tr>`;
  return html`<div class="panel page quality" data-testid="quality">
    <header>
      <button onClick=${() => (location.hash = '')}>${icon.back()} ${t.back}</button>
      <h2>${q.title}</h2><span style="flex:1"></span>
      ${[7, 30].map((d) => html`<button class=${d === days ? 'on' : ''} onClick=${() => setDays(d)} data-days=${d}>${q.lastDays(d)}</button>`)}
      <a class="button" href=${`/api/v1/alarm-quality/report?lang=${lang}`} target="_blank" rel="noopener" data-testid="monthly-report">${q.report}</a>
    </header>
    <div class="body">
      ${error && html`<p role="alert">${error}</p>`}
      ${!f && !error && html`<p class="muted">…</p>`}
      ${f &&
      html`<table class="figures" data-testid="figures">
          <thead><tr><th></th><th>${q.figure}</th><th>${q.benchmark}</th></tr></thead>
          <tbody>
            ${row(q.raised, f.raised, '', undefined, 'raised')}
            ${row(q.actionable, f.actionable, '', undefined, 'actionable')}
            ${row(q.per10, `${f.perTenMinutes.average} / ${f.perTenMinutes.peak}`, `≤ ${b.perTenMinutesAcceptable} (${b.perTenMinutesManageable})`, f.perTenMinutes.average <= b.perTenMinutesAcceptable, 'per10')}
            ${row(q.perDay, `${f.perDay.average} / ${f.perDay.peak}`, `≤ ${b.perDayAcceptable} (${b.perDayManageable})`, f.perDay.average <= b.perDayAcceptable, 'perDay')}
            ${row(q.flood, `${pct(f.flood.share)} · ${q.longest(f.flood.longestMinutes)}`, `< ${pct(b.floodShareTarget)}`, f.flood.share < b.floodShareTarget, 'flood')}
            ${row(q.topTen, pct(f.topTenShare), `≤ ${pct(b.topTenShareTarget)}`, f.topTenShare <= b.topTenShareTarget, 'topTen')}
            ${row(q.chattering, f.chattering.length, '0', f.chattering.length === 0, 'chattering')}
            ${row(q.standing, f.standing.length, `< ${b.staleTarget}`, f.standing.length < b.staleTarget, 'standing')}
          </tbody>
        </table>
        <h3>${q.badActors}</h3>
        ${f.topTen.length
          ? html`<table data-testid="bad-actors"><thead><tr><th>${t.device}</th><th>${t.condition}</th><th>${q.count}</th><th>${q.share}</th></tr></thead>
              <tbody>${f.topTen.map((a) => html`<tr><td><a href=${`#/device/${a.enterprise}/${a.device}`}>${a.device}</a> <span class="muted">${a.enterprise}</span></td><td>${cond(a.condition)}</td><td class="num">${a.count}</td><td class="num">${pct(a.share)}</td></tr>`)}</tbody></table>`
          : html`<p class="muted">${q.none}</p>`}
        <h3>${q.response}</h3>
        <table data-testid="response"><thead><tr><th>${q.level}</th><th>${q.count}</th><th>${q.ackMedian}</th><th>${q.ackP90}</th><th>${q.closeMedian}</th><th>${q.closeP90}</th><th>${q.unacked}</th></tr></thead>
          <tbody>${[1, 2, 3, 4].map((l) => {
            const r = f.response[l];
            const m = (x) => (x === null ? '–' : x);
            return html`<tr><td><span class=${`chip l${l}`}>${t.levelShort[l]}</span></td><td class="num">${f.byLevel[l]}</td><td class="num">${m(r.acknowledge.medianMinutes)}</td><td class="num">${m(r.acknowledge.p90Minutes)}</td><td class="num">${m(r.close.medianMinutes)}</td><td class="num">${m(r.close.p90Minutes)}</td><td class="num">${r.unacknowledged}</td></tr>`;
          })}</tbody></table>`}
      ${platform &&
      html`<h3>${q.platform}</h3>
        <table data-testid="platform"><thead><tr><th>${q.process}</th><th>${q.state}</th><th>${q.backlog}</th><th>${q.lastError}</th></tr></thead>
          <tbody>${platform.length
            ? platform.map((p) => {
                const s = p.state ?? {};
                const state = p.service === 'northbound' ? (s.connected ? q.connected : q.disconnected) : (q.spool[s.state] ?? s.state ?? '');
                const backlog = p.service === 'northbound' ? q.rows(s.backlog?.rows ?? 0, s.backlog?.oldestAgeS ?? 0) : s.spool ? q.messages(s.spool.messages) : '';
                return html`<tr data-service=${p.service} data-instance=${p.instance}><td>${q.services[p.service] ?? p.service} <span class="muted">${p.instance}</span></td><td>${state}</td><td class="num">${backlog}</td><td class="muted">${s.lastError?.message ?? s.message ?? ''}</td></tr>`;
              })
            : html`<tr><td colspan="4" class="muted">${q.none}</td></tr>`}</tbody></table>`}
    </div>
  </div>`;
}
