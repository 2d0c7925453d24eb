// The monitoring-room wall: how many alarms are active at each level, which enterprises and which
// hazard sources they are on, and how many devices are offline.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { LEVEL_COLOURS, type AlarmLevel } from '../../contract/alarms.ts';
import { activeAlarmCount, alarmAnnotations, board, countThresholds, DATASOURCE, enterpriseVariable, offlineDeviceCount, VAR, type BoardSpec } from '../common.ts';
import { from, fromSubquery } from '../influxql.ts';
import { colouredCell, countStat, organize, tablePanel, transformation } from '../panels.ts';

const LEVELS: AlarmLevel[] = [1, 2, 3, 4];

function levelTitle(level: AlarmLevel): string {
  return `Level ${level} (${LEVEL_COLOURS[level].name})`;
}

function levelColumns(): Record<string, string> {
  return Object.fromEntries(LEVELS.map((l) => [`level_${l}`, levelTitle(l)]));
}

/** Newest level, temperature and pressure of every vessel, per hazard source (time 0, so that `merge` joins it with the alarm counts). */
function vesselsNow() {
  const inner = from('vessel', DATASOURCE)
    .select({ field: 'level', fn: 'last', as: 'level' }, { field: 'temperature', fn: 'last', as: 'temperature' }, { field: 'pressure', fn: 'last', as: 'pressure' })
    .whereVariable('enterprise', VAR.enterprise)
    .groupBy('enterprise', 'hazard_source', 'device');
  return fromSubquery(inner, DATASOURCE)
    .select({ field: 'level', fn: 'mean', as: 'level' }, { field: 'temperature', fn: 'mean', as: 'temperature' }, { field: 'pressure', fn: 'mean', as: 'pressure' })
    .anyTime()
    .groupBy('enterprise', 'hazard_source', 'device');
}

export const overview: BoardSpec = {
  file: 'overview.json',
  build() {
    const b = board('hazwatch-overview', 'Hazwatch · Wall overview', 'Active alarms by level, enterprises and hazard sources with their alarms, devices offline.')
      .withVariable(enterpriseVariable())
      .annotations(alarmAnnotations(false))
      .withRow(new dashboard.RowBuilder('Active alarms now'));
    for (const level of LEVELS) {
      b.withPanel(
        countStat(
          levelTitle(level),
          activeAlarmCount(level).format('table'),
          countThresholds(level),
          `Alarms at level ${level} not yet cleared (unacknowledged or acknowledged), from the newest alarm_event of each device and condition in the last 30 days.`,
        ).span(5),
      );
    }
    b.withPanel(
      countStat('Devices offline', offlineDeviceCount().format('table'), countThresholds(4), 'Devices with an active HW_ALM_DEVICE_OFFLINE alarm: not heard from within what they promised (docs/protocol.md).').span(4),
    );

    b.withRow(new dashboard.RowBuilder('Enterprises and hazard sources'));
    const enterpriseTable = tablePanel(
      'Enterprises: active alarms per level, devices offline',
      'One row per enterprise with an active alarm or an offline device. The leftmost coloured cell is the worst level.',
      ...LEVELS.map((l, i) => activeAlarmCount(l, ['enterprise']).format('table').refId(String.fromCharCode(65 + i))),
      offlineDeviceCount(['enterprise']).format('table').refId('E'),
    )
      .span(10)
      .height(10)
      .withTransformation(transformation('merge', {}))
      .withTransformation(organize({ enterprise: 'Enterprise', ...levelColumns(), offline: 'Devices offline' }));
    for (const l of LEVELS) enterpriseTable.overrideByName(`level_${l}`, colouredCell(countThresholds(l)));
    enterpriseTable.overrideByName('offline', colouredCell(countThresholds(4)));
    b.withPanel(enterpriseTable);

    const hazardTable = tablePanel(
      'Hazard sources: vessels, current values and active alarms per level',
      'One row per vessel of a major hazard source: newest level, temperature and pressure in the time range, and its active alarms by level. The leftmost coloured cell is the worst level.',
      vesselsNow().format('table').refId('A'),
      ...LEVELS.map((l, i) =>
        fromSubquery(activeAlarmsOfVessels(), DATASOURCE)
          .select({ field: 'state', fn: 'count', as: `level_${l}` })
          .anyTime()
          .whereField('state', '=~', /^active_/)
          .whereField('alarm_level', '=', String(l))
          .groupBy('enterprise', 'device')
          .format('table')
          .refId(String.fromCharCode(66 + i)),
      ),
    )
      .span(14)
      .height(10)
      .withTransformation(transformation('merge', {}))
      .withTransformation(
        organize({ enterprise: 'Enterprise', hazard_source: 'Hazard source', device: 'Device', level: 'Level (m)', temperature: 'Temperature (°C)', pressure: 'Pressure (MPa)', ...levelColumns() }),
      )
      .sortBy([new common.TableSortByFieldStateBuilder().displayName('Hazard source').desc(false)]);
    for (const l of LEVELS) hazardTable.overrideByName(`level_${l}`, colouredCell(countThresholds(l)));
    b.withPanel(hazardTable);

    b.withRow(new dashboard.RowBuilder('Alarm activity'));
    b.withPanel(
      tablePanel(
        'Active alarms',
        'Every alarm not yet cleared, newest state per device and condition.',
        fromSubquery(activeAlarmsAll(), DATASOURCE)
          .select({ field: 'state', as: 'state' }, { field: 'alarm_level', as: 'alarm_level' }, { tag: 'enterprise' }, { tag: 'device' }, { tag: 'condition' })
          .anyTime()
          .whereField('state', '=~', /^active_/)
          .format('table'),
      )
        .span(24)
        .height(10)
        .withTransformation(organize({ enterprise: 'Enterprise', device: 'Device', condition: 'Condition', alarm_level: 'Level', state: 'State', Time: 'Last change' }, []))
        .overrideByName('alarm_level', levelCellOverride()),
    );
    return b.build();
  },
};

/** Newest state per alarm, only of vessels (the hazard-source table shows vessels). */
function activeAlarmsOfVessels() {
  return from('alarm_event', DATASOURCE)
    .select({ field: 'state', fn: 'last', as: 'state' }, { tag: 'level', as: 'alarm_level' })
    .since('30d')
    .whereVariable('enterprise', VAR.enterprise)
    .whereTag('class', '=', 'vessel')
    .groupBy('enterprise', 'device', 'condition');
}

function activeAlarmsAll() {
  return from('alarm_event', DATASOURCE)
    .select({ field: 'state', fn: 'last', as: 'state' }, { tag: 'level', as: 'alarm_level' })
    .since('30d')
    .whereVariable('enterprise', VAR.enterprise)
    .groupBy('enterprise', 'device', 'condition');
}

/** A level cell ("1".."4") shown as its colour name on the level colour. */
export function levelCellOverride(): dashboard.DynamicConfigValue[] {
  return [
    { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } },
    {
      id: 'mappings',
      value: [
        {
          type: dashboard.MappingType.ValueToText,
          options: Object.fromEntries(LEVELS.map((l, i) => [String(l), { text: `${l} ${LEVEL_COLOURS[l].name}`, color: LEVEL_COLOURS[l].hex, index: i }])),
        },
      ],
    },
  ];
}
