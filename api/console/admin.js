// Management screens (issue 15): '#/admin/<tab>' — devices, hazard sources, accounts, alarm rules,
// maintenance windows, the audit trail — for administrators and enterprise users, each within their
// scope. The API decides what is allowed (PERMISSIONS from the catalog) and what is valid; the screens
// offer only the buttons the account may use and show the API's refusal where it happened. This file
// holds the page, what the screens share and the devices; admin-more.js the other screens.
import { h } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import * as icon from './icons.js';
import { adminTexts } from './admin-i18n.js';
import { AccountsTab, AuditTab, MaintenanceTab, RulesTab, SourcesTab } from './admin-more.js';

export const html = htm.bind(h);

export const TABS = ['devices', 'sources', 'accounts', 'rules', 'maintenance', 'audit'];
/** What a tab needs to be shown at all; what it lets the account change is decided inside. */
const TAB_NEEDS = { devices: 'read', sources: 'read', accounts: 'account.read', rules: 'read', maintenance: 'read', audit: 'audit.read' };

/** '#/admin/rules?enterprise=acme&device=gas-1' → { tab: 'rules', params }. */
export function adminRoute(hash) {
  const m = hash.match(/^#\/admin(?:\/(\w+))?(?:\?(.*))?$/);
  if (!m) return null;
  return { tab: m[1] ?? 'devices', params: new URLSearchParams(m[2] ?? '') };
}

export const fmt = (lang, ms) => (ms ? new Date(ms).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false }) : '');
export const className = (catalog, cls, lang) => {
  const c = catalog?.deviceClasses?.[cls];
  return c ? (lang === 'zh' ? c.zh : c.title) : cls;
};
export const conditionName = (catalog, code, lang) => {
  const c = catalog?.conditions?.[code];
  return c ? (lang === 'zh' ? c.zh : c.title) : code;
};

/**
 * Escape closes a dialog wherever the focus is (it may not have reached the dialog yet). Listening from
 * the layout effect, like the dialogs' focus: a dialog that has the focus also hears Escape.
 */
export function useEscape(onEscape) {
  useLayoutEffect(() => {
    const on = (e) => e.key === 'Escape' && onEscape();
    document.addEventListener('keydown', on);
    return () => document.removeEventListener('keydown', on);
  }, [onEscape]);
}

/** Loads once and on reload(); the error is kept to be shown. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: undefined, error: '' });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    load().then((data) => live && setState({ data, error: '' }), (e) => live && setState({ data: null, error: e.message }));
    return () => (live = false);
  }, [...deps, n]);
  return [state.data, () => setN((x) => x + 1), state.error];
}

/** A dialog that asks first: focus on Cancel, Escape cancels, the API's refusal stays in it. */
export function Confirm({ a, title, text, action, destructive, onCancel, onConfirm, testid = 'confirm' }) {
  const cancel = useRef();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  useLayoutEffect(() => cancel.current?.focus(), []);
  useEscape(onCancel);
  const go = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  };
  return html`<div class="modal" onClick=${(e) => e.target === e.currentTarget && onCancel()}>
    <div class="box" role="alertdialog" aria-modal="true" aria-labelledby="adm-confirm-title" aria-describedby="adm-confirm-text" data-testid=${testid}>
      <h3 id="adm-confirm-title">${title}</h3>
      <p id="adm-confirm-text">${text}</p>
      ${error && html`<div class="error" role="alert">${error}</div>`}
      <div class="row">
        <button ref=${cancel} onClick=${onCancel} data-testid="confirm-cancel">${a.cancel}</button>
        <button class=${destructive ? 'destructive' : 'primary'} onClick=${go} disabled=${busy} data-testid="confirm-ok">${action}</button>
      </div>
    </div>
  </div>`;
}

