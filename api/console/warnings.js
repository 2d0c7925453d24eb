// Warning publication (预警发布, issue 16): '#/warnings' lists the warnings the account sees with their
// level, state and how far their messages got, filtered by state, with a form for a new one by hand;
// '#/warnings/<id>' is one warning: its texts, audiences and people, who drafted, submitted and
// approved it, the actions the account may take in its state (and why approval is not offered when
// it is not), every message per recipient and channel with its receipt or last error, refreshed while
// any is still on its way, and the history. A draft from an alarm is made in the alarm's detail
// (app.js: one POST, then this page). The server decides what is allowed; the buttons follow the
// permission table and the state. Every control is a native button, input or select: keyboard-usable.
import { h } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import * as icon from './icons.js';

const html = htm.bind(h);
const PAGE = 50;
/** While a message is queued or waiting for its delivery report, the detail is read again this often. */
const REFRESH_MS = 2000;
/** Otherwise the page still follows what others do (approve, send an update), a little slower; the list slower still. */
const IDLE_REFRESH_MS = 5000;
const LIST_REFRESH_MS = 15_000;
export const WARNING_STATES = ['draft', 'pending_approval', 'published', 'all_clear', 'rejected', 'withdrawn'];
const DELIVERY_STATES = ['queued', 'sent', 'delivered', 'failed'];
// Template texts are filled with these words, as the server fills them (warnings/templates.ts).
const LEVEL_ZH = { 1: '红色', 2: '橙色', 3: '黄色', 4: '蓝色' };
const LEVEL_EN = { 1: 'Red', 2: 'Orange', 3: 'Yellow', 4: 'Blue' };
// Publication templates (the update and the all-clear are filled by the server from the text given).
const PUBLICATION_TEMPLATES = ['update', 'all_clear'];

const locale = (lang) => (lang === 'zh' ? 'zh-CN' : 'en-GB');
const fmtWhen = (ms, lang) => (ms ? new Date(ms).toLocaleString(locale(lang), { hour12: false }) : '');
const enc = encodeURIComponent;

/** The route of '#/warnings…': a warning's id, or the list. */
export function warningRoute(hash) {
  const m = hash.match(/^#\/warnings(?:\/([^?/]+))?(?:\?.*)?$/);
  return m ? { id: m[1] ? decodeURIComponent(m[1]) : null } : null;
}

/** {placeholders} filled from `vars`; unknown ones stay as written, as the server leaves them. */
const fill = (text, vars) => text.replace(/\{([A-Za-z]+)\}/g, (whole, name) => vars[name] ?? whole);
function templateVars(level, enterpriseName) {
  const time = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date());
  return { level: String(level), levelZh: LEVEL_ZH[level], levelEn: LEVEL_EN[level], time, ...(enterpriseName ? { enterpriseName } : {}) };
}

const word = (table, code) => table?.[code] ?? code;
const audienceName = (catalog, id, lang) => {
  const a = catalog?.audiences.find((x) => x.id === id);
  return a ? (lang === 'zh' ? a.zh : a.en) : id;
};
const channelType = (catalog, name) => catalog?.channels.find((c) => c.name === name)?.type;

/** A receiver's answer in the view's words: the dispatcher's own phrases are known; a receiver's reason is shown as it came. */
function receiptWords(s, text, lang) {
  if (!text || lang !== 'zh') return text ?? '';
  const gateway = text.match(/^gateway accepted(?: \(id (.+)\))?$/);
  if (gateway) return s.receipts.gateway(gateway[1]);
  const report = text.match(/^delivery report: (.*)$/);
  if (report) return s.receipts.report(report[1] === 'delivered' ? s.deliveryStates.delivered : report[1]);
  for (const [k, v] of Object.entries(s.receipts.fixed)) if (text.startsWith(k)) return v;
  return text;
}

function LevelBadge({ t, level }) {
  return html`<span class=${`chip lvl l${level}`} data-level=${level} title=${t.level[level]}>${t.warnings.levels[level]}</span>`;
}
function StateBadge({ t, state }) {
  return html`<span class=${`state warning-${state}`} data-state=${state}>${t.warnings.states[state]}</span>`;
}

