// Hidden dangers (隐患, issue 16): '#/dangers' lists them with filters and overdue badges, a page at a
// time; '#/dangers/<id>' is one danger with its evidence (thumbnails of photos, links to PDFs), upload,
// the actions the account may take in its state, and its history; '#/dangers?alarm=<id>' opens the
// form prefilled from that alarm (the alarm's detail links here: one click). The server decides what
// is allowed; the buttons only show what the permission table and the state offer.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import * as icon from './icons.js';
import { alarmDetail } from './i18n.js';

const html = htm.bind(h);
const PAGE = 20;
const DAY = 86_400_000;
const STATES = ['open', 'rectified', 'rechecked', 'closed'];
const EVIDENCE_ACCEPT = 'image/jpeg,image/png,image/webp,application/pdf,.jpg,.jpeg,.png,.webp,.pdf';

/** A datetime-local value (the browser's local time) for epoch ms, and back. */
const localInput = (ms) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};
const fromLocal = (v) => (v ? new Date(v).getTime() : NaN);

export function fmtWhen(ms, lang) {
  return ms ? new Date(ms).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false }) : '';
}

/** The route of '#/dangers…': a danger's id, or the list (with an alarm to open a danger from). */
export function dangerRoute(hash) {
  const m = hash.match(/^#\/dangers(?:\/([^?/]+))?(?:\?(.*))?$/);
  if (!m) return null;
  const params = new URLSearchParams(m[2] ?? '');
  return { id: m[1] ? decodeURIComponent(m[1]) : null, alarm: params.get('alarm') };
}

function Badges({ d, t }) {
  const s = t.dangers;
  return html`<span class="danger-badges">
    <span class=${`chip grade-${d.grade}`} data-grade=${d.grade}>${s.grades[d.grade]}</span>
    <span class=${`state danger-${d.state}`} data-state=${d.state}>${s.states[d.state]}</span>
    ${d.overdue ? html`<span class="badge bad overdue" data-testid="overdue">${icon.warning()} ${s.overdue}</span>` : null}
    ${d.escalatedTier ? html`<span class="badge warn" data-tier=${d.escalatedTier}>${s.tier(d.escalatedTier)}</span>` : null}
  </span>`;
}

export function DangersPage({ t, lang, catalog, user, api, can, hash }) {
  const route = dangerRoute(hash) ?? { id: null, alarm: null };
  if (route.id) return html`<${DangerDetail} t=${t} lang=${lang} catalog=${catalog} user=${user} api=${api} can=${can} id=${route.id} />`;
  return html`<${DangerList} t=${t} lang=${lang} catalog=${catalog} user=${user} api=${api} can=${can} alarm=${route.alarm} />`;
}

function DangerList({ t, lang, catalog, user, api, can, alarm }) {
  const s = t.dangers;
  const [filter, setFilter] = useState({ state: '', grade: '', enterprise: '', overdue: false });
  const [offset, setOffset] = useState(0);
  const [result, setResult] = useState();
  const [error, setError] = useState('');
  const [creating, setCreating] = useState(!!alarm);
  const [enterprises, setEnterprises] = useState([]);
  const [tick, setTick] = useState(0);
  const several = user.role !== 'enterprise';
  useEffect(() => {
    if (several) api('GET', '/api/v1/enterprises').then(setEnterprises, () => {});
  }, []);
  useEffect(() => setCreating(!!alarm), [alarm]);
  const query = new URLSearchParams();
  if (filter.state) query.set('state', filter.state);
  if (filter.grade) query.set('grade', filter.grade);
  if (filter.enterprise) query.set('enterprise', filter.enterprise);
  if (filter.overdue) query.set('overdue', 'true');
  const qs = query.toString();
  useEffect(() => {
    setError('');
    api('GET', `/api/v1/dangers?${qs}${qs ? '&' : ''}limit=${PAGE}&offset=${offset}`).then(setResult, (e) => (setError(e.message), setResult({ total: 0, dangers: [] })));
  }, [qs, offset, tick]);
  const set = (k) => (e) => (setFilter({ ...filter, [k]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value }), setOffset(0));
  const names = new Map(enterprises.map((e) => [e.id, e.name || e.id]));
  const total = result?.total ?? 0;
  const shown = result?.dangers ?? [];
  return html`<div class="panel page search dangers" data-testid="dangers">
    <header>
      <button onClick=${() => (location.hash = '')}>${icon.back()} ${t.back}</button>
      <h2>${s.title}</h2><span style="flex:1"></span>
      ${can(user, catalog, 'danger.write') && html`<button class="primary" onClick=${() => setCreating(true)} data-testid="new-danger">${s.newDanger}</button>`}
    </header>
    <div class="body">
      ${creating &&
      html`<${DangerForm} t=${t} lang=${lang} catalog=${catalog} user=${user} api=${api} alarmId=${alarm} enterprises=${enterprises}
        onCancel=${() => (setCreating(false), alarm && (location.hash = '#/dangers'))}
        onDone=${(d) => (setCreating(false), setTick(tick + 1), (location.hash = `#/dangers/${encodeURIComponent(d.id)}`))} />`}
      <form class="filters" onSubmit=${(e) => e.preventDefault()} data-testid="danger-filters">
        <label>${t.state}<select name="state" value=${filter.state} onChange=${set('state')}>
          <option value="">${s.any}</option>${STATES.map((st) => html`<option value=${st}>${s.states[st]}</option>`)}
        </select></label>
        <label>${s.grade}<select name="grade" value=${filter.grade} onChange=${set('grade')}>
          <option value="">${s.any}</option>${['general', 'major'].map((g) => html`<option value=${g}>${s.grades[g]}</option>`)}
        </select></label>
        ${several &&
        html`<label>${t.enterprise}<select name="enterprise" value=${filter.enterprise} onChange=${set('enterprise')}>
          <option value="">${s.any}</option>${enterprises.map((e) => html`<option value=${e.id}>${e.name || e.id}</option>`)}
        </select></label>`}
        <label class="check"><span><input type="checkbox" name="overdue" checked=${filter.overdue} onChange=${set('overdue')} /> ${s.overdueOnly}</span></label>
      </form>
      ${error && html`<p role="alert">${error}</p>`}
      <div class="pager">
        <span data-testid="danger-total">${total ? s.range(offset + 1, offset + shown.length, total) : s.none}</span>
        <span style="flex:1"></span>
        <button disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - PAGE))}>${s.prev}</button>
        <button disabled=${offset + PAGE >= total} onClick=${() => setOffset(offset + PAGE)}>${s.next}</button>
      </div>
      <table data-testid="danger-list">
        <thead><tr><th>${s.titleField}</th><th>${t.enterprise}</th><th>${s.grade}</th><th>${t.state}</th><th>${s.deadline}</th><th>${s.responsible}</th></tr></thead>
        <tbody>${shown.map(
          (d) => html`<tr data-danger-id=${d.id} data-state=${d.state} data-overdue=${d.overdue ? 'true' : 'false'} class=${d.overdue ? 'overdue' : ''}>
            <td><a href=${`#/dangers/${encodeURIComponent(d.id)}`}>${d.title}</a></td>
            <td>${names.get(d.enterprise) ?? d.enterprise}</td>
            <td><span class=${`chip grade-${d.grade}`}>${s.grades[d.grade]}</span></td>
            <td><span class=${`state danger-${d.state}`}>${s.states[d.state]}</span></td>
            <td class="num">${fmtWhen(d.deadline, lang)}${d.overdue ? html` <span class="badge bad overdue">${s.overdue}</span>` : null}</td>
            <td>${d.responsible.name}${d.responsible.phone ? html` <span class="muted">${d.responsible.phone}</span>` : null}</td>
          </tr>`,
        )}</tbody>
      </table>
    </div>
  </div>`;
}

/** A new danger: by hand, or prefilled from an alarm (enterprise, device, hazard source, title, text). */
function DangerForm({ t, lang, catalog, user, api, alarmId, enterprises, onCancel, onDone }) {
  const s = t.dangers;
  const [form, setForm] = useState({ title: '', description: '', grade: 'general', origin: 'inspection', enterprise: user.enterprise ?? '', hazardSource: '', name: '', phone: '', deadline: localInput(Date.now() + 7 * DAY) });
  const [alarm, setAlarm] = useState(null);
  const [sources, setSources] = useState([]);
  const [error, setError] = useState('');
  useEffect(() => {
    if (!alarmId) return;
    api('GET', `/api/v1/alarms/${encodeURIComponent(alarmId)}`).then(({ alarm: a }) => {
      setAlarm(a);
      const condition = catalog?.conditions?.[a.condition];
      const title = `${condition ? (lang === 'zh' ? condition.zh : condition.title) : a.condition} · ${a.device}`;
      setForm((f) => ({ ...f, origin: 'alarm', enterprise: a.enterprise, hazardSource: a.hazardSource ?? '', title, description: alarmDetail(a, catalog, lang), grade: a.level <= 2 ? 'major' : 'general' }));
    }, (e) => setError(e.message));
  }, [alarmId, catalog]);
  useEffect(() => {
    if (!form.enterprise) return setSources([]);
    api('GET', `/api/v1/enterprises/${encodeURIComponent(form.enterprise)}/hazard-sources`).then(setSources, () => setSources([]));
  }, [form.enterprise]);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setError('');
    const body = {
      ...(alarm ? { alarmId: alarm.id } : { enterprise: form.enterprise || undefined, origin: form.origin }),
      hazardSource: form.hazardSource || (alarm ? undefined : null),
      title: form.title.trim() || undefined,
      description: form.description,
      grade: form.grade,
      responsible: { name: form.name, phone: form.phone },
      deadline: fromLocal(form.deadline),
    };
    try {
      const r = await api('POST', '/api/v1/dangers', body);
      onDone(r.danger);
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<form class="danger-form" onSubmit=${submit} data-testid="danger-form">
    <h3>${s.newDanger}${alarm ? html` <span class="muted" data-testid="from-alarm">${s.fromAlarm} ${alarm.device}</span>` : null}</h3>
    <div class="grid">
      <label>${s.titleField}<input name="title" required maxlength="200" value=${form.title} onInput=${set('title')} /></label>
      <label>${s.grade}<select name="grade" value=${form.grade} onChange=${set('grade')}>${['general', 'major'].map((g) => html`<option value=${g}>${s.grades[g]}</option>`)}</select></label>
      ${!alarm &&
      html`<label>${s.origin}<select name="origin" value=${form.origin} onChange=${set('origin')}>${['inspection', 'manual'].map((o) => html`<option value=${o}>${s.origins[o]}</option>`)}</select></label>`}
      ${user.role !== 'enterprise' &&
      html`<label>${t.enterprise}<select name="enterprise" value=${form.enterprise} disabled=${!!alarm} onChange=${set('enterprise')} required>
        <option value=""></option>${enterprises.map((x) => html`<option value=${x.id}>${x.name || x.id}</option>`)}
        ${alarm && !enterprises.some((x) => x.id === alarm.enterprise) ? html`<option value=${alarm.enterprise}>${alarm.enterprise}</option>` : null}
      </select></label>`}
      <label>${s.hazardSource}<select name="hazardSource" value=${form.hazardSource} onChange=${set('hazardSource')}>
        <option value="">${s.noneChosen}</option>${sources.map((x) => html`<option value=${x.id}>${x.name}</option>`)}
      </select></label>
      <label>${s.responsible}<input name="responsible" required maxlength="100" value=${form.name} onInput=${(e) => setForm({ ...form, name: e.currentTarget.value })} /></label>
      <label>${s.phone}<input name="phone" maxlength="50" value=${form.phone} onInput=${set('phone')} /></label>
      <label>${s.deadline}<input type="datetime-local" name="deadline" required value=${form.deadline} onInput=${set('deadline')} /></label>
    </div>
    <label class="wide">${s.description}<textarea name="description" rows="3" maxlength="4000" value=${form.description} onInput=${set('description')}></textarea></label>
    ${error && html`<div class="error" role="alert">${error}</div>`}
    <div class="row"><button type="button" onClick=${onCancel}>${t.cancel}</button><button class="primary" type="submit">${s.save}</button></div>
  </form>`;
}

/** What a history entry adds in words: the note, the new deadline, the tier, the evidence's name. */
function entryNote(e, t, lang) {
  const s = t.dangers;
  const d = e.data ?? {};
  return [
    e.note,
    e.action === 'escalated' && d.tier ? s.tier(d.tier) : null,
    (e.action === 'recheck_failed' || e.action === 'deadline_changed') && d.deadline ? `${s.newDeadline}: ${fmtWhen(d.deadline, lang)}` : null,
    e.action === 'opened' && d.deadline ? `${s.deadline}: ${fmtWhen(d.deadline, lang)}` : null,
    e.action === 'evidence_added' && d.name ? d.name : null,
  ]
    .filter(Boolean)
    .join(' · ');
}

function DangerDetail({ t, lang, catalog, user, api, can, id }) {
  const s = t.dangers;
  const [detail, setDetail] = useState();
  const [error, setError] = useState('');
  const [acting, setActing] = useState(null);
  const [busy, setBusy] = useState(false);
  const [uploadError, setUploadError] = useState('');
  const load = () => api('GET', `/api/v1/dangers/${encodeURIComponent(id)}`).then(setDetail, (e) => setError(e.message));
  useEffect(() => {
    setDetail(undefined);
    load();
  }, [id]);
  if (error) return html`<div class="panel page"><div class="body"><p class="error" role="alert">${error}</p><a href="#/dangers">${s.title}</a></div></div>`;
  if (!detail) return html`<div class="panel page muted">…</div>`;
  const d = detail.danger;
  const write = can(user, catalog, 'danger.write');
  const recheck = can(user, catalog, 'danger.recheck');
  const actions = [];
  if (d.state === 'open' && write) actions.push('rectify');
  if (d.state === 'rectified' && recheck && d.rectifiedBy !== user.username) actions.push('pass', 'fail');
  if (d.state === 'rechecked' && recheck) actions.push('close');
  if (d.state === 'open' && recheck) actions.push('deadline');
  const canUpload = write && (d.state === 'open' || d.state === 'rectified');
  const send = async (e) => {
    const file = e.currentTarget.files?.[0];
    if (!file) return;
    const input = e.currentTarget;
    setBusy(true);
    setUploadError('');
    try {
      const res = await fetch(`/api/v1/dangers/${encodeURIComponent(d.id)}/evidence?name=${encodeURIComponent(file.name)}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': file.type || 'application/octet-stream' },
        body: await file.arrayBuffer(),
      });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        setUploadError(body.code === 'HW_ERR_EVIDENCE_TYPE' ? s.wrongType : body.code === 'HW_ERR_EVIDENCE_TOO_LARGE' ? s.tooLarge : (body.message ?? `HTTP ${res.status}`));
      }
      await load();
    } finally {
      input.value = '';
      setBusy(false);
    }
  };
  const rows = [
    [t.enterprise, d.enterprise],
    [s.hazardSource, d.hazardSource],
    [t.device, d.device ? html`<a href=${`#/device/${d.enterprise}/${d.device}`}>${d.device}</a>` : null],
    [s.origin, s.origins[d.origin]],
    [s.responsible, [d.responsible.name, d.responsible.phone].filter(Boolean).join(' ')],
    [s.deadline, fmtWhen(d.deadline, lang)],
    [s.createdBy, `${d.createdBy} · ${fmtWhen(d.createdAt, lang)}`],
    [s.description, d.description],
  ].filter(([, v]) => v);
  return html`<div class="panel page danger-detail" data-testid="danger-detail" data-state=${d.state} data-danger-id=${d.id}>
    <header>
      <a class="button" href="#/dangers">${icon.back()} ${s.title}</a>
      <h2 data-testid="danger-title">${d.title}</h2>
      <${Badges} d=${d} t=${t} />
      <span style="flex:1"></span>
      ${actions.map((a) => html`<button class=${a === 'pass' || a === 'close' || a === 'rectify' ? 'primary' : ''} data-action=${a} onClick=${() => setActing(a)}>${s.actions[a]}</button>`)}
    </header>
    <div class="body">
      ${d.state === 'rectified' && recheck && d.rectifiedBy === user.username ? html`<p class="muted" data-testid="other-account">${s.otherAccount}</p>` : null}
      ${acting && html`<${ActionForm} t=${t} kind=${acting} danger=${d} api=${api} onCancel=${() => setActing(null)} onDone=${() => (setActing(null), load())} />`}
      <table class="hist info"><tbody>${rows.map(([k, v]) => html`<tr><td class="muted">${k}</td><td>${v}</td></tr>`)}</tbody></table>
      <h4>${s.evidence}</h4>
      <div class="evidence" data-testid="evidence-list">
        ${detail.evidence.length === 0 ? html`<span class="muted">${s.noEvidence}</span>` : null}
        ${detail.evidence.map(
          (e) => html`<a class="item" href=${e.url} target="_blank" rel="noopener" data-testid="evidence" data-type=${e.contentType} title=${`${e.name} · ${e.by} · ${fmtWhen(e.at, lang)}`}>
            ${e.contentType.startsWith('image/') ? html`<img src=${e.url} alt=${e.name} loading="lazy" />` : html`<span class="file">${s.document}</span>`}
            <span class="name">${e.name}</span><span class="muted">${s.size(e.size)}</span>
          </a>`,
        )}
      </div>
      ${canUpload &&
      html`<label class="upload button">${icon.upload()} ${s.upload}
        <input class="hidden-file" type="file" accept=${EVIDENCE_ACCEPT} onChange=${send} disabled=${busy} data-testid="evidence-file" /></label>`}
      ${uploadError && html`<div class="error" role="alert" data-testid="upload-error">${uploadError}</div>`}
      <h4>${s.history}</h4>
      <table class="hist" data-testid="danger-history">
        <tbody>${detail.history.map(
          (e) => html`<tr data-action-done=${e.action}>
            <td class="num">${fmtWhen(e.at, lang)}</td>
            <td>${s.actionDone[e.action] ?? e.action}</td>
            <td>${e.by === 'system' ? t.system : e.by}</td>
            <td>${entryNote(e, t, lang)}</td>
          </tr>`,
        )}</tbody>
      </table>
    </div>
  </div>`;
}

