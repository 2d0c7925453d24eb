// Jurisdictions in the console (issue 15, docs/jurisdictions.md): the signed-in account's node in the
// top bar (with the path above it), and '#/jurisdictions' — the tree in scope as an indented list with
// each node's kind, code and enterprises; administrators add a node under another and move an
// enterprise to another node. The API judges every change (kinds downwards, codes, the administrator's
// own jurisdiction); its refusal is shown next to the field it names.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);

/** The page's words (zh/en), kept beside the page like admin-i18n.js. */
const WORDS = {
  zh: {
    link: '辖区',
    title: '辖区',
    whole: '全平台',
    scopeOf: (path) => `辖区：${path}`,
    kinds: { province: '省', city: '市', county: '县（区）', town: '乡镇（街道）', park: '化工园区' },
    top: '（顶层）',
    none: '（平台直属）',
    enterprises: '企业',
    noNodes: '暂无辖区节点。',
    add: '新增辖区节点',
    id: '编号',
    name: '名称',
    kind: '类型',
    parent: '上级',
    code: '区划代码',
    codeHint: '省市县 6 位，乡镇 9 位（GB/T 2260）；园区不填',
    save: '保存',
    move: '调整企业所属辖区',
    enterprise: '企业',
    node: '所属辖区',
    moved: (e, n) => `已将 ${e} 调整到 ${n}`,
    added: (n) => `已新增 ${n}`,
    readOnly: '只有管理员可以调整辖区。',
  },
  en: {
    link: 'Jurisdictions',
    title: 'Jurisdictions',
    whole: 'Whole platform',
    scopeOf: (path) => `Jurisdiction: ${path}`,
    kinds: { province: 'Province', city: 'City', county: 'County', town: 'Town', park: 'Chemical park' },
    top: '(top)',
    none: '(directly under the platform)',
    enterprises: 'Enterprises',
    noNodes: 'No jurisdiction nodes yet.',
    add: 'Add a node',
    id: 'Id',
    name: 'Name',
    kind: 'Kind',
    parent: 'Parent',
    code: 'Division code',
    codeHint: '6 digits for provinces, cities, counties, 9 for towns (GB/T 2260); none for parks',
    save: 'Save',
    move: "Move an enterprise",
    enterprise: 'Enterprise',
    node: 'Jurisdiction',
    moved: (e, n) => `${e} moved to ${n}`,
    added: (n) => `${n} added`,
    readOnly: 'Only administrators change jurisdictions.',
  },
};
export const jurisdictionWords = (lang) => WORDS[lang] ?? WORDS.en;
const KINDS = ['province', 'city', 'county', 'town', 'park'];

/** The account's place in the tree, for the top bar: the path down to its node, or the whole platform. */
export function JurisdictionBadge({ user, api, lang }) {
  const w = jurisdictionWords(lang);
  const [path, setPath] = useState(null);
  useEffect(() => {
    let live = true;
    api('GET', '/api/v1/jurisdictions').then((tree) => live && setPath(tree.path), () => live && setPath([]));
    return () => (live = false);
  }, [user.username, user.jurisdiction]);
  if (path === null) return null;
  if (!path.length) return user.role === 'enterprise' ? null : html`<span class="chip" data-testid="jurisdiction" title=${w.whole}>${w.whole}</span>`;
  const text = path.map((n) => n.name).join(' › ');
  return html`<span class="chip" data-testid="jurisdiction" title=${w.scopeOf(text)}>${user.role === 'enterprise' ? text : path.at(-1).name}</span>`;
}

/** Depth of each node under the shown tree's tops (nodes come parents first). */
export function depths(nodes) {
  const out = new Map();
  for (const n of nodes) out.set(n.id, n.parent && out.has(n.parent) ? out.get(n.parent) + 1 : 0);
  return out;
}

/** The refusal's field without `body.`, and its message. */
const refusal = (err) => ({ field: (err.body?.field ?? '').replace(/^body\./, ''), message: err.body?.message ?? err.message });