/** Messages by state of all they are: a bar in the states' colours and the numbers. */
function Progress({ t, p }) {
  const s = t.warnings;
  const total = DELIVERY_STATES.reduce((n, k) => n + (p?.[k] ?? 0), 0);
  if (!total) return html`<span class="muted" data-testid="progress" data-total="0">${s.noMessages}</span>`;
  return html`<span class="progress" data-testid="progress" data-total=${total} ...${Object.fromEntries(DELIVERY_STATES.map((k) => [`data-${k}`, p[k]]))}>
    <span class="bar" aria-hidden="true">${DELIVERY_STATES.map((k) => (p[k] ? html`<i class=${`d-${k}`} style=${`flex:${p[k]}`}></i>` : null))}</span>
    <span class="nums">${s.progress(p.delivered, p.sent, p.failed, total)}${p.queued ? html` · ${s.deliveryStates.queued} ${p.queued}` : null}</span>
  </span>`;
}

export function WarningsPage({ t, lang, catalog, user, api, can, hash }) {
  const route = warningRoute(hash) ?? { id: null };
  const [wcatalog, setWcatalog] = useState();
  const [enterprises, setEnterprises] = useState([]);
  useEffect(() => {
    api('GET', '/api/v1/warnings/catalog').then(setWcatalog, () => {});
    api('GET', '/api/v1/enterprises').then(setEnterprises, () => {});
  }, []);
  const names = new Map(enterprises.map((e) => [e.id, e.name || e.id]));
  const props = { t, lang, catalog, user, api, can, wcatalog, enterprises, names };
  return route.id ? html`<${WarningDetail} ...${props} id=${route.id} />` : html`<${WarningList} ...${props} />`;
}

function WarningList({ t, lang, catalog, user, api, can, wcatalog, enterprises, names }) {
  const s = t.warnings;
  const [state, setState] = useState('');
  const [offset, setOffset] = useState(0);
  const [list, setList] = useState();
  const [error, setError] = useState('');
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    setError('');
    const load = () => api('GET', `/api/v1/warnings?${state ? `state=${state}&` : ''}limit=${PAGE}&offset=${offset}`).then(setList, (e) => (setError(e.message), setList([])));
    load();
    // Others draft, approve and send at the same time: the list follows without a reload.
    const timer = setInterval(load, LIST_REFRESH_MS);
    return () => clearInterval(timer);
  }, [state, offset]);
  const shown = list ?? [];
  return html`<div class="panel page search warnings" data-testid="warnings">
    <header>
      <button onClick=${() => (location.hash = '')}>${icon.back()} ${t.back}</button>
      <h2>${s.title}</h2><span style="flex:1"></span>
      ${can(user, catalog, 'warning.draft') && html`<button class="primary" onClick=${() => setCreating(true)} data-testid="new-warning">${s.newWarning}</button>`}
    </header>
    <div class="body">
      ${creating &&
      html`<${WarningForm} t=${t} lang=${lang} api=${api} wcatalog=${wcatalog} enterprises=${enterprises}
        onCancel=${() => setCreating(false)} onDone=${(w) => (setCreating(false), (location.hash = `#/warnings/${enc(w.id)}`))} />`}
      <form class="filters" onSubmit=${(e) => e.preventDefault()} data-testid="warning-filters">
        <label>${t.state}<select name="state" value=${state} onChange=${(e) => (setState(e.currentTarget.value), setOffset(0))}>
          <option value="">${s.any}</option>${WARNING_STATES.map((st) => html`<option value=${st}>${s.states[st]}</option>`)}
        </select></label>
      </form>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="pager">
        <span data-testid="warning-count">${shown.length ? s.range(offset + 1, offset + shown.length) : list ? s.none : '…'}</span>
        <span style="flex:1"></span>
        <button disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - PAGE))}>${s.prev}</button>
        <button disabled=${shown.length < PAGE} onClick=${() => setOffset(offset + PAGE)}>${s.next}</button>
      </div>
      <table data-testid="warning-list">
        <thead><tr><th>${s.level}</th><th>${s.titleField}</th><th>${t.state}</th><th>${s.enterprises}</th><th>${s.created}</th><th>${s.publishedAt}</th><th>${s.progressTitle}</th></tr></thead>
        <tbody>${shown.map(
          (w) => html`<tr data-warning-id=${w.id} data-state=${w.state} data-level=${w.level}>
            <td><${LevelBadge} t=${t} level=${w.level} /></td>
            <td><a href=${`#/warnings/${enc(w.id)}`}>${w.title}</a>${w.area ? html`<div class="muted">${w.area}</div>` : null}</td>
            <td><${StateBadge} t=${t} state=${w.state} /></td>
            <td>${w.enterprises.length ? w.enterprises.map((e) => names.get(e) ?? e).join(t.listSep) : html`<span class="muted">${s.areaWide}</span>`}</td>
            <td class="num">${fmtWhen(w.createdAt, lang)}</td>
            <td class="num">${fmtWhen(w.publishedAt, lang)}</td>
            <td><${Progress} t=${t} p=${w.progress} /></td>
          </tr>`,
        )}</tbody>
      </table>
    </div>
  </div>`;
}

