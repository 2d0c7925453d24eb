// Jurisdictions (辖区, issue 15): the tree of administrative areas and chemical parks the bureaus work
// in — province → city → county → town or park — and which node each enterprise belongs to. An account
// bound to a node sees every enterprise at or below it (api/auth.ts scopeOf); the tree is what that
// rule is computed from.
// Nodes carry the national administrative division code (GB/T 2260: 6 digits for provinces, cities and
// counties; the statistical division code's 9 digits for towns) when they have one; parks have none.
// Tables of their own in the registry's database (SQLite or PostgreSQL), so the registry code stays
// untouched. Every process keeps the whole tree in memory and follows other processes' changes by a
// revision number, as the registry does; the tree is small (a province has a few thousand nodes), so a
// change reloads it whole, which also carries deletions without tombstones.
import { HazwatchError } from '../contract/errors.ts';
import { isValidId } from '../contract/topics.ts';
import type { Schema, Sql, SqlDatabase } from '../core/sql.ts';

export const JURISDICTION_KINDS = ['province', 'city', 'county', 'town', 'park'] as const;
export type JurisdictionKind = (typeof JURISDICTION_KINDS)[number];

/** What each kind may sit under (null: the top of the tree, directly under the platform). */
export const ALLOWED_PARENTS: Record<JurisdictionKind, readonly (JurisdictionKind | null)[]> = {
  province: [null],
  city: [null, 'province'],
  // Counties under a province: the county-level cities and districts some provinces administer directly.
  county: [null, 'province', 'city'],
  // Towns directly under a city: cities without counties (东莞, 中山).
  town: [null, 'city', 'county'],
  park: [null, 'province', 'city', 'county'],
};

export interface JurisdictionNode {
  id: string;
  name: string;
  kind: JurisdictionKind;
  /** The node above; null: directly under the platform. */
  parent: string | null;
  /** GB/T 2260 code (6 digits; towns 9); null for parks and nodes without one. */
  code: string | null;
  createdAt: number;
  updatedAt: number;
}

export type NodeInput = Pick<JurisdictionNode, 'id' | 'name' | 'kind'> & { parent?: string | null; code?: string | null };
export type NodeChange = Partial<Pick<JurisdictionNode, 'name' | 'kind' | 'parent' | 'code'>>;

const SCHEMA: Schema = {
  tables: `
create table if not exists jurisdictions (
  id text primary key,
  name text not null,
  kind text not null check (kind in ('province', 'city', 'county', 'town', 'park')),
  parent text,
  code text,
  created_at bigint not null,
  updated_at bigint not null
);
create table if not exists enterprise_jurisdictions (
  enterprise text primary key,
  jurisdiction text not null
);
create table if not exists jurisdiction_revision (
  id integer primary key check (id = 1),
  n bigint not null
);
insert into jurisdiction_revision (id, n) values (1, 0) on conflict do nothing;
`,
};

type Row = { id: string; name: string; kind: JurisdictionKind; parent: string | null; code: string | null; created_at: number; updated_at: number };
const toNode = (r: Row): JurisdictionNode => ({ id: r.id, name: r.name, kind: r.kind, parent: r.parent, code: r.code, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) });

const refuse = (message: string, field: string) => new HazwatchError('HW_ERR_VALIDATION', `${field}: ${message}`, { field });

/** The code's shape for the kind (GB/T 2260): a province ends in 0000, a city in 00, a county not; towns have 9 digits. */
export function codeProblem(kind: JurisdictionKind, code: string): string | undefined {
  if (kind === 'park') return 'a park has no administrative division code';
  if (kind === 'town') return /^\d{9}$/.test(code) ? undefined : 'a town code has 9 digits (its county code and 3 more)';
  if (!/^\d{6}$/.test(code)) return `a ${kind} code has 6 digits (GB/T 2260)`;
  if (kind === 'province' && !code.endsWith('0000')) return 'a province code ends in 0000';
  if (kind === 'city' && (!code.endsWith('00') || code.endsWith('0000'))) return 'a city code ends in 00 (not 0000)';
  if (kind === 'county' && code.endsWith('00')) return 'a county code does not end in 00';
  return undefined;
}

/** How much of a code its children share: a province's 2 digits, a city's 4, a county's 6. */
const PREFIX: Partial<Record<JurisdictionKind, number>> = { province: 2, city: 4, county: 6 };

/**
 * Checks a node against the others (all nodes, the node's old self replaced): the parent exists, no
 * cycle, the kinds go downwards, the code fits its kind and its parent's code, and is not taken.
 * Throws HW_ERR_VALIDATION naming the field.
 */
