// Warning publication settings: who a warning can be addressed to (audiences: which people, on which
// channels), which levels need a second person's approval before anything goes out, and the texts.
import { z } from 'zod';
import { AlarmLevel } from '../contract/alarms.ts';

export const Audience = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]{0,40}$/),
    zh: z.string().min(1),
    en: z.string().min(1),
    /**
     * Which people: those on duty now (`onDuty`), and/or people of these kinds of the directory
     * (registry/roster.ts kinds: safety_officer, principal, rescue, expert, leader, duty_officer), in the
     * enterprises concerned and, with `regulators`, in the bureau's, park's and departments' units.
     */
    onDuty: z.boolean().default(false),
    kinds: z.array(z.string()).default([]),
    regulators: z.boolean().default(true),
    /** Channel names of `dispatch.channels`; personal ones reach each person, group ones the group once. */
    channels: z.array(z.string()).default([]),
  })
  .strict();
export type Audience = z.infer<typeof Audience>;

/** The audiences every deployment starts with; give them channels in the configuration. */
export const DEFAULT_AUDIENCES: Audience[] = [
  { id: 'duty_officers', zh: '值班人员（企业、园区、部门）', en: 'People on duty (enterprise, park, department)', onDuty: true, kinds: [], regulators: true, channels: [] },
  { id: 'safety_officers', zh: '企业安全管理人员', en: 'Enterprise safety officers', onDuty: false, kinds: ['safety_officer', 'principal'], regulators: false, channels: [] },
  { id: 'rescue_teams', zh: '救援队伍', en: 'Rescue teams', onDuty: false, kinds: ['rescue'], regulators: true, channels: [] },
  { id: 'public', zh: '周边公众（显示屏、广播）', en: 'The public nearby (displays, PA)', onDuty: false, kinds: [], regulators: false, channels: [] },
];

export const warningsConfig = z
  .object({
    /** Replaces the defaults when given (an id of a default with other channels overrides it). */
    audiences: z.array(Audience).default([]),
    /** Levels a supervisor must approve before publication (four-eyes); others go out when submitted. */
    approvalLevels: z.array(AlarmLevel).default([1, 2, 3, 4]),
    /** Extra or replaced text templates: id → {zh, en, title?}, with {placeholders} (docs/warnings.md). */
    templates: z.record(z.string(), z.object({ zh: z.string(), en: z.string(), titleZh: z.string().optional(), titleEn: z.string().optional() }).strict()).default({}),
    /** Time zone of times written in texts. */
    timeZone: z.string().default('Asia/Shanghai'),
  })
  .strict()
  .prefault({});
export type WarningsConfig = z.infer<typeof warningsConfig>;

/** The audiences in force: the defaults, with the configured ones replacing or adding by id. */
export function audiencesOf(config: WarningsConfig): Audience[] {
  const byId = new Map(DEFAULT_AUDIENCES.map((a) => [a.id, a]));
  for (const a of config.audiences) byId.set(a.id, a);
  return [...byId.values()];
}
