// The hazard-source page (issue 15), #/source/<enterprise>/<source>: the source's grade, assessed risk
// colour, enterprise and open alarms, then the trend of every device on it over one time range, so an
// operator sees at once which of a tank farm's detectors moved and when. The charts are the device
// page's (trend.js): threshold bands and alarm periods per device, one range picker for all of them.
import { h } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import htm from 'htm';
import * as icon from './icons.js';
import { alarmPeriods, RangePicker, thresholdBands, TrendChart } from './trend.js';

const html = htm.bind(h);
// The four-colour risk map's colours are the alarm levels' colours (chip l1..l4).
const RISK_LEVEL = { red: 1, orange: 2, yellow: 3, blue: 4 };
const fmtTime = (ms) => (ms ? new Date(ms).toLocaleString(undefined, { hour12: false }) : '');

/**
 * `alarms`: the console's alarms (open ones and the live stream), from which the source's open alarms
 * are taken; `alarmTable(list)` draws them as the console's alarm list (with its actions).
 */
export function SourcePage({ t, lang, catalog, api, enterprise, id, alarms, alarmTable }) {
  const [source, setSource] = useState();
  const [company, setCompany] = useState();
  const [devices, setDevices] = useState();
  const [missing, setMissing] = useState(null);
  const [minutes, setMinutes] = useState(60);
  useEffect(() => {
    setSource(undefined);
    setDevices(undefined);
    setMissing(null);
    // Out of the account's scope is 403/404 alike (a stale link, another county's source): "no such source".
    api('GET', `/api/v1/enterprises/${enterprise}/hazard-sources/${id}`).then(setSource, (e) => setMissing(e.status === 403 || e.status === 404 ? 'scope' : e.message));
    api('GET', `/api/v1/enterprises/${enterprise}`).then(setCompany, () => {});
    // The devices' online state changes; the list itself seldom.
    const loadDevices = () => api('GET', `/api/v1/devices?enterprise=${enterprise}&hazardSource=${id}`).then((list) => setDevices(list.filter((d) => d.revokedAt === null)), () => setDevices((d) => d ?? []));
    loadDevices();
    const timer = setInterval(loadDevices, 30_000);
    return () => clearInterval(timer);
  }, [enterprise, id]);
  const ids = useMemo(() => new Set((devices ?? []).map((d) => d.id)), [devices]);
  // Alarms name their hazard source when raised; a device moved onto the source since still counts.
  const open = useMemo(() => alarms.filter((a) => a.enterprise === enterprise && a.state !== 'closed' && (a.hazardSource === id || ids.has(a.device))), [alarms, enterprise, id, ids]);
  const s = t.sourcePage;
  if (missing) return html`<div class="device" data-testid="source-page"><div class="error" data-testid="source-missing">${missing === 'scope' ? s.notFound : missing}</div></div>`;
  if (!source) return html`<div class="device" data-testid="source-page">…</div>`;
  return html`<div class="device" data-testid="source-page" data-source=${`${enterprise}/${id}`}>
    <div class="panel wide"><header>
      <a href="#/" class="back">${icon.back()} ${t.back}</a>
      <h2 data-testid="source-name">${source.name}</h2>
      <span class="muted">${company?.name ?? enterprise} · ${t.source} ${source.id}</span>
      <span class="grow" style="flex:1"></span>
      <span class="chip" data-testid="source-grade" data-grade=${source.grade}>${t.grade(source.grade)}</span>
      <span class=${`chip l${RISK_LEVEL[source.riskColour]}`} data-testid="source-risk" data-colour=${source.riskColour}>${t.risk[source.riskColour]}</span>
    </header></div>
    <div class="panel wide"><header><h2>${s.openAlarms}</h2><span class="muted" data-testid="source-open-count">${open.length}</span></header>
      <div class="body" data-testid="source-alarms">${open.length === 0 ? html`<div class="muted">${t.noAlarms}</div>` : alarmTable(open)}</div>
    </div>
    <div class="panel wide"><header><h2>${s.trends}</h2><span class="muted">${devices ? s.deviceCount(devices.length) : ''}</span><span class="grow" style="flex:1"></span>
      <${RangePicker} t=${t} minutes=${minutes} setMinutes=${setMinutes} /></header>
      ${devices?.length === 0 ? html`<div class="body muted" data-testid="source-no-devices">${s.noDevices}</div>` : null}
    </div>
    ${(devices ?? []).map((d) => html`<${DeviceTrend} key=${d.id} t=${t} lang=${lang} catalog=${catalog} api=${api} device=${d} minutes=${minutes} alarms=${alarms} />`)}
  </div>`;
}