export function checkNode(node: Pick<JurisdictionNode, 'id' | 'name' | 'kind' | 'parent' | 'code'>, all: ReadonlyMap<string, Pick<JurisdictionNode, 'id' | 'kind' | 'parent' | 'code'>>): void {
  if (!isValidId(node.id)) throw refuse('letters, digits, _ . -, at most 64, starting with a letter or digit', 'id');
  if (!node.name.trim() || node.name.length > 100) throw refuse('1 to 100 characters', 'name');
  if (!JURISDICTION_KINDS.includes(node.kind)) throw refuse(`one of ${JURISDICTION_KINDS.join(', ')}`, 'kind');
  const parent = node.parent === null ? null : all.get(node.parent);
  if (node.parent !== null && !parent) throw refuse(`no jurisdiction ${node.parent}`, 'parent');
  const parentKind = parent ? parent.kind : null;
  if (!ALLOWED_PARENTS[node.kind].includes(parentKind)) {
    throw refuse(`a ${node.kind} cannot be ${parentKind ? `under a ${parentKind}` : 'at the top'} (it may be ${ALLOWED_PARENTS[node.kind].map((k) => (k ? `under a ${k}` : 'at the top')).join(', ')})`, 'parent');
  }
  for (let p = parent, steps = 0; p; p = p.parent === null ? undefined : all.get(p.parent), steps++) {
    if (p.id === node.id || steps > 64) throw refuse(`${node.parent} is below ${node.id}: a node cannot be under itself`, 'parent');
  }
  if (node.code !== null) {
    const problem = codeProblem(node.kind, node.code);
    if (problem) throw refuse(problem, 'code');
    const digits = parent?.code ? PREFIX[parent.kind] : undefined;
    if (digits && parent?.code && !node.code.startsWith(parent.code.slice(0, digits))) throw refuse(`${node.code} is not inside ${parent.id}'s ${parent.code}`, 'code');
    for (const other of all.values()) if (other.id !== node.id && other.code === node.code) throw new HazwatchError('HW_ERR_CONFLICT', `code: ${node.code} is ${other.id}'s already`, { field: 'code' });
  }
  // Its children stay valid under the new self (a kind changed, or a code).
  for (const child of all.values()) {
    if (child.parent !== node.id) continue;
    if (!ALLOWED_PARENTS[child.kind].includes(node.kind)) throw refuse(`its child ${child.id} (a ${child.kind}) cannot be under a ${node.kind}`, 'kind');
    const digits = PREFIX[node.kind];
    if (digits && node.code && child.code && !child.code.startsWith(node.code.slice(0, digits))) throw refuse(`its child ${child.id}'s code ${child.code} is not inside ${node.code}`, 'code');
  }
}

export type Jurisdictions = Awaited<ReturnType<typeof openJurisdictions>>;

