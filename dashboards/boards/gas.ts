// Gas detection: combustible gas in %LEL with the first- and second-stage bands, worst value per
// area (site), toxic gas and oxygen, and the detectors' own alarm and fault events.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { alarmAnnotations, board, DATASOURCE, deviceVariable, enterpriseVariable, levelColour, NORMAL, siteVariable, thresholds, VAR, type BoardSpec } from '../common.ts';
import { from } from '../influxql.ts';
import { colouredCell, metricPanel, metricQuery, organize, tablePanel } from '../panels.ts';
import { trendQuery } from '../tiers.ts';

// GB/T 50493-2019 5.5.2: first stage at or below 25 %LEL, second stage at or below 50 %LEL.
// Domain defaults: stage 1 → level 2 (orange), stage 2 → level 1 (red); never "stage 1" → "level 1".
export const LEL_STAGE1 = 25;
export const LEL_STAGE2 = 50;
// Oxygen high 23.5 %VOL, low 19.5 %VOL (shared/domain.md); shown as level 2 (orange).
export const O2_LOW = 19.5;
export const O2_HIGH = 23.5;

export function lelBands(): dashboard.ThresholdsConfigBuilder {
  return thresholds(NORMAL, [LEL_STAGE1, levelColour(2)], [LEL_STAGE2, levelColour(1)]);
}

export const gas: BoardSpec = {
  file: 'gas.json',
  build({ ranges }) {
    const lelBySite = trendQuery(
      {
        cls: 'gas_combustible',
        metric: 'lel',
        fn: 'max',
        filter: (q) => q.whereVariable('enterprise', VAR.enterprise).whereVariable('site', VAR.site),
        groupBy: ['enterprise', 'site'],
        fill: 'null',
        alias: '$tag_enterprise/$tag_site',
      },
      ranges,
    );
    const lelNow = from('gas_combustible', DATASOURCE)
      .select({ field: 'lel', fn: 'last', as: 'lel' })
      .whereVariable('enterprise', VAR.enterprise)
      .whereVariable('site', VAR.site)
      .whereVariable('device', VAR.device)
      .groupBy('enterprise', 'site', 'device')
      .format('table');
    const events = from('device_event', DATASOURCE)
      .select({ field: 'active', as: 'active' }, { tag: 'device' }, { tag: 'class' }, { tag: 'type' }, { field: 'message', as: 'message' })
      .whereVariable('enterprise', VAR.enterprise)
      .whereVariable('site', VAR.site)
      .whereTag('type', '!=', 'heartbeat')
      .whereVariable('class', 'gas_class')
      .orderByTimeDesc()
      .limit(500)
      .format('table');

    return board('hazwatch-gas', 'Hazwatch · Gas detection', 'Combustible gas (%LEL) with first/second-stage bands per area, toxic gas, oxygen and detector events.')
      .withVariable(enterpriseVariable())
      .withVariable(siteVariable('gas_combustible'))
      .withVariable(deviceVariable('gas_combustible', 'site'))
      .withVariable(
        new dashboard.CustomVariableBuilder('gas_class')
          .hide(dashboard.VariableHide.HideVariable)
          .values('gas_combustible,gas_toxic,oxygen')
          .multi(true)
          .includeAll(true)
          .current({ selected: true, text: ['All'], value: ['$__all'] }),
      )
      .annotations(alarmAnnotations(false))
      .withRow(new dashboard.RowBuilder('Combustible gas'))
      .withPanel(metricPanel('gas_combustible', 'lel', 'Worst %LEL per area (site)', lelBySite, lelBands()).span(12))
      .withPanel(metricPanel('gas_combustible', 'lel', '%LEL per detector', metricQuery('gas_combustible', 'lel', { ranges, site: true }), lelBands()).span(12))
      .withPanel(
        tablePanel('Detectors now', 'Newest %LEL of each combustible gas detector; Time is when it was measured.', lelNow)
          .span(12)
          .height(8)
          .withTransformation(organize({ Time: 'Measured at', enterprise: 'Enterprise', site: 'Site', device: 'Detector', lel: '%LEL' }, []))
          .overrideByName('lel', colouredCell(lelBands())),
      )
      .withPanel(
        tablePanel('Detector events', 'Alarm stages, faults, calibration and tamper events reported by the gas detectors themselves (newest first).', events)
          .span(12)
          .height(8)
          .withTransformation(organize({ Time: 'Time', device: 'Detector', class: 'Class', type: 'Event', active: 'Active', message: 'Message' }, [])),
      )
      .withRow(new dashboard.RowBuilder('Toxic gas and oxygen'))
      .withPanel(
        metricPanel('gas_toxic', 'ppm', 'Toxic gas per detector (limits depend on the gas: see alarm annotations)', metricQuery('gas_toxic', 'ppm', { ranges, site: true, device: false })).span(12),
      )
      .withPanel(
        metricPanel(
          'oxygen',
          'o2',
          'Oxygen per detector',
          metricQuery('oxygen', 'o2', { ranges, site: true, device: false }),
          thresholds(levelColour(2), [O2_LOW, NORMAL], [O2_HIGH, levelColour(2)]),
        ).span(12),
      )
      .build();
  },
};
