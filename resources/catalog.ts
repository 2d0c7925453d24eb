// What emergency resources there are and what an alarm needs of them (issue 17). Words in Chinese
// and English for the console and for the column values of bureaus' own spreadsheets: an import
// accepts the code, the Chinese name or the English name of a kind, speciality or item.
import type { AlarmCondition } from '../contract/alarms.ts';
import type { DeviceClass } from '../contract/catalog.ts';

interface Named {
  zh: string;
  en: string;
  /** Other names an import accepts (Chinese spreadsheets use several). */
  aliases?: string[];
}

export const RESOURCE_KINDS = {
  rescue_team: { zh: '救援队伍', en: 'Rescue team', aliases: ['救援队', '应急救援队伍', '专业救援队伍', 'team'] },
  warehouse: { zh: '物资仓库', en: 'Supply warehouse', aliases: ['仓库', '物资储备库', '储备库', '应急物资库', 'warehouse'] },
  vehicle: { zh: '救援车辆', en: 'Vehicle', aliases: ['车辆', '应急车辆'] },
  equipment: { zh: '救援装备', en: 'Equipment', aliases: ['装备', '设备', '应急装备'] },
  shelter: { zh: '避难场所', en: 'Shelter', aliases: ['应急避难场所', '避难所'] },
  fire_station: { zh: '消防站', en: 'Fire station', aliases: ['消防救援站', '专职消防队'] },
  expert: { zh: '专家', en: 'Expert', aliases: ['应急专家'] },
} as const satisfies Record<string, Named>;
export type ResourceKind = keyof typeof RESOURCE_KINDS;
export const RESOURCE_KIND_IDS = Object.keys(RESOURCE_KINDS) as ResourceKind[];

/** What a rescue team, fire station or expert is trained for. */
export const SPECIALITIES = {
  hazmat: { zh: '危化品', en: 'Hazardous chemicals', aliases: ['危险化学品', '危化', '化学救援'] },
  fire: { zh: '消防灭火', en: 'Firefighting', aliases: ['消防', '灭火'] },
  rescue: { zh: '搜救', en: 'Search and rescue', aliases: ['抢险救援', '搜索救援'] },
  medical: { zh: '医疗救护', en: 'Medical', aliases: ['医疗', '急救'] },
  electrical: { zh: '电气', en: 'Electrical', aliases: ['电力', '电气火灾'] },
  gas: { zh: '燃气', en: 'Gas supply', aliases: ['燃气管网'] },
  chemical_process: { zh: '化工工艺', en: 'Chemical process', aliases: ['化工', '工艺安全'] },
  confined_space: { zh: '有限空间', en: 'Confined space', aliases: [] },
  environment: { zh: '环境监测', en: 'Environmental monitoring', aliases: ['环境', '环境应急'] },
  structural: { zh: '建筑结构', en: 'Structural', aliases: ['结构'] },
} as const satisfies Record<string, Named>;
export type Speciality = keyof typeof SPECIALITIES;
export const SPECIALITY_IDS = Object.keys(SPECIALITIES) as Speciality[];

/**
 * What a warehouse holds, what a vehicle is and what equipment there is: one list, so that a need
 * ("gas masks") finds a warehouse's stock and an equipment point alike. An item an import does not
 * know is kept as `other` under its own name: it is shown, it just answers no need.
 */
