// Emergency resources one by one (issue 17): '#/resources' lists the register (filter by kind, search
// by name), '#/resources?new[=<kind>]' registers one, '#/resources/<id>' shows one and
// '#/resources/<id>?edit' changes it; deleting asks first. The API is the one judge of what is valid
// (resources/model.ts): the form sends what was typed, and every field the API names in its refusal
// gets its message next to it. Only accounts with resource.write see the buttons that change things.
import { h } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import * as icon from './icons.js';

const html = htm.bind(h);

export const KINDS = ['rescue_team', 'warehouse', 'vehicle', 'equipment', 'shelter', 'fire_station', 'expert'];
/** The fields each kind has beyond the common ones (the rules of resources/model.ts resourceIssues). */
const KIND_FIELDS = {
  rescue_team: ['people', 'specialities'],
  fire_station: ['people', 'specialities'],
  expert: ['specialities'],
  warehouse: ['items'],
  vehicle: ['items'],
  equipment: ['items'],
  shelter: ['capacity'],
};
/** What the API requires of each kind, to mark the labels (it still decides). */
const REQUIRED = {
  rescue_team: ['people', 'specialities', 'phone'],
  fire_station: ['phone'],
  expert: ['specialities', 'phone'],
  warehouse: ['items'],
  vehicle: ['items'],
  equipment: ['items'],
  shelter: ['capacity'],
};
/** Id prefixes as the demo register uses them (wh-park, team-hazmat ...): a suggestion, editable. */
const ID_PREFIX = { rescue_team: 'team', warehouse: 'wh', vehicle: 'veh', equipment: 'eq', shelter: 'sh', fire_station: 'fs', expert: 'ex' };
const suggestId = (kind) => `${ID_PREFIX[kind] ?? 'res'}-${Date.now().toString(36).slice(-6)}`;