/** The jurisdiction tree and the enterprises' places in it, in tables of the registry's database. */
export async function openJurisdictions(db: SqlDatabase, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  await db.migrate(SCHEMA);

  let nodes = new Map<string, JurisdictionNode>();
  let ofEnterprise = new Map<string, string>();
  let children = new Map<string | null, string[]>();
  /** enterprisesBelow(), memoised until the tree changes. */
  let below = new Map<string, ReadonlySet<string>>();
  let seen = -1;
  let polling: Promise<boolean> | undefined;
  let closed = false;

  const readAll = async (sql: Sql) => ({
    nodes: new Map((await sql.all<Row>('select * from jurisdictions order by id')).map((r) => [r.id, toNode(r)] as const)),
    enterprises: new Map((await sql.all<{ enterprise: string; jurisdiction: string }>('select enterprise, jurisdiction from enterprise_jurisdictions')).map((r) => [r.enterprise, r.jurisdiction] as const)),
  });

  async function refresh(): Promise<boolean> {
    if (closed) return false;
    const n = Number((await db.get<{ n: number }>('select n from jurisdiction_revision where id = 1'))!.n);
    if (n === seen) return false;
    const read = await readAll(db);
    nodes = read.nodes;
    ofEnterprise = read.enterprises;
    children = new Map();
    for (const node of nodes.values()) children.set(node.parent, [...(children.get(node.parent) ?? []), node.id]);
    below = new Map();
    seen = n;
    return true;
  }

  function pollChanges(): Promise<boolean> {
    polling ??= refresh().finally(() => (polling = undefined));
    return polling;
  }

  /** A change under the write lock, checked against the tree as it is in the database now; then this process's view follows. */
  async function change<R>(fn: (sql: Sql, current: Awaited<ReturnType<typeof readAll>>) => Promise<R>): Promise<R> {
    const result = await db.write(async (sql) => {
      const out = await fn(sql, await readAll(sql));
      await sql.run('update jurisdiction_revision set n = n + 1 where id = 1');
      return out;
    });
    await polling?.catch(() => undefined);
    await pollChanges();
    return result;
  }

  await refresh();

  const tree = {
    node(id: string): JurisdictionNode | undefined {
      return nodes.get(id);
    },
    /** Every node, parents before their children (depth first, siblings by id). */
    nodes(): JurisdictionNode[] {
      const out: JurisdictionNode[] = [];
      const walk = (parent: string | null) => {
        for (const id of [...(children.get(parent) ?? [])].sort()) {
          out.push(nodes.get(id)!);
          walk(id);
        }
      };
      walk(null);
      return out;
    },
    /** The node and every node below it. */
    subtree(id: string): Set<string> {
      const out = new Set<string>();
      const walk = (n: string) => {
        if (out.has(n)) return;
        out.add(n);
        for (const c of children.get(n) ?? []) walk(c);
      };
      if (nodes.has(id)) walk(id);
      return out;
    },
    /** The nodes from the top down to this one (itself last); empty for an unknown id. */
    path(id: string): JurisdictionNode[] {
      const out: JurisdictionNode[] = [];
      for (let n = nodes.get(id); n && out.length < 64; n = n.parent === null ? undefined : nodes.get(n.parent)) out.unshift(n);
      return out;
    },
    /** True when `id` is `ancestor` or below it. */
    isAtOrBelow(id: string, ancestor: string): boolean {
      return tree.path(id).some((n) => n.id === ancestor);
    },
    /** The node an enterprise belongs to; null: directly under the platform. */
    jurisdictionOf(enterprise: string): string | null {
      return ofEnterprise.get(enterprise) ?? null;
    },
    /** Every enterprise with a node, and its node. */
    placements(): ReadonlyMap<string, string> {
      return ofEnterprise;
    },
    /** The enterprises at or below a node (an unknown node: none). Memoised until the tree changes. */
    enterprisesBelow(id: string): ReadonlySet<string> {
      let set = below.get(id);
      if (!set) {
        const ids = tree.subtree(id);
        set = new Set([...ofEnterprise].filter(([, node]) => ids.has(node)).map(([e]) => e));
        below.set(id, set);
      }
      return set;
    },
    /** The revision of the tree this process has read (changes with every change of any process). */
    get revision(): number {
      return seen;
    },

    async create(input: NodeInput): Promise<JurisdictionNode> {
      const node = { id: input.id, name: input.name.trim(), kind: input.kind, parent: input.parent ?? null, code: input.code ?? null };
      await change(async (sql, current) => {
        if (current.nodes.has(node.id)) throw new HazwatchError('HW_ERR_CONFLICT', `id: jurisdiction ${node.id} exists already`, { field: 'id' });
        checkNode(node, new Map([...current.nodes, [node.id, { ...node, createdAt: 0, updatedAt: 0 }]]));
        const t = now();
        await sql.run('insert into jurisdictions (id, name, kind, parent, code, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)', [node.id, node.name, node.kind, node.parent, node.code, t, t]);
      });
      return nodes.get(node.id)!;
    },

    /** Renames, moves (parent), re-kinds or re-codes a node; undefined when there is no such node. */
    async update(id: string, patch: NodeChange): Promise<JurisdictionNode | undefined> {
      const found = await change(async (sql, current) => {
        const old = current.nodes.get(id);
        if (!old) return false;
        const next = { ...old, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)), name: (patch.name ?? old.name).trim() };
        checkNode(next, new Map([...current.nodes, [id, next]]));
        await sql.run('update jurisdictions set name = ?, kind = ?, parent = ?, code = ?, updated_at = ? where id = ?', [next.name, next.kind, next.parent, next.code, now(), id]);
        return true;
      });
      return found ? nodes.get(id) : undefined;
    },

    /** Removes a node with nothing under it: 409 while nodes or enterprises are below it. False: no such node. */
    async remove(id: string): Promise<boolean> {
      return change(async (sql, current) => {
        if (!current.nodes.has(id)) return false;
        const kids = [...current.nodes.values()].filter((n) => n.parent === id).map((n) => n.id);
        if (kids.length) throw new HazwatchError('HW_ERR_CONFLICT', `jurisdiction ${id} has nodes below it (${kids.slice(0, 5).join(', ')}): move or remove them first`);
        const ents = [...current.enterprises].filter(([, n]) => n === id).map(([e]) => e);
        if (ents.length) throw new HazwatchError('HW_ERR_CONFLICT', `jurisdiction ${id} has enterprises (${ents.slice(0, 5).join(', ')}): move them first`);
        await sql.run('delete from jurisdictions where id = ?', [id]);
        return true;
      });
    },

    /** Puts an enterprise under a node, or (null) directly under the platform. */
    async setEnterprise(enterprise: string, jurisdiction: string | null): Promise<void> {
      if (!isValidId(enterprise)) throw refuse(`"${enterprise}" is not a valid id`, 'enterprise');
      await change(async (sql, current) => {
        if (jurisdiction !== null && !current.nodes.has(jurisdiction)) throw refuse(`no jurisdiction ${jurisdiction}`, 'jurisdiction');
        if (jurisdiction === null) await sql.run('delete from enterprise_jurisdictions where enterprise = ?', [enterprise]);
        else await sql.run('insert into enterprise_jurisdictions (enterprise, jurisdiction) values (?, ?) on conflict(enterprise) do update set jurisdiction = excluded.jurisdiction', [enterprise, jurisdiction]);
      });
    },

    /** Reads what other processes changed; true when the tree changed. */
    pollChanges,

    async close(): Promise<void> {
      closed = true;
      await polling?.catch(() => undefined);
    },
  };
  return tree;
}