/** A form in a dialog: the first field takes the focus, Escape closes it unsent. */
export function FormDialog({ title, onCancel, onSubmit, children, error, a, submitText, testid }) {
  const el = useRef();
  const [busy, setBusy] = useState(false);
  useLayoutEffect(() => el.current?.querySelector('input:not([type=hidden]), select, textarea')?.focus(), []);
  useEscape(onCancel);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    try {
      await onSubmit();
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="modal" onClick=${(e) => e.target === e.currentTarget && onCancel()}>
    <form class="box admin-form" role="dialog" aria-modal="true" aria-label=${title} ref=${el} onSubmit=${submit} data-testid=${testid} noValidate>
      <h3>${title}</h3>
      ${children}
      ${error && html`<div class="error" role="alert" data-testid="form-error">${error}</div>`}
      <div class="row">
        <button type="button" onClick=${onCancel}>${a.cancel}</button>
        <button type="submit" class="primary" disabled=${busy} data-testid="form-submit">${submitText ?? a.save}</button>
      </div>
    </form>
  </div>`;
}

/** The enterprises an account may choose among: its own only for an enterprise user. */
export function EnterpriseSelect({ a, user, enterprises, value, onChange, name = 'enterprise', all }) {
  if (user.role === 'enterprise') return html`<input name=${name} value=${user.enterprise} readonly />`;
  return html`<select name=${name} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
    ${all ? html`<option value="">${a.allEnterprises}</option>` : null}
    ${enterprises.map((e) => html`<option value=${e.id}>${e.name || e.id}</option>`)}
  </select>`;
}

export function AdminPage({ t, lang, catalog, user, api, can, hash }) {
  const a = adminTexts(lang);
  const route = adminRoute(hash) ?? { tab: 'devices', params: new URLSearchParams() };
  const shown = TABS.filter((k) => can(user, catalog, TAB_NEEDS[k]));
  const tab = shown.includes(route.tab) ? route.tab : shown[0];
  const [enterprises] = useLoad(() => api('GET', '/api/v1/enterprises'), []);
  const props = { t, a, lang, catalog, user, api, can: (p) => can(user, catalog, p), enterprises: enterprises ?? [], params: route.params };
  return html`<div class="panel page search admin" data-testid="admin" data-tab=${tab}>
    <header>
      <a class="button" href="#/">${icon.back()} ${t.back}</a>
      <h2>${a.title}</h2>
      <nav class="tabs" role="tablist" aria-label=${a.title}>
        ${shown.map((k) => html`<a role="tab" aria-selected=${k === tab ? 'true' : 'false'} class=${`button ${k === tab ? 'on' : ''}`} href=${`#/admin/${k}`} data-testid=${`admin-tab-${k}`}>${a.tabs[k]}</a>`)}
      </nav>
    </header>
    <div class="body" role="tabpanel">
      ${!catalog || !enterprises
        ? html`<div class="muted">…</div>`
        : tab === 'devices'
        ? html`<${DevicesTab} ...${props} />`
        : tab === 'sources'
        ? html`<${SourcesTab} ...${props} />`
        : tab === 'accounts'
        ? html`<${AccountsTab} ...${props} />`
        : tab === 'rules'
        ? html`<${RulesTab} ...${props} />`
        : tab === 'maintenance'
        ? html`<${MaintenanceTab} ...${props} />`
        : html`<${AuditTab} ...${props} />`}
    </div>
  </div>`;
}

// ---- devices ----

function DevicesTab({ a, lang, catalog, user, api, can, enterprises, params }) {
  const [enterprise, setEnterprise] = useState(params.get('enterprise') ?? '');
  const [devices, reload, error] = useLoad(() => api('GET', `/api/v1/devices${enterprise ? `?enterprise=${encodeURIComponent(enterprise)}` : ''}`), [enterprise]);
  const [sources, reloadSources] = useLoad(() => api('GET', '/api/v1/hazard-sources'), []);
  const [dialog, setDialog] = useState(null);
  const [limitsOf, setLimitsOf] = useState(null);
  const write = can('device.write');
  const names = new Map(enterprises.map((e) => [e.id, e.name || e.id]));
  const sourceName = (d) => (d.hazardSource ? (sources ?? []).find((s) => s.enterprise === d.enterprise && s.id === d.hazardSource)?.name ?? d.hazardSource : a.noSource);
  const key = (d) => `${d.enterprise}/${d.id}`;
  const done = () => (setDialog(null), reload());
  return html`<div data-testid="admin-devices">
    <form class="filters" role="search" onSubmit=${(e) => e.preventDefault()}>
      ${user.role !== 'enterprise' && html`<label>${a.enterprise}<${EnterpriseSelect} a=${a} user=${user} enterprises=${enterprises} value=${enterprise} onChange=${setEnterprise} all /></label>`}
      <span class="grow"></span>
      ${write ? html`<button type="button" class="primary" onClick=${() => setDialog({ kind: 'register' })} data-testid="register-device">${a.register}</button>` : html`<span class="badge">${a.readOnly}</span>`}
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="pager"><span data-testid="device-count">${devices ? a.count(devices.length) : '…'}</span></div>
    <table data-testid="device-table">
      <thead><tr><th>${a.id}</th><th>${a.name}</th><th>${a.cls}</th><th>${a.enterprise}</th><th>${a.source}</th><th>${a.state}</th><th><span class="visually-hidden">${a.state}</span></th></tr></thead>
      <tbody>${(devices ?? []).map(
        (d) => html`<tr data-device=${key(d)} class=${d.revokedAt ? 'muted' : ''}>
          <td><a href=${`#/device/${d.enterprise}/${d.id}`}>${d.id}</a></td>
          <td>${d.name}</td>
          <td>${className(catalog, d.class, lang)}</td>
          <td>${names.get(d.enterprise) ?? d.enterprise}</td>
          <td data-testid="device-source">${sourceName(d)}</td>
          <td data-testid="device-state">${d.revokedAt ? html`<span class="badge">${a.revoked}</span>` : html`<span class=${`badge ${d.online ? 'ok' : 'bad'}`}>${d.online ? a.online : a.offline}</span>`}</td>
          <td class="actions">
            <button onClick=${() => setLimitsOf(d)} data-testid="device-limits">${a.limits}</button>
            ${write && !d.revokedAt && html`
              <button onClick=${() => setDialog({ kind: 'move', device: d })} data-testid="device-move">${a.move}</button>
              <button onClick=${() => setDialog({ kind: 'rotate', device: d })} data-testid="device-rotate">${a.rotate}</button>
              <button class="destructive" onClick=${() => setDialog({ kind: 'revoke', device: d })} data-testid="device-revoke">${a.revoke}</button>`}
          </td>
        </tr>`,
      )}</tbody>
    </table>
    ${limitsOf && html`<${LimitsPanel} key=${key(limitsOf)} a=${a} lang=${lang} catalog=${catalog} api=${api} can=${can} device=${limitsOf} onClose=${() => setLimitsOf(null)} />`}
    ${dialog?.kind === 'register' && html`<${RegisterDevice} a=${a} lang=${lang} catalog=${catalog} user=${user} api=${api} enterprises=${enterprises} sources=${sources ?? []} initialEnterprise=${enterprise} onCancel=${() => setDialog(null)} onDone=${(creds) => (reload(), reloadSources(), setDialog({ kind: 'credentials', creds, rotated: false }))} />`}
    ${dialog?.kind === 'credentials' && html`<${CredentialsDialog} a=${a} creds=${dialog.creds} rotated=${dialog.rotated} onClose=${() => setDialog(null)} />`}
    ${dialog?.kind === 'rotate' && html`<${Confirm} a=${a} title=${a.rotateTitle(key(dialog.device))} text=${a.rotateText} action=${a.rotate} onCancel=${() => setDialog(null)}
      onConfirm=${async () => {
        const creds = await api('POST', `/api/v1/enterprises/${dialog.device.enterprise}/devices/${dialog.device.id}/rotate`);
        setDialog({ kind: 'credentials', creds, rotated: true });
      }} />`}
    ${dialog?.kind === 'revoke' && html`<${Confirm} a=${a} destructive title=${a.revokeTitle(key(dialog.device))} text=${a.revokeText} action=${a.revoke} onCancel=${() => setDialog(null)}
      onConfirm=${async () => (await api('POST', `/api/v1/enterprises/${dialog.device.enterprise}/devices/${dialog.device.id}/revoke`), done())} />`}
    ${dialog?.kind === 'move' && html`<${MoveDevice} a=${a} api=${api} device=${dialog.device} sources=${(sources ?? []).filter((s) => s.enterprise === dialog.device.enterprise)} onCancel=${() => setDialog(null)} onDone=${done} />`}
  </div>`;
}

function RegisterDevice({ a, lang, catalog, user, api, enterprises, sources, initialEnterprise, onCancel, onDone }) {
  const classes = Object.keys(catalog.deviceClasses ?? {});
  const [form, setForm] = useState({ enterprise: user.role === 'enterprise' ? user.enterprise : initialEnterprise || enterprises[0]?.id || '', id: '', class: classes[0], name: '', site: '', hazardSource: '' });
  const [error, setError] = useState('');
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const submit = async () => {
    setError('');
    try {
      const body = { id: form.id.trim(), class: form.class, name: form.name, site: form.site, hazardSource: form.hazardSource || null };
      onDone(await api('POST', `/api/v1/enterprises/${encodeURIComponent(form.enterprise)}/devices`, body));
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<${FormDialog} a=${a} title=${a.registerTitle} onCancel=${onCancel} onSubmit=${submit} error=${error} submitText=${a.register} testid="register-form">
    <label>${a.enterprise}<${EnterpriseSelect} a=${a} user=${user} enterprises=${enterprises} value=${form.enterprise} onChange=${(v) => setForm({ ...form, enterprise: v, hazardSource: '' })} /></label>
    <label>${a.id}<input name="id" value=${form.id} onInput=${set('id')} maxlength="64" autocomplete="off" spellcheck="false" required /></label>
    <label>${a.cls}<select name="class" value=${form.class} onChange=${set('class')}>${classes.map((c) => html`<option value=${c}>${className(catalog, c, lang)}</option>`)}</select></label>
    <label>${a.name}<input name="name" value=${form.name} onInput=${set('name')} maxlength="200" /></label>
    <label>${a.site}<input name="site" value=${form.site} onInput=${set('site')} maxlength="100" /></label>
    <label>${a.source}<select name="hazardSource" value=${form.hazardSource} onChange=${set('hazardSource')}>
      <option value="">${a.noSource}</option>
      ${sources.filter((s) => s.enterprise === form.enterprise).map((s) => html`<option value=${s.id}>${s.name}</option>`)}
    </select></label>
  <//>`;
}

/** The credentials, this once: each with a copy button, and the warning that they will not be shown again. */
function CredentialsDialog({ a, creds, rotated, onClose }) {
  const [copied, setCopied] = useState('');
  const close = useRef();
  useLayoutEffect(() => close.current?.focus(), []);
  useEscape(onClose);
  const copy = async (name, value, el) => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // No clipboard permission (plain HTTP on an intranet address): select the text and copy it that way.
      const range = document.createRange();
      range.selectNodeContents(el);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      document.execCommand('copy');
    }
    setCopied(name);
  };
  const row = (name, label, value) => html`<tr>
    <th scope="row" class="muted">${label}</th>
    <td><code data-testid=${`cred-${name}`} id=${`cred-${name}`}>${value}</code></td>
    <td><button onClick=${(e) => copy(name, value, e.currentTarget.closest('tr').querySelector('code'))} data-testid=${`copy-${name}`} aria-describedby=${`cred-${name}`}>${copied === name ? a.copied : a.copy}</button></td>
  </tr>`;
  return html`<div class="modal">
    <div class="box" role="dialog" aria-modal="true" aria-labelledby="cred-title" data-testid="credentials">
      <h3 id="cred-title">${a.credentialsTitle}</h3>
      <p class="warning" role="alert" data-testid="credentials-warning">${icon.warning()} ${rotated ? a.rotatedWarning : a.credentialsWarning}</p>
      <table class="hist info"><tbody>
        ${row('username', a.usernameLabel, creds.username)}
        ${row('password', a.passwordLabel, creds.password)}
        ${row('clientId', a.clientIdLabel, creds.clientId)}
      </tbody></table>
      <div class="row"><button ref=${close} class="primary" onClick=${onClose} data-testid="credentials-close">${a.close}</button></div>
    </div>
  </div>`;
}

function MoveDevice({ a, api, device, sources, onCancel, onDone }) {
  const [to, setTo] = useState(device.hazardSource ?? '');
  const [error, setError] = useState('');
  const submit = async () => {
    try {
      await api('PATCH', `/api/v1/enterprises/${device.enterprise}/devices/${device.id}`, { hazardSource: to || null });
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<${FormDialog} a=${a} title=${a.moveTitle(`${device.enterprise}/${device.id}`)} onCancel=${onCancel} onSubmit=${submit} error=${error} testid="move-form">
    <label>${a.source}<select name="hazardSource" value=${to} onChange=${(e) => setTo(e.currentTarget.value)}>
      <option value="">${a.noSource}</option>
      ${sources.map((s) => html`<option value=${s.id}>${s.name}</option>`)}
    </select></label>
    <p class="muted">${a.moveHint}</p>
  <//>`;
}

const LIMIT_KEYS = ['HH', 'H', 'L', 'LL'];
const numOrText = (v) => {
  const text = String(v ?? '').trim();
  if (!text) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
};

/**
 * A device's process limits (HH/H/L/LL of each numeric metric, threshold.write) and its threshold
 * rules in force, each stage beside the class's default and the standard it comes from.
 */
function LimitsPanel({ a, lang, catalog, api, can, device, onClose }) {
  const base = `/api/v1/enterprises/${device.enterprise}/devices/${device.id}`;
  const metrics = Object.entries(catalog.deviceClasses?.[device.class]?.metrics ?? {}).filter(([, m]) => m.type === 'number');
  const [current, reload] = useLoad(() => api('GET', `${base}/thresholds`), [base]);
  const [rules, reloadRules, rulesError] = useLoad(() => api('GET', `${base}/rules`), [base]);
  const [form, setForm] = useState(null);
  const [message, setMessage] = useState({ ok: '', error: '' });
  const write = can('threshold.write') && !device.revokedAt;
  const panel = useRef();
  useEffect(() => panel.current?.scrollIntoView?.({ block: 'nearest' }), []);
  useEffect(() => {
    if (current) setForm(Object.fromEntries(metrics.map(([m]) => [m, Object.fromEntries(LIMIT_KEYS.map((k) => [k, current.limits?.[m]?.[k] ?? '']))])));
  }, [current]);
  const save = async (e) => {
    e.preventDefault();
    setMessage({ ok: '', error: '' });
    const limits = {};
    for (const [m, set] of Object.entries(form)) {
      const entry = Object.fromEntries(LIMIT_KEYS.map((k) => [k, numOrText(set[k])]).filter(([, v]) => v !== undefined));
      if (Object.keys(entry).length) limits[m] = entry;
    }
    try {
      await api('PUT', `${base}/thresholds`, { limits });
      setMessage({ ok: a.limitsSaved, error: '' });
      reload();
      reloadRules();
    } catch (err) {
      setMessage({ ok: '', error: err.message });
    }
  };
  const metricName = (m) => {
    const spec = catalog.deviceClasses?.[device.class]?.metrics?.[m];
    return `${lang === 'zh' ? (spec?.zh ?? m) : m}${spec?.unit ? ` (${spec.unit})` : ''}`;
  };
  const value = (v) => (v === null || v === undefined ? html`<span class="muted">${a.notSet}</span>` : v);
  // A stage that refers to the device's own entry says which: its limit H, its attribute maxLevelRate.
  const ref = (from) => {
    const m = /^(limits|meta)\.([A-Za-z0-9_]+)(\*[0-9.]+)?$/.exec(from);
    return m ? html` <span class="muted">${m[1] === 'limits' ? a.refLimit(m[2]) : a.refMeta(m[2])}${m[3] ? ` × ${m[3].slice(1)}` : ''}</span>` : null;
  };
  return html`<section class="panel admin-limits" ref=${panel} data-testid="limits-panel" data-device=${`${device.enterprise}/${device.id}`} aria-labelledby="limits-title">
    <header><h3 id="limits-title">${a.limitsTitle(`${device.enterprise}/${device.id}`)}</h3><span style="flex:1"></span>
      <button class="icon-only" onClick=${onClose} aria-label=${a.close} title=${a.close}>${icon.close()}</button></header>
    <div class="body">
      ${metrics.length && form
        ? html`<form onSubmit=${save} data-testid="limits-form">
            <p class="muted">${write ? a.limitsHint : a.limitsReadOnly}</p>
            <table class="hist"><thead><tr><th>${a.metric}</th>${LIMIT_KEYS.map((k) => html`<th>${k}</th>`)}</tr></thead>
              <tbody>${metrics.map(([m]) => html`<tr data-metric=${m}><td>${metricName(m)}</td>${LIMIT_KEYS.map(
                (k) => html`<td><input name=${`${m}.${k}`} aria-label=${`${metricName(m)} ${k}`} inputmode="decimal" size="7" value=${form[m][k]} disabled=${!write}
                  onInput=${(e) => setForm({ ...form, [m]: { ...form[m], [k]: e.currentTarget.value } })} /></td>`,
              )}</tr>`)}</tbody>
            </table>
            ${message.error && html`<div class="error" role="alert" data-testid="limits-error">${message.error}</div>`}
            ${message.ok && html`<div class="ok" role="status" data-testid="limits-saved">${message.ok}</div>`}
            ${write && html`<div class="row"><button class="primary" type="submit" data-testid="save-limits">${a.save}</button></div>`}
          </form>`
        : null}
      ${rulesError && html`<p class="error" role="alert">${rulesError}</p>`}
      ${rules && (rules.rules.length
        ? html`<table class="hist" data-testid="threshold-rules">
            <thead><tr><th>${a.condition}</th><th>${a.stage}</th><th>${a.inForce}</th><th>${a.standardDefault}</th><th>${a.basis}</th><th>${a.ruleFile}</th></tr></thead>
            <tbody>${rules.rules.flatMap((r) => r.stages.map((s, i) => html`<tr data-rule=${r.id} data-level=${s.level}>
              <td>${i === 0 ? html`${conditionName(catalog, r.condition, lang)} <span class="muted">${metricName(r.metric)}</span>` : ''}</td>
              <td><span class=${`chip l${s.level}`}>${s.level}</span></td>
              <td data-testid="in-force" class=${s.default && s.raise !== s.default.raise ? 'changed' : ''}>${value(s.raise)}${ref(s.from)}</td>
              <td data-testid="default">${s.default ? html`${value(s.default.raise)}${ref(s.default.from)}` : ''}</td>
              <td class="muted" data-testid="basis">${s.default?.source ?? ''}</td>
              <td class="muted">${i === 0 ? (r.file === 'defaults' ? a.fromDefaults : r.file) : ''}</td>
            </tr>`))}</tbody>
          </table>`
        : html`<p class="muted">${a.noThresholdRules}</p>`)}
      <p><a href=${`#/admin/rules?enterprise=${encodeURIComponent(device.enterprise)}&device=${encodeURIComponent(device.id)}`} data-testid="override-device">${a.overrideDevice}</a></p>
    </div>
  </section>`;
}
