// Console texts in Chinese and English. The browser's language decides at first; the switch in the
// top bar overrides it and is remembered in localStorage.
const TEXTS = {
  zh: {
    title: '危险源监测预警',
    subtitle: '监控中心',
    username: '用户名',
    password: '密码',
    signIn: '登录',
    signOut: '退出',
    demo: '演示',
    system: '系统',
    on: '运行',
    off: '停止',
    demoHint: '演示模式：设备为模拟设备，读数和报警不是真实现场的',
    signInFailed: '用户名或密码错误',
    overview: '一张图',
    alarms: '报警',
    liveMap: '实时报警',
    riskMap: '四色图',
    level: { 1: '一级 红色', 2: '二级 橙色', 3: '三级 黄色', 4: '四级 蓝色' },
    levelShort: { 1: '红', 2: '橙', 3: '黄', 4: '蓝' },
    risk: { red: '重大风险', orange: '较大风险', yellow: '一般风险', blue: '低风险' },
    grade: (g) => `${['一', '二', '三', '四'][g - 1]}级危险源`,
    gradeLegend: '圆内数字：危险源等级（1 最高）',
    offline: '离线',
    normal: '正常',
    unacked: '未签收',
    open: '未关闭',
    all: '全部',
    states: {
      active_unacknowledged: '报警中·未签收',
      active_acknowledged: '报警中·已签收',
      cleared_unacknowledged: '已恢复·未签收',
      cleared_acknowledged: '已恢复·待关闭',
      closed: '已关闭',
      shelved: '已搁置',
      out_of_service: '检修中',
    },
    actions: {
      acknowledge: '签收',
      feedback: '反馈',
      shelve: '搁置',
      unshelve: '取消搁置',
      clear: '解除',
      close: '关闭',
      history: '详情',
    },
    actionDone: {
      raised: '产生',
      escalated: '升级',
      deescalated: '降级',
      notified: '已通知',
      escalated_notification: '上报',
      acknowledged: '签收',
      feedback: '反馈',
      cleared: '自动恢复',
      cleared_manually: '人工解除',
      shelved: '搁置',
      unshelved: '取消搁置',
      closed: '关闭',
      out_of_service: '转入检修',
      returned_to_service: '检修结束',
      corroborated: '设备报警印证',
      grouped: '归入起因报警',
    },
    causes: { real_hazard: '真实险情', process_swing: '工艺波动', instrument_fault: '仪表故障', maintenance: '检修作业', false_alarm: '误报' },
    cause: '原因',
    measures: '处置措施',
    note: '备注',
    reason: '理由',
    minutes: '分钟',
    submit: '确定',
    cancel: '取消',
    time: '时间',
    device: '设备',
    enterprise: '企业',
    source: '危险源',
    condition: '报警类型',
    value: '数值',
    threshold: '阈值',
    state: '状态',
    by: '操作人',
    noAlarms: '无报警',
    mute: '静音',
    unmute: '开启声音',
    back: '返回',
    liveValues: '实时数据',
    alarmThresholds: '报警阈值',
    lastHour: '最近一小时',
    maintenance: '检修',
    inMaintenance: '检修中',
    notInMaintenance: '未检修',
    startMaintenance: '开始检修',
    endMaintenance: '结束检修',
    until: '至',
    devices: '设备',
    online: '在线',
    presence: {
      mode: { always: '常连接', intermittent: '间歇上报' },
      lastHeard: '最近上报',
      nextDue: '下次应报',
      never: '尚未上报',
      reason: { silent: '超过约定周期未上报', connection_lost: '连接中断超过宽限时间' },
    },
    noData: '暂无数据',
    history: '处置记录',
    connection: { open: '实时连接', closed: '连接中断' },
    counts: '报警统计',
    newAlarm: '新报警',
    legend: '图例',
    flood: '报警泛滥',
    floodHint: '10 分钟内超过 10 条报警（EEMUA 191）',
    newTag: '新',
    unseenHint: '新报警或级别升高，尚未查看：点击该行即为已阅',
    allSeen: '全部已阅',
    closePanel: '收起',
    causedBy: '起因：',
    causeElsewhere: '另一报警',
    withCause: '随起因报警签收',
    // The device's own alarm stage recorded on the alarm of the same measurement ('corroborated').
    corroboration: (event, level) => `设备自身上报${event}，对应${level}`,
    // Event types as devices report them (contract/catalog.ts EVENT_TYPES), for the history's words.
    events: {
      heartbeat: '心跳',
      fault: '设备故障',
      low_battery: '电量低',
      tamper: '防拆报警',
      calibration: '标定',
      alarm_stage1: '一级报警',
      alarm_stage2: '二级报警',
      smoke: '烟雾报警',
      silence: '消音',
      pump_fault: '泵故障',
      hydrant_draw: '消火栓出水',
      tilt: '倾倒',
      arc_fault: '故障电弧',
      sensor_short: '传感器短路',
      sensor_open: '传感器断路',
      interlock_trip: '联锁动作',
      // Video analytics of a camera (issue 17).
      intrusion: '区域入侵',
      smoke_fire: '烟火',
      no_helmet: '未戴安全帽',
      leak_spotted: '发现泄漏',
    },
    unknownEvent: '设备事件',
  },
  en: {
    title: 'Hazard-source monitoring',
    subtitle: 'Monitoring room',
    username: 'User name',
    password: 'Password',
    signIn: 'Sign in',
    signOut: 'Sign out',
    demo: 'DEMO',
    system: 'system',
    on: 'ON',
    off: 'OFF',
    demoHint: 'Demo: the devices are simulated; readings and alarms are not from a real plant',
    signInFailed: 'Wrong user name or password',
    overview: 'One map',
    alarms: 'Alarms',
    liveMap: 'Live alarms',
    riskMap: 'Risk map',
    level: { 1: 'Level 1 red', 2: 'Level 2 orange', 3: 'Level 3 yellow', 4: 'Level 4 blue' },
    levelShort: { 1: 'Red', 2: 'Orange', 3: 'Yellow', 4: 'Blue' },
    risk: { red: 'Major risk', orange: 'High risk', yellow: 'Moderate risk', blue: 'Low risk' },
    grade: (g) => `Grade ${g} source`,
    gradeLegend: 'Number in the circle: hazard-source grade (1 highest)',
    offline: 'Offline',
    normal: 'Normal',
    unacked: 'Unacknowledged',
    open: 'Open',
    all: 'All',
    states: {
      active_unacknowledged: 'Active, unacknowledged',
      active_acknowledged: 'Active, acknowledged',
      cleared_unacknowledged: 'Cleared, unacknowledged',
      cleared_acknowledged: 'Cleared, to close',
      closed: 'Closed',
      shelved: 'Shelved',
      out_of_service: 'Out of service',
    },
    actions: {
      acknowledge: 'Acknowledge',
      feedback: 'Feedback',
      shelve: 'Shelve',
      unshelve: 'Unshelve',
      clear: 'Clear',
      close: 'Close',
      history: 'Details',
    },
    actionDone: {
      raised: 'Raised',
      escalated: 'Escalated',
      deescalated: 'De-escalated',
      notified: 'Notified',
      escalated_notification: 'Escalated to regulator',
      acknowledged: 'Acknowledged',
      feedback: 'Feedback',
      cleared: 'Returned to normal',
      cleared_manually: 'Cleared manually',
      shelved: 'Shelved',
      unshelved: 'Unshelved',
      closed: 'Closed',
      out_of_service: 'Out of service',
      returned_to_service: 'Back in service',
      corroborated: "Confirmed by the device's own alarm",
      grouped: 'Put under the alarm of its cause',
    },
    causes: { real_hazard: 'Real hazard', process_swing: 'Process swing', instrument_fault: 'Instrument fault', maintenance: 'Maintenance', false_alarm: 'False alarm' },
    cause: 'Cause',
    measures: 'Measures taken',
    note: 'Note',
    reason: 'Reason',
    minutes: 'minutes',
    submit: 'OK',
    cancel: 'Cancel',
    time: 'Time',
    device: 'Device',
    enterprise: 'Enterprise',
    source: 'Hazard source',
    condition: 'Condition',
    value: 'Value',
    threshold: 'Threshold',
    state: 'State',
    by: 'By',
    noAlarms: 'No alarms',
    mute: 'Mute',
    unmute: 'Sound on',
    back: 'Back',
    liveValues: 'Live values',
    alarmThresholds: 'Alarm thresholds',
    lastHour: 'Last hour',
    maintenance: 'Maintenance',
    inMaintenance: 'In maintenance',
    notInMaintenance: 'Not in maintenance',
    startMaintenance: 'Start maintenance',
    endMaintenance: 'End maintenance',
    until: 'until',
    devices: 'Devices',
    online: 'Online',
    presence: {
      mode: { always: 'always connected', intermittent: 'reports intermittently' },
      lastHeard: 'last heard',
      nextDue: 'next due',
      never: 'not yet',
      reason: { silent: 'silent beyond its promised interval', connection_lost: 'connection lost beyond its grace period' },
    },
    noData: 'No data yet',
    history: 'History',
    connection: { open: 'Live', closed: 'Disconnected' },
    counts: 'Alarm counts',
    newAlarm: 'New alarm',
    legend: 'Legend',
    flood: 'Alarm flood',
    floodHint: 'More than 10 alarms in 10 minutes (EEMUA 191)',
    newTag: 'NEW',
    unseenHint: 'New, or more severe since you last looked: click the row to mark it seen',
    allSeen: 'Mark all seen',
    closePanel: 'Close',
    causedBy: 'Caused by: ',
    causeElsewhere: 'another alarm',
    withCause: 'signed with its cause',
    corroboration: (event, level) => `Device reported ${event}, ${level}`,
    events: {
      heartbeat: 'Heartbeat',
      fault: 'Device fault',
      low_battery: 'Low battery',
      tamper: 'Tamper',
      calibration: 'Calibration',
      alarm_stage1: 'Stage 1 alarm',
      alarm_stage2: 'Stage 2 alarm',
      smoke: 'Smoke',
      silence: 'Silenced',
      pump_fault: 'Pump fault',
      hydrant_draw: 'Hydrant draw',
      tilt: 'Tilt',
      arc_fault: 'Arc fault',
      sensor_short: 'Sensor short circuit',
      sensor_open: 'Sensor open circuit',
      interlock_trip: 'Interlock trip',
      intrusion: 'Intrusion',
      smoke_fire: 'Smoke or fire',
      no_helmet: 'No helmet',
      leak_spotted: 'Leak spotted',
    },
    unknownEvent: 'device event',
  },
};

