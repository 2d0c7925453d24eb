// Management screens (issue 15), continued: hazard sources, accounts, alarm rule overrides,
// maintenance windows and the audit trail. The page and what the screens share are in admin.js.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Confirm, EnterpriseSelect, FormDialog, className, conditionName, fmt, html, useLoad } from './admin.js';
import { depths, jurisdictionWords } from './jurisdictions.js';

const COLOURS = ['red', 'orange', 'yellow', 'blue'];
const ROLES = ['operator', 'supervisor', 'administrator', 'enterprise'];
const q = (params) => {
  const s = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== undefined && v !== null)).toString();
  return s ? `?${s}` : '';
};
const numOr = (v) => {
  const text = String(v ?? '').trim();
  if (!text) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
};

// ---- hazard sources: grade, risk colour, site-plan position, map coordinates ----

export function SourcesTab({ a, user, api, can, enterprises }) {
  const [enterprise, setEnterprise] = useState('');
  const [sources, reload, error] = useLoad(() => api('GET', `/api/v1/hazard-sources${q({ enterprise })}`), [enterprise]);
  const [editing, setEditing] = useState(null);
  const write = can('source.write');
  const names = new Map(enterprises.map((e) => [e.id, e.name || e.id]));
  return html`<div data-testid="admin-sources">
    <form class="filters" role="search" onSubmit=${(e) => e.preventDefault()}>
      ${user.role !== 'enterprise' && html`<label>${a.enterprise}<${EnterpriseSelect} a=${a} user=${user} enterprises=${enterprises} value=${enterprise} onChange=${setEnterprise} all /></label>`}
      <span class="grow"></span>
      ${write ? html`<button type="button" class="primary" onClick=${() => setEditing({ creating: true })} data-testid="new-source">${a.newSource}</button>` : html`<span class="badge">${a.readOnly}</span>`}
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <table data-testid="source-table">
      <thead><tr><th>${a.enterprise}</th><th>${a.id}</th><th>${a.name}</th><th>${a.grade}</th><th>${a.riskColour}</th><th>${a.planX}</th><th>${a.planY}</th><th>${a.lat}</th><th>${a.lon}</th><th></th></tr></thead>
      <tbody>${(sources ?? []).map(
        (s) => html`<tr data-source=${`${s.enterprise}/${s.id}`}>
          <td>${names.get(s.enterprise) ?? s.enterprise}</td><td>${s.id}</td><td>${s.name}</td>
          <td data-testid="grade">${a.gradeN(s.grade)}</td>
          <td data-testid="risk"><span class=${`chip risk-${s.riskColour}`}>${a.colours[s.riskColour]}</span></td>
          <td class="num">${s.x}</td><td class="num">${s.y}</td><td class="num">${s.lat ?? ''}</td><td class="num">${s.lon ?? ''}</td>
          <td>${write && html`<button onClick=${() => setEditing({ source: s })} data-testid="edit-source">${a.edit}</button>`}</td>
        </tr>`,
      )}</tbody>
    </table>
    ${editing && html`<${SourceForm} a=${a} user=${user} api=${api} enterprises=${enterprises} source=${editing.source} onCancel=${() => setEditing(null)} onDone=${() => (setEditing(null), reload())} />`}
  </div>`;
}

