// The demo's duty roster (`hazwatch start --demo`): the district bureau above the chemical park above
// the demo enterprise (demo-chem, the enterprise of simulators/scenarios/demo.yaml), each with its duty
// directory (example phones and addresses only) and shifts from yesterday to a week ahead, so that
// somebody is on duty at every moment of a demo. Written once, into an empty roster only.
import { addDays, localDate, WeekPattern, type PersonInput, type RosterStore, type UnitInput } from './roster.ts';

type Roster = Pick<RosterStore, 'count' | 'putUnit' | 'putPerson' | 'addPattern'>;

/** The enterprise the demo scenario runs (simulators/scenarios/demo.yaml). */
export const DEMO_ENTERPRISE = { id: 'demo-chem', name: '演示化工有限公司' };

const UNITS: UnitInput[] = [
  { id: 'jinshan-bureau', name: '金山区应急管理局', kind: 'bureau', parent: null, enterprise: null, timeZone: 'Asia/Shanghai' },
  { id: 'jinshan-park', name: '金山化工园区管委会', kind: 'park', parent: 'jinshan-bureau', enterprise: null, timeZone: 'Asia/Shanghai' },
];

const person = (id: string, unit: string, name: string, title: string, phone: string, kinds: PersonInput['kinds'], email = ''): PersonInput => ({
  id,
  unit,
  name,
  title,
  phone,
  email,
  wecom: id,
  dingtalk: '',
  username: null,
  kinds,
});

/** Number of shifts written (0 when the roster had units already). */
export async function seedDemoRoster(roster: Roster, options: { now: number; enterprise?: { id: string; name: string } }): Promise<number> {
  if ((await roster.count()).units > 0) return 0;
  const ent = options.enterprise ?? DEMO_ENTERPRISE;
  const entUnit = `${ent.id}-duty`;
  for (const u of [...UNITS, { id: entUnit, name: ent.name, kind: 'enterprise' as const, parent: 'jinshan-park', enterprise: ent.id, timeZone: 'Asia/Shanghai' }]) await roster.putUnit(u);
  const people: PersonInput[] = [
    person('bureau-wang', 'jinshan-bureau', '王海', '值班员', '13800001001', ['duty_officer'], 'wanghai@bureau.example.org'),
    person('bureau-li', 'jinshan-bureau', '李静', '值班员', '13800001002', ['duty_officer'], 'lijing@bureau.example.org'),
    person('bureau-zhou', 'jinshan-bureau', '周强', '值班员', '13800001003', ['duty_officer'], 'zhouqiang@bureau.example.org'),
    person('bureau-chen', 'jinshan-bureau', '陈国华', '副局长', '13800001101', ['leader'], 'chenguohua@bureau.example.org'),
    person('bureau-xu', 'jinshan-bureau', '徐立', '副局长', '13800001102', ['leader', 'expert'], 'xuli@bureau.example.org'),
    person('park-zhao', 'jinshan-park', '赵磊', '安监处值班员', '13800002001', ['duty_officer'], 'zhaolei@park.example.org'),
    person('park-sun', 'jinshan-park', '孙丽', '安监处值班员', '13800002002', ['duty_officer'], 'sunli@park.example.org'),
    person('park-he', 'jinshan-park', '何建军', '管委会副主任', '13800002101', ['leader'], 'hejianjun@park.example.org'),
    person('ent-liu', entUnit, '刘洋', '中控室值班长', '13800003001', ['duty_officer'], 'liuyang@demo-chem.example.org'),
    person('ent-ma', entUnit, '马超', '中控室值班长', '13800003002', ['duty_officer', 'rescue'], 'machao@demo-chem.example.org'),
    person('ent-guo', entUnit, '郭敏', '安全总监', '13800003101', ['leader', 'safety_officer'], 'guomin@demo-chem.example.org'),
    person('ent-yang', entUnit, '杨志远', '总经理', '13800003102', ['leader', 'principal'], 'yangzhiyuan@demo-chem.example.org'),
  ];
  for (const p of people) await roster.putPerson(p);
  // From yesterday (the shift running now may have started then) to a week ahead.
  const from = addDays(localDate(options.now, 'Asia/Shanghai'), -1);
  const DAY_NIGHT = [{ start: '08:00', end: '20:00' }, { start: '20:00', end: '08:00' }];
  const patterns = [
    // The bureau keeps a 24-hour duty with a leader on call (24小时值班和领导带班).
    { unit: 'jinshan-bureau', slots: [{ start: '08:00', end: '08:00' }], crews: [{ officers: ['bureau-wang', 'bureau-li'], leader: 'bureau-chen' }, { officers: ['bureau-zhou', 'bureau-wang'], leader: 'bureau-xu' }, { officers: ['bureau-li', 'bureau-zhou'], leader: 'bureau-chen' }] },
    { unit: 'jinshan-park', slots: DAY_NIGHT, crews: [{ officers: ['park-zhao'], leader: 'park-he' }, { officers: ['park-sun'], leader: 'park-he' }] },
    { unit: entUnit, slots: DAY_NIGHT, crews: [{ officers: ['ent-liu'], leader: 'ent-guo' }, { officers: ['ent-ma'], leader: 'ent-yang' }] },
  ];
  let shifts = 0;
  for (const p of patterns) shifts += (await roster.addPattern(WeekPattern.parse({ ...p, from, days: 9, note: '演示排班' }))).length;
  return shifts;
}
