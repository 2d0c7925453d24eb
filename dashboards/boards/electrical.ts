// Electrical fire monitoring: residual current, cable temperature, voltage, current and power of
// each monitored circuit, with the setpoints of the standards as bands, and the monitors' events.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { alarmAnnotations, board, DATASOURCE, deviceVariable, enterpriseVariable, levelColour, NORMAL, siteVariable, thresholds, VAR, type BoardSpec } from '../common.ts';
import { from } from '../influxql.ts';
import { colouredCell, metricPanel, metricQuery, organize, tablePanel } from '../panels.ts';

// GB 50116-2013 9.2.3: residual-current alarm set between 300 and 500 mA (natural leakage 100-200 mA).
export const RESIDUAL_CURRENT_ALARM_MA = 300;
// Cable temperature alarm 60-80 °C in common practice [U]; 70 °C drawn, the rules hold the real setpoint.
export const CABLE_TEMPERATURE_ALARM_C = 70;
// Over-voltage at 110 % of 220 V (242 V), under-voltage at 85 % (187 V) [U].
export const OVER_VOLTAGE_V = 242;
export const UNDER_VOLTAGE_V = 187;

const residualBands = () => thresholds(NORMAL, [RESIDUAL_CURRENT_ALARM_MA, levelColour(2)]);
const cableBands = () => thresholds(NORMAL, [CABLE_TEMPERATURE_ALARM_C, levelColour(2)]);

export const electrical: BoardSpec = {
  file: 'electrical-fire.json',
  build({ ranges }) {
    const now = from('power_meter', DATASOURCE)
      .select(
        { field: 'residual_current', fn: 'last', as: 'residual_current' },
        { field: 'cable_temperature', fn: 'last', as: 'cable_temperature' },
        { field: 'voltage', fn: 'last', as: 'voltage' },
        { field: 'current', fn: 'last', as: 'current' },
      )
      .whereVariable('enterprise', VAR.enterprise)
      .whereVariable('site', VAR.site)
      .whereVariable('device', VAR.device)
      .groupBy('enterprise', 'site', 'device')
      .format('table');
    const events = from('device_event', DATASOURCE)
      .select({ field: 'active', as: 'active' }, { tag: 'device' }, { tag: 'type' }, { field: 'message', as: 'message' })
      .whereVariable('enterprise', VAR.enterprise)
      .whereVariable('device', VAR.device)
      .whereTag('class', '=', 'power_meter')
      .whereTag('type', '!=', 'heartbeat')
      .orderByTimeDesc()
      .limit(500)
      .format('table');
    const opts = { ranges, site: true };
    return board('hazwatch-electrical-fire', 'Hazwatch · Electrical fire', 'Residual current, cable temperature, voltage and current of monitored circuits.')
      .withVariable(enterpriseVariable())
      .withVariable(siteVariable('power_meter'))
      .withVariable(deviceVariable('power_meter', 'site'))
      .annotations(alarmAnnotations(true))
      .withRow(new dashboard.RowBuilder('Fire risk'))
      .withPanel(metricPanel('power_meter', 'residual_current', 'Residual current', metricQuery('power_meter', 'residual_current', { ...opts, fn: 'max' }), residualBands()))
      .withPanel(metricPanel('power_meter', 'cable_temperature', 'Cable temperature', metricQuery('power_meter', 'cable_temperature', { ...opts, fn: 'max' }), cableBands()))
      .withRow(new dashboard.RowBuilder('Supply'))
      .withPanel(
        metricPanel('power_meter', 'voltage', 'Voltage', metricQuery('power_meter', 'voltage', opts), thresholds(levelColour(3), [UNDER_VOLTAGE_V, NORMAL], [OVER_VOLTAGE_V, levelColour(3)])),
      )
      .withPanel(metricPanel('power_meter', 'current', 'Current', metricQuery('power_meter', 'current', opts)))
      .withPanel(metricPanel('power_meter', 'power', 'Active power', metricQuery('power_meter', 'power', opts)))
      .withPanel(
        tablePanel('Circuits now', 'Newest values of each monitored circuit; Time is when they were measured.', now)
          .withTransformation(
            organize({ Time: 'Measured at', enterprise: 'Enterprise', site: 'Site', device: 'Circuit', residual_current: 'Residual current (mA)', cable_temperature: 'Cable temperature (°C)', voltage: 'Voltage (V)', current: 'Current (A)' }, []),
          )
          .overrideByName('residual_current', colouredCell(residualBands()))
          .overrideByName('cable_temperature', colouredCell(cableBands())),
      )
      .withRow(new dashboard.RowBuilder('Events'))
      .withPanel(
        tablePanel('Monitor events', 'Arc faults, sensor short/open circuits, faults and tamper reported by the monitors (newest first).', events)
          .span(24)
          .height(8)
          .withTransformation(organize({ device: 'Circuit', type: 'Event', active: 'Active', message: 'Message' }, [])),
      )
      .build();
  },
};