/** The route of '#/resources…': the list (maybe with a new one to register), or one resource (maybe being edited). */
export function resourceRoute(hash) {
  const m = hash.match(/^#\/resources(?:\/([^?/]+))?(?:\?(.*))?$/);
  if (!m) return null;
  const params = new URLSearchParams(m[2] ?? '');
  return { id: m[1] ? decodeURIComponent(m[1]) : null, creating: !m[1] && params.has('new'), kind: params.get('new') || null, editing: !!m[1] && params.has('edit') };
}
const resourceHash = (id, edit) => `#/resources/${encodeURIComponent(id)}${edit ? '?edit' : ''}`;

/** A kind, speciality or item in the view's language (the catalog's words). */
const word = (catalog, table, code, lang) => {
  const n = catalog?.resources?.[table]?.[code];
  return n ? (lang === 'zh' ? n.zh : n.en) : code;
};
const itemText = (catalog, it, lang) => `${it.kind === 'other' ? it.name : word(catalog, 'items', it.kind, lang)} ${it.quantity}${it.unit ? ' ' + it.unit : ''}`;
const collator = (lang) => new Intl.Collator(lang === 'zh' ? 'zh-CN' : 'en');

export function ResourcesPage({ t, lang, catalog, user, api, can, hash, onChanged }) {
  const route = resourceRoute(hash) ?? { id: null, creating: false, kind: null, editing: false };
  const write = can(user, catalog, 'resource.write');
  const [enterprises, setEnterprises] = useState([]);
  useEffect(() => {
    api('GET', '/api/v1/enterprises').then(setEnterprises, () => {});
  }, []);
  const props = { t, lang, catalog, api, write, enterprises, onChanged };
  if (route.id) return html`<${ResourceDetail} ...${props} id=${route.id} editing=${route.editing && write} />`;
  return html`<${ResourceList} ...${props} creating=${route.creating && write} newKind=${KINDS.includes(route.kind) ? route.kind : null} />`;
}

function ResourceList({ t, lang, catalog, api, write, enterprises, onChanged, creating, newKind }) {
  const s = t.resources;
  const [kind, setKind] = useState('');
  const [q, setQ] = useState('');
  const [list, setList] = useState();
  const [error, setError] = useState('');
  useEffect(() => {
    setError('');
    api('GET', `/api/v1/resources${kind ? `?kind=${kind}` : ''}`).then(setList, (e) => (setError(e.message), setList([])));
  }, [kind]);
  const names = new Map(enterprises.map((e) => [e.id, e.name || e.id]));
  const needle = q.trim().toLowerCase();
  const order = collator(lang);
  const shown = (list ?? [])
    .filter((r) => !needle || r.name.toLowerCase().includes(needle) || r.id.toLowerCase().includes(needle))
    .sort((a, b) => KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) || order.compare(a.name, b.name));
  const holds = (r) =>
    [
      r.people !== null ? s.peopleCount(r.people) : '',
      r.capacity !== null ? s.capacityCount(r.capacity) : '',
      r.specialities.map((x) => word(catalog, 'specialities', x, lang)).join(t.listSep),
      r.items.map((it) => itemText(catalog, it, lang)).join(t.listSep),
    ]
      .filter(Boolean)
      .join(' · ');
  return html`<div class="panel page search resources" data-testid="resources">
    <header>
      <a class="button" href="#/">${icon.back()} ${t.back}</a>
      <h2>${s.title}</h2><span style="flex:1"></span>
      ${write && !creating && html`<a class="button primary" href=${`#/resources?new${kind ? `=${kind}` : ''}`} data-testid="new-resource">${s.newResource}</a>`}
    </header>
    <div class="body">
      ${creating &&
      html`<${ResourceForm} t=${t} lang=${lang} catalog=${catalog} api=${api} enterprises=${enterprises} initial=${null} newKind=${newKind ?? (kind || 'rescue_team')}
        onCancel=${() => (location.hash = '#/resources')}
        onSaved=${(r) => (onChanged?.(), (location.hash = resourceHash(r.id)))} />`}
      <form class="filters" role="search" onSubmit=${(e) => e.preventDefault()} data-testid="resource-filters">
        <label>${s.kind}<select name="kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
          <option value="">${s.allKinds}</option>${KINDS.map((k) => html`<option value=${k}>${word(catalog, 'kinds', k, lang)}</option>`)}
        </select></label>
        <label>${s.searchName}<input type="search" name="q" value=${q} onInput=${(e) => setQ(e.currentTarget.value)} /></label>
      </form>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="pager"><span data-testid="resource-count" aria-live="polite">${list ? s.count(shown.length) : '…'}</span></div>
      <table data-testid="resource-list">
        <thead><tr><th>${s.name}</th><th>${s.kind}</th><th>${t.owner}</th><th>${t.contact}</th><th>${s.holds}</th><th>${t.position}</th></tr></thead>
        <tbody>${shown.map(
          (r) => html`<tr data-resource=${r.id} data-kind=${r.kind}>
            <td><a href=${resourceHash(r.id)}>${r.name}</a></td>
            <td class="kind">${icon.resource[r.kind]?.()} ${word(catalog, 'kinds', r.kind, lang)}</td>
            <td>${r.enterprise ? (names.get(r.enterprise) ?? r.enterprise) : r.jurisdiction}</td>
            <td>${[r.contact, r.phone].filter(Boolean).join(' ')}</td>
            <td>${holds(r)}</td>
            <td class="num">${r.lat.toFixed(5)}, ${r.lon.toFixed(5)}</td>
          </tr>`,
        )}</tbody>
      </table>
    </div>
  </div>`;
}

