// Device commands on the device page (issue 15): the commands the device's class accepts as buttons,
// each sent only after a confirmation that says what the device will do (with its arguments, e.g. the
// length of a pump test run), and the device's commands with where each stands: sent, accepted, done,
// failed, rejected or expired, with every step's time. The API is the one judge: its refusal (unknown,
// busy, offline ...) is shown in the dialog. While a command waits for its answer the list follows it.
import { h } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);
const OPEN = ['sent', 'accepted'];
const BADGE = { sent: 'warn', accepted: 'warn', done: 'ok', failed: 'bad', rejected: 'bad', expired: 'bad' };

let catalogOnce;
/** The command catalog of every class, fetched once per page load. */
const commandCatalog = (api) => (catalogOnce ??= api('GET', '/api/v1/commands/catalog').catch((e) => ((catalogOnce = undefined), Promise.reject(e))));

const clock = (ms) => new Date(ms).toLocaleTimeString('zh-CN', { hour12: false });
const dateTime = (ms) => new Date(ms).toLocaleString('zh-CN', { hour12: false });

export function DeviceCommands({ t, lang, user, catalog, api, can, enterprise, id, deviceClass }) {
  const s = t.commands;
  const [accepts, setAccepts] = useState();
  const [list, setList] = useState();
  const [asking, setAsking] = useState(null);
  const [error, setError] = useState('');
  const base = `/api/v1/devices/${encodeURIComponent(enterprise)}/${encodeURIComponent(id)}/commands`;
  const mayCommand = can(user, catalog, 'device.command');
  const load = () => api('GET', base).then((r) => setList(r.commands), (e) => setError(e.message));

  useEffect(() => {
    commandCatalog(api).then((c) => setAccepts(c.classes[deviceClass] ?? []), (e) => setError(e.message));
  }, [deviceClass]);
  useEffect(() => {
    load();
  }, [base]);
  // Follow a command while it waits for the device; otherwise look now and then (other operators).
  const waiting = (list ?? []).some((c) => OPEN.includes(c.status));
  useEffect(() => {
    const timer = setInterval(load, waiting ? 1000 : 15_000);
    return () => clearInterval(timer);
  }, [base, waiting]);

  const title = (name) => {
    const c = accepts?.find((x) => x.name === name);
    return c ? (lang === 'zh' ? c.zh : c.title) : name;
  };

  return html`<div class="panel wide" data-testid="device-commands"><header><h2>${s.title}</h2></header><div class="body commands">
    ${accepts && accepts.length === 0 && html`<p class="muted" data-testid="commands-none">${s.none}</p>`}
    ${accepts?.length > 0 &&
    html`<div class="row" role="group" aria-label=${s.title}>
      ${accepts.map(
        (c) => html`<button type="button" data-testid=${`command-${c.name}`} disabled=${!mayCommand} title=${mayCommand ? '' : s.notAllowed}
          onClick=${(e) => setAsking({ command: c, from: e.currentTarget })}>${lang === 'zh' ? c.zh : c.title}</button>`,
      )}
      ${!mayCommand && html`<span class="muted">${s.notAllowed}</span>`}
    </div>`}
    ${error && html`<div class="error">${error}</div>`}
    ${list && list.length === 0 && html`<p class="muted">${s.empty}</p>`}
    ${list?.length > 0 &&
    html`<table data-testid="command-history">
      <thead><tr><th>${s.when}</th><th>${s.command}</th><th>${s.status}</th><th>${s.by}</th><th>${s.steps}</th><th>${s.message}</th></tr></thead>
      <tbody>${list.map(
        (c) => html`<tr data-command=${c.id} data-status=${c.status}>
          <td>${dateTime(c.requestedAt)}</td>
          <td>${title(c.name)}${Object.keys(c.args).length ? html` <span class="muted">${Object.entries(c.args).map(([k, v]) => `${s.args[k] ?? k} ${v}`).join(', ')}</span>` : null}</td>
          <td><span class=${`badge ${BADGE[c.status]}`}>${s.statuses[c.status]}</span></td>
          <td>${c.requestedBy}</td>
          <td class="muted">${c.steps.map((st) => `${s.statuses[st.status]} ${clock(st.at)}${st.applied ? '' : ' ' + s.late}`).join(' → ')}</td>
          <td>${c.message ?? ''}</td>
        </tr>`,
      )}</tbody>
    </table>`}
  </div>
  ${asking &&
  html`<${ConfirmCommand} t=${t} lang=${lang} api=${api} base=${base} enterprise=${enterprise} id=${id} command=${asking.command}
    onClose=${(sent) => {
      const from = asking.from;
      setAsking(null);
      if (sent) load();
      // Back where the operator was, for the keyboard.
      setTimeout(() => from?.focus?.(), 0);
    }} />`}
  </div>`;
}

/** Asks before anything is sent: what the device will do, its arguments, Cancel first for the keyboard. */
function ConfirmCommand({ t, lang, api, base, enterprise, id, command, onClose }) {
  const s = t.commands;
  const props = command.args?.properties ?? {};
  const [values, setValues] = useState(() => Object.fromEntries(Object.keys(props).map((k) => [k, ''])));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const cancel = useRef();
  // Before the paint, not after it: a key pressed as the dialog appears goes to the dialog, not the page.
  useLayoutEffect(() => {
    cancel.current?.focus();
    const onKey = (e) => e.key === 'Escape' && onClose(false);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  const send = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    const args = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== '').map(([k, v]) => [k, props[k]?.type === 'integer' || props[k]?.type === 'number' ? Number(v) : v]));
    try {
      await api('POST', base, { name: command.name, ...(Object.keys(args).length ? { args } : {}) });
      onClose(true);
    } catch (err) {
      setError(err.body?.code ? `${s.refused[err.body.code] ?? err.message} (${err.body.code})` : err.message);
      setBusy(false);
    }
  };
  const name = lang === 'zh' ? command.zh : command.title;
  return html`<div class="modal" onClick=${(e) => e.target === e.currentTarget && onClose(false)}>
    <div class="box" role="dialog" aria-modal="true" aria-label=${s.confirmTitle(name)} data-testid="command-confirm">
      <h3>${s.confirmTitle(name)}</h3>
      <p>${s.confirmText(name, `${enterprise} / ${id}`)}</p>
      <p class="muted">${lang === 'zh' ? s.describe[command.name] ?? command.description : command.description}</p>
      <form onSubmit=${send} style="display:grid;gap:10px">
        ${Object.entries(props).map(
          ([k, p]) => html`<label>${s.args[k] ?? k}${p.minimum !== undefined ? ` (${p.minimum}–${p.maximum})` : ''}
            <input name=${k} type=${p.type === 'integer' || p.type === 'number' ? 'number' : 'text'} min=${p.minimum} max=${p.maximum} placeholder=${s.argDefault[k] ?? ''}
              value=${values[k]} onInput=${(e) => setValues({ ...values, [k]: e.target.value })} /></label>`,
        )}
        ${error && html`<div class="error" role="alert" data-testid="command-error">${error}</div>`}
        <div class="row"><button type="button" ref=${cancel} onClick=${() => onClose(false)}>${t.cancel}</button>
          <button class="primary" type="submit" disabled=${busy} data-testid="command-send">${s.send}</button></div>
      </form>
    </div>
  </div>`;
}