/**
 * The demo's tree (`hazwatch start --demo`): Shanghai → its city level → Jinshan district → the chemical
 * park with the demo enterprise (demo-chem), beside a town of Jinshan and a town of Fengxian with an
 * enterprise each, so that the city, county and park accounts of the demo each see a different part.
 * Codes are GB/T 2260 (the towns' are examples of the 9-digit form). Written into an empty tree only.
 */
export const DEMO_JURISDICTIONS: NodeInput[] = [
  { id: '310000', name: '上海市', kind: 'province', parent: null, code: '310000' },
  { id: '310100', name: '上海市市辖区', kind: 'city', parent: '310000', code: '310100' },
  { id: '310116', name: '金山区', kind: 'county', parent: '310100', code: '310116' },
  { id: 'jinshan-park', name: '金山化工园区', kind: 'park', parent: '310116', code: null },
  { id: '310116103', name: '山阳镇', kind: 'town', parent: '310116', code: '310116103' },
  { id: '310120', name: '奉贤区', kind: 'county', parent: '310100', code: '310120' },
  { id: '310120101', name: '南桥镇', kind: 'town', parent: '310120', code: '310120101' },
];
/** The demo's enterprises beside demo-chem (no devices: they make the boundary visible in lists and on the map). */
export const DEMO_JURISDICTION_ENTERPRISES: { id: string; name: string; jurisdiction: string; lat?: number; lon?: number }[] = [
  { id: 'demo-chem', name: '演示化工有限公司', jurisdiction: 'jinshan-park' },
  { id: 'demo-gas', name: '山阳燃气储配站', jurisdiction: '310116103', lat: 30.7625, lon: 121.3531 },
  { id: 'demo-coat', name: '南桥涂料有限公司', jurisdiction: '310120101', lat: 30.9181, lon: 121.4736 },
];

/** Seeds the demo's tree and places its enterprises; the number of nodes written (0 when the tree had some). */
export async function seedDemoJurisdictions(
  tree: Pick<Jurisdictions, 'nodes' | 'create' | 'setEnterprise'>,
  registry: { enterprise(id: string): unknown; addEnterprise(id: string, name?: string): Promise<void>; setEnterpriseLocation(id: string, p: { lat: number; lon: number } | null): Promise<boolean> },
): Promise<number> {
  if (tree.nodes().length > 0) return 0;
  for (const node of DEMO_JURISDICTIONS) await tree.create(node);
  for (const e of DEMO_JURISDICTION_ENTERPRISES) {
    if (!registry.enterprise(e.id)) {
      await registry.addEnterprise(e.id, e.name);
      if (e.lat !== undefined && e.lon !== undefined) await registry.setEnterpriseLocation(e.id, { lat: e.lat, lon: e.lon });
    }
    await tree.setEnterprise(e.id, e.jurisdiction);
  }
  return DEMO_JURISDICTIONS.length;
}