function ResourceDetail({ t, lang, catalog, api, write, enterprises, onChanged, id, editing }) {
  const s = t.resources;
  const [r, setR] = useState();
  const [error, setError] = useState('');
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    setR(undefined);
    setError('');
    api('GET', `/api/v1/resources/${encodeURIComponent(id)}`).then(setR, (e) => setError(e.status === 404 ? s.notFound : e.message));
  }, [id]);
  if (error) return html`<div class="panel page resources"><div class="body"><p class="error" role="alert" data-testid="resource-error">${error}</p><a href="#/resources">${s.title}</a></div></div>`;
  if (!r) return html`<div class="panel page muted">…</div>`;
  const owner = r.enterprise ? (enterprises.find((e) => e.id === r.enterprise)?.name ?? r.enterprise) : '';
  const rows = [
    [s.id, r.id],
    [t.enterprise, owner],
    [s.jurisdiction, r.jurisdiction],
    [t.contact, r.contact],
    [s.phone, r.phone],
    [t.address, r.address],
    [t.specialities, r.specialities.map((x) => word(catalog, 'specialities', x, lang)).join(t.listSep)],
    [t.people, r.people !== null ? s.peopleCount(r.people) : ''],
    [t.capacity, r.capacity !== null ? s.capacityCount(r.capacity) : ''],
    [t.position, `${r.lat.toFixed(6)}, ${r.lon.toFixed(6)}`],
    [t.note, r.note],
    [s.updated, new Date(r.updatedAt).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false })],
  ].filter(([, v]) => v);
  const remove = async () => {
    await api('DELETE', `/api/v1/resources/${encodeURIComponent(r.id)}`);
    onChanged?.();
    location.hash = '#/resources';
  };
  return html`<div class="panel page resources resource-detail" data-testid="resource-detail" data-resource=${r.id}>
    <header>
      <a class="button" href="#/resources">${icon.back()} ${s.title}</a>
      <h2 data-testid="resource-name">${r.name}</h2>
      <span class="chip kind" data-kind=${r.kind}>${icon.resource[r.kind]?.()} ${word(catalog, 'kinds', r.kind, lang)}</span>
      <span style="flex:1"></span>
      ${write && !editing && html`<a class="button" href=${resourceHash(r.id, true)} data-testid="edit-resource">${s.edit}</a>
        <button class="destructive" onClick=${() => setConfirming(true)} data-testid="delete-resource">${s.delete}</button>`}
    </header>
    <div class="body">
      ${editing
        ? html`<${ResourceForm} t=${t} lang=${lang} catalog=${catalog} api=${api} enterprises=${enterprises} initial=${r}
            onCancel=${() => (location.hash = resourceHash(r.id))}
            onSaved=${(saved) => (setR(saved), onChanged?.(), (location.hash = resourceHash(saved.id)))} />`
        : html`<table class="hist info" data-testid="resource-fields"><tbody>${rows.map(([k, v]) => html`<tr><th scope="row" class="muted">${k}</th><td>${v}</td></tr>`)}</tbody></table>
          ${r.items.length
            ? html`<h4>${t.items}</h4>
              <table class="hist" data-testid="resource-items">
                <thead><tr><th>${s.item}</th><th>${s.quantity}</th><th>${s.unit}</th></tr></thead>
                <tbody>${r.items.map((it) => html`<tr data-item=${it.kind}><td>${it.kind === 'other' ? it.name : word(catalog, 'items', it.kind, lang)}${it.kind !== 'other' && it.name ? html` <span class="muted">${it.name}</span>` : null}</td><td class="num">${it.quantity}</td><td>${it.unit}</td></tr>`)}</tbody>
              </table>`
            : null}`}
    </div>
    ${confirming && html`<${ConfirmDelete} t=${t} resource=${r} onCancel=${() => setConfirming(false)} onConfirm=${remove} />`}
  </div>`;
}

/** "Delete this resource?": focus on Cancel, Escape cancels, the API's refusal stays in the dialog. */
function ConfirmDelete({ t, resource, onCancel, onConfirm }) {
  const s = t.resources;
  const cancel = useRef();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  useLayoutEffect(() => cancel.current?.focus(), []);
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  };
  return html`<div class="modal" onClick=${(e) => e.target === e.currentTarget && onCancel()} onKeyDown=${(e) => e.key === 'Escape' && onCancel()}>
    <div class="box" role="alertdialog" aria-modal="true" aria-labelledby="confirm-delete-title" aria-describedby="confirm-delete-text" data-testid="confirm-delete">
      <h3 id="confirm-delete-title">${s.deleteTitle}</h3>
      <p id="confirm-delete-text">${s.deleteText(resource.name)}</p>
      ${error && html`<div class="error" role="alert">${error}</div>`}
      <div class="row">
        <button ref=${cancel} onClick=${onCancel} data-testid="cancel-delete">${t.cancel}</button>
        <button class="destructive" onClick=${confirm} disabled=${busy} data-testid="confirm-delete-button">${s.delete}</button>
      </div>
    </div>
  </div>`;
}

// ---- the form ----
const str = (v) => (v === null || v === undefined ? '' : String(v));
const blankItem = () => ({ kind: 'other', name: '', quantity: '', unit: '' });
function formOf(r, kind) {
  if (!r) return { id: suggestId(kind), kind, name: '', lat: '', lon: '', enterprise: '', jurisdiction: '', contact: '', phone: '', address: '', specialities: [], people: '', capacity: '', items: KIND_FIELDS[kind].includes('items') ? [blankItem()] : [], note: '' };
  return { ...r, lat: str(r.lat), lon: str(r.lon), enterprise: r.enterprise ?? '', people: str(r.people), capacity: str(r.capacity), items: r.items.map((it) => ({ ...it, quantity: str(it.quantity) })) };
}
/** A typed number as the API takes it: empty is null, a number a number, anything else as typed (the API names it). */
function num(v) {
  const text = String(v).trim();
  if (!text) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}
