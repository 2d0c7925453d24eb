// The monitoring-room console: one map of enterprises and hazard sources, the live alarm list with
// its closed loop, and a page per device. Preact + htm as plain ES modules served by the API.
import { h, render } from 'preact';
import { useEffect, useMemo, useRef, useState, useCallback } from 'preact/hooks';
import htm from 'htm';
import { alarmDetail, initialLang, saveLang, texts, LANGS } from './i18n.js';
import * as icon from './icons.js';
import { anyPositions, GeoMap, LAYERS, RESOURCE_KINDS } from './map.js';
import { QualityPage } from './quality.js';
import { SearchPage } from './search.js';
import { DutyPage } from './duty.js';
import { alarmPeriods, RangePicker, thresholdBands, TrendChart } from './trend.js';
import { WallPage } from './wall.js';
import { DangersPage } from './dangers.js';
import { WarningsPage } from './warnings.js';
import { ResourcesPage } from './resources.js';
import { DeviceCommands } from './commands.js';
import { AdminPage } from './admin.js';
import { JurisdictionBadge, JurisdictionsPage, jurisdictionWords } from './jurisdictions.js';
import { SourcePage } from './source.js';

const html = htm.bind(h);
// The one map: its colours (map.js has the same), the plan or the geographic map (issue 17).
const LEVEL_HEX = { 1: '#d32f2f', 2: '#f57c00', 3: '#fbc02d', 4: '#1976d2' };
const RISK_HEX = { red: '#d32f2f', orange: '#f57c00', yellow: '#fbc02d', blue: '#1976d2' };
const LEVEL_NAME = { 1: 'red', 2: 'orange', 3: 'yellow', 4: 'blue' };
const GREY = '#6b7785';
const OK = '#2e7d32';
const OPEN_STATES = ['active_unacknowledged', 'active_acknowledged', 'cleared_unacknowledged', 'cleared_acknowledged', 'shelved', 'out_of_service'];

// ---- API ----
class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}
async function api(method, url, body) {
  const res = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    if (res.status === 401 && url !== '/api/v1/session') window.dispatchEvent(new Event('hw-signed-out'));
    throw new ApiError(res.status, data);
  }
  return data;
}

// ---- sound: a WebAudio beep, no audio files ----
let audio;
function unlockAudio() {
  if (!audio) {
    try {
      audio = new AudioContext();
    } catch {
      audio = null;
    }
  }
  audio?.resume?.();
}
function beep(level) {
  if (!audio) return;
  const t = audio.currentTime;
  const tones = level === 1 ? [1046, 784, 1046] : [880, 660];
  tones.forEach((f, i) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'square';
    osc.frequency.value = f;
    gain.gain.setValueAtTime(0.0001, t + i * 0.22);
    gain.gain.exponentialRampToValueAtTime(0.18, t + i * 0.22 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.22 + 0.2);
    osc.connect(gain).connect(audio.destination);
    osc.start(t + i * 0.22);
    osc.stop(t + i * 0.22 + 0.21);
  });
}

// ---- helpers ----
const fmtTime = (ms) => (ms ? new Date(ms).toLocaleString(undefined, { hour12: false }) : '');
const fmtShort = (ms) => (ms ? new Date(ms).toLocaleTimeString(undefined, { hour12: false }) : '');
function conditionTitle(catalog, code, lang) {
  const c = catalog?.conditions?.[code];
  return c ? (lang === 'zh' ? c.zh : c.title) : code;
}
// The states that need attention (the server's ATTENTION_STATES, the ones that colour the map).
const ATTENTION_STATES = ['active_unacknowledged', 'active_acknowledged', 'cleared_unacknowledged'];
const attentionRank = (a) => (ATTENTION_STATES.includes(a.state) ? 0 : 1);
function sortAlarms(list) {
  // What needs attention first, then most severe, then newest: the operator's eye goes to the top-left,
  // and a faded, handled alarm must not sit above a live one.
  return [...list].sort((a, b) => attentionRank(a) - attentionRank(b) || a.level - b.level || b.raisedAt - a.raisedAt);
}
// Alarms about the platform itself (rules/platform.ts) name a process, not a registered device: no device page.
const isPlatform = (a) => a.enterprise === 'platform';
/** The hazard-source page (api/console/source.js). */
const sourceHref = (enterprise, id) => `#/source/${enterprise}/${id}`;
const needsSound = (a) => a.level <= 2 && (a.state === 'active_unacknowledged' || a.state === 'cleared_unacknowledged');
// A consequence whose cause still waits for a signature is signed with it (the server acknowledges
// both): it neither flashes nor sounds of its own, the cause does. One cause, one call to act.
function signedWithCause(a, byId) {
  const cause = a.parentId ? byId.get(a.parentId) : undefined;
  return !!cause && cause.acknowledgedAt === null && cause.state !== 'closed';
}
// ISA-101: only an active alarm nobody signed for flashes.
const flashes = (a, byId) => a.state === 'active_unacknowledged' && !signedWithCause(a, byId);
const can = (user, catalog, permission) => catalog?.permissions?.[permission]?.includes(user.role);

// Links from data (a camera's snapshot, its live video): only web and RTSP addresses, never script.
const safeUrl = (u) => (typeof u === 'string' && /^(https?:\/\/|rtsps?:\/\/|\/)/i.test(u) && !/^\/\//.test(u) ? u : null);
/** A resource kind, speciality or item in the view's language (the catalog's words). */
const resourceWord = (catalog, table, code, lang) => {
  const n = catalog?.resources?.[table]?.[code];
  return n ? (lang === 'zh' ? n.zh : n.en) : code;
};
/** An item of a warehouse, vehicle or equipment entry: the catalog's word, or its own name. */
const itemWord = (catalog, item, lang) => (item.kind === 'other' ? item.name : resourceWord(catalog, 'items', item.kind, lang));
const fmtKm = (t, km) => t.km(km < 10 ? km.toFixed(2) : km.toFixed(1));

/** Snapshot and live-video links of an alarm (a camera's picture of the event, the camera's stream). */
function MediaLinks({ t, alarm, device }) {
  const snap = safeUrl(alarm.snapshot);
  const live = safeUrl(device?.meta?.streamUrl);
  if (!snap && !live) return null;
  return html`<span class="media">
    ${snap && html`<a href=${snap} target="_blank" rel="noopener noreferrer" data-testid="snapshot" onClick=${(e) => e.stopPropagation()}>${icon.camera()} ${t.snapshot}</a>`}
    ${live && html`<a href=${live} target="_blank" rel="noopener noreferrer" data-testid="live-video" onClick=${(e) => e.stopPropagation()}>${icon.video()} ${t.liveVideo}</a>`}
  </span>`;
}

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

// ---- seen alarms (ISA-101: a new or worse alarm stands out from those already looked at) ----
// Per browser and user, in localStorage: which alarm ids the operator has looked at, at which level.
// A reload or a second tab does not call every alarm new again; another workstation does, as it should.
const seenKey = (user) => `hw.seen.${user.username}`;
function loadSeen(user) {
  try {
    return JSON.parse(localStorage.getItem(seenKey(user)) ?? '{}') ?? {};
  } catch {
    return {};
  }
}
// Never looked at, or more severe (a lower level number) than when it was. A closed alarm asks for nothing.
const isUnseen = (seen, a) => a.state !== 'closed' && !(seen[a.id] <= a.level);

function useSeen(user, alarms) {
  const [seen, setSeen] = useState({});
  useEffect(() => {
    if (!user) return;
    setSeen(loadSeen(user));
    // Another tab of the same console marked something seen.
    const on = (e) => e.key === seenKey(user) && setSeen(loadSeen(user));
    window.addEventListener('storage', on);
    return () => window.removeEventListener('storage', on);
  }, [user?.username]);
  const markSeen = useCallback(
    (list) =>
      setSeen((prev) => {
        // Only alarms the console still holds are kept: the record does not grow over months of shifts.
        const next = Object.fromEntries(Object.entries(prev).filter(([id]) => alarms.has(id)));
        for (const a of list) next[a.id] = a.level;
        localStorage.setItem(seenKey(user), JSON.stringify(next));
        return next;
      }),
    [user, alarms],
  );
  return [seen, markSeen];
}

// ---- one cause, one alarm ----
// Each listed alarm with the depth it is drawn at: a consequence whose cause is listed too goes
// directly beneath it (in list order), so one cause reads as one alarm; one whose cause is not
// listed (filtered out, too old) stands on its own. A broken chain (a cycle) is still drawn, flat.
function nestUnderCauses(list) {
  const listed = new Set(list.map((a) => a.id));
  const children = new Map();
  for (const a of list) {
    if (a.parentId && a.parentId !== a.id && listed.has(a.parentId)) children.set(a.parentId, [...(children.get(a.parentId) ?? []), a]);
  }
  const rows = [];
  const drawn = new Set();
  const visit = (a, depth) => {
    if (drawn.has(a.id)) return;
    drawn.add(a.id);
    rows.push({ alarm: a, depth });
    for (const c of children.get(a.id) ?? []) visit(c, depth + 1);
  };
  for (const a of list) if (!(a.parentId && listed.has(a.parentId))) visit(a, 0);
  for (const a of list) visit(a, 0);
  return rows;
}

// ---- login ----
function Login({ t, onSignedIn, lang, setLang }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    unlockAudio();
    try {
      const s = await api('POST', '/api/v1/session', { username, password });
      onSignedIn(s);
    } catch (err) {
      setError(err.status === 401 ? t.signInFailed : err.message);
    }
  };
  return html`<div class="login">
    <form onSubmit=${submit} data-testid="login">
      <h1>${t.title}</h1>
      <label>${t.username}<br /><input name="username" autocomplete="username" value=${username} onInput=${(e) => setUsername(e.target.value)} /></label>
      <label>${t.password}<br /><input name="password" type="password" autocomplete="current-password" value=${password} onInput=${(e) => setPassword(e.target.value)} /></label>
      ${error && html`<div class="error" role="alert">${error}</div>`}
      <button class="primary" type="submit">${t.signIn}</button>
      <div>${LANGS.map((l) => html`<button type="button" class=${l === lang ? 'on' : ''} onClick=${() => setLang(l)}>${l === 'zh' ? '中文' : 'English'}</button> `)}</div>
    </form>
  </div>`;
}