export function JurisdictionsPage({ lang, catalog, user, api, can }) {
  const w = jurisdictionWords(lang);
  const write = can(user, catalog, 'jurisdiction.write');
  const [tree, setTree] = useState(null);
  const [form, setForm] = useState({ id: '', name: '', kind: 'town', parent: '', code: '' });
  const [move, setMove] = useState({ enterprise: '', jurisdiction: '' });
  const [error, setError] = useState({ add: null, move: null });
  const [done, setDone] = useState('');
  const load = () => api('GET', '/api/v1/jurisdictions').then(setTree, () => setTree({ nodes: [], enterprises: [], path: [] }));
  useEffect(() => void load(), []);
  if (!tree) return html`<div class="main"><div class="panel"><header><h2>${w.title}</h2></header></div></div>`;

  const depth = depths(tree.nodes);
  const byNode = new Map();
  for (const e of tree.enterprises) byNode.set(e.jurisdiction, [...(byNode.get(e.jurisdiction) ?? []), e]);
  const name = (id) => tree.nodes.find((n) => n.id === id)?.name ?? id;
  const label = (n) => `${'\u00a0\u00a0'.repeat(depth.get(n.id) ?? 0)}${n.name}`;

  const add = async (ev) => {
    ev.preventDefault();
    setError({ ...error, add: null });
    try {
      const node = await api('POST', '/api/v1/jurisdictions', { id: form.id.trim(), name: form.name.trim(), kind: form.kind, parent: form.parent || null, code: form.code.trim() || null });
      setDone(w.added(node.name));
      setForm({ ...form, id: '', name: '', code: '' });
      await load();
    } catch (err) {
      setError({ ...error, add: refusal(err) });
    }
  };
  const moveIt = async (ev) => {
    ev.preventDefault();
    setError({ ...error, move: null });
    try {
      await api('PUT', `/api/v1/enterprises/${encodeURIComponent(move.enterprise)}/jurisdiction`, { jurisdiction: move.jurisdiction || null });
      setDone(w.moved(move.enterprise, move.jurisdiction ? name(move.jurisdiction) : w.none));
      await load();
    } catch (err) {
      setError({ ...error, move: refusal(err) });
    }
  };
  const FIELDS = { add: ['name', 'id', 'kind', 'parent', 'code'], move: ['jurisdiction'] };
  const at = (which) => (error[which] && FIELDS[which].includes(error[which].field) ? error[which].field : 'form');
  const fieldError = (which, field) => (error[which] && at(which) === field ? html`<div class="error" role="alert" data-testid=${`${which}-error-${field}`}>${error[which].message}</div>` : null);
  const input = (key, props = {}) => html`<input id=${`jur-${key}`} value=${form[key]} onInput=${(e) => setForm({ ...form, [key]: e.target.value })} ...${props} />`;

  return html`<div class="main">
    <div class="panel" data-testid="jurisdictions">
      <header><h2>${w.title}</h2></header>
      <div class="body">
        ${tree.nodes.length === 0 ? html`<p class="muted">${w.noNodes}</p>` : null}
        <ul class="tree" data-testid="jurisdiction-tree">
          ${tree.nodes.map(
            (n) => html`<li data-node=${n.id} style=${`padding-left:${(depth.get(n.id) ?? 0) * 1.5}em`}>
              <strong>${n.name}</strong> <span class="muted">${w.kinds[n.kind]}${n.code ? ` · ${n.code}` : ''}</span>
              ${(byNode.get(n.id) ?? []).map((e) => html` <span class="chip" data-enterprise=${e.id}>${e.name}</span>`)}
            </li>`,
          )}
          ${(byNode.get(null) ?? []).length ? html`<li data-node="">${w.none} ${byNode.get(null).map((e) => html` <span class="chip" data-enterprise=${e.id}>${e.name}</span>`)}</li>` : null}
        </ul>
        ${done ? html`<p role="status" data-testid="jurisdiction-done">${done}</p>` : null}
        ${!write
          ? html`<p class="muted">${w.readOnly}</p>`
          : html`<form onSubmit=${add} data-testid="jurisdiction-add">
                <h3>${w.add}</h3>
                <label for="jur-name">${w.name}</label>${input('name', { required: true, maxLength: 100 })}${fieldError('add', 'name')}
                <label for="jur-id">${w.id}</label>${input('id', { required: true, maxLength: 64 })}${fieldError('add', 'id')}
                <label for="jur-kind">${w.kind}</label>
                <select id="jur-kind" value=${form.kind} onChange=${(e) => setForm({ ...form, kind: e.target.value })}>${KINDS.map((k) => html`<option value=${k}>${w.kinds[k]}</option>`)}</select>${fieldError('add', 'kind')}
                <label for="jur-parent">${w.parent}</label>
                <select id="jur-parent" value=${form.parent} onChange=${(e) => setForm({ ...form, parent: e.target.value })}>
                  <option value="">${w.top}</option>
                  ${tree.nodes.map((n) => html`<option value=${n.id}>${label(n)}</option>`)}
                </select>${fieldError('add', 'parent')}
                <label for="jur-code">${w.code}</label>${input('code', { inputMode: 'numeric', placeholder: w.codeHint, title: w.codeHint })}${fieldError('add', 'code')}
                ${fieldError('add', 'form')}
                <button type="submit" data-testid="jurisdiction-save">${w.save}</button>
              </form>
              <form onSubmit=${moveIt} data-testid="jurisdiction-move">
                <h3>${w.move}</h3>
                <label for="jur-move-enterprise">${w.enterprise}</label>
                <select id="jur-move-enterprise" required value=${move.enterprise} onChange=${(e) => setMove({ ...move, enterprise: e.target.value })}>
                  <option value=""></option>
                  ${tree.enterprises.map((e) => html`<option value=${e.id}>${e.name}</option>`)}
                </select>
                <label for="jur-move-node">${w.node}</label>
                <select id="jur-move-node" value=${move.jurisdiction} onChange=${(e) => setMove({ ...move, jurisdiction: e.target.value })}>
                  <option value="">${w.none}</option>
                  ${tree.nodes.map((n) => html`<option value=${n.id}>${label(n)}</option>`)}
                </select>${fieldError('move', 'jurisdiction')}${fieldError('move', 'form')}
                <button type="submit" data-testid="jurisdiction-move-save">${w.save}</button>
              </form>`}
      </div>
    </div>
  </div>`;
}
