// An emergency resource as the API takes it and the store keeps it, and the rules each kind adds,
// shared by the REST API and the CSV/Excel import so that both refuse the same things in the same words.
import { z } from 'zod';
import { ID_PATTERN } from '../contract/topics.ts';
import { ITEM_IDS, RESOURCE_KIND_IDS, SPECIALITY_IDS, type ItemKind, type ResourceKind, type Speciality } from './catalog.ts';

const Id = z.string().regex(ID_PATTERN, 'letters, digits, _ . -; at most 64; starting with a letter or digit');

export const ResourceItem = z
  .object({
    kind: z.enum(['other', ...ITEM_IDS] as [ItemKind | 'other', ...(ItemKind | 'other')[]]).describe('What it is (resources/catalog.ts ITEMS), or other'),
    name: z.string().max(100).default('').describe('Its own name: required for other, else optional'),
    quantity: z.number().min(0).describe('How many or how much'),
    unit: z.string().max(20).default('').describe('个, 套, 吨, 辆 ...'),
  })
  .strict();
export type ResourceItem = z.infer<typeof ResourceItem>;

export const ResourceInput = z
  .object({
    id: Id,
    kind: z.enum(RESOURCE_KIND_IDS as [ResourceKind, ...ResourceKind[]]),
    name: z.string().trim().min(1).max(200),
    lat: z.number().min(-90).max(90).describe('WGS-84 latitude, decimal degrees'),
    lon: z.number().min(-180).max(180).describe('WGS-84 longitude, decimal degrees'),
    enterprise: Id.nullable().default(null).describe('The enterprise it belongs to; null: a public resource of the jurisdiction'),
    jurisdiction: z.string().trim().max(200).default('').describe('The authority it belongs to (区应急管理局, 消防救援支队 ...)'),
    contact: z.string().trim().max(100).default('').describe('Person to call'),
    phone: z.string().trim().max(50).default(''),
    address: z.string().trim().max(300).default(''),
    specialities: z.array(z.enum(SPECIALITY_IDS as [Speciality, ...Speciality[]])).max(20).default([]).describe('Rescue teams, fire stations, experts'),
    people: z.number().int().min(1).max(100_000).nullable().default(null).describe('Rescue teams, fire stations: people on call'),
    capacity: z.number().int().min(1).max(10_000_000).nullable().default(null).describe('Shelters: persons'),
    items: z.array(ResourceItem).max(500).default([]).describe('Warehouses: supplies; vehicles: what vehicles; equipment: what equipment'),
    note: z.string().max(2000).default(''),
  })
  .strict();
export type ResourceInput = z.infer<typeof ResourceInput>;

export interface Resource extends ResourceInput {
  createdAt: number;
  updatedAt: number;
}

/** A field of a resource at fault and why: the API names it `body.<field>`, an import its column. */
export interface FieldIssue {
  field: keyof ResourceInput | `items.${number}.${string}` | string;
  message: string;
}

/**
 * What a resource of its kind must say beyond the common fields, and its owner. `enterpriseKnown`
 * tells whether an enterprise id is registered.
 */
export function resourceIssues(r: ResourceInput, enterpriseKnown: (id: string) => boolean): FieldIssue[] {
  const out: FieldIssue[] = [];
  if (r.enterprise === null && !r.jurisdiction) out.push({ field: 'enterprise', message: 'say whom it belongs to: an enterprise, or a jurisdiction (the authority)' });
  if (r.enterprise !== null && !enterpriseKnown(r.enterprise)) out.push({ field: 'enterprise', message: `no enterprise ${r.enterprise} is registered` });
  switch (r.kind) {
    case 'rescue_team':
      if (r.people === null) out.push({ field: 'people', message: 'a rescue team needs its number of people' });
      if (!r.specialities.length) out.push({ field: 'specialities', message: 'a rescue team needs its speciality' });
      if (!r.phone) out.push({ field: 'phone', message: 'a rescue team needs a phone number to call' });
      break;
    case 'expert':
      if (!r.specialities.length) out.push({ field: 'specialities', message: 'an expert needs a speciality' });
      if (!r.phone) out.push({ field: 'phone', message: 'an expert needs a phone number to call' });
      break;
    case 'fire_station':
      if (!r.phone) out.push({ field: 'phone', message: 'a fire station needs a phone number to call' });
      break;
    case 'shelter':
      if (r.capacity === null) out.push({ field: 'capacity', message: 'a shelter needs its capacity (persons)' });
      break;
    case 'warehouse':
    case 'vehicle':
    case 'equipment':
      if (!r.items.length) out.push({ field: 'items', message: `${r.kind === 'warehouse' ? 'a warehouse needs the supplies it holds' : r.kind === 'vehicle' ? 'a vehicle entry needs what vehicle it is and how many' : 'an equipment entry needs what equipment it is and how many'}` });
      break;
  }
  r.items.forEach((item, i) => {
    if (item.kind === 'other' && !item.name.trim()) out.push({ field: `items.${i}.name`, message: 'an item of kind other needs its name' });
  });
  if (r.capacity !== null && r.kind !== 'shelter') out.push({ field: 'capacity', message: 'only a shelter has a capacity' });
  return out;
}