/** A warning by hand (or a draft changed): level, template, title, texts, enterprises, area, audiences. */
function WarningForm({ t, lang, api, wcatalog, enterprises, warning, onCancel, onDone }) {
  const s = t.warnings;
  const templates = (wcatalog?.templates ?? []).filter((x) => !PUBLICATION_TEMPLATES.includes(x.id));
  const defaultAudiences = (wcatalog?.audiences ?? []).filter((a) => a.channels.length > 0).map((a) => a.id).slice(0, 3);
  const [form, setForm] = useState(() =>
    warning
      ? { level: warning.level, template: '', title: warning.title, text: warning.text, textEn: warning.textEn, enterprises: warning.enterprises, area: warning.area, audiences: warning.audiences }
      : { level: 3, template: 'manual', title: '', text: '', textEn: '', enterprises: [], area: '', audiences: defaultAudiences },
  );
  // The texts last filled from the template: changing the level refills them only while nobody typed.
  const filled = useRef({ text: '', textEn: '' });
  const [error, setError] = useState('');
  const first = useRef();
  useLayoutEffect(() => first.current?.focus(), []);
  const refill = (f) => {
    const tpl = templates.find((x) => x.id === f.template);
    if (!tpl) return f;
    const one = f.enterprises.length === 1 ? enterprises.find((e) => e.id === f.enterprises[0]) : null;
    const vars = templateVars(Number(f.level), one ? one.name || one.id : undefined);
    filled.current = { text: fill(tpl.zh, vars), textEn: fill(tpl.en, vars) };
    return { ...f, ...filled.current };
  };
  // A new warning starts from its template once the catalog is there.
  useEffect(() => {
    if (warning || !wcatalog) return;
    setForm((f) => refill({ ...f, audiences: f.audiences.length ? f.audiences : defaultAudiences }));
  }, [wcatalog]);
  const untouched = (f) => f.text === filled.current.text && f.textEn === filled.current.textEn;
  const set = (k) => (e) => {
    const next = { ...form, [k]: k === 'level' ? Number(e.currentTarget.value) : e.currentTarget.value };
    setForm(k === 'template' || ((k === 'level' || k === 'enterprises') && untouched(form)) ? refill(next) : next);
  };
  const toggle = (k, id) => (e) => {
    const list = e.currentTarget.checked ? [...form[k], id] : form[k].filter((x) => x !== id);
    const next = { ...form, [k]: list };
    setForm(k === 'enterprises' && untouched(form) ? refill(next) : next);
  };
  const submit = async (e) => {
    e.preventDefault();
    setError('');
    if (form.audiences.length === 0) return setError(s.chooseAudience);
    try {
      const w = warning
        ? await api('PUT', `/api/v1/warnings/${enc(warning.id)}`, { level: form.level, title: form.title, text: form.text, textEn: form.textEn, enterprises: form.enterprises, area: form.area, audiences: form.audiences, alarmId: warning.alarmId })
        : await api('POST', '/api/v1/warnings', {
            level: form.level,
            ...(form.template ? { template: form.template } : {}),
            // Left blank, the title and texts come from the template (the server fills them).
            ...(form.title.trim() ? { title: form.title.trim() } : {}),
            ...(form.text.trim() ? { text: form.text } : {}),
            ...(form.textEn.trim() ? { textEn: form.textEn } : {}),
            enterprises: form.enterprises,
            area: form.area,
            audiences: form.audiences,
          });
      onDone(w);
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<form class="warning-form" onSubmit=${submit} onKeyDown=${(e) => e.key === 'Escape' && onCancel()} data-testid="warning-form" aria-label=${warning ? s.actions.edit : s.newWarning}>
    <h3>${warning ? s.actions.edit : s.newWarning}</h3>
    <div class="grid">
      <label>${s.level}<select name="level" ref=${first} value=${form.level} onChange=${set('level')}>${[1, 2, 3, 4].map((l) => html`<option value=${l}>${s.levels[l]}</option>`)}</select></label>
      <label>${s.template}<select name="template" value=${form.template} onChange=${set('template')}>
        ${warning ? html`<option value="">${s.keepText}</option>` : null}
        ${templates.map((x) => html`<option value=${x.id}>${word(s.templates, x.id)}</option>`)}
      </select></label>
      <label class="span2">${s.titleField}<input name="title" maxlength="200" required=${!!warning} placeholder=${warning ? '' : s.titleHint} value=${form.title} onInput=${set('title')} /></label>
      <label>${s.area}<input name="area" maxlength="200" value=${form.area} onInput=${set('area')} /></label>
    </div>
    <label class="wide">${s.text}<textarea name="text" rows="3" maxlength="2000" required=${!!warning} value=${form.text} onInput=${set('text')}></textarea></label>
    <label class="wide">${s.textEn}<textarea name="textEn" rows="3" maxlength="2000" value=${form.textEn} onInput=${set('textEn')}></textarea></label>
    <fieldset data-testid="warning-enterprises"><legend>${s.enterprises} <span class="muted">${s.enterprisesHint}</span></legend>
      ${enterprises.map((x) => html`<label class="check"><input type="checkbox" name="enterprise" value=${x.id} checked=${form.enterprises.includes(x.id)} onChange=${toggle('enterprises', x.id)} /> ${x.name || x.id}</label>`)}
    </fieldset>
    <fieldset data-testid="warning-audiences"><legend>${s.audiences}</legend>
      ${(wcatalog?.audiences ?? []).map(
        (a) => html`<label class="check"><input type="checkbox" name="audience" value=${a.id} checked=${form.audiences.includes(a.id)} onChange=${toggle('audiences', a.id)} />
          ${lang === 'zh' ? a.zh : a.en} <span class="muted">${a.channels.length ? a.channels.map((c) => word(s.channelTypes, channelType(wcatalog, c))).join(t.listSep) : s.noChannel}</span></label>`,
      )}
    </fieldset>
    ${error && html`<div class="error" role="alert">${error}</div>`}
    <div class="row"><button type="button" onClick=${onCancel}>${t.cancel}</button><button class="primary" type="submit">${warning ? s.save : s.create}</button></div>
  </form>`;
}

/** What a history entry adds in words: the note, the revision sent and to how many, the text sent. */
function entryNote(e, s) {
  const d = e.data ?? {};
  return [e.note, d.revision ? s.revisionN(d.revision) : null, typeof d.recipients === 'number' ? s.people(d.recipients) : null, e.action !== 'published' && d.text ? d.text : null].filter(Boolean).join(' · ');
}

function WarningDetail({ t, lang, catalog, user, api, can, wcatalog, enterprises, names, id }) {
  const s = t.warnings;
  const [w, setW] = useState();
  const [error, setError] = useState('');
  const [acting, setActing] = useState(null);
  const [alarm, setAlarm] = useState(null);
  const [revision, setRevision] = useState('');
  const load = () => api('GET', `/api/v1/warnings/${enc(id)}`).then(setW, (e) => setError(e.message));
  useEffect(() => {
    setW(undefined);
    setActing(null);
    load();
  }, [id]);
  // Messages still on their way (queued, or sent and waiting for the SMS gateway's delivery report):
  // read again every few seconds; otherwise now and then, as others may approve or send meanwhile.
  const moving = !!w?.deliveries.some((d) => d.state === 'queued' || d.state === 'sent');
  useEffect(() => {
    const timer = setInterval(load, moving ? REFRESH_MS : IDLE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [id, moving]);
  useEffect(() => {
    if (w?.alarmId) api('GET', `/api/v1/alarms/${enc(w.alarmId)}`).then((d) => setAlarm(d.alarm), () => setAlarm(null));
  }, [w?.alarmId]);
  if (error && !w) return html`<div class="panel page"><div class="body"><p class="error" role="alert">${error}</p><a href="#/warnings">${s.title}</a></div></div>`;
  if (!w) return html`<div class="panel page muted">…</div>`;

  const drafter = can(user, catalog, 'warning.draft');
  const approver = can(user, catalog, 'warning.approve');
  const own = w.createdBy === user.username || w.submittedBy === user.username;
  const actions = [];
  const disabled = {};
  let why = '';
  if ((w.state === 'draft' || w.state === 'rejected') && drafter) actions.push('edit', w.needsApproval ? 'submit' : 'publish', 'withdraw');
  if (w.state === 'pending_approval' && user.role !== 'enterprise') {
    actions.push('approve');
    if (!approver) (disabled.approve = true), (why = s.whyNoApprove);
    else if (own) (disabled.approve = true), (why = s.ownWarning);
    if (approver) actions.push('reject');
    if (drafter) actions.push('withdraw');
  }
  if (w.state === 'published') {
    if (approver) actions.push('update', 'all_clear');
    else if (drafter) why = s.onlySupervisors;
  }
  const kindOf = new Map(w.history.filter((e) => e.data?.revision).map((e) => [e.data.revision, e.action]));
  const revisionWord = (r) => `${r} ${word(s.revisionKinds, kindOf.get(r))}`;
  const messages = revision ? w.deliveries.filter((d) => d.revision === Number(revision)) : w.deliveries;
  const by = (who, at) => (who ? `${who}${at ? ` · ${fmtWhen(at, lang)}` : ''}` : '');
  const drafted = w.history.find((e) => e.action === 'drafted');
  const submitted = [...w.history].reverse().find((e) => e.action === 'submitted');
  const approved = w.history.find((e) => e.action === 'approved');
  const rows = [
    [s.level, html`<${LevelBadge} t=${t} level=${w.level} />`],
    [s.enterprises, w.enterprises.length ? w.enterprises.map((e) => names.get(e) ?? e).join(t.listSep) : s.areaWide],
    [s.area, w.area],
    [s.audiences, w.audiences.map((a) => audienceName(wcatalog, a, lang)).join(t.listSep)],
    [s.fromAlarm, alarm ? html`<span data-testid="warning-alarm">${conditionWord(catalog, alarm.condition, lang)} · <a href=${`#/device/${alarm.enterprise}/${alarm.device}`}>${alarm.device}</a></span>` : null],
    [s.draftedBy, by(w.createdBy, drafted?.at ?? w.createdAt)],
    [s.submittedBy, by(w.submittedBy, submitted?.at)],
    [s.approvedBy, w.approvedBy ? by(w.approvedBy, approved?.at) : w.state === 'pending_approval' ? html`<span class="muted">${s.waitingApproval}</span>` : ''],
    [s.publishedAt, fmtWhen(w.publishedAt, lang)],
    [s.clearedAt, fmtWhen(w.clearedAt, lang)],
    [s.approval, w.needsApproval ? s.needsApproval : s.noApproval],
  ].filter(([, v]) => v);
  return html`<div class="panel page warning-detail" data-testid="warning-detail" data-state=${w.state} data-warning-id=${w.id} data-revisions=${w.revisions}>
    <header>
      <a class="button" href="#/warnings">${icon.back()} ${s.title}</a>
      <${LevelBadge} t=${t} level=${w.level} />
      <h2 data-testid="warning-title">${w.title}</h2>
      <${StateBadge} t=${t} state=${w.state} />
      <span style="flex:1"></span>
      <span class="acts" data-testid="warning-actions">
        ${actions.map(
          (a) => html`<button class=${a === 'approve' || a === 'submit' || a === 'publish' ? 'primary' : ''} data-action=${a} disabled=${!!disabled[a]}
            aria-describedby=${disabled[a] ? 'warning-why' : undefined} onClick=${() => setActing(a)}>${s.actions[a]}</button>`,
        )}
      </span>
    </header>
    <div class="body">
      ${why && html`<p class="muted why" id="warning-why" data-testid="warning-why">${why}</p>`}
      ${user.role === 'enterprise' && html`<p class="muted" data-testid="read-only">${s.readOnly}</p>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${acting === 'edit'
        ? html`<${WarningForm} t=${t} lang=${lang} api=${api} wcatalog=${wcatalog} enterprises=${enterprises} warning=${w} onCancel=${() => setActing(null)} onDone=${(x) => (setActing(null), setW(x))} />`
        : acting && html`<${ActionForm} t=${t} kind=${acting} warning=${w} api=${api} onCancel=${() => setActing(null)} onDone=${(x) => (setActing(null), setW(x))} />`}
      <div class="texts">
        <div><h4>${s.text}</h4><p class="text" data-testid="warning-text">${w.text}</p></div>
        ${w.textEn && html`<div><h4>${s.textEn}</h4><p class="text" lang="en" data-testid="warning-text-en">${w.textEn}</p></div>`}
      </div>
      <table class="hist info"><tbody>${rows.map(([k, v]) => html`<tr><td class="muted">${k}</td><td>${v}</td></tr>`)}</tbody></table>

      <h4>${s.progressTitle}</h4>
      <${Progress} t=${t} p=${w.progress} />
      ${moving && html`<span class="muted refreshing"> ${s.refreshing}</span>`}

      ${w.recipients.length > 0 &&
      html`<h4>${s.recipients} <span class="muted">${s.people(w.recipients.length)}</span></h4>
        <table class="hist" data-testid="warning-recipients">
          <thead><tr><th>${s.recipient}</th><th>${s.phone}</th><th>${s.email}</th><th>${s.audiences}</th></tr></thead>
          <tbody>${w.recipients.map(
            (r) => html`<tr data-recipient=${r.id}><td>${r.name}</td><td class="num">${r.phone ?? ''}</td><td>${r.email ?? ''}</td><td>${r.audiences.map((a) => audienceName(wcatalog, a, lang)).join(t.listSep)}</td></tr>`,
          )}</tbody>
        </table>`}

      <h4>${s.messages} <span class="muted">${w.deliveries.length}</span></h4>
      ${w.revisions > 1 &&
      html`<label class="inline">${s.revision} <select name="revision" value=${revision} onChange=${(e) => setRevision(e.currentTarget.value)}>
        <option value="">${s.allRevisions}</option>${Array.from({ length: w.revisions }, (_, i) => i + 1).map((r) => html`<option value=${r}>${revisionWord(r)}</option>`)}
      </select></label>`}
      ${w.deliveries.length === 0
        ? html`<p class="muted" data-testid="no-messages">${w.state === 'pending_approval' ? s.afterApproval : s.noMessages}</p>`
        : html`<table class="hist messages" data-testid="warning-messages">
          <thead><tr><th>${s.revision}</th><th>${s.recipient}</th><th>${s.channel}</th><th>${s.address}</th><th>${t.state}</th><th>${s.receipt}</th><th>${s.attempts}</th></tr></thead>
          <tbody>${messages.map(
            (d) => html`<tr data-delivery=${d.id} data-channel=${d.channel} data-state=${d.state} data-revision=${d.revision}>
              <td class="num">${revisionWord(d.revision)}</td>
              <td>${d.recipient.startsWith('group:') ? html`${s.group} <span class="muted">${d.recipientName}</span>` : d.recipientName}</td>
              <td>${word(s.channelTypes, channelType(wcatalog, d.channel))} <span class="muted">${d.channel}</span></td>
              <td class="num">${d.address}</td>
              <td><span class=${`dstate d-${d.state}`}>${s.deliveryStates[d.state]}</span></td>
              <td class=${d.state === 'failed' || (d.lastError && d.state === 'queued') ? 'error' : ''}>${d.state === 'failed' || (d.state === 'queued' && d.lastError) ? receiptWords(s, d.lastError, lang) : receiptWords(s, d.receipt, lang)}</td>
              <td class="num">${d.attempts}</td>
            </tr>`,
          )}</tbody>
        </table>`}

      <h4>${s.history}</h4>
      <table class="hist" data-testid="warning-history">
        <tbody>${w.history.map(
          (e) => html`<tr data-action-done=${e.action}>
            <td class="num">${fmtWhen(e.at, lang)}</td>
            <td>${s.actionDone[e.action] ?? e.action}</td>
            <td>${e.by === 'system' ? t.system : e.by}</td>
            <td>${entryNote(e, s)}</td>
          </tr>`,
        )}</tbody>
      </table>
    </div>
  </div>`;
}

const conditionWord = (catalog, code, lang) => {
  const c = catalog?.conditions?.[code];
  return c ? (lang === 'zh' ? c.zh : c.title) : code;
};

/** Submit, publish, approve, reject (with the reason), withdraw, an update (new text), the all-clear. */
function ActionForm({ t, kind, warning, api, onCancel, onDone }) {
  const s = t.warnings;
  const [note, setNote] = useState('');
  const [text, setText] = useState('');
  const [textEn, setTextEn] = useState('');
  const [level, setLevel] = useState(warning.level);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const first = useRef();
  useLayoutEffect(() => first.current?.focus(), [kind]);
  const submit = async (e) => {
    e.preventDefault();
    setError('');
    setBusy(true);
    const path = { submit: 'submit', publish: 'submit', approve: 'approve', reject: 'reject', withdraw: 'withdraw', update: 'update', all_clear: 'all-clear' }[kind];
    const body = kind === 'update' ? { text, ...(textEn.trim() ? { textEn } : {}), ...(level !== warning.level ? { level } : {}) } : note.trim() ? { note: note.trim() } : {};
    try {
      onDone(await api('POST', `/api/v1/warnings/${enc(warning.id)}/${path}`, body));
    } catch (err) {
      setError(err.body?.code === 'HW_ERR_WARNING_NO_RECIPIENTS' ? s.noRecipients : err.message);
    } finally {
      setBusy(false);
    }
  };
  const hint = s.actionHints[kind];
  return html`<form class="warning-action" onSubmit=${submit} onKeyDown=${(e) => e.key === 'Escape' && onCancel()} data-testid="warning-action" data-kind=${kind} aria-label=${s.actions[kind]}>
    <strong>${s.actions[kind]}</strong>
    ${hint && html`<span class="muted">${hint}</span>`}
    ${kind === 'update'
      ? html`<label>${s.level}<select name="level" value=${level} onChange=${(e) => setLevel(Number(e.currentTarget.value))}>${[1, 2, 3, 4].map((l) => html`<option value=${l}>${s.levels[l]}</option>`)}</select></label>
          <label>${s.updateText}<textarea name="text" ref=${first} rows="3" maxlength="2000" required value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea></label>
          <label>${s.updateTextEn}<textarea name="textEn" rows="2" maxlength="2000" value=${textEn} onInput=${(e) => setTextEn(e.currentTarget.value)}></textarea></label>`
      : kind === 'submit' || kind === 'publish'
        ? null
        : html`<label>${kind === 'reject' ? s.reason : kind === 'all_clear' ? s.clearNote : t.note}<textarea name="note" ref=${first} rows="2" maxlength="1000" required=${kind === 'reject'} value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea></label>`}
    ${error && html`<div class="error" role="alert">${error}</div>`}
    <div class="row"><button type="button" onClick=${onCancel}>${t.cancel}</button><button class="primary" type="submit" ref=${kind === 'submit' || kind === 'publish' ? first : undefined} disabled=${busy}>${s.confirm[kind] ?? t.submit}</button></div>
  </form>`;
}