export const LANGS = ['zh', 'en'];

export function initialLang() {
  const saved = localStorage.getItem('hw.lang');
  if (LANGS.includes(saved)) return saved;
  const browser = (navigator.languages?.[0] ?? navigator.language ?? 'en').toLowerCase();
  return browser.startsWith('zh') ? 'zh' : 'en';
}

export function texts(lang) {
  return TEXTS[lang] ?? TEXTS.en;
}

export function saveLang(lang) {
  localStorage.setItem('hw.lang', lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

const num = (v) => (typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : String(v));

/**
 * The detail line of an alarm in the console's language. The English line is the one rules wrote
 * (`alarm.message`); the Chinese one is the rule file's own (`alarm.messageZh`) or else composed from the alarm's code and parameters (metric, value,
 * threshold) and the catalog's Chinese names, so that no English reaches the Chinese view.
 */
export function alarmDetail(alarm, catalog, lang) {
  if (lang !== 'zh') return alarm.message;
  // The rule file's own line in Chinese (`message: { en, zh }`), when it gives one.
  if (alarm.messageZh) return alarm.messageZh;
  const condition = catalog?.conditions?.[alarm.condition];
  const title = condition?.zh ?? alarm.condition;
  const metric = alarm.metric ? catalog?.deviceClasses?.[alarm.deviceClass]?.metrics?.[alarm.metric] : undefined;
  const name = metric?.zh ?? alarm.metric ?? '';
  const unit = metric?.unit ? ` ${metric.unit}` : '';
  // Alarms about the platform itself (rules/platform.ts) are no device's report.
  if (alarm.enterprise === 'platform') return title;
  switch (condition?.source) {
    case 'threshold':
      if (typeof alarm.value !== 'number' || alarm.threshold === null) return title;
      // The value is the latest one (after a clear, back inside the limit): the line names the limit's side, not a comparison.
      return `${name} ${num(alarm.value)}${unit}，${/_LOW$|^HW_ALM_UNDER_/.test(alarm.condition) ? '低' : '高'}报限值 ${num(alarm.threshold)}${unit}`;
    case 'rate':
      return `${name}变化速率 ${num(alarm.value)}${unit}/分钟，超过限值 ${num(alarm.threshold)}${unit}/分钟`;
    case 'silence':
      if (alarm.threshold === null) return title;
      return alarm.value === false ? `连接中断超过 ${num(alarm.threshold)} 秒` : `超过 ${num(alarm.threshold)} 秒未收到数据`;
    case 'combination':
      return `${title}：${name}${typeof alarm.value === 'number' ? ` ${num(alarm.value)}${unit}` : ''}（组合条件成立）`;
    default:
      return `设备上报：${title}`;
  }
}
