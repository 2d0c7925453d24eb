// Warning texts from templates, in Chinese and English, filled from the alarm that prompted the warning.
// A template is plain text with {placeholders}; an unknown placeholder is left as written, so a typo in
// a configured template shows in the draft instead of silently vanishing.
import { ALARM_CONDITIONS, LEVEL_COLOURS, type Alarm, type AlarmLevel } from '../contract/alarms.ts';
import { DEVICE_CLASSES } from '../contract/catalog.ts';

export interface Template {
  zh: string;
  en: string;
  titleZh?: string;
  titleEn?: string;
}

const LEVEL_EN = { 1: 'Red', 2: 'Orange', 3: 'Yellow', 4: 'Blue' } as const;

export const TEMPLATES: Record<string, Template> = {
  alarm: {
    titleZh: '{enterpriseName}{conditionZh}{levelZh}预警',
    titleEn: '{levelEn} warning: {conditionEn} at {enterpriseName}',
    zh: '【{levelZh}预警】{time}，{enterpriseName}{siteZh}{deviceClassZh}（{device}）{conditionZh}，{valueZh}。请企业立即核查处置，相关值班人员做好应急准备，无关人员远离危险区域。',
    en: '[{levelEn} warning] {time}: {conditionEn} at {enterpriseName}{siteEn}, {deviceClassEn} {device}{valueEn}. The enterprise must check and act at once; people on duty stand by; keep everyone else away from the danger area.',
  },
  gas_leak: {
    titleZh: '{enterpriseName}气体泄漏{levelZh}预警',
    titleEn: '{levelEn} warning: gas leak at {enterpriseName}',
    zh: '【{levelZh}预警】{time}，{enterpriseName}{siteZh}检测到气体泄漏（{device}，{valueZh}）。请立即切断气源、加强通风、禁止一切明火和非防爆操作，疏散下风向人员，救援队伍待命。',
    en: '[{levelEn} warning] {time}: gas leak detected at {enterpriseName}{siteEn} ({device}{valueEn}). Shut off the source, ventilate, no open flames or non-explosion-proof work, evacuate people downwind; rescue teams stand by.',
  },
  fire: {
    titleZh: '{enterpriseName}火情{levelZh}预警',
    titleEn: '{levelEn} warning: fire at {enterpriseName}',
    zh: '【{levelZh}预警】{time}，{enterpriseName}{siteZh}发生火警（{device}）。请立即启动应急预案，组织人员疏散，消防力量赶赴现场。',
    en: '[{levelEn} warning] {time}: fire alarm at {enterpriseName}{siteEn} ({device}). Start the emergency plan, evacuate, fire brigades to the scene.',
  },
  manual: {
    titleZh: '{levelZh}预警',
    titleEn: '{levelEn} warning',
    zh: '【{levelZh}预警】',
    en: '[{levelEn} warning] ',
  },
  update: {
    zh: '【预警更新】{title}：{text}',
    en: '[Warning update] {title}: {text}',
  },
  all_clear: {
    zh: '【预警解除】{title}：险情已得到控制，该预警于{time}解除。{text}',
    en: '[All clear] {title}: the danger is under control; this warning was lifted at {time}. {text}',
  },
};

/** Which template fits an alarm's condition by default. */
export function templateFor(condition: string): string {
  if (/GAS|O2|TOXIC|LEAK/.test(condition)) return 'gas_leak';
  if (/SMOKE|FIRE|FLAME/.test(condition)) return 'fire';
  return 'alarm';
}

export function formatTime(at: number, timeZone: string): string {
  return new Intl.DateTimeFormat('zh-CN', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(at));
}

export function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (whole, name: string) => vars[name] ?? whole);
}

/** The variables an alarm gives a template. */
export function alarmVariables(alarm: Alarm, enterpriseName: string, timeZone: string): Record<string, string> {
  const cond = ALARM_CONDITIONS[alarm.condition as keyof typeof ALARM_CONDITIONS];
  const cls = DEVICE_CLASSES[alarm.deviceClass as keyof typeof DEVICE_CLASSES] as { zh?: string; title?: string } | undefined;
  const metric = alarm.metric ? ((DEVICE_CLASSES as any)[alarm.deviceClass]?.metrics?.[alarm.metric] as { unit?: string; zh?: string } | undefined) : undefined;
  const value = typeof alarm.value === 'number' ? `${alarm.value}${metric?.unit ? ` ${metric.unit}` : ''}` : '';
  return {
    ...levelVariables(alarm.level),
    time: formatTime(alarm.raisedAt, timeZone),
    enterprise: alarm.enterprise,
    enterpriseName,
    site: alarm.site ?? '',
    siteZh: alarm.site ? `${alarm.site}` : '',
    siteEn: alarm.site ? ` (${alarm.site})` : '',
    device: alarm.device,
    deviceClassZh: cls?.zh ?? alarm.deviceClass,
    deviceClassEn: cls?.title ?? alarm.deviceClass.replace(/_/g, ' '),
    conditionZh: cond?.zh ?? alarm.condition,
    conditionEn: (cond?.title ?? alarm.condition).toLowerCase(),
    value,
    valueZh: value ? `${metric?.zh ?? '读数'} ${value}${alarm.threshold !== null && alarm.threshold !== undefined ? `，限值 ${alarm.threshold}` : ''}` : alarm.messageZh ?? '设备报警',
    valueEn: value ? `, ${value}${alarm.threshold !== null && alarm.threshold !== undefined ? ` (limit ${alarm.threshold})` : ''}` : '',
  };
}

export function levelVariables(level: AlarmLevel): Record<string, string> {
  return { level: String(level), levelZh: LEVEL_COLOURS[level].zh, levelEn: LEVEL_EN[level] };
}
