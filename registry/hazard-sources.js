// Hazard sources (重大危险源) and where enterprises and their sources sit on the site plan, in the
// registry's SQLite file (tables of their own, so the registry code stays untouched).
// A source carries two independent gradings: its R-value grade 1..4 (GB 18218 assessment; grade 1
// is the most dangerous) and the assessed risk colour of the four-colour risk map (四色图).
// Plan coordinates are abstract units of the console's site plan (0..1000 wide, 0..600 high):
// the system must work in a closed network, so there are no geographic map tiles.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { HazwatchError } from '../contract/errors.ts';
import { isValidId } from '../contract/topics.ts';
export const RISK_COLOURS = ['red', 'orange', 'yellow', 'blue'];
export const PLAN_WIDTH = 1000;
export const PLAN_HEIGHT = 600;
const SCHEMA = `
create table if not exists hazard_sources (
  enterprise text not null,
  id text not null,
  name text not null,
  grade integer not null check (grade between 1 and 4),
  risk_colour text not null check (risk_colour in ('red', 'orange', 'yellow', 'blue')),
  x real not null,
  y real not null,
  created_at integer not null,
  updated_at integer not null,
  primary key (enterprise, id)
);
create table if not exists enterprise_places (
  enterprise text primary key,
  x real not null,
  y real not null,
  width real not null,
  height real not null,
  address text not null default ''
);
`;
/** Default risk colour of an unassessed source: follows its R-value grade. */
export function defaultRiskColour(grade) {
    return RISK_COLOURS[grade - 1];
}
function toSource(r) {
    return { enterprise: r.enterprise, id: r.id, name: r.name, grade: r.grade, riskColour: r.risk_colour, x: r.x, y: r.y, createdAt: r.created_at, updatedAt: r.updated_at };
}
export function openHazardSources(path, options = {}) {
    const now = options.now ?? Date.now;
    if (path !== ':memory:')
        mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    const stmt = {
        get: db.prepare('select * from hazard_sources where enterprise = ? and id = ?'),
        all: db.prepare('select * from hazard_sources order by enterprise, id'),
        of: db.prepare('select * from hazard_sources where enterprise = ? order by id'),
        upsert: db.prepare(`insert into hazard_sources (enterprise, id, name, grade, risk_colour, x, y, created_at, updated_at)
       values (@enterprise, @id, @name, @grade, @riskColour, @x, @y, @now, @now)
       on conflict(enterprise, id) do update set name = excluded.name, grade = excluded.grade, risk_colour = excluded.risk_colour,
         x = excluded.x, y = excluded.y, updated_at = excluded.updated_at`),
        remove: db.prepare('delete from hazard_sources where enterprise = ? and id = ?'),
        place: db.prepare('select * from enterprise_places where enterprise = ?'),
        places: db.prepare('select * from enterprise_places order by enterprise'),
        setPlace: db.prepare(`insert into enterprise_places (enterprise, x, y, width, height, address) values (@enterprise, @x, @y, @width, @height, @address)
       on conflict(enterprise) do update set x = excluded.x, y = excluded.y, width = excluded.width, height = excluded.height, address = excluded.address`),
    };
    const api = {
        get(enterprise, id) {
            const row = stmt.get.get(enterprise, id);
            return row ? toSource(row) : undefined;
        },
        list(enterprise) {
            return (enterprise ? stmt.of.all(enterprise) : stmt.all.all()).map(toSource);
        },
        /** Creates or updates a source; the risk colour defaults to the one of its grade. */
        put(source) {
            if (!isValidId(source.enterprise))
                throw new HazwatchError('HW_ERR_VALIDATION', `enterprise "${source.enterprise}" is not a valid id`, { field: 'enterprise' });
            if (!isValidId(source.id))
                throw new HazwatchError('HW_ERR_VALIDATION', `id "${source.id}" is not a valid id`, { field: 'id' });
            stmt.upsert.run({ ...source, riskColour: source.riskColour ?? defaultRiskColour(source.grade), now: now() });
            return api.get(source.enterprise, source.id);
        },
        remove(enterprise, id) {
            return stmt.remove.run(enterprise, id).changes > 0;
        },
        place(enterprise) {
            return stmt.place.get(enterprise);
        },
        places() {
            return stmt.places.all();
        },
        setPlace(place) {
            stmt.setPlace.run(place);
            return api.place(place.enterprise);
        },
        close() {
            db.close();
        },
    };
    return api;
}
