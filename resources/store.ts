// The emergency-resource store: rescue teams, warehouses, vehicles, equipment, shelters, fire
// stations and experts with where they are. A SQLite file of its own (<dataDir>/resources.db) or the
// deployment's PostgreSQL (database.url), like the other shared stores (core/sql.ts).
import type { Logger } from '../core/log.ts';
import { openDatabase, type Schema, type SqlDatabase } from '../core/sql.ts';
import type { ResourceKind } from './catalog.ts';
import type { Resource, ResourceInput, ResourceItem } from './model.ts';

const SCHEMA: Schema = {
  tables: `
create table if not exists resources (
  id text primary key,
  kind text not null,
  name text not null,
  lat double precision not null,
  lon double precision not null,
  enterprise text,
  jurisdiction text not null default '',
  contact text not null default '',
  phone text not null default '',
  address text not null default '',
  specialities text not null default '',
  people integer,
  capacity integer,
  items text not null default '[]',
  note text not null default '',
  created_at bigint not null,
  updated_at bigint not null
);
create index if not exists resources_kind on resources (kind);
create index if not exists resources_lat on resources (lat);
create index if not exists resources_enterprise on resources (enterprise);
`,
};

type Row = {
  id: string;
  kind: ResourceKind;
  name: string;
  lat: number;
  lon: number;
  enterprise: string | null;
  jurisdiction: string;
  contact: string;
  phone: string;
  address: string;
  specialities: string;
  people: number | null;
  capacity: number | null;
  items: string;
  note: string;
  created_at: number;
  updated_at: number;
};

function toResource(r: Row): Resource {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    lat: r.lat,
    lon: r.lon,
    enterprise: r.enterprise,
    jurisdiction: r.jurisdiction,
    contact: r.contact,
    phone: r.phone,
    address: r.address,
    specialities: (r.specialities ? r.specialities.split(',') : []) as Resource['specialities'],
    people: r.people,
    capacity: r.capacity,
    items: JSON.parse(r.items) as ResourceItem[],
    note: r.note,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const UPSERT = `insert into resources (id, kind, name, lat, lon, enterprise, jurisdiction, contact, phone, address, specialities, people, capacity, items, note, created_at, updated_at)
  values (@id, @kind, @name, @lat, @lon, @enterprise, @jurisdiction, @contact, @phone, @address, @specialities, @people, @capacity, @items, @note, @now, @now)
  on conflict(id) do update set kind = excluded.kind, name = excluded.name, lat = excluded.lat, lon = excluded.lon, enterprise = excluded.enterprise,
    jurisdiction = excluded.jurisdiction, contact = excluded.contact, phone = excluded.phone, address = excluded.address, specialities = excluded.specialities,
    people = excluded.people, capacity = excluded.capacity, items = excluded.items, note = excluded.note, updated_at = excluded.updated_at`;

function params(r: ResourceInput, now: number): Record<string, unknown> {
  return { ...r, specialities: r.specialities.join(','), items: JSON.stringify(r.items), now };
}

/** A box of longitudes and latitudes: west, south, east, north (the GeoJSON bbox order). */
export type Bbox = [number, number, number, number];

export interface ResourceFilter {
  kinds?: ResourceKind[];
  bbox?: Bbox;
  /** Only resources of this enterprise and the public ones (no enterprise): an enterprise user's view. */
  visibleTo?: string;
  /** Only this enterprise's own. */
  enterprise?: string;
}

export type ResourceStore = Awaited<ReturnType<typeof openResourceStore>>;

export async function openResourceStore(target: string, options: { now?: () => number; log?: Logger } = {}) {
  const now = options.now ?? Date.now;
  const db: SqlDatabase = await openDatabase(target, { lock: 'resources', log: options.log, schema: SCHEMA });

  const store = {
    where: db.where,
    dialect: db.dialect,

    async list(filter: ResourceFilter = {}): Promise<Resource[]> {
      const where: string[] = [];
      const p: Record<string, unknown> = {};
      if (filter.kinds?.length) {
        where.push(`kind in (${filter.kinds.map((_, i) => `@k${i}`).join(', ')})`);
        filter.kinds.forEach((k, i) => (p[`k${i}`] = k));
      }
      if (filter.bbox) {
        const [west, south, east, north] = filter.bbox;
        where.push('lat >= @south and lat <= @north');
        Object.assign(p, { south, north, west, east });
        // A box across the antimeridian (west > east) is the two boxes either side of it.
        where.push(west <= east ? 'lon >= @west and lon <= @east' : '(lon >= @west or lon <= @east)');
      }
      if (filter.visibleTo !== undefined) {
        where.push('(enterprise is null or enterprise = @visibleTo)');
        p.visibleTo = filter.visibleTo;
      }
      if (filter.enterprise !== undefined) {
        where.push('enterprise = @enterprise');
        p.enterprise = filter.enterprise;
      }
      const rows = await db.all<Row>(`select * from resources${where.length ? ' where ' + where.join(' and ') : ''} order by kind, id`, p);
      return rows.map(toResource);
    },

    async get(id: string): Promise<Resource | undefined> {
      const row = await db.get<Row>('select * from resources where id = ?', [id]);
      return row ? toResource(row) : undefined;
    },

    /** Creates or replaces one resource; `created` tells which. */
    async put(r: ResourceInput): Promise<{ resource: Resource; created: boolean }> {
      const created = await db.write(async (sql) => {
        const existed = await sql.get<{ id: string }>('select id from resources where id = ?', [r.id]);
        await sql.run(UPSERT, params(r, now()));
        return !existed;
      });
      return { resource: (await store.get(r.id))!, created };
    },

    /**
     * Creates or replaces every one of them in one transaction: all are stored or, if any fails, none.
     * The import's all-or-nothing rests on this.
     */
    async putAll(list: ResourceInput[]): Promise<{ created: number; updated: number }> {
      return db.write(async (sql) => {
        let created = 0;
        const at = now();
        for (const r of list) {
          const existed = await sql.get<{ id: string }>('select id from resources where id = ?', [r.id]);
          if (!existed) created++;
          await sql.run(UPSERT, params(r, at));
        }
        return { created, updated: list.length - created };
      });
    },

    async remove(id: string): Promise<boolean> {
      return (await db.write((sql) => sql.run('delete from resources where id = ?', [id]))) > 0;
    },

    async count(): Promise<number> {
      return Number((await db.get<{ n: number }>('select count(*) as n from resources'))!.n);
    },

    close: () => db.close(),
  };
  return store;
}
