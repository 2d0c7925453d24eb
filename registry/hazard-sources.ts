// Hazard sources (重大危险源) and where enterprises and their sources sit on the site plan, in the
// registry's database (tables of their own, so the registry code stays untouched).
// A source carries two independent gradings: its R-value grade 1..4 (GB 18218 assessment; grade 1
// is the most dangerous) and the assessed risk colour of the four-colour risk map (四色图).
// Plan coordinates are abstract units of the console's schematic site plan (0..1000 wide, 0..600
// high), which works in a closed network with nothing else; a source may also have a geographic
// position (WGS-84 lat/lon, registry/geo.ts) for the console's map and the nearest emergency resources.
import { HazwatchError } from '../contract/errors.ts';
import { isValidId } from '../contract/topics.ts';
import type { Schema, SqlDatabase } from '../core/sql.ts';
import { checkLatLon } from './geo.ts';

export const RISK_COLOURS = ['red', 'orange', 'yellow', 'blue'] as const;
export type RiskColour = (typeof RISK_COLOURS)[number];

export const PLAN_WIDTH = 1000;
export const PLAN_HEIGHT = 600;

export interface HazardSource {
  enterprise: string;
  id: string;
  name: string;
  /** R-value grade of the major hazard source, 1 (most dangerous) to 4. */
  grade: 1 | 2 | 3 | 4;
  riskColour: RiskColour;
  x: number;
  y: number;
  /** WGS-84 position in decimal degrees; null: not known (the plan position only). */
  lat: number | null;
  lon: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface EnterprisePlace {
  enterprise: string;
  x: number;
  y: number;
  width: number;
  height: number;
  address: string;
}

const SCHEMA: Schema = {
  tables: `
create table if not exists hazard_sources (
  enterprise text not null,
  id text not null,
  name text not null,
  grade integer not null check (grade between 1 and 4),
  risk_colour text not null check (risk_colour in ('red', 'orange', 'yellow', 'blue')),
  x double precision not null,
  y double precision not null,
  created_at bigint not null,
  updated_at bigint not null,
  primary key (enterprise, id)
);
create table if not exists enterprise_places (
  enterprise text primary key,
  x double precision not null,
  y double precision not null,
  width double precision not null,
  height double precision not null,
  address text not null default ''
);
`,
  // Geographic position (issue 17), added to registries made before.
  addedColumns: [
    ['hazard_sources', 'lat', 'double precision'],
    ['hazard_sources', 'lon', 'double precision'],
  ],
};

/** Default risk colour of an unassessed source: follows its R-value grade. */
export function defaultRiskColour(grade: 1 | 2 | 3 | 4): RiskColour {
  return RISK_COLOURS[grade - 1];
}

type Row = { enterprise: string; id: string; name: string; grade: 1 | 2 | 3 | 4; risk_colour: RiskColour; x: number; y: number; lat: number | null; lon: number | null; created_at: number; updated_at: number };

function toSource(r: Row): HazardSource {
  return { enterprise: r.enterprise, id: r.id, name: r.name, grade: r.grade, riskColour: r.risk_colour, x: r.x, y: r.y, lat: r.lat, lon: r.lon, createdAt: r.created_at, updatedAt: r.updated_at };
}

export type HazardSources = Awaited<ReturnType<typeof openHazardSources>>;

/** Hazard sources and the site plan, in tables of the registry's database. */
export async function openHazardSources(db: SqlDatabase, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  await db.migrate(SCHEMA);
  const api = {
    async get(enterprise: string, id: string): Promise<HazardSource | undefined> {
      const row = await db.get<Row>('select * from hazard_sources where enterprise = ? and id = ?', [enterprise, id]);
      return row ? toSource(row) : undefined;
    },
    async list(enterprise?: string): Promise<HazardSource[]> {
      const rows = enterprise
        ? await db.all<Row>('select * from hazard_sources where enterprise = ? order by id', [enterprise])
        : await db.all<Row>('select * from hazard_sources order by enterprise, id');
      return rows.map(toSource);
    },
    /**
     * Creates or updates a source; the risk colour defaults to the one of its grade. The geographic
     * position is both or neither of lat and lon (left out or null: not known).
     */
    async put(source: { enterprise: string; id: string; name: string; grade: 1 | 2 | 3 | 4; riskColour?: RiskColour; x: number; y: number; lat?: number | null; lon?: number | null }): Promise<HazardSource> {
      if (!isValidId(source.enterprise)) throw new HazwatchError('HW_ERR_VALIDATION', `enterprise "${source.enterprise}" is not a valid id`, { field: 'enterprise' });
      if (!isValidId(source.id)) throw new HazwatchError('HW_ERR_VALIDATION', `id "${source.id}" is not a valid id`, { field: 'id' });
      const { enterprise, id, name, grade, x, y } = source;
      const position = checkLatLon(source.lat, source.lon);
      await db.write((sql) =>
        sql.run(
          `insert into hazard_sources (enterprise, id, name, grade, risk_colour, x, y, lat, lon, created_at, updated_at)
           values (@enterprise, @id, @name, @grade, @riskColour, @x, @y, @lat, @lon, @now, @now)
           on conflict(enterprise, id) do update set name = excluded.name, grade = excluded.grade, risk_colour = excluded.risk_colour,
             x = excluded.x, y = excluded.y, lat = excluded.lat, lon = excluded.lon, updated_at = excluded.updated_at`,
          { enterprise, id, name, grade, x, y, lat: position?.lat ?? null, lon: position?.lon ?? null, riskColour: source.riskColour ?? defaultRiskColour(grade), now: now() },
        ),
      );
      return (await api.get(enterprise, id))!;
    },
    async remove(enterprise: string, id: string): Promise<boolean> {
      return (await db.write((sql) => sql.run('delete from hazard_sources where enterprise = ? and id = ?', [enterprise, id]))) > 0;
    },
    async place(enterprise: string): Promise<EnterprisePlace | undefined> {
      return db.get<EnterprisePlace>('select * from enterprise_places where enterprise = ?', [enterprise]);
    },
    async places(): Promise<EnterprisePlace[]> {
      return db.all<EnterprisePlace>('select * from enterprise_places order by enterprise');
    },
    async setPlace(place: EnterprisePlace): Promise<EnterprisePlace> {
      const { enterprise, x, y, width, height, address } = place;
      await db.write((sql) =>
        sql.run(
          `insert into enterprise_places (enterprise, x, y, width, height, address) values (@enterprise, @x, @y, @width, @height, @address)
           on conflict(enterprise) do update set x = excluded.x, y = excluded.y, width = excluded.width, height = excluded.height, address = excluded.address`,
          { enterprise, x, y, width, height, address },
        ),
      );
      return (await api.place(enterprise))!;
    },
  };
  return api;
}