export const ITEMS = {
  gas_mask: { zh: '防毒面具', en: 'Gas mask', aliases: ['过滤式防毒面具'] },
  scba: { zh: '正压式空气呼吸器', en: 'SCBA', aliases: ['空气呼吸器', '呼吸器'] },
  protective_suit: { zh: '防化服', en: 'Chemical protective suit', aliases: ['化学防护服', '重型防化服', '轻型防化服'] },
  absorbent: { zh: '吸附棉', en: 'Absorbent', aliases: ['吸附材料', '吸油毡', '吸附毡'] },
  neutraliser: { zh: '中和剂', en: 'Neutraliser', aliases: ['洗消剂'] },
  leak_plug: { zh: '堵漏器材', en: 'Leak sealing kit', aliases: ['堵漏工具', '堵漏器具', '堵漏装备'] },
  explosion_proof_tools: { zh: '防爆工具', en: 'Non-sparking tools', aliases: ['防爆工具套装'] },
  gas_detector: { zh: '便携式气体检测仪', en: 'Portable gas detector', aliases: ['气体检测仪', '便携式检测仪'] },
  foam: { zh: '泡沫灭火剂', en: 'Foam concentrate', aliases: ['泡沫液', '泡沫'] },
  dry_powder: { zh: '干粉灭火剂', en: 'Dry powder', aliases: ['干粉'] },
  fire_extinguisher: { zh: '灭火器', en: 'Fire extinguisher', aliases: [] },
  fire_hose: { zh: '消防水带', en: 'Fire hose', aliases: ['水带'] },
  sandbag: { zh: '沙袋', en: 'Sandbag', aliases: ['编织袋'] },
  decon_kit: { zh: '洗消器材', en: 'Decontamination kit', aliases: ['洗消帐篷', '洗消装备'] },
  medical_kit: { zh: '急救箱', en: 'First-aid kit', aliases: ['急救包', '医药箱'] },
  stretcher: { zh: '担架', en: 'Stretcher', aliases: [] },
  tent: { zh: '帐篷', en: 'Tent', aliases: ['救灾帐篷'] },
  blanket: { zh: '棉被', en: 'Blanket', aliases: ['毛毯'] },
  drinking_water: { zh: '饮用水', en: 'Drinking water', aliases: ['矿泉水', '瓶装水'] },
  food: { zh: '食品', en: 'Food', aliases: ['方便食品', '干粮'] },
  generator: { zh: '发电机', en: 'Generator', aliases: ['发电机组', '应急发电机'] },
  lighting: { zh: '照明灯', en: 'Lighting', aliases: ['移动照明', '应急照明'] },
  pump: { zh: '排水泵', en: 'Pump', aliases: ['水泵', '抽水泵'] },
  fire_engine: { zh: '消防车', en: 'Fire engine', aliases: ['水罐消防车'] },
  foam_tender: { zh: '泡沫消防车', en: 'Foam tender', aliases: ['泡沫车'] },
  hazmat_vehicle: { zh: '危化品救援车', en: 'Hazmat rescue vehicle', aliases: ['防化洗消车', '化学救援车'] },
  rescue_vehicle: { zh: '抢险救援车', en: 'Rescue vehicle', aliases: ['抢险车'] },
  ambulance: { zh: '救护车', en: 'Ambulance', aliases: [] },
  crane: { zh: '吊车', en: 'Crane', aliases: ['起重机'] },
} as const satisfies Record<string, Named>;
export type ItemKind = keyof typeof ITEMS;
export const ITEM_IDS = Object.keys(ITEMS) as ItemKind[];

/** One kind of resource an alarm calls for: the kind, and if given, any of these specialities or items. */
export interface Need {
  kind: ResourceKind;
  specialities?: Speciality[];
  items?: ItemKind[];
}