function SourceForm({ a, user, api, enterprises, source, onCancel, onDone }) {
  const creating = !source;
  const str = (v) => (v === null || v === undefined ? '' : String(v));
  const [form, setForm] = useState(() => ({
    enterprise: source?.enterprise ?? enterprises[0]?.id ?? '',
    id: source?.id ?? '',
    name: source?.name ?? '',
    grade: String(source?.grade ?? 3),
    riskColour: source?.riskColour ?? '',
    x: str(source?.x ?? 500),
    y: str(source?.y ?? 300),
    lat: str(source?.lat),
    lon: str(source?.lon),
  }));
  const [error, setError] = useState('');
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const submit = async () => {
    setError('');
    const lat = numOr(form.lat);
    const lon = numOr(form.lon);
    const body = { name: form.name, grade: Number(form.grade), x: numOr(form.x), y: numOr(form.y), lat: lat ?? null, lon: lon ?? null };
    // A new grade without a chosen colour takes the grade's colour (the API decides it).
    if (form.riskColour) body.riskColour = form.riskColour;
    try {
      if (creating) await api('POST', `/api/v1/enterprises/${encodeURIComponent(form.enterprise)}/hazard-sources`, { id: form.id.trim(), ...body });
      else await api('PATCH', `/api/v1/enterprises/${source.enterprise}/hazard-sources/${source.id}`, body);
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<${FormDialog} a=${a} title=${creating ? a.newSource : a.editSourceTitle(source.name)} onCancel=${onCancel} onSubmit=${submit} error=${error} testid="source-form">
    ${creating && html`<label>${a.enterprise}<${EnterpriseSelect} a=${a} user=${user} enterprises=${enterprises} value=${form.enterprise} onChange=${(v) => setForm({ ...form, enterprise: v })} /></label>
      <label>${a.id}<input name="id" value=${form.id} onInput=${set('id')} maxlength="64" autocomplete="off" /></label>`}
    <label>${a.name}<input name="name" value=${form.name} onInput=${set('name')} maxlength="200" /></label>
    <label>${a.grade}<select name="grade" value=${form.grade} onChange=${(e) => setForm({ ...form, grade: e.currentTarget.value, riskColour: '' })}>${[1, 2, 3, 4].map((g) => html`<option value=${g}>${a.gradeN(g)}</option>`)}</select></label>
    <label>${a.riskColour}<select name="riskColour" value=${form.riskColour} onChange=${set('riskColour')}>
      <option value="">—</option>${COLOURS.map((c) => html`<option value=${c}>${a.colours[c]}</option>`)}
    </select></label>
    <p class="muted">${a.sourceGradeHint}</p>
    <label>${a.planX}<input name="x" value=${form.x} onInput=${set('x')} inputmode="decimal" /></label>
    <label>${a.planY}<input name="y" value=${form.y} onInput=${set('y')} inputmode="decimal" /></label>
    <label>${a.lat}<input name="lat" value=${form.lat} onInput=${set('lat')} inputmode="decimal" placeholder="30.7536" /></label>
    <label>${a.lon}<input name="lon" value=${form.lon} onInput=${set('lon')} inputmode="decimal" placeholder="121.2602" /></label>
  <//>`;
}

// ---- accounts (administrators) ----

export function AccountsTab({ a, lang, user, api, can, enterprises }) {
  const [accounts, reload, error] = useLoad(() => api('GET', '/api/v1/accounts'), []);
  // The tree in the administrator's scope (its node and below): where a regulator account may be placed.
  const [tree] = useLoad(() => api('GET', '/api/v1/jurisdictions'), []);
  const nodes = tree?.nodes ?? [];
  const w = jurisdictionWords(lang);
  const nodeName = new Map(nodes.map((n) => [n.id, n.name]));
  const [dialog, setDialog] = useState(null);
  const [notice, setNotice] = useState('');
  const write = can('account.write');
  const names = new Map(enterprises.map((e) => [e.id, e.name || e.id]));
  const setDisabled = async (u, disabled) => {
    setNotice('');
    try {
      await api('PATCH', `/api/v1/accounts/${encodeURIComponent(u.username)}`, { disabled });
      reload();
    } catch (err) {
      setNotice(err.message);
    }
  };
  return html`<div data-testid="admin-accounts">
    <div class="filters"><span class="grow"></span>${write && html`<button class="primary" onClick=${() => setDialog({ kind: 'new' })} data-testid="new-account">${a.newAccount}</button>`}</div>
    ${(error || notice) && html`<p class=${error ? 'error' : 'ok'} role=${error ? 'alert' : 'status'} data-testid="account-notice">${error || notice}</p>`}
    <table data-testid="account-table">
      <thead><tr><th>${a.username}</th><th>${a.displayName}</th><th>${a.role}</th><th>${a.enterprise}</th><th>${w.node}</th><th>${a.state}</th><th>${a.created}</th><th></th></tr></thead>
      <tbody>${(accounts ?? []).map(
        (u) => html`<tr data-account=${u.username} class=${u.disabledAt ? 'muted' : ''}>
          <td>${u.username}</td><td>${u.displayName}</td><td>${a.roles[u.role] ?? u.role}</td><td>${u.enterprise ? (names.get(u.enterprise) ?? u.enterprise) : ''}</td>
          <td data-testid="account-jurisdiction" data-node=${u.jurisdiction ?? ''}>${u.role === 'enterprise' ? '' : u.jurisdiction ? (nodeName.get(u.jurisdiction) ?? u.jurisdiction) : w.whole}</td>
          <td data-testid="account-state"><span class=${`badge ${u.disabledAt ? 'bad' : 'ok'}`}>${u.disabledAt ? a.disabled : a.active}</span></td>
          <td>${fmt(lang, u.createdAt)}</td>
          <td class="actions">${write && u.username !== user.username && html`
            <button onClick=${() => setDisabled(u, !u.disabledAt)} data-testid="toggle-account">${u.disabledAt ? a.enable : a.disable}</button>
            <button onClick=${() => setDialog({ kind: 'reset', account: u })} data-testid="reset-password">${a.resetPassword}</button>
            ${u.role !== 'enterprise' && html`<button onClick=${() => setDialog({ kind: 'node', account: u })} data-testid="change-jurisdiction">${a.changeJurisdiction}</button>`}`}</td>
        </tr>`,
      )}</tbody>
    </table>
    ${dialog?.kind === 'new' && html`<${AccountForm} a=${a} lang=${lang} user=${user} api=${api} enterprises=${enterprises} nodes=${nodes} onCancel=${() => setDialog(null)} onDone=${() => (setDialog(null), reload())} />`}
    ${dialog?.kind === 'node' && html`<${AccountNode} a=${a} lang=${lang} user=${user} api=${api} account=${dialog.account} nodes=${nodes} onCancel=${() => setDialog(null)} onDone=${() => (setDialog(null), reload())} />`}
    ${dialog?.kind === 'reset' && html`<${ResetPassword} a=${a} api=${api} account=${dialog.account} onCancel=${() => setDialog(null)} onDone=${() => (setDialog(null), setNotice(a.resetDone(dialog.account.username)))} />`}
  </div>`;
}

/**
 * Where a regulator account sits in the tree (docs/jurisdictions.md): the administrator's own node and
 * those below it, indented; the whole platform only for an administrator who has it (the API refuses
 * anything wider than the administrator's own scope, and says so in the form).
 */
function JurisdictionSelect({ lang, user, nodes, value, onChange }) {
  const w = jurisdictionWords(lang);
  const depth = depths(nodes);
  return html`<select name="jurisdiction" value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
    ${!user.jurisdiction && html`<option value="">${w.whole}</option>`}
    ${nodes.map((n) => html`<option value=${n.id}>${'\u00a0\u00a0'.repeat(depth.get(n.id) ?? 0)}${n.name} · ${w.kinds[n.kind] ?? n.kind}</option>`)}
  </select>`;
}

function AccountForm({ a, lang, user, api, enterprises, nodes, onCancel, onDone }) {
  const [form, setForm] = useState({ username: '', displayName: '', role: 'operator', enterprise: enterprises[0]?.id ?? '', jurisdiction: user.jurisdiction ?? '', password: '' });
  const [error, setError] = useState('');
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const submit = async () => {
    setError('');
    const enterprise = form.role === 'enterprise' ? form.enterprise || null : null;
    if (form.role === 'enterprise' && !enterprise) return setError(a.enterpriseRequired);
    try {
      const jurisdiction = form.role === 'enterprise' ? null : form.jurisdiction || null;
      await api('POST', '/api/v1/accounts', { username: form.username.trim(), password: form.password, role: form.role, enterprise, jurisdiction, displayName: form.displayName });
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<${FormDialog} a=${a} title=${a.newAccount} onCancel=${onCancel} onSubmit=${submit} error=${error} testid="account-form">
    <label>${a.username}<input name="username" value=${form.username} onInput=${set('username')} maxlength="64" autocomplete="off" /></label>
    <label>${a.displayName}<input name="displayName" value=${form.displayName} onInput=${set('displayName')} maxlength="100" /></label>
    <label>${a.role}<select name="role" value=${form.role} onChange=${set('role')}>${ROLES.map((r) => html`<option value=${r}>${a.roles[r]}</option>`)}</select></label>
    ${form.role === 'enterprise' && html`<label>${a.enterprise}<select name="enterprise" value=${form.enterprise} onChange=${set('enterprise')}>${enterprises.map((e) => html`<option value=${e.id}>${e.name || e.id}</option>`)}</select></label>`}
    ${form.role !== 'enterprise' && html`<label>${jurisdictionWords(lang).node}<${JurisdictionSelect} lang=${lang} user=${user} nodes=${nodes} value=${form.jurisdiction} onChange=${(v) => setForm({ ...form, jurisdiction: v })} /></label>`}
    <label>${a.password} <span class="muted">${a.passwordHint}</span><input name="password" type="password" autocomplete="new-password" value=${form.password} onInput=${set('password')} /></label>
  <//>`;
}

/** Moves a regulator account to another node: what it sees changes at its next request. */
function AccountNode({ a, lang, user, api, account, nodes, onCancel, onDone }) {
  const [value, setValue] = useState(account.jurisdiction ?? '');
  const [error, setError] = useState('');
  const submit = async () => {
    setError('');
    try {
      await api('PATCH', `/api/v1/accounts/${encodeURIComponent(account.username)}`, { jurisdiction: value || null });
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<${FormDialog} a=${a} title=${a.jurisdictionTitle(account.username)} onCancel=${onCancel} onSubmit=${submit} error=${error} testid="jurisdiction-form">
    <label>${jurisdictionWords(lang).node}<${JurisdictionSelect} lang=${lang} user=${user} nodes=${nodes} value=${value} onChange=${setValue} /></label>
    <p class="muted">${a.jurisdictionHint}</p>
  <//>`;
}

function ResetPassword({ a, api, account, onCancel, onDone }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const submit = async () => {
    try {
      await api('PATCH', `/api/v1/accounts/${encodeURIComponent(account.username)}`, { password });
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<${FormDialog} a=${a} title=${a.resetTitle(account.username)} onCancel=${onCancel} onSubmit=${submit} error=${error} testid="reset-form">
    <label>${a.password} <span class="muted">${a.passwordHint}</span><input name="password" type="password" autocomplete="new-password" value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} /></label>
  <//>`;
}

// ---- alarm rule overrides: checked as `hazwatch rules --check`, then saved or downloaded ----

const managedName = (enterprise, device) => (device ? `device@${enterprise}@${device}.yaml` : `enterprise@${enterprise}.yaml`);

/** A new override: valid as it stands (no rule changed), with the device's threshold rules as commented examples. */
function template(enterprise, device, rules) {
  const lines = [`enterprise: ${enterprise}`, ...(device ? [`device: ${device}`] : []), 'rules: []'];
  if (rules?.length) {
    lines.push('# To change a threshold, replace [] above with the rules to change, e.g.:', '# rules:');
    for (const r of rules) {
      lines.push(`#   - id: ${r.id}`, '#     stages:');
      for (const s of r.stages) lines.push(`#       - { level: ${s.level}, raise: ${s.from} }`);
    }
  }
  return lines.join('\n') + '\n';
}

export function RulesTab({ a, user, api, can, enterprises, params }) {
  const [list, reload] = useLoad(() => api('GET', '/api/v1/rules/overrides'), []);
  const [enterprise, setEnterprise] = useState(params.get('enterprise') ?? (user.role === 'enterprise' ? user.enterprise : enterprises[0]?.id ?? ''));
  const [device, setDevice] = useState(params.get('device') ?? '');
  const [devices] = useLoad(() => (enterprise ? api('GET', `/api/v1/devices?enterprise=${encodeURIComponent(enterprise)}`) : Promise.resolve([])), [enterprise]);
  const [text, setText] = useState('');
  const [result, setResult] = useState(null);
  const [confirming, setConfirming] = useState(false);
  const write = can('rules.write');
  const name = enterprise ? managedName(enterprise, device) : '';
  const existing = list?.files.find((f) => f.managed && f.name === name);
  // The text of the scope chosen, once per scope (a reload of the list after a save keeps what is
  // typed and said): its file when the console keeps one, else a template.
  const loadedFor = useRef(null);
  useEffect(() => {
    if (!list || !enterprise || loadedFor.current === name) return;
    loadedFor.current = name;
    setResult(null);
    if (existing) return setText(existing.text);
    if (!device) return setText(template(enterprise, '', []));
    api('GET', `/api/v1/enterprises/${encodeURIComponent(enterprise)}/devices/${encodeURIComponent(device)}/rules`).then(
      (r) => setText(template(enterprise, device, r.rules)),
      () => setText(template(enterprise, device, [])),
    );
  }, [list, name]);
  const body = () => ({ enterprise, ...(device ? { device } : {}), text });
  const path = `/api/v1/rules/overrides/${encodeURIComponent(enterprise)}${device ? `/${encodeURIComponent(device)}` : ''}`;
  const check = async () => {
    try {
      setResult(await api('POST', '/api/v1/rules/check', body()));
    } catch (err) {
      setResult({ ok: false, message: err.message });
    }
  };
  const save = async () => {
    try {
      const saved = await api('PUT', path, { text });
      setResult({ ok: true, saved: true, message: saved.message });
      reload();
    } catch (err) {
      setResult({ ok: false, message: err.message });
    }
  };
  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'application/yaml' }));
    const link = Object.assign(document.createElement('a'), { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return html`<div data-testid="admin-rules">
    <h3>${a.overrideFiles}</h3>
    ${list?.error && html`<p class="error" role="alert" data-testid="rules-error">${a.rulesError} ${list.error}</p>`}
    ${list && !list.files.length ? html`<p class="muted" data-testid="no-overrides">${a.noOverrides}</p>` : null}
    <table data-testid="override-table">
      <thead><tr><th>${a.name}</th><th>${a.scope}</th><th>${a.enterprise}</th><th>${a.device}</th><th></th></tr></thead>
      <tbody>${(list?.files ?? []).map(
        (f) => html`<tr data-file=${f.name}>
          <td><details><summary>${f.name}</summary><pre class="rule-text">${f.text}</pre></details>${f.path ? html`<div class="muted">${f.path}</div>` : null}</td>
          <td>${a.scopes[f.scope]}${f.class ? ` · ${f.class}` : ''}${f.managed ? html` <span class="badge">${a.managed}</span>` : null}</td>
          <td>${f.enterprise ?? ''}</td><td>${f.device ?? ''}</td>
          <td>${a.rulesCount(f.rules)} ${f.managed && html`<button onClick=${() => (setEnterprise(f.enterprise), setDevice(f.device ?? ''))} data-testid="edit-override">${a.editOverride}</button>`}</td>
        </tr>`,
      )}</tbody>
    </table>

    <h3>${a.editOverride}</h3>
    ${list && !list.saving ? html`<p class="muted" data-testid="saving-off">${a.savingOff}</p>` : !write ? html`<p class="muted" data-testid="rules-read-only">${a.rulesReadOnly}</p>` : html`<p class="muted">${a.reloadHint}</p>`}
    <form class="filters rule-editor" onSubmit=${(e) => (e.preventDefault(), check())} data-testid="override-form">
      <label>${a.forEnterprise}<${EnterpriseSelect} a=${a} user=${user} enterprises=${enterprises} value=${enterprise} onChange=${(v) => (setEnterprise(v), setDevice(''))} /></label>
      <label>${a.forDevice}<select name="device" value=${device} onChange=${(e) => setDevice(e.currentTarget.value)}>
        <option value="">${a.wholeEnterprise}</option>
        ${(devices ?? []).filter((d) => !d.revokedAt).map((d) => html`<option value=${d.id}>${d.id}${d.name ? ` · ${d.name}` : ''}</option>`)}
        ${device && devices && !devices.some((d) => d.id === device) ? html`<option value=${device}>${device}</option>` : null}
      </select></label>
      <span class="muted" data-testid="override-name">${name}</span>
    </form>
    <label class="rule-text-label">${a.text}
      <textarea name="text" rows="14" spellcheck="false" value=${text} onInput=${(e) => (setText(e.currentTarget.value), setResult(null))} data-testid="override-text"></textarea></label>
    ${result && html`<div class=${result.ok ? 'ok' : 'error'} role=${result.ok ? 'status' : 'alert'} data-testid="check-result" data-ok=${String(result.ok)}>
      <strong>${result.ok ? (result.saved ? a.saved : a.checkOk) : a.checkFailed}</strong> <code>${result.message}</code></div>`}
    <div class="row">
      <button type="button" onClick=${check} data-testid="check-override">${a.check}</button>
      <button type="button" onClick=${download} data-testid="download-override">${a.download}</button>
      ${write && list?.saving && html`<button type="button" class="primary" onClick=${save} data-testid="save-override">${a.save}</button>`}
      ${write && list?.saving && existing && html`<button type="button" class="destructive" onClick=${() => setConfirming(true)} data-testid="remove-override">${a.removeOverride}</button>`}
    </div>
    ${confirming && html`<${Confirm} a=${a} destructive title=${a.removeOverride} text=${name} action=${a.removeOverride} onCancel=${() => setConfirming(false)}
      onConfirm=${async () => {
        const r = await api('DELETE', path);
        setConfirming(false);
        setResult({ ok: true, saved: true, message: r.message });
        reload();
      }} />`}
  </div>`;
}

// ---- maintenance windows ----

const windowState = (w, now) => (w.endedAt !== null ? 'ended' : w.until <= now ? 'expired' : w.from > now ? 'planned' : 'active');

export function MaintenanceTab({ a, lang, catalog, user, api, can, enterprises }) {
  const [activeOnly, setActiveOnly] = useState(true);
  const [windows, reload, error] = useLoad(() => api('GET', `/api/v1/maintenance${activeOnly ? '?current=true' : ''}`), [activeOnly]);
  const [creating, setCreating] = useState(false);
  const [ending, setEnding] = useState(null);
  const write = can('maintenance.write');
  const now = Date.now();
  const shown = [...(windows ?? [])].sort((x, y) => y.from - x.from);
  return html`<div data-testid="admin-maintenance">
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label class="check"><input type="checkbox" name="active" checked=${activeOnly} onChange=${(e) => setActiveOnly(e.currentTarget.checked)} /> ${a.activeOnly}</label>
      <span class="grow"></span>
      ${write ? html`<button type="button" class="primary" onClick=${() => setCreating(true)} data-testid="new-window">${a.newWindow}</button>` : html`<span class="badge">${a.readOnly}</span>`}
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${windows && !shown.length ? html`<p class="muted" data-testid="no-windows">${a.noWindows}</p>` : null}
    <table data-testid="window-table">
      <thead><tr><th>${a.device}</th><th>${a.condition}</th><th>${a.reason}</th><th>${a.from}</th><th>${a.until}</th><th>${a.by}</th><th>${a.state}</th><th></th></tr></thead>
      <tbody>${shown.map((w) => {
        const state = windowState(w, now);
        return html`<tr data-window=${w.id} data-state=${state}>
          <td><a href=${`#/device/${w.enterprise}/${w.device}`}>${w.enterprise}/${w.device}</a></td>
          <td>${w.condition ? conditionName(catalog, w.condition, lang) : a.wholeDevice}</td>
          <td>${w.reason}</td><td>${fmt(lang, w.from)}</td><td>${fmt(lang, w.endedAt ?? w.until)}</td><td>${w.endedBy ? `${w.by} / ${w.endedBy}` : w.by}</td>
          <td><span class=${`badge ${state === 'active' ? 'warn' : ''}`}>${a.states[state]}</span></td>
          <td>${write && (state === 'active' || state === 'planned') && html`<button onClick=${() => setEnding(w)} data-testid="end-window">${state === 'planned' ? a.cancelPlanned : a.endNow}</button>`}</td>
        </tr>`;
      })}</tbody>
    </table>
    ${creating && html`<${WindowForm} a=${a} lang=${lang} catalog=${catalog} user=${user} api=${api} enterprises=${enterprises} onCancel=${() => setCreating(false)} onDone=${() => (setCreating(false), reload())} />`}
    ${ending && html`<${Confirm} a=${a} title=${a.endNow} text=${`${ending.enterprise}/${ending.device} · ${ending.reason}`} action=${a.endNow} onCancel=${() => setEnding(null)}
      onConfirm=${async () => (await api('POST', `/api/v1/maintenance/${ending.id}/end`), setEnding(null), reload())} />`}
  </div>`;
}

function WindowForm({ a, lang, catalog, user, api, enterprises, onCancel, onDone }) {
  const [form, setForm] = useState({ enterprise: user.role === 'enterprise' ? user.enterprise : enterprises[0]?.id ?? '', device: '', condition: '', reason: '', minutes: '120', from: '' });
  const [devices] = useLoad(() => (form.enterprise ? api('GET', `/api/v1/devices?enterprise=${encodeURIComponent(form.enterprise)}`) : Promise.resolve([])), [form.enterprise]);
  const [error, setError] = useState('');
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const live = (devices ?? []).filter((d) => !d.revokedAt);
  const device = form.device || live[0]?.id || '';
  const submit = async () => {
    setError('');
    try {
      const from = localToMs(form.from);
      await api('POST', '/api/v1/maintenance', { enterprise: form.enterprise, device, ...(form.condition ? { condition: form.condition } : {}), reason: form.reason, minutes: numOr(form.minutes), ...(from !== undefined ? { from } : {}) });
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<${FormDialog} a=${a} title=${a.newWindow} onCancel=${onCancel} onSubmit=${submit} error=${error} testid="window-form">
    <label>${a.enterprise}<${EnterpriseSelect} a=${a} user=${user} enterprises=${enterprises} value=${form.enterprise} onChange=${(v) => setForm({ ...form, enterprise: v, device: '' })} /></label>
    <label>${a.device}<select name="device" value=${device} onChange=${set('device')}>${live.map((d) => html`<option value=${d.id}>${d.id}${d.name ? ` · ${d.name}` : ''} (${className(catalog, d.class, lang)})</option>`)}</select></label>
    <label>${a.condition}<select name="condition" value=${form.condition} onChange=${set('condition')}>
      <option value="">${a.wholeDevice}</option>
      ${Object.keys(catalog.conditions ?? {}).map((c) => html`<option value=${c}>${conditionName(catalog, c, lang)}</option>`)}
    </select></label>
    <label>${a.reason}<input name="reason" value=${form.reason} onInput=${set('reason')} maxlength="2000" /></label>
    <label>${a.startsAt}<input type="datetime-local" name="from" value=${form.from} onInput=${set('from')} /></label>
    <label>${a.minutes}<input name="minutes" value=${form.minutes} onInput=${set('minutes')} inputmode="numeric" /></label>
  <//>`;
}

// ---- the audit trail ----

const PAGE = 50;
const ACTIONS = ['session.login', 'device.provision', 'device.update', 'device.rotate', 'device.revoke', 'device.thresholds', 'source.create', 'source.update', 'account.create', 'account.update', 'rules.check', 'rules.save', 'rules.delete', 'maintenance.start', 'maintenance.end', 'alarm.acknowledge', 'alarm.feedback', 'alarm.shelve', 'alarm.clear', 'alarm.close', 'alarm.export', 'audit.export'];
const localToMs = (v) => (v ? new Date(v).getTime() : undefined);

export function AuditTab({ a, lang, user, api, enterprises }) {
  const blank = { from: '', to: '', username: '', action: '', enterprise: '' };
  const [form, setForm] = useState(blank);
  const [filter, setFilter] = useState(blank);
  // The pages seen so far: "older" asks for what lies before the last entry shown.
  const [before, setBefore] = useState([]);
  const query = { from: localToMs(filter.from), to: localToMs(filter.to), username: filter.username.trim(), action: filter.action.trim(), enterprise: filter.enterprise };
  const [entries, , error] = useLoad(() => api('GET', `/api/v1/audit${q({ ...query, beforeSeq: before.at(-1), limit: PAGE })}`), [JSON.stringify(filter), before.length]);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const apply = (e) => (e.preventDefault(), setFilter(form), setBefore([]));
  const exportHref = (format) => `/api/v1/audit/export${q({ ...query, format, lang })}`;
  const short = (d) => (d ? JSON.stringify(d).slice(0, 160) : '');
  return html`<div data-testid="admin-audit">
    <form class="filters" role="search" onSubmit=${apply} data-testid="audit-filters">
      <label>${a.from}<input type="datetime-local" name="from" value=${form.from} onInput=${set('from')} /></label>
      <label>${a.until}<input type="datetime-local" name="to" value=${form.to} onInput=${set('to')} /></label>
      <label>${a.user}<input name="username" value=${form.username} onInput=${set('username')} autocomplete="off" /></label>
      <label>${a.action}<input name="action" list="audit-actions" value=${form.action} onInput=${set('action')} autocomplete="off" placeholder=${a.anyAction} />
        <datalist id="audit-actions">${ACTIONS.map((x) => html`<option value=${x} />`)}</datalist></label>
      ${user.role !== 'enterprise' && html`<label>${a.enterprise}<${EnterpriseSelect} a=${a} user=${user} enterprises=${enterprises} value=${form.enterprise} onChange=${(v) => setForm({ ...form, enterprise: v })} all /></label>`}
      <div class="actions">
        <button class="primary" type="submit" data-testid="audit-apply">${a.apply}</button>
        <button type="button" onClick=${() => (setForm(blank), setFilter(blank), setBefore([]))}>${a.reset}</button>
      </div>
    </form>
    <div class="pager">
      <span data-testid="audit-shown">${entries ? a.shown(entries.length) : '…'}</span>
      <button disabled=${!before.length} onClick=${() => setBefore([])} data-testid="audit-newest">${a.newest}</button>
      <button disabled=${!entries || entries.length < PAGE} onClick=${() => setBefore([...before, entries.at(-1).seq])} data-testid="audit-older">${a.older}</button>
      <span class="grow"></span>
      <a class="button" href=${exportHref('csv')} data-testid="audit-export-csv">${a.exportCsv}</a>
      <a class="button" href=${exportHref('xlsx')} data-testid="audit-export-xlsx">${a.exportXlsx}</a>
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${entries && !entries.length ? html`<p class="muted">${a.noEntries}</p>` : null}
    <table data-testid="audit-table">
      <thead><tr><th>${a.time}</th><th>${a.user}</th><th>${a.enterprise}</th><th>${a.action}</th><th>${a.target}</th><th>${a.status}</th><th>${a.detail}</th></tr></thead>
      <tbody>${(entries ?? []).map(
        (e) => html`<tr data-seq=${e.seq} data-action=${e.action}>
          <td>${fmt(lang, e.at)}</td><td>${e.username} <span class="muted">${a.roles[e.role] ?? e.role}</span></td><td>${e.enterprise ?? ''}</td>
          <td>${e.action}</td><td>${e.target ?? ''}</td>
          <td><span class=${`badge ${e.status < 300 ? 'ok' : 'bad'}`}>${e.status}</span></td>
          <td class="muted detail">${short(e.detail)}</td>
        </tr>`,
      )}</tbody>
    </table>
  </div>`;
}
