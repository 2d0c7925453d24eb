// The duty roster '#/duty' (值班, issue 16): who is on duty now in every unit the account sees (name,
// phone), the week's roster of one unit with adding and editing shifts, its duty directory, and the
// shift handover (交接班): the open items listed, the outgoing officer signs out, another account signs
// in, and the record is kept. Times are the unit's own (its time zone, Asia/Shanghai by default).
// Every control is a native button, input or select in a form: usable by keyboard alone.
import { h } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import * as icon from './icons.js';

const html = htm.bind(h);
const DAY = 86_400_000;

// ---- the unit's local time (the browser may be elsewhere) ----
const partsCache = new Map();
function wall(ms, tz) {
  let f = partsCache.get(tz);
  if (!f) partsCache.set(tz, (f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })));
  return Object.fromEntries(f.formatToParts(ms).map((p) => [p.type, p.value]));
}
/** The value of a datetime-local input for a moment, in the unit's time zone. */
export function toLocalInput(ms, tz) {
  const p = wall(ms, tz);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}
/** The moment a datetime-local value (or a YYYY-MM-DD date at 00:00) means in the unit's time zone. */
export function fromLocalInput(value, tz) {
  const [d, t = '00:00'] = value.split('T');
  const [y, m, dd] = d.split('-').map(Number);
  const [hh, mm] = t.split(':').map(Number);
  const target = Date.UTC(y, m - 1, dd, hh, mm);
  const offset = (at) => {
    const p = wall(at, tz);
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute) - Math.floor(at / 60_000) * 60_000;
  };
  return target - offset(target - offset(target));
}
const locale = (lang) => (lang === 'zh' ? 'zh-CN' : 'en-GB');
const fmtDate = (ms, tz, lang) => new Date(ms).toLocaleDateString(locale(lang), { timeZone: tz, month: '2-digit', day: '2-digit', weekday: 'short' });
const fmtTime = (ms, tz, lang) => new Date(ms).toLocaleTimeString(locale(lang), { timeZone: tz, hour: '2-digit', minute: '2-digit', hour12: false });
const fmtWhen = (ms, tz, lang) => new Date(ms).toLocaleString(locale(lang), { timeZone: tz, hour12: false, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });

const word = (table, code, lang) => (table?.[code] ? (lang === 'zh' ? table[code].zh : table[code].en) : code);
const TZ = (unit) => unit?.timeZone ?? 'Asia/Shanghai';

/** A person as the duty lists show them: the name, and the phone to call. */
function Who({ p }) {
  if (!p) return null;
  return html`<span class="who" data-person=${p.id}>${p.name}${p.phone ? html` <a class="phone" href=${`tel:${p.phone}`}>${p.phone}</a>` : null}</span>`;
}

/** A dialog the keyboard can use: it takes the focus, Escape closes it. */
function Dialog({ title, onCancel, children, testid }) {
  const box = useRef();
  useLayoutEffect(() => {
    box.current?.querySelector('input, select, textarea, button')?.focus();
  }, []);
  return html`<div class="modal" onClick=${(e) => e.target === e.currentTarget && onCancel()} onKeyDown=${(e) => e.key === 'Escape' && onCancel()}>
    <div class="box" role="dialog" aria-modal="true" aria-label=${title} ref=${box} data-testid=${testid}><h3>${title}</h3>${children}</div>
  </div>`;
}