// The needs, as data. A leak of flammable or toxic gas calls for hazmat teams, their protective
// equipment and the fire brigade; a fire, an electrical fault or a lost fire-water supply for fire
// stations and shelters. Conditions about the device itself (offline, battery, fault, tamper) and a
// missing helmet are maintenance and safety matters, not emergencies: they call for nothing.
const GAS_LEAK: Need[] = [
  { kind: 'rescue_team', specialities: ['hazmat'] },
  { kind: 'fire_station' },
  { kind: 'warehouse', items: ['gas_mask', 'scba', 'absorbent', 'leak_plug', 'explosion_proof_tools', 'gas_detector'] },
  { kind: 'equipment', items: ['scba', 'gas_mask', 'leak_plug', 'explosion_proof_tools', 'gas_detector'] },
  { kind: 'vehicle', items: ['hazmat_vehicle', 'foam_tender'] },
  { kind: 'expert', specialities: ['hazmat', 'chemical_process'] },
];
const TOXIC_LEAK: Need[] = [
  { kind: 'rescue_team', specialities: ['hazmat'] },
  // Poisoned people are a medical matter as much as a chemical one.
  { kind: 'rescue_team', specialities: ['medical'] },
  { kind: 'fire_station' },
  { kind: 'warehouse', items: ['gas_mask', 'scba', 'protective_suit', 'absorbent', 'neutraliser', 'decon_kit'] },
  { kind: 'equipment', items: ['scba', 'protective_suit', 'decon_kit', 'gas_detector'] },
  { kind: 'vehicle', items: ['hazmat_vehicle', 'ambulance'] },
  { kind: 'shelter' },
  { kind: 'expert', specialities: ['hazmat', 'environment'] },
];
const VESSEL: Need[] = [
  { kind: 'fire_station' },
  { kind: 'rescue_team', specialities: ['hazmat'] },
  { kind: 'warehouse', items: ['absorbent', 'foam', 'leak_plug', 'sandbag'] },
  { kind: 'vehicle', items: ['foam_tender', 'hazmat_vehicle'] },
  { kind: 'expert', specialities: ['chemical_process', 'hazmat'] },
];
const FIRE: Need[] = [
  { kind: 'fire_station' },
  { kind: 'rescue_team', specialities: ['fire', 'rescue'] },
  { kind: 'vehicle', items: ['fire_engine', 'foam_tender', 'ambulance'] },
  { kind: 'warehouse', items: ['foam', 'dry_powder', 'fire_extinguisher', 'fire_hose'] },
  { kind: 'shelter' },
];
const ELECTRICAL: Need[] = [
  { kind: 'fire_station' },
  { kind: 'rescue_team', specialities: ['electrical', 'fire'] },
  { kind: 'warehouse', items: ['dry_powder', 'fire_extinguisher'] },
  { kind: 'shelter' },
  { kind: 'expert', specialities: ['electrical'] },
];
const FIRE_WATER: Need[] = [
  { kind: 'fire_station' },
  { kind: 'vehicle', items: ['fire_engine', 'foam_tender'] },
  { kind: 'warehouse', items: ['foam', 'fire_hose'] },
  { kind: 'equipment', items: ['pump', 'fire_hose'] },
  { kind: 'shelter' },
];
const OXYGEN: Need[] = [
  { kind: 'rescue_team', specialities: ['confined_space', 'hazmat'] },
  { kind: 'fire_station' },
  { kind: 'equipment', items: ['scba', 'gas_detector'] },
  { kind: 'warehouse', items: ['scba', 'gas_detector'] },
  { kind: 'vehicle', items: ['ambulance'] },
];

/** What each device class needs when one of its alarms is raised. */
export const NEEDS_BY_CLASS: Record<DeviceClass, Need[]> = {
  gas_combustible: GAS_LEAK,
  gas_toxic: TOXIC_LEAK,
  oxygen: OXYGEN,
  vessel: VESSEL,
  fire_water: FIRE_WATER,
  power_meter: ELECTRICAL,
  smoke_alarm: FIRE,
  // A camera's alarm says what it saw: its condition decides (below); anything else, the fire set.
  camera: FIRE,
};

/** Conditions that decide by themselves, whatever the class. */
export const NEEDS_BY_CONDITION: Partial<Record<AlarmCondition, Need[]>> = {
  HW_ALM_VIDEO_FIRE: FIRE,
  HW_ALM_VIDEO_LEAK: GAS_LEAK,
  HW_ALM_VIDEO_INTRUSION: [{ kind: 'fire_station' }, { kind: 'rescue_team', specialities: ['rescue'] }],
  HW_ALM_ARC_FAULT: ELECTRICAL,
  HW_ALM_VIDEO_NO_HELMET: [],
  HW_ALM_DEVICE_FAULT: [],
  HW_ALM_LOW_BATTERY: [],
  HW_ALM_TAMPER: [],
  HW_ALM_DEVICE_OFFLINE: [],
  HW_ALM_INGEST_BACKPRESSURE: [],
};

export function needsFor(deviceClass: string, condition: string): Need[] {
  return NEEDS_BY_CONDITION[condition as AlarmCondition] ?? NEEDS_BY_CLASS[deviceClass as DeviceClass] ?? [];
}

/** The catalog the console reads (GET /api/v1/catalog `resources`). */
export const RESOURCE_CATALOG = { kinds: RESOURCE_KINDS, specialities: SPECIALITIES, items: ITEMS, needsByClass: NEEDS_BY_CLASS, needsByCondition: NEEDS_BY_CONDITION };

/** code, Chinese name, English name or an alias → code (case and spaces ignored). */
export function lookupTable<K extends string>(table: Record<K, Named>): (text: string) => K | undefined {
  const index = new Map<string, K>();
  const norm = (s: string) => s.trim().toLowerCase().replace(/[\s_-]+/g, '');
  for (const [code, n] of Object.entries(table) as [K, Named][]) {
    for (const name of [code, n.zh, n.en, ...(n.aliases ?? [])]) index.set(norm(name), code);
  }
  return (text) => index.get(norm(text));
}