/** Rectified, recheck passed or failed (with the new deadline), closed, new deadline: a note each. */
function ActionForm({ t, kind, danger, api, onCancel, onDone }) {
  const s = t.dangers;
  const [note, setNote] = useState('');
  const [deadline, setDeadline] = useState(localInput(Math.max(Date.now(), danger.deadline) + 7 * DAY));
  const [error, setError] = useState('');
  const needsDeadline = kind === 'fail' || kind === 'deadline';
  const submit = async (e) => {
    e.preventDefault();
    const path = { rectify: 'rectify', pass: 'recheck', fail: 'recheck', close: 'close', deadline: 'deadline' }[kind];
    const body =
      kind === 'pass' ? { result: 'pass', note } : kind === 'fail' ? { result: 'fail', note, deadline: fromLocal(deadline) } : kind === 'deadline' ? { deadline: fromLocal(deadline), reason: note } : { note };
    try {
      await api('POST', `/api/v1/dangers/${encodeURIComponent(danger.id)}/${path}`, body);
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<form class="danger-action" onSubmit=${submit} data-testid="danger-action" data-kind=${kind}>
    <strong>${s.actions[kind]}</strong>
    ${needsDeadline && html`<label>${s.newDeadline}<input type="datetime-local" name="deadline" required value=${deadline} onInput=${(e) => setDeadline(e.currentTarget.value)} /></label>`}
    <label>${kind === 'deadline' ? s.reason : t.note}<textarea name="note" rows="2" required=${kind === 'deadline' || kind === 'fail'} value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea></label>
    ${error && html`<div class="error" role="alert">${error}</div>`}
    <div class="row"><button type="button" onClick=${onCancel}>${t.cancel}</button><button class="primary" type="submit">${t.submit}</button></div>
  </form>`;
}