export function DutyPage({ t, lang, user, api, can, catalog }) {
  const d = t.duty;
  const [dutyCatalog, setDutyCatalog] = useState();
  const [units, setUnits] = useState([]);
  const [unitId, setUnitId] = useState(() => localStorage.getItem('hw.duty.unit') ?? '');
  const [now, setNow] = useState();
  const [week, setWeek] = useState(0);
  const [shifts, setShifts] = useState([]);
  const [people, setPeople] = useState([]);
  const [work, setWork] = useState();
  const [handovers, setHandovers] = useState([]);
  const [editing, setEditing] = useState(null);
  const [addingPerson, setAddingPerson] = useState(false);
  const [viewing, setViewing] = useState(null);
  const [note, setNote] = useState('');
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  const refresh = () => setTick((n) => n + 1);

  useEffect(() => {
    api('GET', '/api/v1/duty/catalog').then(setDutyCatalog, () => {});
    api('GET', '/api/v1/duty/units').then(setUnits, (e) => setError(e.message));
  }, []);
  const unit = units.find((u) => u.id === unitId) ?? units[0];
  const tz = TZ(unit);
  const chooseUnit = (id) => (localStorage.setItem('hw.duty.unit', id), setUnitId(id), setWeek(0));

  // Who is on duty in every unit: again every minute, a shift may have changed meanwhile.
  useEffect(() => {
    const load = () => api('GET', '/api/v1/duty/now').then(setNow, () => {});
    load();
    const timer = setInterval(load, 60_000);
    return () => clearInterval(timer);
  }, [tick]);

  // The week shown starts today (in the unit's time zone) at 00:00, moved by whole weeks.
  const today = unit ? fromLocalInput(toLocalInput(Date.now(), tz).slice(0, 10), tz) : 0;
  const from = today + week * 7 * DAY;
  useEffect(() => {
    if (!unit) return;
    api('GET', `/api/v1/duty/shifts?unit=${encodeURIComponent(unit.id)}&from=${from}&to=${from + 7 * DAY}`).then(setShifts, (e) => setError(e.message));
  }, [unit?.id, from, tick]);
  useEffect(() => {
    if (!unit) return;
    api('GET', `/api/v1/duty/people?unit=${encodeURIComponent(unit.id)}`).then(setPeople, () => {});
    api('GET', `/api/v1/duty/open-work?unit=${encodeURIComponent(unit.id)}`).then(setWork, () => {});
    api('GET', `/api/v1/duty/handovers?unit=${encodeURIComponent(unit.id)}&limit=20`).then(setHandovers, () => {});
  }, [unit?.id, tick]);

  const writes = unit && can(user, catalog, 'duty.write');
  const hands = unit && can(user, catalog, 'duty.handover');
  const byId = new Map(people.map((p) => [p.id, p]));
  const unitName = (id) => units.find((u) => u.id === id)?.name ?? id;

  const signOut = async (e) => {
    e.preventDefault();
    setError('');
    try {
      const made = await api('POST', '/api/v1/duty/handovers', { unit: unit.id, note });
      setNote('');
      setViewing(made.id);
      refresh();
    } catch (err) {
      setError(err.message);
    }
  };

  return html`<div class="panel page duty" data-testid="duty">
    <header>
      <button onClick=${() => (location.hash = '')}>${icon.back()} ${t.back}</button>
      <h2>${d.title}</h2><span style="flex:1"></span>
      <label>${d.unit} <select name="unit" value=${unit?.id ?? ''} onChange=${(e) => chooseUnit(e.currentTarget.value)} data-testid="duty-unit">
        ${units.map((u) => html`<option value=${u.id}>${u.name} · ${word(dutyCatalog?.unitKinds, u.kind, lang)}</option>`)}
      </select></label>
    </header>
    <div class="body">
      ${error && html`<p class="error" role="alert">${error}</p>`}

      <section data-testid="duty-now">
        <h3>${d.nowTitle}</h3>
        <table>
          <thead><tr><th>${d.unit}</th><th>${d.shift}</th><th>${d.officers}</th><th>${d.leader}</th></tr></thead>
          <tbody>${(now?.units ?? []).map((o) => {
            const otz = TZ(o.unit);
            return html`<tr data-unit=${o.asked} class=${o.asked === unit?.id ? 'current' : ''}>
              <td>${unitName(o.asked)}${o.fallback ? html`<div class="muted" data-testid="fallback">${d.fallback(o.unit.name)}</div>` : null}</td>
              <td class="num">${o.shift ? `${fmtTime(o.shift.startsAt, otz, lang)}–${fmtTime(o.shift.endsAt, otz, lang)}` : html`<span class="muted">${d.nobody}</span>`}</td>
              <td>${o.officers.map((p) => html`<${Who} p=${p} /> `)}</td>
              <td>${o.leader ? html`<${Who} p=${o.leader} />` : null}</td>
            </tr>`;
          })}</tbody>
        </table>
      </section>

      ${unit &&
      html`<section data-testid="duty-week">
        <h3>${d.week} · ${unit.name}</h3>
        <div class="toolbar">
          <button onClick=${() => setWeek(week - 1)} data-testid="prev-week">${d.prevWeek}</button>
          <button onClick=${() => setWeek(0)} disabled=${week === 0}>${d.thisWeek}</button>
          <button onClick=${() => setWeek(week + 1)} data-testid="next-week">${d.nextWeek}</button>
          <span class="muted">${fmtDate(from, tz, lang)} – ${fmtDate(from + 6 * DAY, tz, lang)}</span>
          <span style="flex:1"></span>
          ${writes && html`<button class="primary" onClick=${() => setEditing({})} data-testid="add-shift">${d.addShift}</button>`}
        </div>
        <table>
          <thead><tr><th>${d.date}</th><th>${d.time}</th><th>${d.officers}</th><th>${d.leader}</th><th>${d.note}</th>${writes ? html`<th></th>` : null}</tr></thead>
          <tbody>
            ${shifts.length === 0 ? html`<tr><td colspan="6" class="muted">${d.noShifts}</td></tr>` : null}
            ${shifts.map(
              (s) => html`<tr data-shift=${s.id}>
                <td class="num">${fmtDate(s.startsAt, tz, lang)}</td>
                <td class="num">${fmtTime(s.startsAt, tz, lang)}–${fmtTime(s.endsAt, tz, lang)}</td>
                <td>${s.officers.map((id) => html`<${Who} p=${byId.get(id) ?? { id, name: id }} /> `)}</td>
                <td>${s.leader ? html`<${Who} p=${byId.get(s.leader) ?? { id: s.leader, name: s.leader }} />` : null}</td>
                <td>${s.note}</td>
                ${writes ? html`<td><button onClick=${() => setEditing(s)} data-testid="edit-shift">${d.edit}</button></td>` : null}
              </tr>`,
            )}
          </tbody>
        </table>
      </section>

      <section data-testid="duty-people">
        <h3>${d.people}</h3>
        ${writes && html`<div class="toolbar"><span style="flex:1"></span><button onClick=${() => setAddingPerson(true)} data-testid="add-person">${d.addPerson}</button></div>`}
        <table>
          <thead><tr><th>${d.name}</th><th>${d.jobTitle}</th><th>${d.kinds}</th><th>${d.phone}</th><th>${d.email}</th><th>${d.wecom}</th><th>${d.dingtalk}</th><th>${d.account}</th></tr></thead>
          <tbody>${people.map(
            (p) => html`<tr data-person=${p.id}>
              <td>${p.name}</td><td>${p.title}</td><td>${p.kinds.map((k) => word(dutyCatalog?.personKinds, k, lang)).join(t.listSep)}</td>
              <td class="num">${p.phone ? html`<a href=${`tel:${p.phone}`}>${p.phone}</a>` : null}</td>
              <td>${p.email ? html`<a href=${`mailto:${p.email}`}>${p.email}</a>` : null}</td><td>${p.wecom}</td><td>${p.dingtalk}</td><td>${p.username ?? ''}</td>
            </tr>`,
          )}</tbody>
        </table>
      </section>

      <section data-testid="duty-handover">
        <h3>${d.handover}</h3>
        <${OpenItems} d=${d} t=${t} lang=${lang} tz=${tz} items=${work?.items} incomplete=${work?.incomplete} />
        ${hands &&
        html`<form class="handover-form" onSubmit=${signOut} data-testid="sign-out-form">
          <label>${d.handoverNote}<textarea name="note" rows="2" maxlength="2000" value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea></label>
          <button class="primary" type="submit" data-testid="sign-out">${d.signOut}</button>
        </form>`}
        <h4>${d.handovers}</h4>
        <table data-testid="handovers">
          <thead><tr><th>${d.signedAt}</th><th>${d.outgoing}</th><th>${d.incoming}</th><th>${d.openItems}</th><th></th></tr></thead>
          <tbody>
            ${handovers.length === 0 ? html`<tr><td colspan="5" class="muted">${d.noHandovers}</td></tr>` : null}
            ${handovers.map(
              (ho) => html`<tr data-handover=${ho.id} data-state=${ho.state}>
                <td class="num">${fmtWhen(ho.outgoing.at, tz, lang)}</td>
                <td>${ho.outgoing.name}</td>
                <td>${ho.incoming ? ho.incoming.name : html`<span class="badge warn">${d.states.awaiting_incoming}</span>`}</td>
                <td>${d.count(ho.items.length)}</td>
                <td><button onClick=${() => setViewing(ho.id)} data-testid="view-handover">${d.view}</button></td>
              </tr>`,
            )}
          </tbody>
        </table>
      </section>`}
    </div>
    ${editing && html`<${ShiftDialog} d=${d} api=${api} unit=${unit} people=${people} shift=${editing} lastEnd=${shifts.length ? shifts[shifts.length - 1].endsAt : null} onDone=${() => (setEditing(null), refresh())} onCancel=${() => setEditing(null)} />`}
    ${addingPerson && html`<${PersonDialog} d=${d} lang=${lang} api=${api} unit=${unit} kinds=${dutyCatalog?.personKinds} onDone=${() => (setAddingPerson(false), refresh())} onCancel=${() => setAddingPerson(false)} />`}
    ${viewing && html`<${HandoverDialog} d=${d} t=${t} lang=${lang} tz=${tz} api=${api} user=${user} canSign=${hands} id=${viewing} onChanged=${refresh} onClose=${() => setViewing(null)} />`}
  </div>`;
}

