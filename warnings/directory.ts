// The duty roster (registry/roster.ts) as warnings address it: the enterprises concerned are their
// duty units; "regulators" are the units above them (park, bureau), or every regulator unit when a
// warning names no enterprise (an area-wide warning).
import type { Person, RosterStore, Unit } from '../registry/roster.ts';
import type { Directory, DirectoryPerson } from './recipients.ts';

const asRecipient = (p: Person): DirectoryPerson => ({ id: p.id, name: p.name, ...(p.phone ? { phone: p.phone } : {}), ...(p.email ? { email: p.email } : {}) });

export function rosterDirectory(roster: RosterStore): Directory {
  async function unitsOf(enterprises: string[], regulators: boolean): Promise<Unit[]> {
    const all = await roster.units();
    const byId = new Map(all.map((u) => [u.id, u]));
    const out = new Map<string, Unit>();
    const own = all.filter((u) => u.enterprise !== null && enterprises.includes(u.enterprise));
    for (const u of own) out.set(u.id, u);
    if (regulators) {
      if (enterprises.length === 0) for (const u of all) if (u.kind !== 'enterprise') out.set(u.id, u);
      for (const u of own) {
        for (let p = u.parent ? byId.get(u.parent) : undefined, guard = 0; p && guard < 20; p = p.parent ? byId.get(p.parent) : undefined, guard++) out.set(p.id, p);
      }
    }
    return [...out.values()];
  }

  return {
    async onDuty(enterprises, regulators, at) {
      const people: DirectoryPerson[] = [];
      for (const u of await unitsOf(enterprises, regulators)) {
        const d = await roster.onDuty(u.id, at);
        // A unit with nobody on duty falls back to its parent: that parent is addressed as itself anyway.
        if (d.fallback) continue;
        people.push(...d.officers.map(asRecipient), ...(d.leader ? [asRecipient(d.leader)] : []));
      }
      return people;
    },
    async ofKinds(kinds, enterprises, regulators) {
      const units = await unitsOf(enterprises, regulators);
      return (await roster.people({ units: units.map((u) => u.id), kinds: kinds as Person['kinds'] })).map(asRecipient);
    },
  };
}