const hasValue = (v) => (Array.isArray(v) ? v.length > 0 : String(v ?? '').trim() !== '');
/** A field is in the form when its kind has it, or when it holds something (never sent unseen). */
const shows = (form, field) => KIND_FIELDS[form.kind]?.includes(field) || hasValue(form[field]);

function bodyOf(form) {
  return {
    kind: form.kind,
    name: form.name,
    lat: num(form.lat),
    lon: num(form.lon),
    enterprise: form.enterprise || null,
    jurisdiction: form.jurisdiction,
    contact: form.contact,
    phone: form.phone,
    address: form.address,
    specialities: shows(form, 'specialities') ? form.specialities : [],
    people: shows(form, 'people') ? num(form.people) : null,
    capacity: shows(form, 'capacity') ? num(form.capacity) : null,
    items: shows(form, 'items') ? form.items.map((it) => ({ kind: it.kind, name: it.name, quantity: num(it.quantity), unit: it.unit })) : [],
    note: form.note,
  };
}

/**
 * The fields the API named in its refusal, `lat`, `items.0.quantity` ...: from `issues` (a schema
 * refusal lists them all), else from the message (the kind's rules name each `body.<field>: why`),
 * else the one `field`.
 */
export function fieldIssues(body) {
  const out = [];
  if (Array.isArray(body?.issues) && body.issues.length) out.push(...body.issues);
  else {
    for (const part of String(body?.message ?? '').split('; ')) {
      const m = part.match(/^(body\.[\w.]+): ([\s\S]*)$/);
      if (m) out.push({ field: m[1], message: m[2] });
    }
    if (!out.length && body?.field) out.push({ field: body.field, message: body.message ?? '' });
  }
  return out.map((i) => ({ field: i.field.replace(/^body\.?/, '') || 'body', message: i.message }));
}

/** The view's words for what is wrong with a field; the API's own sentence when the console has none. */
function issueText(s, code, field, message, kind) {
  const e = s.errors;
  const key = field.replace(/^items\.\d+\./, 'item.');
  if (code === 'HW_ERR_CONFLICT' && key === 'id') return e.idTaken;
  if (key === 'enterprise') return /no enterprise/.test(message) ? e.enterpriseUnknown : e.owner;
  if (key === 'capacity' && /only a shelter/.test(message)) return e.capacityShelterOnly;
  if (key === 'items') return e.items[kind] ?? e.items.warehouse;
  if (key === 'item.name') return /other/.test(message) ? e.itemOtherName : e.itemName;
  return e[key] ?? message;
}