function OpenItems({ d, t, lang, tz, items, incomplete }) {
  if (!items) return html`<div class="muted">…</div>`;
  return html`<div data-testid="open-items">
    <h4>${d.openItems} · ${d.count(items.length)}</h4>
    ${incomplete && html`<p class="badge warn" role="status">${d.incomplete}</p>`}
    ${items.length === 0
      ? html`<div class="muted">${d.noOpenItems}</div>`
      : html`<table>
          <thead><tr><th></th><th>${d.item}</th><th>${d.enterprise}</th><th>${d.since}</th></tr></thead>
          <tbody>${items.map(
            (i) => html`<tr data-item=${`${i.kind}:${i.id}`}>
              <td>${d.itemKinds[i.kind] ?? i.kind}${i.level ? html` <span class=${`chip lvl l${i.level}`}>${i.level} ${t.levelShort[i.level]}</span>` : null}</td>
              <td><a href=${i.link}>${i.title}</a>${i.overdue ? html` <span class="badge bad">${d.needsAction}</span>` : null}</td>
              <td>${i.enterprise}</td>
              <td class="num">${fmtWhen(i.since, tz, lang)}</td>
            </tr>`,
          )}</tbody>
        </table>`}
  </div>`;
}

function ShiftDialog({ d, api, unit, people, shift, lastEnd, onDone, onCancel }) {
  const tz = TZ(unit);
  const isNew = !shift.id;
  // A new shift follows the last one of the week shown, else starts at the next full hour; 12 hours long.
  const start0 = shift.startsAt ?? lastEnd ?? Math.ceil(Date.now() / 3_600_000) * 3_600_000;
  const [startsAt, setStartsAt] = useState(toLocalInput(start0, tz));
  const [endsAt, setEndsAt] = useState(toLocalInput(shift.endsAt ?? start0 + 12 * 3_600_000, tz));
  const [officers, setOfficers] = useState(shift.officers ?? []);
  const [leader, setLeader] = useState(shift.leader ?? '');
  const [note, setNote] = useState(shift.note ?? '');
  const [error, setError] = useState('');
  const toggle = (id) => setOfficers(officers.includes(id) ? officers.filter((x) => x !== id) : [...officers, id]);
  const submit = async (e) => {
    e.preventDefault();
    setError('');
    const body = { unit: unit.id, startsAt: fromLocalInput(startsAt, tz), endsAt: fromLocalInput(endsAt, tz), officers, leader: leader || null, note };
    try {
      await api(isNew ? 'POST' : 'PUT', isNew ? '/api/v1/duty/shifts' : `/api/v1/duty/shifts/${shift.id}`, body);
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  const remove = async () => {
    try {
      await api('DELETE', `/api/v1/duty/shifts/${shift.id}`);
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<${Dialog} title=${`${isNew ? d.addShift : d.editShift} · ${unit.name}`} onCancel=${onCancel} testid="shift-dialog">
    <form onSubmit=${submit} style="display:grid;gap:10px" data-testid="shift-form">
      <label>${d.startsAt}<input type="datetime-local" name="startsAt" required value=${startsAt} onInput=${(e) => setStartsAt(e.currentTarget.value)} /></label>
      <label>${d.endsAt}<input type="datetime-local" name="endsAt" required value=${endsAt} onInput=${(e) => setEndsAt(e.currentTarget.value)} /></label>
      <fieldset class="officers"><legend>${d.officers}</legend>
        ${people.map((p) => html`<label class="check"><input type="checkbox" name="officer" value=${p.id} checked=${officers.includes(p.id)} onChange=${() => toggle(p.id)} /> ${p.name}</label>`)}
      </fieldset>
      <label>${d.leader}<select name="leader" value=${leader} onChange=${(e) => setLeader(e.currentTarget.value)}>
        <option value="">${d.noLeader}</option>
        ${people.map((p) => html`<option value=${p.id}>${p.name}</option>`)}
      </select></label>
      <label>${d.note}<input name="note" maxlength="1000" value=${note} onInput=${(e) => setNote(e.currentTarget.value)} /></label>
      ${error && html`<div class="error" role="alert">${error}</div>`}
      <div class="row">
        ${!isNew && html`<button type="button" onClick=${remove} data-testid="remove-shift">${d.remove}</button>`}
        <span style="flex:1"></span>
        <button type="button" onClick=${onCancel}>${d.cancel}</button><button class="primary" type="submit">${d.save}</button>
      </div>
    </form>
  <//>`;
}

function PersonDialog({ d, lang, api, unit, kinds, onDone, onCancel }) {
  const [f, setF] = useState({ id: '', name: '', title: '', phone: '', email: '', wecom: '', dingtalk: '', username: '', kinds: [] });
  const [error, setError] = useState('');
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const toggle = (k) => setF({ ...f, kinds: f.kinds.includes(k) ? f.kinds.filter((x) => x !== k) : [...f.kinds, k] });
  const submit = async (e) => {
    e.preventDefault();
    setError('');
    try {
      await api('POST', '/api/v1/duty/people', { ...f, unit: unit.id, username: f.username.trim() || null });
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  const field = (k, label, type = 'text') => html`<label>${label}<input name=${k} type=${type} value=${f[k]} onInput=${set(k)} /></label>`;
  return html`<${Dialog} title=${`${d.addPerson} · ${unit.name}`} onCancel=${onCancel} testid="person-dialog">
    <form onSubmit=${submit} style="display:grid;gap:8px;grid-template-columns:1fr 1fr" data-testid="person-form">
      ${field('id', d.personId)}${field('name', d.name)}${field('title', d.jobTitle)}${field('phone', d.phone, 'tel')}
      ${field('email', d.email, 'email')}${field('wecom', d.wecom)}${field('dingtalk', d.dingtalk)}${field('username', d.account)}
      <fieldset style="grid-column:1/-1"><legend>${d.kinds}</legend>
        ${Object.keys(kinds ?? {}).map((k) => html`<label class="check"><input type="checkbox" name="kind" value=${k} checked=${f.kinds.includes(k)} onChange=${() => toggle(k)} /> ${word(kinds, k, lang)}</label>`)}
      </fieldset>
      ${error && html`<div class="error" role="alert" style="grid-column:1/-1">${error}</div>`}
      <div class="row" style="grid-column:1/-1"><button type="button" onClick=${onCancel}>${d.cancel}</button><button class="primary" type="submit">${d.save}</button></div>
    </form>
  <//>`;
}

function HandoverDialog({ d, t, lang, tz, api, user, canSign, id, onChanged, onClose }) {
  const [ho, setHo] = useState();
  const [note, setNote] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    api('GET', `/api/v1/duty/handovers/${id}`).then(setHo, (e) => setError(e.message));
  }, [id]);
  const sign = async (e) => {
    e.preventDefault();
    setError('');
    try {
      setHo(await api('POST', `/api/v1/duty/handovers/${id}/sign-in`, { note }));
      onChanged();
    } catch (err) {
      setError(err.message);
    }
  };
  const signature = (label, s) =>
    html`<div class="signature" data-side=${label === d.outgoing ? 'outgoing' : 'incoming'}><strong>${label}</strong> ${s ? html`${s.name} · ${fmtWhen(s.at, tz, lang)}${s.note ? html`<div>${s.note}</div>` : null}` : html`<span class="badge warn">${d.states.awaiting_incoming}</span>`}</div>`;
  const same = ho && ho.outgoing.username === user.username;
  return html`<${Dialog} title=${`${d.record} · ${ho ? fmtWhen(ho.outgoing.at, tz, lang) : ''}`} onCancel=${onClose} testid="handover-record">
    ${error && html`<div class="error" role="alert">${error}</div>`}
    ${ho &&
    html`<div data-state=${ho.state}>
      ${signature(d.outgoing, ho.outgoing)}
      <${OpenItems} d=${d} t=${t} lang=${lang} tz=${tz} items=${ho.items} incomplete=${ho.incomplete} />
      ${signature(d.incoming, ho.incoming)}
      ${ho.state === 'signed'
        ? html`<p class="badge ok" title=${ho.digest} data-testid="kept">${icon.check()} ${d.kept}</p>`
        : canSign && same
          ? html`<p class="muted" data-testid="same-account">${d.sameAccount}</p>`
          : canSign &&
            html`<form onSubmit=${sign} style="display:grid;gap:8px" data-testid="sign-in-form">
              <label>${d.signInNote}<textarea name="note" rows="2" maxlength="2000" value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea></label>
              <button class="primary" type="submit" data-testid="sign-in">${d.signIn}</button>
            </form>`}
    </div>`}
    <div class="row"><button onClick=${onClose}>${d.close}</button></div>
  <//>`;
}
