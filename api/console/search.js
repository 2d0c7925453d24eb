// Alarm search over the whole history (issue 15): a filter form (time range, level, state, enterprise,
// device class, condition, device id), the results a page at a time with the total, and exports of
// the same filter as CSV or Excel: plain links to GET /api/v1/alarms/export (the session cookie
// authenticates; the server applies the enterprise boundary and audits the export).
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import * as icon from './icons.js';
import { alarmDetail } from './i18n.js';

const html = htm.bind(h);
const PAGE = 20;
const STATES = ['active_unacknowledged', 'active_acknowledged', 'cleared_unacknowledged', 'cleared_acknowledged', 'shelved', 'out_of_service', 'closed'];
const EMPTY = { from: '', to: '', level: '', state: '', enterprise: '', deviceClass: '', condition: '', q: '' };

/** The query string of a filter: datetime-local values are the browser's local time. */
export function searchQuery(f) {
  const p = new URLSearchParams();
  if (f.from) p.set('from', String(new Date(f.from).getTime()));
  if (f.to) p.set('to', String(new Date(f.to).getTime()));
  for (const k of ['level', 'state', 'enterprise', 'deviceClass', 'condition', 'q']) if (f[k]) p.set(k, f[k].trim());
  return p.toString();
}

export function SearchPage({ t, lang, catalog, user, api }) {
  const s = t.search;
  const [form, setForm] = useState(EMPTY);
  const [applied, setApplied] = useState(EMPTY);
  const [offset, setOffset] = useState(0);
  const [result, setResult] = useState();
  const [error, setError] = useState('');
  const [enterprises, setEnterprises] = useState([]);
  const several = user.role !== 'enterprise';
  useEffect(() => {
    if (several) api('GET', '/api/v1/enterprises').then(setEnterprises, () => {});
  }, []);
  const query = searchQuery(applied);
  useEffect(() => {
    setError('');
    api('GET', `/api/v1/alarms?${query}${query ? '&' : ''}limit=${PAGE}&offset=${offset}`).then(setResult, (e) => (setError(e.message), setResult({ total: 0, alarms: [] })));
  }, [query, offset]);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    setApplied({ ...form });
    setOffset(0);
  };
  const reset = () => (setForm(EMPTY), setApplied(EMPTY), setOffset(0));
  const word = (spec) => (lang === 'zh' ? spec.zh : spec.title);
  const exportUrl = (format, part) => `/api/v1/alarms/export?${query}${query ? '&' : ''}format=${format}&lang=${lang}${part ? `&part=${part}` : ''}`;
  const total = result?.total ?? 0;
  const shown = result?.alarms ?? [];
  const select = (k, label, options) => html`<label>${label}
    <select name=${k} value=${form[k]} onChange=${set(k)}>
      <option value="">${s.any}</option>
      ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
    </select></label>`;
  return html`<div class="panel page search" data-testid="search">
    <header>
      <button onClick=${() => (location.hash = '')}>${icon.back()} ${t.back}</button>
      <h2>${s.title}</h2><span style="flex:1"></span>
      <a class="button" href=${exportUrl('csv')} download data-testid="export-csv">${s.exportCsv}</a>
      <a class="button" href=${exportUrl('xlsx')} download data-testid="export-xlsx">${s.exportXlsx}</a>
      <a class="button" href=${exportUrl('csv', 'history')} download data-testid="export-history">${s.exportHistory}</a>
    </header>
    <div class="body">
      <form class="filters" onSubmit=${submit} data-testid="search-form">
        <label>${s.from}<input type="datetime-local" name="from" value=${form.from} onInput=${set('from')} /></label>
        <label>${s.to}<input type="datetime-local" name="to" value=${form.to} onInput=${set('to')} /></label>
        ${select('level', t.search.level, [1, 2, 3, 4].map((l) => [String(l), t.level[l]]))}
        ${select('state', t.state, STATES.map((st) => [st, t.states[st] ?? st]))}
        ${several && select('enterprise', t.enterprise, enterprises.map((e) => [e.id, e.name || e.id]))}
        ${select('deviceClass', s.deviceClass, Object.entries(catalog?.deviceClasses ?? {}).map(([id, spec]) => [id, word(spec)]))}
        ${select('condition', t.condition, Object.entries(catalog?.conditions ?? {}).map(([id, spec]) => [id, word(spec)]))}
        <label>${s.text}<input name="q" value=${form.q} onInput=${set('q')} maxlength="64" /></label>
        <span class="actions"><button type="submit" class="primary">${s.find}</button><button type="button" onClick=${reset}>${s.reset}</button></span>
      </form>
      ${error && html`<p role="alert">${error}</p>`}
      <div class="pager">
        <span data-testid="search-total">${total ? s.range(offset + 1, offset + shown.length, total) : s.none}</span>
        <span style="flex:1"></span>
        <button disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - PAGE))} data-testid="prev">${s.prev}</button>
        <button disabled=${offset + PAGE >= total} onClick=${() => setOffset(offset + PAGE)} data-testid="next">${s.next}</button>
      </div>
      <table data-testid="search-results">
        <thead><tr><th>${s.raisedAt}</th><th>${s.level}</th><th>${t.condition}</th><th>${t.enterprise}</th><th>${t.device}</th><th>${t.state}</th><th>${s.detail}</th></tr></thead>
        <tbody>${shown.map(
          (a) => html`<tr data-id=${a.id}>
            <td class="num">${new Date(a.raisedAt).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false })}</td>
            <td><span class=${`chip lvl l${a.level}`}>${a.level} ${t.levelShort[a.level]}</span></td>
            <td>${catalog?.conditions?.[a.condition] ? word(catalog.conditions[a.condition]) : a.condition}</td>
            <td>${a.enterprise}</td>
            <td>${a.enterprise === 'platform' ? a.device : html`<a href=${`#/device/${a.enterprise}/${a.device}`}>${a.device}</a>`}</td>
            <td>${t.states[a.state] ?? a.state}</td>
            <td class="muted">${alarmDetail(a, catalog, lang)}</td>
          </tr>`,
        )}</tbody>
      </table>
    </div>
  </div>`;
}