function ResourceForm({ t, lang, catalog, api, enterprises, initial, newKind, onCancel, onSaved }) {
  const s = t.resources;
  const creating = !initial;
  const [form, setForm] = useState(() => formOf(initial, newKind));
  const [idTouched, setIdTouched] = useState(false);
  const [errors, setErrors] = useState({});
  const [summary, setSummary] = useState('');
  const [busy, setBusy] = useState(false);
  const el = useRef();
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const setKind = (e) => {
    const kind = e.currentTarget.value;
    const next = { ...form, kind };
    if (creating && !idTouched) next.id = suggestId(kind);
    if (KIND_FIELDS[kind].includes('items') && !next.items.length) next.items = [blankItem()];
    if (!KIND_FIELDS[kind].includes('items') && next.items.every((it) => !hasValue(it.name) && !hasValue(it.quantity) && !hasValue(it.unit))) next.items = [];
    setForm(next);
  };
  const setItem = (i, k) => (e) => setForm({ ...form, items: form.items.map((it, j) => (j === i ? { ...it, [k]: e.currentTarget.value } : it)) });
  const toggleSpeciality = (code) => (e) => setForm({ ...form, specialities: e.currentTarget.checked ? [...form.specialities, code] : form.specialities.filter((x) => x !== code) });
  useEffect(() => {
    // After a refusal, the keyboard goes to the first field at fault.
    if (Object.keys(errors).length) el.current?.querySelector('[aria-invalid=true]')?.focus();
  }, [errors]);

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setSummary('');
    const body = bodyOf(form);
    try {
      const saved = creating ? await api('POST', '/api/v1/resources', { id: form.id.trim(), ...body }) : await api('PUT', `/api/v1/resources/${encodeURIComponent(initial.id)}`, body);
      onSaved(saved);
    } catch (err) {
      const issues = fieldIssues(err.body);
      const byField = {};
      for (const i of issues) byField[i.field] ??= issueText(s, err.body?.code, i.field, i.message, form.kind);
      const placed = Object.keys(byField).filter((f) => el.current?.querySelector(`[data-error-for="${f}"]`));
      setErrors(byField);
      const unplaced = Object.keys(byField).filter((f) => !placed.includes(f)).map((f) => `${f}: ${byField[f]}`);
      setSummary([placed.length ? s.fixFields(placed.length) : '', ...unplaced, !issues.length ? err.message : ''].filter(Boolean).join(' '));
    } finally {
      setBusy(false);
    }
  };

  const required = (field) => REQUIRED[form.kind]?.includes(field);
  /** A labelled control with its error beneath, tied together for screen readers (the label names it, the error describes it). */
  const field = (name, label, control, opts = {}) => {
    const err = errors[name];
    const id = `res-${name}`;
    const errId = `res-err-${name}`;
    return html`<div class=${`field${opts.wide ? ' wide' : ''}`}>
      <label for=${id}>${label}${opts.required ? html`<span class="req" aria-hidden="true"> *</span>` : null}</label>
      ${control({ id, 'aria-invalid': err ? 'true' : 'false', 'aria-describedby': err ? errId : undefined, 'aria-required': opts.required ? 'true' : undefined })}
      <span class="field-error" id=${errId} data-error-for=${name} hidden=${!err}>${err ?? ''}</span>
    </div>`;
  };
  const input = (name, extra = {}) => (aria) => html`<input name=${name} value=${form[name]} onInput=${set(name)} ...${aria} ...${extra} />`;

  return html`<form class="resource-form" ref=${el} onSubmit=${submit} noValidate data-testid="resource-form" aria-labelledby="resource-form-title">
    <h3 id="resource-form-title">${creating ? s.newResource : s.editTitle(initial.name)}</h3>
    ${summary && html`<div class="error" role="alert" data-testid="form-error">${summary}</div>`}
    <div class="grid">
      ${field('kind', s.kind, (aria) => html`<select name="kind" value=${form.kind} onChange=${setKind} ...${aria}>${KINDS.map((k) => html`<option value=${k}>${word(catalog, 'kinds', k, lang)}</option>`)}</select>`, { required: true })}
      ${creating ? field('id', s.id, input('id', { onInput: (e) => (setIdTouched(true), setForm({ ...form, id: e.currentTarget.value })), maxlength: 64, autocomplete: 'off', spellcheck: false }), { required: true }) : null}
      ${field('name', s.name, input('name', { maxlength: 200 }), { required: true })}
      ${field('lat', s.lat, input('lat', { inputmode: 'decimal', autocomplete: 'off', placeholder: '30.7536' }), { required: true })}
      ${field('lon', s.lon, input('lon', { inputmode: 'decimal', autocomplete: 'off', placeholder: '121.2602' }), { required: true })}
      ${field(
        'enterprise',
        t.enterprise,
        (aria) => html`<select name="enterprise" value=${form.enterprise} onChange=${set('enterprise')} ...${aria}>
          <option value="">${s.publicResource}</option>
          ${enterprises.map((x) => html`<option value=${x.id}>${x.name || x.id}</option>`)}
          ${form.enterprise && !enterprises.some((x) => x.id === form.enterprise) ? html`<option value=${form.enterprise}>${form.enterprise}</option>` : null}
        </select>`,
      )}
      ${field('jurisdiction', s.jurisdiction, input('jurisdiction', { maxlength: 200, placeholder: s.jurisdictionHint }))}
      ${field('contact', t.contact, input('contact', { maxlength: 100 }))}
      ${field('phone', s.phone, input('phone', { type: 'tel', maxlength: 50 }), { required: required('phone') })}
      ${field('address', t.address, input('address', { maxlength: 300 }), { wide: true })}
      ${shows(form, 'people') ? field('people', s.peopleField, input('people', { inputmode: 'numeric' }), { required: required('people') }) : null}
      ${shows(form, 'capacity') ? field('capacity', s.capacityField, input('capacity', { inputmode: 'numeric' }), { required: required('capacity') }) : null}
    </div>
    <p class="muted hint">${s.coordinatesHint}</p>
    ${shows(form, 'specialities') &&
    html`<fieldset class="specialities" data-testid="specialities" aria-invalid=${errors.specialities ? 'true' : 'false'} aria-describedby=${errors.specialities ? 'res-err-specialities' : undefined}>
      <legend>${t.specialities}${required('specialities') ? html`<span class="req" aria-hidden="true"> *</span>` : null}</legend>
      ${Object.keys(catalog?.resources?.specialities ?? {}).map(
        (code) => html`<label class="check"><input type="checkbox" name="specialities" value=${code} checked=${form.specialities.includes(code)} onChange=${toggleSpeciality(code)} /> ${word(catalog, 'specialities', code, lang)}</label>`,
      )}
      <span class="field-error" id="res-err-specialities" data-error-for="specialities" hidden=${!errors.specialities}>${errors.specialities ?? ''}</span>
    </fieldset>`}
    ${shows(form, 'items') &&
    html`<fieldset class="items" data-testid="items">
      <legend>${s.itemsOf[form.kind] ?? t.items}${required('items') ? html`<span class="req" aria-hidden="true"> *</span>` : null}</legend>
      <table>
        <thead><tr><th>${s.item}</th><th>${s.itemName}</th><th>${s.quantity}</th><th>${s.unit}</th><th><span class="visually-hidden">${s.removeItem}</span></th></tr></thead>
        <tbody>${form.items.map((it, i) => {
          const cell = (k, control) => {
            const err = errors[`items.${i}.${k}`];
            const errId = `res-err-items-${i}-${k}`;
            return html`<td>${control({ 'aria-invalid': err ? 'true' : 'false', 'aria-describedby': err ? errId : undefined })}<span class="field-error" id=${errId} data-error-for=${`items.${i}.${k}`} hidden=${!err}>${err ?? ''}</span></td>`;
          };
          return html`<tr data-item-row=${i}>
            ${cell('kind', (aria) => html`<select name=${`items.${i}.kind`} aria-label=${s.itemLabel(i + 1, s.item)} value=${it.kind} onChange=${setItem(i, 'kind')} ...${aria}>
              ${Object.keys(catalog?.resources?.items ?? {}).map((code) => html`<option value=${code}>${word(catalog, 'items', code, lang)}</option>`)}
              <option value="other">${s.otherItem}</option>
            </select>`)}
            ${cell('name', (aria) => html`<input name=${`items.${i}.name`} aria-label=${s.itemLabel(i + 1, s.itemName)} maxlength="100" value=${it.name} onInput=${setItem(i, 'name')} ...${aria} />`)}
            ${cell('quantity', (aria) => html`<input name=${`items.${i}.quantity`} aria-label=${s.itemLabel(i + 1, s.quantity)} inputmode="decimal" size="8" value=${it.quantity} onInput=${setItem(i, 'quantity')} ...${aria} />`)}
            ${cell('unit', (aria) => html`<input name=${`items.${i}.unit`} aria-label=${s.itemLabel(i + 1, s.unit)} maxlength="20" size="5" value=${it.unit} onInput=${setItem(i, 'unit')} ...${aria} />`)}
            <td><button type="button" class="icon-only" aria-label=${s.itemLabel(i + 1, s.removeItem)} title=${s.removeItem} onClick=${() => setForm({ ...form, items: form.items.filter((_, j) => j !== i) })} data-testid="remove-item">${icon.close()}</button></td>
          </tr>`;
        })}</tbody>
      </table>
      <span class="field-error" id="res-err-items" data-error-for="items" hidden=${!errors.items}>${errors.items ?? ''}</span>
      <div><button type="button" onClick=${() => setForm({ ...form, items: [...form.items, blankItem()] })} data-testid="add-item">${s.addItem}</button></div>
    </fieldset>`}
    ${field('note', t.note, (aria) => html`<textarea name="note" rows="2" maxlength="2000" value=${form.note} onInput=${set('note')} ...${aria}></textarea>`, { wide: true })}
    <div class="row">
      <button type="button" onClick=${onCancel}>${t.cancel}</button>
      <button class="primary" type="submit" disabled=${busy} data-testid="save-resource">${s.save}</button>
    </div>
  </form>`;
}
