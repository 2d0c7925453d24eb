// One major hazard source: its vessels' level, temperature, pressure and flow, with the H/HH/L/LL
// bands of each vessel, its active alarms, and alarm annotations.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { alarmAnnotations, board, DATASOURCE, deviceVariable, enterpriseVariable, hazardSourceVariable, levelColour, thresholds, VAR, type BoardSpec } from '../common.ts';
import type { LongRanges } from '../tiers.ts';
import { from, fromSubquery } from '../influxql.ts';
import type { DeviceLimits, Limits, VesselLimitMetric } from '../limits.ts';
import { metricPanel, metricQuery, organize, tablePanel } from '../panels.ts';
import { levelCellOverride } from './overview.ts';

// Domain defaults, configurable in rules: H/L → level 3 (yellow), HH/LL → level 2 (orange) (shared/domain.md, Grading).
const H_COLOUR = levelColour(3);
const HH_COLOUR = levelColour(2);
const INSIDE = 'transparent';

/** Threshold steps drawing LL/L/H/HH bands: shaded where the value would be in alarm. */
export function limitSteps(l: Limits): dashboard.ThresholdsConfigBuilder {
  const base = l.ll !== undefined ? HH_COLOUR : l.l !== undefined ? H_COLOUR : INSIDE;
  const steps: [number, string][] = [];
  if (l.ll !== undefined) steps.push([l.ll, l.l !== undefined ? H_COLOUR : INSIDE]);
  if (l.l !== undefined) steps.push([l.l, INSIDE]);
  if (l.h !== undefined) steps.push([l.h, H_COLOUR]);
  if (l.hh !== undefined) steps.push([l.hh, HH_COLOUR]);
  steps.sort((a, b) => a[0] - b[0]);
  return thresholds(base, ...steps);
}

function vesselPanel(metric: VesselLimitMetric | 'flow', title: string, limits: DeviceLimits[], ranges: LongRanges) {
  const p = metricPanel('vessel', metric, title, metricQuery('vessel', metric, { ranges, hazardSource: true }));
  for (const d of limits.filter((x) => x.metric === metric)) {
    p.overrideByName(d.series, [
      { id: 'thresholds', value: limitSteps(d.limits).build() },
      { id: 'custom.thresholdsStyle', value: { mode: 'dashed+area' } },
    ]);
  }
  return p;
}

export function hazardSource(limits: DeviceLimits[]): BoardSpec {
  return {
    file: 'hazard-source.json',
    build({ ranges }) {
      const current = from('vessel', DATASOURCE)
        .select(
          { field: 'level', fn: 'last', as: 'level' },
          { field: 'temperature', fn: 'last', as: 'temperature' },
          { field: 'pressure', fn: 'last', as: 'pressure' },
          { field: 'flow', fn: 'last', as: 'flow' },
        )
        .whereVariable('enterprise', VAR.enterprise)
        .whereVariable('hazard_source', VAR.hazardSource)
        .whereVariable('device', VAR.device)
        .groupBy('enterprise', 'hazard_source', 'device')
        .format('table');
      const activeInner = from('alarm_event', DATASOURCE)
        .select({ field: 'state', fn: 'last', as: 'state' }, { tag: 'level', as: 'alarm_level' })
        .since('30d')
        .whereVariable('enterprise', VAR.enterprise)
        .whereTag('class', '=', 'vessel')
        .whereVariable('device', VAR.device)
        .groupBy('enterprise', 'device', 'condition');
      const active = fromSubquery(activeInner, DATASOURCE)
        .select({ field: 'alarm_level', as: 'alarm_level' }, { field: 'state', as: 'state' }, { tag: 'device' }, { tag: 'condition' })
        .anyTime()
        .whereField('state', '=~', /^active_/)
        .format('table');

      return board('hazwatch-hazard-source', 'Hazwatch · Hazard source', 'Vessels of a major hazard source: level, temperature, pressure and flow against their H/HH/L/LL limits.')
        .withVariable(enterpriseVariable())
        .withVariable(hazardSourceVariable())
        .withVariable(deviceVariable('vessel', 'hazard_source'))
        .annotations(alarmAnnotations(true))
        .withRow(new dashboard.RowBuilder('Now'))
        .withPanel(
          tablePanel('Vessels: newest values in the time range', 'Newest reading of each vessel; Time is when it was measured.', current)
            .span(12)
            .height(8)
            .withTransformation(
              organize({ Time: 'Measured at', enterprise: 'Enterprise', hazard_source: 'Hazard source', device: 'Device', level: 'Level (m)', temperature: 'Temperature (°C)', pressure: 'Pressure (MPa)', flow: 'Flow (m³/h)' }, []),
            ),
        )
        .withPanel(
          tablePanel('Active alarms on these vessels', 'Alarms not yet cleared, newest state per vessel and condition (last 30 days).', active)
            .span(12)
            .height(8)
            .withTransformation(organize({ Time: 'Last change', device: 'Device', condition: 'Condition', alarm_level: 'Level', state: 'State' }, []))
            .overrideByName('alarm_level', levelCellOverride()),
        )
        .withRow(new dashboard.RowBuilder('Trends'))
        .withPanel(vesselPanel('level', 'Level', limits, ranges))
        .withPanel(vesselPanel('temperature', 'Temperature', limits, ranges))
        .withPanel(vesselPanel('pressure', 'Pressure', limits, ranges))
        .withPanel(vesselPanel('flow', 'Flow', limits, ranges))
        .build();
    },
  };
}
