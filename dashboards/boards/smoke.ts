// Networked smoke alarms: smoke/fault/tamper states over time, battery, signal and last heartbeat.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import { alarmAnnotations, board, DATASOURCE, deviceVariable, enterpriseVariable, levelColour, NORMAL, siteVariable, thresholds, VAR, type BoardSpec } from '../common.ts';
import { from } from '../influxql.ts';
import { colouredCell, metricPanel, metricQuery, organize, tablePanel } from '../panels.ts';

// Low battery → level 4 (blue) by the domain defaults; 20 % is where smoke alarms typically warn [U].
export const LOW_BATTERY_PERCENT = 20;
const batteryBands = () => thresholds(levelColour(4), [LOW_BATTERY_PERCENT, NORMAL]);

export const smoke: BoardSpec = {
  file: 'smoke-alarms.json',
  build({ ranges }) {
    // The heartbeat carries battery and signal, so the newest reading's time is the last heartbeat.
    const now = from('smoke_alarm', DATASOURCE)
      .select({ field: 'battery', fn: 'last', as: 'battery' }, { field: 'signal', fn: 'last', as: 'signal' })
      .whereVariable('enterprise', VAR.enterprise)
      .whereVariable('site', VAR.site)
      .whereVariable('device', VAR.device)
      .groupBy('enterprise', 'site', 'device')
      .format('table');
    const states = from('device_event', DATASOURCE)
      .select({ field: 'active', fn: 'last', as: 'active' })
      .whereVariable('enterprise', VAR.enterprise)
      .whereVariable('site', VAR.site)
      .whereVariable('device', VAR.device)
      .whereTag('class', '=', 'smoke_alarm')
      .whereVariable('type', 'smoke_condition')
      .groupByTime()
      .groupBy('device', 'type')
      .fill('previous')
      .alias('$tag_device $tag_type');
    return board('hazwatch-smoke-alarms', 'Hazwatch · Smoke alarms', 'Networked smoke alarms: alarm, fault and tamper states, battery, signal and last heartbeat.')
      .withVariable(enterpriseVariable())
      .withVariable(siteVariable('smoke_alarm'))
      .withVariable(deviceVariable('smoke_alarm', 'site'))
      .withVariable(
        new dashboard.CustomVariableBuilder('smoke_condition')
          .label('Condition')
          .values('smoke,fault,tamper,low_battery')
          .multi(true)
          .includeAll(true)
          .current({ selected: true, text: ['All'], value: ['$__all'] }),
      )
      .annotations(alarmAnnotations(true))
      .withRow(new dashboard.RowBuilder('States'))
      .withPanel(
        new statetimeline.PanelBuilder()
          .title('Alarm, fault, tamper and low-battery states')
          .description('Each row is one condition of one smoke alarm: red while smoke is reported, blue while a fault, tamper or low battery is active.')
          .datasource(DATASOURCE)
          .withTarget(states)
          .showValue(common.VisibilityMode.Never)
          .mergeValues(true)
          .mappings([
            {
              type: dashboard.MappingType.ValueToText,
              options: { true: { text: 'active', color: levelColour(1), index: 0 }, false: { text: 'normal', color: 'transparent', index: 1 } },
            },
          ])
          .span(24)
          .height(8),
      )
      .withRow(new dashboard.RowBuilder('Devices'))
      .withPanel(
        tablePanel('Smoke alarms now', 'Battery and signal from the newest heartbeat; "Last heartbeat" is when it arrived.', now)
          .withTransformation(organize({ Time: 'Last heartbeat', enterprise: 'Enterprise', site: 'Site', device: 'Smoke alarm', battery: 'Battery (%)', signal: 'Signal (dBm)' }, []))
          .overrideByName('battery', colouredCell(batteryBands()))
          .sortBy([new common.TableSortByFieldStateBuilder().displayName('Last heartbeat').desc(false)]),
      )
      .withPanel(metricPanel('smoke_alarm', 'battery', 'Battery', metricQuery('smoke_alarm', 'battery', { ranges, site: true, fn: 'min' }), batteryBands()))
      .withPanel(metricPanel('smoke_alarm', 'signal', 'Signal', metricQuery('smoke_alarm', 'signal', { ranges, site: true, fn: 'min' })).span(24))
      .build();
  },
};
