// Fire water: network pressure against its minimum, main and jockey pumps as state timelines,
// pool level, and pump-fault / hydrant events.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import { DEVICE_CLASSES } from '../../contract/catalog.ts';
import { alarmAnnotations, board, classInterval, DATASOURCE, deviceVariable, enterpriseVariable, levelColour, NORMAL, siteVariable, thresholds, VAR, type BoardSpec } from '../common.ts';
import { from } from '../influxql.ts';
import { DEVICE_ALIAS, metricPanel, metricQuery, organize, tablePanel } from '../panels.ts';
import { trendQuery, type LongRanges } from '../tiers.ts';

// GB 50974-2014 5.2.2: minimum static pressure at the worst point 0.10 MPa (0.07 for smaller
// buildings, 0.15 above 100 m: the rules hold each network's value). Drawn as level 2 (orange).
export const FIRE_WATER_MIN_MPA = 0.1;

/**
 * A pump's state per interval: running if it ran at any time in the interval (max of the booleans), so
 * that a short run is not hidden in a long range, where the aggregates keep only max and min of a boolean.
 */
function pumpTimeline(metric: 'pump_running' | 'jockey_running', title: string, ranges: LongRanges) {
  const q = trendQuery(
    {
      cls: 'fire_water',
      metric,
      fn: 'max',
      filter: (f) => f.whereVariable('enterprise', VAR.enterprise).whereVariable('site', VAR.site).whereVariable('device', VAR.device),
      groupBy: ['enterprise', 'device'],
      fill: 'previous',
      alias: DEVICE_ALIAS,
    },
    ranges,
  );
  return new statetimeline.PanelBuilder()
    .title(title)
    .datasource(DATASOURCE)
    .withTarget(q)
    .interval(classInterval(DEVICE_CLASSES.fire_water.intervalSeconds))
    .showValue(common.VisibilityMode.Never)
    .mergeValues(true)
    .mappings([
      {
        type: dashboard.MappingType.ValueToText,
        options: {
          true: { text: 'running', color: 'green', index: 0 },
          false: { text: 'stopped', color: 'transparent', index: 1 },
        },
      },
    ])
    .span(12)
    .height(7);
}

export const fireWater: BoardSpec = {
  file: 'fire-water.json',
  build({ ranges }) {
    const events = from('device_event', DATASOURCE)
      .select({ field: 'active', as: 'active' }, { tag: 'device' }, { tag: 'type' }, { field: 'message', as: 'message' })
      .whereVariable('enterprise', VAR.enterprise)
      .whereVariable('device', VAR.device)
      .whereTag('class', '=', 'fire_water')
      .whereTag('type', '!=', 'heartbeat')
      .orderByTimeDesc()
      .limit(500)
      .format('table');
    return board('hazwatch-fire-water', 'Hazwatch · Fire water', 'Fire-water network pressure against its minimum, pump running states, pool level and events.')
      .withVariable(enterpriseVariable())
      .withVariable(siteVariable('fire_water'))
      .withVariable(deviceVariable('fire_water', 'site'))
      .annotations(alarmAnnotations(true))
      .withRow(new dashboard.RowBuilder('Network'))
      .withPanel(
        metricPanel(
          'fire_water',
          'pressure',
          `Network pressure (minimum ${FIRE_WATER_MIN_MPA} MPa)`,
          metricQuery('fire_water', 'pressure', { ranges, site: true, fn: 'min' }),
          thresholds(levelColour(2), [FIRE_WATER_MIN_MPA, NORMAL]),
        ).span(24),
      )
      .withPanel(pumpTimeline('pump_running', 'Main fire pump', ranges))
      .withPanel(pumpTimeline('jockey_running', 'Jockey pump', ranges))
      .withPanel(metricPanel('fire_water', 'pool_level', 'Pool / tank level', metricQuery('fire_water', 'pool_level', { ranges, site: true })))
      .withPanel(
        tablePanel('Pump faults, hydrant draws and tilts', 'Events reported by the fire-water devices (newest first).', events)
          .withTransformation(organize({ device: 'Device', type: 'Event', active: 'Active', message: 'Message' }, [])),
      )
      .build();
  },
};