// ---- the one map ----
function SiteMap({ t, overview, mode, onSource }) {
  if (!overview) return html`<div class="muted">…</div>`;
  const { plan, enterprises, sources } = overview;
  const sourceColour = (s) => {
    if (mode === 'risk') return { fill: RISK_HEX[s.riskColour], name: s.riskColour };
    if (s.worstLevel) return { fill: LEVEL_HEX[s.worstLevel], name: LEVEL_NAME[s.worstLevel] };
    if (s.offline) return { fill: GREY, name: 'grey' };
    return { fill: OK, name: 'normal' };
  };
  // Enterprises without a place are laid out along the bottom edge rather than hidden.
  let spare = 0;
  const entPlace = (e) => e.place ?? { x: 20 + (spare++ % 5) * 195, y: plan.height - 110, width: 180, height: 90 };
  return html`<div class="map">
    <svg viewBox="0 0 ${plan.width} ${plan.height}" role="img" aria-label=${t.overview} data-testid="map">
      <defs>
        <pattern id="grid" width="50" height="50" patternUnits="userSpaceOnUse"><path d="M 50 0 L 0 0 0 50" fill="none" stroke="#1a2c42" stroke-width="1" /></pattern>
      </defs>
      <rect width=${plan.width} height=${plan.height} fill="url(#grid)" />
      ${enterprises.map((e) => {
        const p = entPlace(e);
        return html`<g class=${`ent ${e.worstLevel ? 'w' + e.worstLevel : ''}`} data-enterprise=${e.id} data-colour=${e.worstLevel ? LEVEL_NAME[e.worstLevel] : 'normal'}>
          <rect x=${p.x} y=${p.y} width=${p.width} height=${p.height} rx="8" />
          <text x=${p.x + 10} y=${p.y + 22}>${e.name}</text>
          <text x=${p.x + p.width - 10} y=${p.y + 22} text-anchor="end" style="font-size:12px">${e.devicesOnline}/${e.devices}</text>
        </g>`;
      })}
      ${sources.map((s) => {
        const c = sourceColour(s);
        const active = mode !== 'risk' && s.worstLevel && s.worstLevel <= 2;
        return html`<g class=${`src ${active ? 'active' : ''}`} data-source=${`${s.enterprise}/${s.id}`} data-colour=${c.name} onClick=${() => onSource(s)}>
          <title>${s.name} · ${t.grade(s.grade)} · ${t.risk[s.riskColour]}</title>
          ${s.worstLevel && mode !== 'risk' ? html`<circle cx=${s.x} cy=${s.y} r="24" fill=${c.fill} opacity="0.25" />` : null}
          <circle class="dot" cx=${s.x} cy=${s.y} r="14" fill=${c.fill} stroke="#0f1b2b" stroke-width="2" />
          <text x=${s.x} y=${s.y + 4} text-anchor="middle" style="font-size:12px;font-weight:700">${s.grade}</text>
          <text x=${s.x} y=${s.y + 32} text-anchor="middle">${s.name}</text>
        </g>`;
      })}
    </svg>
    <${Legend} t=${t} mode=${mode} />
  </div>`;
}

function Legend({ t, mode }) {
  return html`<div class="legend">
    ${mode === 'risk'
      ? ['red', 'orange', 'yellow', 'blue'].map((r) => html`<span><i style=${`background:${RISK_HEX[r]}`}></i>${t.risk[r]}</span>`)
      : html`${[1, 2, 3, 4].map((l) => html`<span><i style=${`background:${LEVEL_HEX[l]}`}></i>${t.level[l]}</span>`)}
          <span><i style=${`background:${OK}`}></i>${t.normal}</span><span><i style=${`background:${GREY}`}></i>${t.offline}</span>`}
    <span class="muted">${t.gradeLegend}</span>
  </div>`;
}

// ---- dialogs ----
function Dialog({ title, children, onCancel }) {
  return html`<div class="modal" onClick=${(e) => e.target === e.currentTarget && onCancel()}>
    <div class="box" role="dialog" aria-label=${title}><h3>${title}</h3>${children}</div>
  </div>`;
}