/** One device of the source: its state, a link to its page, its channels' trend over the page's range. */
function DeviceTrend({ t, lang, catalog, api, device, minutes, alarms }) {
  const { enterprise, id } = device;
  const base = `/api/v1/enterprises/${enterprise}/devices/${id}`;
  const [rules, setRules] = useState([]);
  const [chart, setChart] = useState();
  const [history, setHistory] = useState([]);
  useEffect(() => {
    api('GET', `${base}/thresholds`).then((r) => setRules(r.rules), () => {});
  }, [base]);
  useEffect(() => {
    // An answer for a range no longer picked is dropped: the page shows one range for every device.
    let current = true;
    const get = () =>
      api('GET', `${base}/chart?minutes=${minutes}`).then(
        (c) => current && setChart(c),
        () => current && setChart({ from: Date.now() - minutes * 60_000, to: Date.now(), series: [] }),
      );
    // The device's alarms of the range and those still open from before it: the shaded periods.
    const past = () =>
      Promise.all([
        api('GET', `/api/v1/alarms?enterprise=${enterprise}&device=${id}&from=${Date.now() - minutes * 60_000}&limit=1000`),
        api('GET', `/api/v1/alarms?enterprise=${enterprise}&device=${id}&open=true&limit=1000`),
      ]).then(([a, b]) => current && setHistory([...a.alarms, ...b.alarms]), () => {});
    setChart(undefined);
    get();
    past();
    const timer = setInterval(() => (get(), past()), minutes <= 1440 ? 30_000 : 300_000);
    return () => ((current = false), clearInterval(timer));
  }, [base, minutes]);
  const limitsKey = JSON.stringify(device.meta?.limits ?? {});
  const bands = useMemo(() => thresholdBands(rules, device.meta?.limits), [rules, limitsKey]);
  const live = useMemo(() => alarms.filter((a) => a.enterprise === enterprise && a.device === id), [alarms, enterprise, id]);
  const periods = useMemo(() => (chart ? alarmPeriods([...history, ...live], chart.from, chart.to) : []), [chart, history, live]);
  const spec = catalog?.deviceClasses?.[device.class];
  const names = useMemo(() => Object.fromEntries(Object.entries(spec?.metrics ?? {}).map(([m, ms]) => [m, lang === 'zh' ? ms.zh : m])), [spec, lang]);
  return html`<div class="panel" data-testid="source-device" data-device=${id}>
    <header>
      <h2><a href=${`#/device/${enterprise}/${id}`} data-testid="source-device-link">${device.name || id}</a></h2>
      <span class="muted">${(lang === 'zh' ? spec?.zh : spec?.title) ?? device.class}</span>
      <span class="grow" style="flex:1"></span>
      ${device.maintenance ? html`<span class="badge warn">${t.inMaintenance}</span>` : null}
      <span class=${`badge ${device.online ? 'ok' : 'bad'}`} data-testid="source-device-online" data-online=${String(!!device.online)}
        title=${device.presence?.lastHeardAt ? `${t.presence.lastHeard} ${fmtTime(device.presence.lastHeardAt)}` : ''}>${device.online ? t.online : t.offline}</span>
    </header>
    <div class="body">${chart ? html`<${TrendChart} t=${t} lang=${lang} chart=${chart} minutes=${minutes} bands=${bands} periods=${periods} names=${names} />` : '…'}</div>
  </div>`;
}