function ActionDialog({ t, kind, alarm, onDone, onCancel }) {
  const [cause, setCause] = useState('real_hazard');
  const [measures, setMeasures] = useState('');
  const [note, setNote] = useState('');
  const [minutes, setMinutes] = useState(60);
  const [error, setError] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    const body =
      kind === 'feedback' ? { cause, measures, ...(note ? { note } : {}) } : kind === 'shelve' ? { minutes: Number(minutes), reason: note } : kind === 'clear' ? { reason: note } : note ? { note } : {};
    try {
      await api('POST', `/api/v1/alarms/${alarm.id}/${kind}`, body);
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<${Dialog} title=${`${t.actions[kind]} · ${alarm.device}`} onCancel=${onCancel}>
    <form onSubmit=${submit} style="display:grid;gap:10px" data-testid="action-form">
      ${kind === 'feedback' &&
      html`<label>${t.cause}<select name="cause" value=${cause} onChange=${(e) => setCause(e.target.value)}>
          ${Object.entries(t.causes).map(([k, v]) => html`<option value=${k}>${v}</option>`)}
        </select></label>
        <label>${t.measures}<textarea name="measures" rows="3" value=${measures} onInput=${(e) => setMeasures(e.target.value)}></textarea></label>`}
      ${kind === 'shelve' && html`<label>${t.minutes}<input name="minutes" type="number" min="1" max="1440" value=${minutes} onInput=${(e) => setMinutes(e.target.value)} /></label>`}
      <label>${kind === 'shelve' || kind === 'clear' ? t.reason : t.note}<textarea name="note" rows="2" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea></label>
      ${error && html`<div class="error" role="alert">${error}</div>`}
      <div class="row"><button type="button" onClick=${onCancel}>${t.cancel}</button><button class="primary" type="submit">${t.submit}</button></div>
    </form>
  <//>`;
}

// An event type in the view's words; the English view adds the code devices send, for engineers.
function eventName(t, event, lang) {
  const name = t.events[event];
  if (lang === 'zh') return name ?? t.unknownEvent;
  return name ? `${name} (${event})` : event;
}

// What a history entry adds in words: the note, feedback, the device's own stage that corroborated the
// alarm, the cause it was put under, a signature given with the cause. Only the view's language: rule
// ids and alarm ids stay out (the Chinese view shows no English of its own).
function historyNote(e, t, catalog, lang) {
  const d = e.data ?? {};
  return [
    e.note,
    e.action === 'corroborated' && d.event ? t.corroboration(eventName(t, d.event, lang), t.level[d.level] ?? '') : null,
    e.action === 'grouped' ? t.causedBy + (d.parentCondition ? conditionTitle(catalog, d.parentCondition, lang) : t.causeElsewhere) : null,
    d.withCause ? t.withCause : null,
    d.cause ? t.causes[d.cause] : null,
    d.measures,
  ]
    .filter(Boolean)
    .join(' · ');
}

function AlarmDetail({ t, lang, catalog, id, onClose, user }) {
  const [detail, setDetail] = useState();
  const [device, setDevice] = useState();
  const [nearest, setNearest] = useState();
  const [drafting, setDrafting] = useState('');
  useEffect(() => {
    api('GET', `/api/v1/alarms/${id}`).then((d) => {
      setDetail(d);
      if (isPlatform(d.alarm)) return;
      api('GET', `/api/v1/enterprises/${d.alarm.enterprise}/devices/${d.alarm.device}`).then(setDevice, () => {});
      api('GET', `/api/v1/alarms/${id}/nearest-resources?limit=3`).then(setNearest, () => {});
    }, () => onClose());
  }, [id]);
  if (!detail) return null;
  const a = detail.alarm;
  return html`<${Dialog} title=${conditionTitle(catalog, a.condition, lang)} onCancel=${onClose}>
    <div>
      <span class=${`chip l${a.level}`}>${t.level[a.level]}</span>
      <span class=${`state ${a.state}`}> ${t.states[a.state]}</span>
      <${MediaLinks} t=${t} alarm=${a} device=${device} />
      <div class="muted">${a.enterprise} / ${isPlatform(a) ? a.device : html`<a href=${`#/device/${a.enterprise}/${a.device}`} onClick=${onClose}>${a.device}</a>`}${(a.hazardSource ?? device?.hazardSource) ? html` · <a href=${sourceHref(a.enterprise, a.hazardSource ?? device.hazardSource)} onClick=${onClose} data-testid="alarm-source-link">${t.source} ${a.hazardSource ?? device.hazardSource}</a>` : null} · ${alarmDetail(a, catalog, lang)}</div>
    </div>
    ${nearest && html`<${NearestResources} t=${t} lang=${lang} catalog=${catalog} nearest=${nearest} />`}
    ${nearest && html`<h4>${t.history}</h4>`}
    <table class="hist" data-testid="history">
      <tbody>
        ${detail.history.map(
          (e) => html`<tr>
            <td>${fmtTime(e.at)}</td>
            <td data-action-done=${e.action}>${t.actionDone[e.action] ?? e.action}</td>
            <td><span class=${`chip l${e.level}`} style="min-width:0;padding:0 6px">${e.level}</span></td>
            <td>${e.by === 'system' ? t.system : e.by}</td>
            <td>${e.value ?? ''}</td>
            <td>${historyNote(e, t, catalog, lang)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    <div class="row">
      ${user && !isPlatform(a) && can(user, catalog, 'danger.write') && html`<a class="button" href=${`#/dangers?alarm=${encodeURIComponent(a.id)}`} onClick=${onClose} data-testid="open-danger">${icon.warning()} ${t.openDanger}</a>`}
      ${user && !isPlatform(a) && can(user, catalog, 'warning.draft') && html`<button data-testid="publish-warning" disabled=${drafting === 'busy'} onClick=${() => draftWarning(a, setDrafting, onClose)}>${icon.bell()} ${t.publishWarning}</button>`}
      <button onClick=${onClose}>${t.back}</button>
    </div>
    ${drafting && drafting !== 'busy' && html`<div class="error" role="alert">${drafting}</div>`}
  <//>`;
}

/** A warning drafted from the alarm in one call (level, enterprise, texts from its template), then opened. */
async function draftWarning(alarm, setState, onClose) {
  setState('busy');
  try {
    const w = await api('POST', '/api/v1/warnings', { alarmId: alarm.id });
    onClose();
    location.hash = `#/warnings/${encodeURIComponent(w.id)}`;
  } catch (err) {
    setState(err.message);
  }
}

// The nearest emergency resources the alarm needs (GET /alarms/{id}/nearest-resources): per need,
// nearest first, with the distance and whom to call.
function NearestResources({ t, lang, catalog, nearest }) {
  const needWords = (n) => [...n.specialities.map((x) => resourceWord(catalog, 'specialities', x, lang)), ...n.items.map((x) => resourceWord(catalog, 'items', x, lang))].join(t.listSep);
  return html`<div class="nearest" data-testid="nearest">
    <h4>${t.nearest}${nearest.position ? html` <span class="muted">${t.positionFrom[nearest.position.from]}</span>` : null}</h4>
    ${!nearest.position
      ? html`<div class="muted">${t.noAlarmPosition}</div>`
      : nearest.needs.length === 0
        ? html`<div class="muted">${t.noNeeds}</div>`
        : html`<table class="hist">
          <thead><tr><th>${t.need}</th><th>${t.resourceName}</th><th>${t.distance}</th><th>${t.contact}</th></tr></thead>
          <tbody>
            ${nearest.needs.map((n) =>
              n.resources.length === 0
                ? html`<tr data-need=${n.kind}><td>${resourceWord(catalog, 'kinds', n.kind, lang)}<div class="muted">${needWords(n)}</div></td><td colspan="3" class="muted">${t.noneRegistered}</td></tr>`
                : n.resources.map(
                    (r, i) => html`<tr data-need=${n.kind} data-resource=${r.id}>
                      <td>${i === 0 ? html`${resourceWord(catalog, 'kinds', n.kind, lang)}<div class="muted">${needWords(n)}</div>` : null}</td>
                      <td>${r.name}${r.matched.length ? html`<div class="muted">${r.matched.map((m) => (n.items.includes(m) ? itemSummary(catalog, r, m, lang) : resourceWord(catalog, 'specialities', m, lang))).join(t.listSep)}</div>` : null}</td>
                      <td class="km" data-km=${r.distanceKm}>${fmtKm(t, r.distanceKm)}</td>
                      <td>${r.contact}${r.phone ? html` <span class="phone">${r.phone}</span>` : null}</td>
                    </tr>`,
                  ),
            )}
          </tbody>
        </table>`}
  </div>`;
}
/** "防毒面具 200 个": an item a need asked for, with what is in stock. */
function itemSummary(catalog, r, kind, lang) {
  const it = r.items.find((x) => x.kind === kind);
  return it ? `${itemWord(catalog, it, lang)} ${it.quantity}${it.unit ? ' ' + it.unit : ''}` : resourceWord(catalog, 'items', kind, lang);
}

// ---- alarm list ----
// ISA-101 high-performance HMI: colour is kept for what needs attention. An active alarm nobody signed
// for carries its level's colour across the row and flashes; once signed for, the row is neutral and
// the level lives on in its badge; cleared alarms fade (an outline while one still wants a signature),
// closed ones most. A row new or more severe since the operator last looked carries a NEW tag until seen.
function AlarmList({ t, lang, catalog, user, alarms, lookup, filter, setFilter, onAction, onDetail, compact, enterprises, seen, onSeen, deviceInfo }) {
  const list = sortAlarms(
    alarms.filter((a) => (filter.open ? OPEN_STATES.includes(a.state) : true) && (!filter.level || a.level === filter.level) && (!filter.enterprise || a.enterprise === filter.enterprise)),
  );
  const rows = nestUnderCauses(list);
  // Causes are looked up among all alarms the console holds: the device page lists one device's only.
  const byId = lookup ?? new Map(alarms.map((a) => [a.id, a]));
  const unseen = list.filter((a) => isUnseen(seen, a));
  const actionsFor = (a) => {
    const out = [];
    const acked = a.acknowledgedAt !== null;
    const active = a.state === 'active_unacknowledged' || a.state === 'active_acknowledged' || a.state === 'shelved' || a.state === 'out_of_service';
    if (a.state === 'closed') return out;
    if (!acked && can(user, catalog, 'alarm.acknowledge')) out.push('acknowledge');
    if (can(user, catalog, 'alarm.feedback')) out.push('feedback');
    if (a.shelvedUntil && can(user, catalog, 'alarm.shelve')) out.push('unshelve');
    else if (!a.shelvedUntil && a.state !== 'out_of_service' && can(user, catalog, 'alarm.shelve')) out.push('shelve');
    if (active && a.state !== 'out_of_service' && can(user, catalog, 'alarm.clear')) out.push('clear');
    if (!active && can(user, catalog, 'alarm.close')) out.push('close');
    return out;
  };
  // "Caused by: <the cause's condition>", and its device when that is another one.
  const causeLine = (a) => {
    const cause = byId.get(a.parentId);
    if (!cause) return t.causedBy + t.causeElsewhere;
    return t.causedBy + conditionTitle(catalog, cause.condition, lang) + (cause.device !== a.device ? ` · ${cause.device}` : '');
  };
  const row = ({ alarm: a, depth }) => {
    const fresh = isUnseen(seen, a);
    const cls = [`l${a.level}`, flashes(a, byId) ? 'flash' : '', signedWithCause(a, byId) ? 'with-cause' : '', fresh ? 'unseen' : '', depth > 0 ? 'consequence' : ''].filter(Boolean).join(' ');
    return html`<tr key=${a.id} class=${cls} data-alarm-id=${a.id} data-level=${a.level} data-state=${a.state} data-device=${`${a.enterprise}/${a.device}`}
        data-parent-id=${a.parentId ?? undefined} data-unseen=${fresh ? 'true' : 'false'} title=${fresh ? t.unseenHint : undefined}
        onClick=${() => fresh && onSeen([a])}>
      <td style=${depth > 0 ? `padding-left:${6 + depth * 18}px` : undefined}>
        ${depth > 0 ? html`<span class="sub" aria-hidden="true">${icon.consequence()}</span>` : null}
        <div>${fresh ? html`<span class="tag-new">${t.newTag}</span>` : null}${fmtShort(a.raisedAt)}</div><div class="msg">${new Date(a.raisedAt).toLocaleDateString()}</div>
      </td>
      <td>${isPlatform(a) ? a.device : html`<a href=${`#/device/${a.enterprise}/${a.device}`}>${a.device}</a>`}<div class="msg">${a.enterprise}${a.hazardSource ? html` · <a href=${sourceHref(a.enterprise, a.hazardSource)}>${a.hazardSource}</a>` : ''}</div>
        <${MediaLinks} t=${t} alarm=${a} device=${deviceInfo?.get(`${a.enterprise}/${a.device}`)} /></td>
      <td><span class=${`chip lvl l${a.level}`} title=${t.level[a.level]}>${a.level} ${t.levelShort[a.level]}</span>${conditionTitle(catalog, a.condition, lang)}
        ${a.parentId ? html`<div class="cause" data-testid="caused-by">${causeLine(a)}</div>` : null}
        <div class="msg">${alarmDetail(a, catalog, lang)}</div></td>
      <td><span class=${`state ${a.state}`}>${t.states[a.state]}</span>${a.shelvedUntil ? html`<div class="msg">${t.until} ${fmtShort(a.shelvedUntil)}</div>` : null}</td>
      <td><div class="acts">
        ${actionsFor(a).map((k) => html`<button data-action=${k} onClick=${() => (k === 'acknowledge' ? onAction(a, k, true) : onAction(a, k))}>${t.actions[k]}</button>`)}
        <button data-action="history" onClick=${() => onDetail(a.id)}>${t.actions.history}</button>
      </div></td>
    </tr>`;
  };
  return html`<div class="alarms">
    ${!compact &&
    html`<div class="filters" style="padding:0 4px 6px">
      <button class=${filter.open ? 'on' : ''} onClick=${() => setFilter({ ...filter, open: true })}>${t.open}</button>
      <button class=${!filter.open ? 'on' : ''} onClick=${() => setFilter({ ...filter, open: false })}>${t.all}</button>
      <span class="muted">|</span>
      ${[1, 2, 3, 4].map(
        (l) => html`<button class=${filter.level === l ? 'on' : ''} onClick=${() => setFilter({ ...filter, level: filter.level === l ? null : l })}>${t.levelShort[l]}</button>`,
      )}
      ${(enterprises?.length ?? 0) > 1 &&
      html`<select aria-label=${t.enterprise} value=${filter.enterprise ?? ''} onChange=${(e) => setFilter({ ...filter, enterprise: e.target.value || null })}>
        <option value="">${t.enterprise}: ${t.all}</option>
        ${enterprises.map((e) => html`<option value=${e.id}>${e.name}</option>`)}
      </select>`}
      <span class="grow"></span>
      <button class="seen-all" data-testid="all-seen" disabled=${unseen.length === 0} onClick=${() => onSeen(unseen)}>${icon.check()} ${t.allSeen}${unseen.length ? ` ${unseen.length}` : ''}</button>
    </div>`}
    <table>
      <thead><tr><th>${t.time}</th><th>${t.device}</th><th>${t.condition}</th><th>${t.state}</th><th></th></tr></thead>
      <tbody data-testid="alarm-list">
        ${list.length === 0 && html`<tr><td colspan="5" class="muted">${t.noAlarms}</td></tr>`}
        ${rows.map(row)}
      </tbody>
    </table>
  </div>`;
}

// ---- device page ----
function DevicePage({ t, lang, catalog, user, enterprise, id, alarms, lookup, seen, onSeen, latestTick, onAction, onDetail }) {
  const [device, setDevice] = useState();
  const [latest, setLatest] = useState();
  const [chart, setChart] = useState();
  const [minutes, setMinutes] = useState(60);
  const [history, setHistory] = useState([]);
  const [windows, setWindows] = useState([]);
  const [rules, setRules] = useState([]);
  const [form, setForm] = useState(null);
  const [error, setError] = useState('');
  const base = `/api/v1/enterprises/${enterprise}/devices/${id}`;
  const load = useCallback(() => {
    // A device out of the account's scope is 403/404 alike (a stale link, another county's): said in the view's language.
    api('GET', base).then(setDevice, (e) => setError(e.status === 403 || e.status === 404 ? t.deviceNotFound : e.message));
    api('GET', `/api/v1/maintenance?enterprise=${enterprise}&device=${id}&active=true`).then(setWindows, () => {});
    api('GET', `${base}/thresholds`).then((r) => setRules(r.rules), () => {});
  }, [base]);
  useEffect(load, [load]);
  useEffect(() => {
    api('GET', `${base}/latest`).then(setLatest, () => {});
  }, [base, latestTick]);
  useEffect(() => {
    // The range picked (1 h … 1 year) decides the query; the server picks raw readings or aggregates.
    const get = () => api('GET', `${base}/chart?minutes=${minutes}`).then(setChart, () => setChart({ from: Date.now() - minutes * 60_000, to: Date.now(), series: [] }));
    // The device's alarms of the range (and those still open from before it), for the shaded periods.
    const past = () =>
      Promise.all([
        api('GET', `/api/v1/alarms?enterprise=${enterprise}&device=${id}&from=${Date.now() - minutes * 60_000}&limit=1000`),
        api('GET', `/api/v1/alarms?enterprise=${enterprise}&device=${id}&open=true&limit=1000`),
      ]).then(([a, b]) => setHistory([...a.alarms, ...b.alarms]), () => {});
    setChart(undefined);
    get();
    past();
    const timer = setInterval(() => (get(), past()), minutes <= 1440 ? 30_000 : 300_000);
    return () => clearInterval(timer);
  }, [base, minutes]);
  const mine = alarms.filter((a) => a.enterprise === enterprise && a.device === id);
  const bands = useMemo(() => thresholdBands(rules, device?.meta?.limits), [rules, device]);
  const periods = useMemo(() => (chart ? alarmPeriods([...history, ...mine], chart.from, chart.to) : []), [chart, history, alarms]);
  if (error) return html`<div class="device"><div class="error">${error}</div></div>`;
  if (!device) return html`<div class="device">…</div>`;
  const spec = catalog?.deviceClasses?.[device.class];
  const limits = device.meta?.limits ?? {};
  const startMaintenance = async (e) => {
    e.preventDefault();
    try {
      await api('POST', '/api/v1/maintenance', { enterprise, device: id, minutes: Number(form.minutes), reason: form.reason });
      setForm(null);
      load();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<div class="device" data-testid="device-page">
    <div class="panel wide"><header>
      <a href="#/" class="back">${icon.back()} ${t.back}</a>
      <h2>${device.name || device.id}</h2>
      <span class="muted">${enterprise} / ${device.id} · ${(lang === 'zh' ? spec?.zh : spec?.title) ?? device.class}${device.hazardSource ? html` · <a href=${sourceHref(enterprise, device.hazardSource)} data-testid="device-source-link">${t.source} ${device.hazardSource}</a>` : ''}</span>
      <span class="grow" style="flex:1"></span>
      ${safeUrl(device.meta?.streamUrl) && html`<a class="media" href=${safeUrl(device.meta.streamUrl)} target="_blank" rel="noopener noreferrer" data-testid="device-video">${icon.video()} ${t.liveVideo}</a>`}
      <span class=${`badge ${device.online ? 'ok' : 'bad'}`} title=${device.presence?.reason ? t.presence.reason[device.presence.reason] : ''}>${device.online ? t.online : t.offline}</span>
      <span class="muted" data-testid="presence">${t.presence.mode[device.presence.mode]} · ${t.presence.lastHeard} ${device.presence.lastHeardAt ? fmtTime(device.presence.lastHeardAt) : t.presence.never} · ${t.presence.nextDue} ${fmtTime(device.presence.nextExpectedAt)}</span>
      <span class=${`badge ${windows.length ? 'warn' : ''}`} data-testid="maintenance-state">${windows.length ? `${t.inMaintenance} ${t.until} ${fmtTime(windows[0].until)}` : t.notInMaintenance}</span>
      ${can(user, catalog, 'maintenance.write') &&
      (windows.length
        ? html`<button onClick=${async () => { await api('POST', `/api/v1/maintenance/${windows[0].id}/end`); load(); }}>${t.endMaintenance}</button>`
        : html`<button onClick=${() => setForm({ minutes: 120, reason: '' })}>${t.startMaintenance}</button>`)}
    </header></div>
    <div class="panel values"><header><h2>${t.liveValues}</h2><span class="muted">${latest?.lastSeen ? fmtTime(latest.lastSeen) : ''}</span></header>
      <div class="body"><table>
        <thead><tr><th></th><th>${t.value}</th><th>LL</th><th>L</th><th>H</th><th>HH</th><th>${t.alarmThresholds}</th></tr></thead>
        <tbody>
          ${Object.entries(spec?.metrics ?? {}).map(([m, ms]) => {
            const v = latest?.values?.[m];
            const l = limits[m] ?? {};
            const over = typeof v?.value === 'number' && ((l.H !== undefined && v.value >= l.H) || (l.L !== undefined && v.value <= l.L));
            return html`<tr data-metric=${m}>
              <td>${lang === 'zh' ? ms.zh : ms.description}<div class="muted">${m}</div></td>
              <td class=${`big ${over ? 'over' : ''}`}>${v === undefined ? '—' : typeof v.value === 'boolean' ? (v.value ? t.on : t.off) : v.value.toFixed(2)} <span class="muted" style="font-size:12px">${ms.unit}</span></td>
              <td>${l.LL ?? ''}</td><td>${l.L ?? ''}</td><td>${l.H ?? ''}</td><td>${l.HH ?? ''}</td>
              <td>${rules
                .filter((r) => r.metric === m)
                .flatMap((r) => r.stages.filter((st) => st.raise !== null).map((st) => ({ ...st, direction: r.direction })))
                .map((st) => html`<span class=${`chip l${st.level}`} style="min-width:0;padding:0 6px;margin:0 4px 2px 0;font-weight:normal">${st.direction === 'high' ? '≥' : '≤'} ${st.raise}</span>`)}</td>
            </tr>`;
          })}
        </tbody>
      </table>
      ${latest?.activeEvents?.length ? html`<div class="badge bad">${latest.activeEvents.join(', ')}</div>` : null}
      </div>
    </div>
    <div class="panel"><header><h2>${t.trendTitle}</h2><span class="grow" style="flex:1"></span><${RangePicker} t=${t} minutes=${minutes} setMinutes=${setMinutes} /></header><div class="body">
      ${chart ? html`<${TrendChart} t=${t} lang=${lang} chart=${chart} minutes=${minutes} bands=${bands} periods=${periods} names=${Object.fromEntries(Object.entries(spec?.metrics ?? {}).map(([m, ms]) => [m, lang === 'zh' ? ms.zh : m]))} />` : '…'}
    </div></div>
    <${DeviceCommands} t=${t} lang=${lang} user=${user} catalog=${catalog} api=${api} can=${can} enterprise=${enterprise} id=${id} deviceClass=${device.class} />
    <div class="panel wide"><header><h2>${t.alarms}</h2></header><div class="body">
      <${AlarmList} t=${t} lang=${lang} catalog=${catalog} user=${user} alarms=${mine} lookup=${lookup} filter=${{ open: false, level: null }} setFilter=${() => {}} onAction=${onAction} onDetail=${onDetail} compact=${true} seen=${seen} onSeen=${onSeen} deviceInfo=${new Map([[`${enterprise}/${id}`, device]])} />
    </div></div>
    ${form &&
    html`<${Dialog} title=${t.startMaintenance} onCancel=${() => setForm(null)}>
      <form onSubmit=${startMaintenance} style="display:grid;gap:10px">
        <label>${t.minutes}<input type="number" min="1" value=${form.minutes} onInput=${(e) => setForm({ ...form, minutes: e.target.value })} /></label>
        <label>${t.reason}<textarea rows="2" value=${form.reason} onInput=${(e) => setForm({ ...form, reason: e.target.value })}></textarea></label>
        <div class="row"><button type="button" onClick=${() => setForm(null)}>${t.cancel}</button><button class="primary" type="submit">${t.submit}</button></div>
      </form>
    <//>`}
  </div>`;
}

// ---- the application ----
function App() {
  const [lang, setLangState] = useState(initialLang());
  const t = texts(lang);
  const setLang = (l) => {
    saveLang(l);
    setLangState(l);
  };
  const [user, setUser] = useState(undefined);
  const [demo, setDemo] = useState(false);
  const [catalog, setCatalog] = useState();
  const [overview, setOverview] = useState();
  const [alarms, setAlarms] = useState(new Map());
  const [filter, setFilter] = useState({ open: true, level: null, enterprise: null });
  const [mode, setMode] = useState('live');
  const [dialog, setDialog] = useState(null);
  const [detail, setDetail] = useState(null);
  const [connected, setConnected] = useState(false);
  const [muted, setMuted] = useState(false);
  const [latestTick, setLatestTick] = useState(0);
  const [now, setNow] = useState(Date.now());
  const [source, setSource] = useState(null);
  // The geographic map (issue 17): devices and emergency resources, layers, what was picked on it.
  const [devices, setDevices] = useState([]);
  const [resources, setResources] = useState([]);
  const [view, setViewState] = useState(() => localStorage.getItem('hw.view'));
  const [layers, setLayersState] = useState(loadLayers);
  const [picked, setPicked] = useState(null);
  const [importing, setImporting] = useState(false);
  const setView = (v) => (localStorage.setItem('hw.view', v), setViewState(v));
  const setLayers = (l) => (localStorage.setItem('hw.layers', JSON.stringify(l)), setLayersState(l));
  const [seen, markSeen] = useSeen(user, alarms);
  // Overdue hidden dangers (issue 16): the top bar's badge and a layer of the map.
  const [overdueDangers, setOverdueDangers] = useState([]);
  const hash = useHash();
  const overviewTimer = useRef();

  useEffect(() => {
    saveLang(lang);
    api('GET', '/api/v1/session').then((s) => (setUser(s.user), setDemo(!!s.demo)), () => setUser(null));
    const out = () => setUser(null);
    window.addEventListener('hw-signed-out', out);
    const clock = setInterval(() => setNow(Date.now()), 1000);
    return () => (window.removeEventListener('hw-signed-out', out), clearInterval(clock));
  }, []);

  const refreshDevices = useCallback(() => api('GET', '/api/v1/devices').then(setDevices, () => {}), []);
  const refreshResources = useCallback(() => api('GET', '/api/v1/resources').then(setResources, () => {}), []);
  const refreshOverview = useCallback(() => {
    clearTimeout(overviewTimer.current);
    overviewTimer.current = setTimeout(() => api('GET', '/api/v1/overview').then(setOverview, () => {}), 150);
  }, []);

  useEffect(() => {
    if (!user) return;
    api('GET', '/api/v1/catalog').then(setCatalog, () => {});
    refreshOverview();
    const since = Date.now() - 7 * 24 * 3600_000;
    Promise.all([api('GET', '/api/v1/alarms?open=true&limit=1000'), api('GET', `/api/v1/alarms?open=false&from=${since}&limit=200`)]).then(([open, closed]) =>
      setAlarms(new Map([...closed.alarms, ...open.alarms].map((a) => [a.id, a]))),
    );
    // Cookie-authenticated stream; the browser reconnects with Last-Event-ID and gets what it missed.
    const es = new EventSource('/api/v1/stream');
    es.onopen = () => setConnected(true);
    es.onerror = () => setConnected(false);
    es.addEventListener('alarm', (e) => {
      const { alarm, change } = JSON.parse(e.data);
      setAlarms((prev) => new Map(prev).set(alarm.id, alarm));
      if (change.action === 'raised' || change.action === 'escalated') {
        if (alarm.level <= 2 && !window.__hwMuted) beep(alarm.level);
      }
      refreshOverview();
    });
    es.addEventListener('latest', () => setLatestTick((n) => n + 1));
    const periodic = setInterval(refreshOverview, 10_000);
    // Devices (for the map and the camera links) and emergency resources change seldom.
    refreshDevices();
    refreshResources();
    const slow = setInterval(refreshDevices, 60_000);
    const slower = setInterval(refreshResources, 300_000);
    return () => (es.close(), clearInterval(periodic), clearInterval(slow), clearInterval(slower));
  }, [user]);

  useEffect(() => {
    if (!user) return;
    const load = () => api('GET', '/api/v1/dangers?overdue=true&limit=500').then((r) => setOverdueDangers(r.dangers), () => {});
    load();
    const timer = setInterval(load, 60_000);
    return () => clearInterval(timer);
  }, [user, hash]);

  // Warnings waiting for approval (issue 16): a badge on the top bar's link for those who approve.
  const [pendingWarnings, setPendingWarnings] = useState(0);
  useEffect(() => {
    if (!user || !can(user, catalog, 'warning.approve')) return setPendingWarnings(0);
    const load = () => api('GET', '/api/v1/warnings?state=pending_approval&limit=1000').then((r) => setPendingWarnings(r.length), () => {});
    load();
    const timer = setInterval(load, 30_000);
    return () => clearInterval(timer);
  }, [user, catalog, hash]);

  // Keep sounding while a level-1/2 alarm waits for a signature (until acknowledged, or muted).
  const alarmList = useMemo(() => [...alarms.values()], [alarms]);
  const deviceInfo = useMemo(() => new Map(devices.map((d) => [`${d.enterprise}/${d.id}`, d])), [devices]);
  const pending = alarmList.filter((a) => needsSound(a) && !signedWithCause(a, alarms));
  useEffect(() => {
    window.__hwMuted = muted;
    if (muted || pending.length === 0) return;
    const worst = Math.min(...pending.map((a) => a.level));
    const timer = setInterval(() => beep(worst), 4000);
    return () => clearInterval(timer);
  }, [muted, pending.length]);

  // EEMUA 191 / ISA-18.2: more than 10 alarms in 10 minutes is more than an operator can handle.
  const flood = alarmList.filter((a) => a.raisedAt > now - 600_000).length > 10;

  const onAction = async (alarm, kind, direct) => {
    unlockAudio();
    if (direct) {
      try {
        const r = await api('POST', `/api/v1/alarms/${alarm.id}/${kind}`, {});
        setAlarms((prev) => new Map(prev).set(r.alarm.id, r.alarm));
        refreshOverview();
      } catch (err) {
        alert(err.message);
      }
    } else setDialog({ kind, alarm });
  };

  // The geographic map first once anything has coordinates, unless the operator chose the plan.
  const shownView = view ?? (anyPositions(overview) ? 'map' : 'plan');
  const pickOnMap = (p) => {
    setPicked(null);
    setSource(null);
    if (p.type === 'source') setSource(overview?.sources.find((s) => `${s.enterprise}/${s.id}` === p.key) ?? null);
    else if (p.type === 'device') location.hash = `#/device/${p.key}`;
    else if (p.type === 'enterprise') {
      setPicked({ type: 'enterprise', id: p.key });
      setFilter({ ...filter, enterprise: p.key });
    } else if (p.type === 'resource') setPicked({ type: 'resource', id: p.key });
    else if (p.type === 'danger') location.hash = `#/dangers/${encodeURIComponent(p.key)}`;
  };

  if (user === undefined) return null;
  if (user === null) return html`<${Login} t=${t} lang=${lang} setLang=${setLang} onSignedIn=${(s) => (setUser(s.user), setDemo(!!s.demo))} />`;

  const counts = overview?.counts ?? { 1: 0, 2: 0, 3: 0, 4: 0 };
  const deviceRoute = hash.match(/^#\/device\/([^/]+)\/([^/]+)$/);
  const sourceRoute = hash.match(/^#\/source\/([^/]+)\/([^/]+)$/);
  const signOut = async () => {
    await api('DELETE', '/api/v1/session').catch(() => {});
    setUser(null);
  };
  return html`<div class="shell" onClick=${unlockAudio}>
    <div class="top">
      <h1>${t.title}</h1><span class="sub">${t.subtitle}</span>
      ${demo && html`<span class="chip demo" title=${t.demoHint} data-testid="demo">${t.demo}</span>`}
      <div class="counts" data-testid="counts" aria-label=${t.counts}>
        ${[1, 2, 3, 4].map((l) => html`<span class=${`chip l${l} ${counts[l] ? '' : 'zero'}`} title=${t.level[l]} data-level=${l}>${t.levelShort[l]} ${counts[l]}</span>`)}
        <span class="chip unacked" title=${t.unacked}>${t.unacked} ${overview?.unacknowledged ?? 0}</span>
        ${flood && html`<span class="chip flood" title=${t.floodHint} data-testid="flood">${icon.warning()} ${t.flood}</span>`}
      </div>
      <span class="grow"></span>
      <span class=${`conn ${connected ? '' : 'closed'}`}>${icon.dot()} ${connected ? t.connection.open : t.connection.closed}</span>
      <span class="clock">${new Date(now).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false })}</span>
      <a class="button" href="#/wall" data-testid="wall-link">${t.wallLink}</a>
      <a class="button" href="#/search" data-testid="search-link">${t.searchLink}</a>
      <a class="button" href="#/duty" data-testid="duty-link">${t.dutyLink}</a>
      <a class="button" href="#/quality" data-testid="quality-link">${t.qualityLink}</a>
      <a class="button" href="#/warnings" data-testid="warnings-link">${t.warningsLink}${pendingWarnings ? html` <span class="badge warn" data-testid="warnings-pending" title=${t.warnings.pending(pendingWarnings)}>${pendingWarnings}</span>` : null}</a>
      <a class="button" href="#/resources" data-testid="resources-link">${t.resourcesLink}</a>
      <a class="button" href="#/admin" data-testid="admin-link">${t.adminLink}</a>
      ${can(user, catalog, 'jurisdiction.write') && html`<a class="button" href="#/jurisdictions" data-testid="jurisdictions-link">${jurisdictionWords(lang).link}</a>`}
      <a class="button" href="#/dangers" data-testid="dangers-link">${t.dangersLink}${overdueDangers.length ? html` <span class="badge bad" data-testid="dangers-overdue" title=${t.dangers.count(overdueDangers.length)}>${overdueDangers.length}</span>` : null}</a>
      <button onClick=${() => setMuted(!muted)} title=${muted ? t.unmute : t.mute} data-testid="mute">${muted ? icon.bellOff() : icon.bell()} ${muted ? t.unmute : t.mute}</button>
      ${LANGS.map((l) => html`<button class=${l === lang ? 'on' : ''} data-lang=${l} onClick=${() => setLang(l)}>${l === 'zh' ? '中' : 'EN'}</button>`)}
      <${JurisdictionBadge} user=${user} api=${api} lang=${lang} />
      <span class="muted">${user.displayName || user.username}</span>
      <button onClick=${signOut}>${t.signOut}</button>
    </div>
    ${hash.startsWith('#/jurisdictions')
      ? html`<${JurisdictionsPage} lang=${lang} catalog=${catalog} user=${user} api=${api} can=${can} />`
      : hash.startsWith('#/admin')
      ? html`<${AdminPage} t=${t} lang=${lang} catalog=${catalog} user=${user} api=${api} can=${can} hash=${hash} />`
      : hash.startsWith('#/resources')
      ? html`<${ResourcesPage} t=${t} lang=${lang} catalog=${catalog} user=${user} api=${api} can=${can} hash=${hash} onChanged=${refreshResources} />`
      : hash.startsWith('#/warnings')
      ? html`<${WarningsPage} t=${t} lang=${lang} catalog=${catalog} user=${user} api=${api} can=${can} hash=${hash} />`
      : hash.startsWith('#/dangers')
      ? html`<${DangersPage} t=${t} lang=${lang} catalog=${catalog} user=${user} api=${api} can=${can} hash=${hash} />`
      : hash === '#/wall'
      ? html`<${WallPage} t=${t} lang=${lang} overview=${overview} alarms=${alarmList} api=${api} now=${now} />`
      : hash === '#/quality'
      ? html`<${QualityPage} t=${t} lang=${lang} catalog=${catalog} user=${user} api=${api} can=${can} />`
      : hash === '#/duty'
      ? html`<${DutyPage} t=${t} lang=${lang} catalog=${catalog} user=${user} api=${api} can=${can} />`
      : hash === '#/search'
      ? html`<${SearchPage} t=${t} lang=${lang} catalog=${catalog} user=${user} api=${api} />`
      : sourceRoute
      ? html`<${SourcePage} t=${t} lang=${lang} catalog=${catalog} api=${api} enterprise=${sourceRoute[1]} id=${sourceRoute[2]} alarms=${alarmList}
          alarmTable=${(list) => html`<${AlarmList} t=${t} lang=${lang} catalog=${catalog} user=${user} alarms=${list} lookup=${alarms} filter=${{ open: true, level: null }} setFilter=${() => {}} onAction=${onAction} onDetail=${setDetail} compact=${true} seen=${seen} onSeen=${markSeen} deviceInfo=${deviceInfo} />`} />`
      : deviceRoute
      ? html`<${DevicePage} t=${t} lang=${lang} catalog=${catalog} user=${user} enterprise=${deviceRoute[1]} id=${deviceRoute[2]} alarms=${alarmList} lookup=${alarms} seen=${seen} onSeen=${markSeen} latestTick=${latestTick} onAction=${onAction} onDetail=${setDetail} />`
      : html`<div class="main">
          <div class="panel">
            <header><h2>${t.overview}</h2><span style="flex:1"></span>
              <button class=${shownView === 'map' ? 'on' : ''} onClick=${() => setView('map')} data-testid="view-map">${t.mapView}</button>
              <button class=${shownView === 'plan' ? 'on' : ''} onClick=${() => setView('plan')} data-testid="view-plan">${t.planView}</button>
              <span class="muted">|</span>
              <button class=${mode === 'live' ? 'on' : ''} onClick=${() => setMode('live')} data-testid="mode-live">${t.liveMap}</button>
              <button class=${mode === 'risk' ? 'on' : ''} onClick=${() => setMode('risk')} data-testid="mode-risk">${t.riskMap}</button>
              ${can(user, catalog, 'resource.write') && html`<button onClick=${() => setImporting(true)} data-testid="import-resources" title=${t.importHint}>${icon.upload()} ${t.importResources}</button>`}
            </header>
            <div class="body">
              ${shownView === 'map'
                ? html`<${LayerToggles} t=${t} lang=${lang} catalog=${catalog} layers=${layers} setLayers=${setLayers} counts=${{ ...layerCounts(overview, devices, resources), dangers: overdueDangers.filter((d) => d.position).length }} />
                    ${catalog && overview ? html`<${GeoMap} t=${t} lang=${lang} overview=${overview} devices=${devices} resources=${resources} dangers=${overdueDangers} alarms=${alarmList} mode=${mode} layers=${layers} tiles=${catalog.map} onPick=${pickOnMap} onCluster=${(leaves) => setPicked({ type: 'cluster', leaves })} />` : html`<div class="hw-map muted">…</div>`}
                    ${overview && !anyPositions(overview) ? html`<div class="muted" data-testid="no-positions">${t.noPositions}</div>` : null}
                    <${Legend} t=${t} mode=${mode} />`
                : html`<${SiteMap} t=${t} overview=${overview} mode=${mode} onSource=${setSource} />`}
              ${source && html`<${SourcePanel} t=${t} source=${source} onClose=${() => setSource(null)} />`}
              ${picked?.type === 'enterprise' && overview && html`<${EnterprisePanel} t=${t} overview=${overview} id=${picked.id} onSource=${(s) => (setPicked(null), setSource(s))} onClose=${() => setPicked(null)} />`}
              ${picked?.type === 'resource' && html`<${ResourcePanel} t=${t} lang=${lang} catalog=${catalog} resource=${resources.find((r) => r.id === picked.id)} enterprises=${overview?.enterprises} onClose=${() => setPicked(null)} />`}
              ${picked?.type === 'cluster' && html`<${ClusterPanel} t=${t} lang=${lang} catalog=${catalog} leaves=${picked.leaves} onPick=${pickOnMap} onClose=${() => setPicked(null)} />`}
              ${overview && html`<${EnterpriseTable} t=${t} overview=${overview} onPick=${(id) => setFilter({ ...filter, enterprise: filter.enterprise === id ? null : id })} />`}
            </div>
          </div>
          <div class="panel">
            <header><h2>${t.alarms}</h2><span class="muted">${pending.length ? `${t.newAlarm}: ${pending.length}` : ''}</span></header>
            <div class="body"><${AlarmList} t=${t} lang=${lang} catalog=${catalog} user=${user} alarms=${alarmList} lookup=${alarms} filter=${filter} setFilter=${setFilter} onAction=${onAction} onDetail=${setDetail} enterprises=${overview?.enterprises} seen=${seen} onSeen=${markSeen} deviceInfo=${deviceInfo} /></div>
          </div>
        </div>`}
    ${dialog && html`<${ActionDialog} t=${t} kind=${dialog.kind} alarm=${dialog.alarm} onCancel=${() => setDialog(null)} onDone=${() => (setDialog(null), refreshOverview())} />`}
    ${detail && html`<${AlarmDetail} t=${t} lang=${lang} catalog=${catalog} id=${detail} user=${user} onClose=${() => setDetail(null)} />`}
    ${importing && html`<${ImportDialog} t=${t} onClose=${() => setImporting(false)} onDone=${refreshResources} />`}
  </div>`;
}

// Counts per level per enterprise under the map: the same numbers as the colours, for reading out.
function EnterpriseTable({ t, overview, onPick }) {
  return html`<table class="ents" data-testid="enterprise-table">
    <thead><tr><th>${t.enterprise}</th>${[1, 2, 3, 4].map((l) => html`<th><i class=${`dot l${l}`}></i>${t.levelShort[l]}</th>`)}<th>${t.online}</th></tr></thead>
    <tbody>
      ${overview.enterprises.map(
        (e) => html`<tr data-enterprise=${e.id} onClick=${() => onPick(e.id)}>
          <td>${e.name}</td>
          ${[1, 2, 3, 4].map((l) => html`<td class=${e.counts[l] ? `n l${l}` : 'muted'}>${e.counts[l]}</td>`)}
          <td class=${e.devicesOnline < e.devices ? 'warn' : ''}>${e.devicesOnline}/${e.devices}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function SourcePanel({ t, source, onClose }) {
  const [devices, setDevices] = useState([]);
  useEffect(() => {
    api('GET', `/api/v1/devices?enterprise=${source.enterprise}&hazardSource=${source.id}`).then(setDevices, () => {});
  }, [source.enterprise, source.id]);
  return html`<div class="panel" style="margin-top:8px" data-testid="source-panel">
    <header><h2>${source.name}</h2><span class="muted">${source.enterprise} · ${t.grade(source.grade)} · ${t.risk[source.riskColour]}</span><span style="flex:1"></span><button class="icon-only" onClick=${onClose} aria-label=${t.closePanel} title=${t.closePanel}>${icon.close()}</button></header>
    <div class="body"><div><a href=${sourceHref(source.enterprise, source.id)} data-testid="source-page-link">${t.sourcePage.open}</a></div>${devices.map(
      (d) => html`<div><a href=${`#/device/${d.enterprise}/${d.id}`}>${d.name || d.id}</a> <span class="muted">${d.class}</span> <span class=${`badge ${d.online ? 'ok' : 'bad'}`}>${d.online ? t.online : t.offline}</span>${d.maintenance ? html` <span class="badge warn">${t.inMaintenance}</span>` : null}</div>`,
    )}</div>
  </div>`;
}

// ---- the geographic map's panels (issue 17) ----
function loadLayers() {
  try {
    const saved = JSON.parse(localStorage.getItem('hw.layers') ?? 'null');
    if (saved && typeof saved === 'object') return Object.fromEntries(LAYERS.map((k) => [k, saved[k] !== false]));
  } catch {}
  return Object.fromEntries(LAYERS.map((k) => [k, true]));
}

const hasPos = (o) => typeof o?.lat === 'number' && typeof o?.lon === 'number';
function layerCounts(overview, devices, resources) {
  const counts = { enterprises: overview?.enterprises.filter(hasPos).length ?? 0, sources: overview?.sources.filter(hasPos).length ?? 0, devices: devices.filter((d) => d.revokedAt === null && hasPos(d.meta)).length };
  for (const k of RESOURCE_KINDS) counts[k] = 0;
  for (const r of resources) counts[r.kind] = (counts[r.kind] ?? 0) + 1;
  return counts;
}

/** Layers that switch on and off, each with its glyph and how many it holds. */
function LayerToggles({ t, lang, catalog, layers, setLayers, counts }) {
  const glyph = (k) => (k === 'dangers' ? html`<i class="lg-dgr"></i>` : k === 'enterprises' ? icon.factory() : k === 'sources' ? html`<i class="lg-src"></i>` : k === 'devices' ? html`<i class="lg-dev"></i>` : icon.resource[k]());
  const name = (k) => t.layer[k] ?? resourceWord(catalog, 'kinds', k, lang);
  return html`<div class="layers" data-testid="layers">
    <span class="muted">${t.layersTitle}</span>
    ${LAYERS.map(
      (k) => html`<label class=${layers[k] ? 'on' : ''} data-layer=${k}>
        <input type="checkbox" checked=${!!layers[k]} onChange=${(e) => setLayers({ ...layers, [k]: e.target.checked })} />${glyph(k)} ${name(k)} <span class="muted">${counts[k] ?? 0}</span>
      </label>`,
    )}
  </div>`;
}

function PanelHead({ t, title, sub, onClose }) {
  return html`<header><h2>${title}</h2><span class="muted">${sub}</span><span style="flex:1"></span><button class="icon-only" onClick=${onClose} aria-label=${t.closePanel} title=${t.closePanel}>${icon.close()}</button></header>`;
}

function EnterprisePanel({ t, overview, id, onSource, onClose }) {
  const e = overview.enterprises.find((x) => x.id === id);
  if (!e) return null;
  const sources = overview.sources.filter((s) => s.enterprise === id);
  return html`<div class="panel" style="margin-top:8px" data-testid="enterprise-panel">
    <${PanelHead} t=${t} title=${e.name} sub=${`${t.devices} ${e.devicesOnline}/${e.devices} ${t.online}`} onClose=${onClose} />
    <div class="body">
      <div>${[1, 2, 3, 4].map((l) => html`<span class=${`chip l${l} ${e.counts[l] ? '' : 'zero'}`} style="margin-right:4px">${t.levelShort[l]} ${e.counts[l]}</span>`)}</div>
      ${sources.map((s) => html`<div><a href="#/" onClick=${(ev) => (ev.preventDefault(), onSource(s))}>${s.name}</a> <span class="muted">${t.grade(s.grade)} · ${t.risk[s.riskColour]}</span></div>`)}
    </div>
  </div>`;
}

function ResourcePanel({ t, lang, catalog, resource: r, enterprises, onClose }) {
  if (!r) return null;
  const owner = r.enterprise ? (enterprises?.find((e) => e.id === r.enterprise)?.name ?? r.enterprise) : r.jurisdiction;
  const rows = [
    [t.owner, owner],
    [t.contact, [r.contact, r.phone].filter(Boolean).join(' ')],
    [t.address, r.address],
    [t.specialities, r.specialities.map((x) => resourceWord(catalog, 'specialities', x, lang)).join(t.listSep)],
    [t.people, r.people !== null ? `${r.people} ${t.persons}` : ''],
    [t.capacity, r.capacity !== null ? `${r.capacity} ${t.persons}` : ''],
    [t.items, r.items.map((it) => `${itemWord(catalog, it, lang)} ${it.quantity}${it.unit ? ' ' + it.unit : ''}`).join(t.listSep)],
    [t.position, `${r.lat.toFixed(5)}, ${r.lon.toFixed(5)}`],
    [t.note, r.note],
  ].filter(([, v]) => v);
  return html`<div class="panel" style="margin-top:8px" data-testid="resource-panel" data-resource=${r.id}>
    <${PanelHead} t=${t} title=${r.name} sub=${resourceWord(catalog, 'kinds', r.kind, lang)} onClose=${onClose} />
    <div class="body"><table class="hist"><tbody>${rows.map(([k, v]) => html`<tr><td class="muted">${k}</td><td>${v}</td></tr>`)}</tbody></table>
      <a href=${`#/resources/${encodeURIComponent(r.id)}`} data-testid="resource-page-link">${t.openResourcePage}</a></div>
  </div>`;
}

/** Points at one place (a cluster that no zoom splits): listed, each opens as a click on it would. */
function ClusterPanel({ t, lang, catalog, leaves, onPick, onClose }) {
  const what = (p) => (p.type === 'danger' ? t.layer.dangers : p.type === 'resource' ? resourceWord(catalog, 'kinds', p.kind, lang) : t.layer[p.type === 'source' ? 'sources' : p.type === 'device' ? 'devices' : 'enterprises']);
  return html`<div class="panel" style="margin-top:8px" data-testid="cluster-panel">
    <${PanelHead} t=${t} title=${t.atOnePlace} sub=${String(leaves.length)} onClose=${onClose} />
    <div class="body">${leaves.map((p) => html`<div><a href="#/" onClick=${(e) => (e.preventDefault(), onPick(p))}>${p.name}</a> <span class="muted">${what(p)}</span></div>`)}</div>
  </div>`;
}

/** The bureau's register as a CSV or Excel file: all or nothing; every wrong cell listed. */
function ImportDialog({ t, onClose, onDone }) {
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState(false);
  const send = async (e) => {
    const file = e.target.files?.[0];
    if (!file) return;
    setBusy(true);
    const xlsx = /\.xlsx$/i.test(file.name);
    try {
      const res = await fetch('/api/v1/resources/import', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': xlsx ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv' },
        body: await file.arrayBuffer(),
      });
      const body = await res.json();
      setResult({ ok: res.ok, body });
      if (res.ok) onDone();
    } catch (err) {
      setResult({ ok: false, body: { message: err.message, errors: [] } });
    } finally {
      setBusy(false);
    }
  };
  return html`<${Dialog} title=${t.importResources} onCancel=${onClose}>
    <div class="muted">${t.importHint}</div>
    <input type="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" onChange=${send} disabled=${busy} data-testid="import-file" />
    ${result?.ok && html`<div data-testid="import-done">${t.importDone(result.body.imported, result.body.created, result.body.updated)}</div>`}
    ${result && !result.ok && html`<div class="error" role="alert" data-testid="import-errors">${result.body.errorCount ? t.importErrors(result.body.errorCount) : result.body.message}</div>
      ${result.body.errors?.length ? html`<table class="hist"><thead><tr><th>${t.row}</th><th>${t.column}</th><th>${t.value}</th><th></th></tr></thead>
        <tbody>${result.body.errors.map((er) => html`<tr><td>${er.row}</td><td>${er.column ?? ''}</td><td>${er.value ?? ''}</td><td>${er.message}</td></tr>`)}</tbody></table>` : null}`}
    <div class="row"><button onClick=${onClose}>${t.back}</button></div>
  <//>`;
}

render(html`<${App} />`, document.getElementById('app'));
