// Alarm history: every alarm change (raised, escalated, acknowledged, cleared, closed, ...) as a
// table, alarms raised over time per level, and the same changes as annotations.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { LEVEL_COLOURS } from '../../contract/alarms.ts';
import { alarmAnnotations, board, DATASOURCE, enterpriseVariable, VAR } from '../common.ts';
import { from, showTagValues } from '../influxql.ts';
import { legend, organize, tablePanel } from '../panels.ts';
import { levelCellOverride } from './overview.ts';
const LEVELS = [1, 2, 3, 4];
function alarmTagVariable(name, label, key) {
    const query = showTagValues('alarm_event', key, [{ tag: 'enterprise', variable: VAR.enterprise }]);
    return new dashboard.QueryVariableBuilder(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .definition(query)
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .sort(dashboard.VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue('.*')
        .current({ selected: true, text: ['All'], value: ['$__all'] });
}
export const alarmHistory = {
    file: 'alarm-history.json',
    build() {
        const history = from('alarm_event', DATASOURCE)
            .select({ tag: 'enterprise' }, { tag: 'device' }, { tag: 'class' }, { tag: 'condition' }, { tag: 'level', as: 'alarm_level' }, { tag: 'action' }, { field: 'state', as: 'state' }, { field: 'value', as: 'value' }, { field: 'message', as: 'message' }, { field: 'by', as: 'by' }, { field: 'alarm_id', as: 'alarm_id' })
            .whereVariable('enterprise', VAR.enterprise)
            .whereVariable('device', VAR.device)
            .whereVariable('condition', 'condition')
            .whereVariable('level', 'level')
            .orderByTimeDesc()
            .limit(5000)
            .format('table');
        const raised = from('alarm_event', DATASOURCE)
            .select({ field: 'alarm_id', fn: 'count', as: 'raised' })
            .whereVariable('enterprise', VAR.enterprise)
            .whereVariable('device', VAR.device)
            .whereVariable('condition', 'condition')
            .whereVariable('level', 'level')
            .whereTag('action', '=', 'raised')
            .groupByTime()
            .groupBy('level')
            .fill(0)
            .alias('Level $tag_level');
        const perLevel = new timeseries.PanelBuilder()
            .title('Alarms raised per level')
            .datasource(DATASOURCE)
            .withTarget(raised)
            .drawStyle(common.GraphDrawStyle.Bars)
            .fillOpacity(80)
            .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
            .interval('1m')
            .legend(legend())
            .span(24)
            .height(7);
        for (const l of LEVELS)
            perLevel.overrideByName(`Level ${l}`, [{ id: 'color', value: { mode: 'fixed', fixedColor: LEVEL_COLOURS[l].hex } }]);
        return board('hazwatch-alarm-history', 'Hazwatch · Alarm history', 'Every alarm change with who and why, alarms raised per level over time.')
            .withVariable(enterpriseVariable())
            .withVariable(alarmTagVariable(VAR.device, 'Device', 'device'))
            .withVariable(alarmTagVariable('condition', 'Condition', 'condition'))
            .withVariable(new dashboard.CustomVariableBuilder('level')
            .label('Level')
            .values('1,2,3,4')
            .multi(true)
            .includeAll(true)
            .current({ selected: true, text: ['All'], value: ['$__all'] }))
            .annotations(alarmAnnotations(true))
            .withRow(new dashboard.RowBuilder('Alarms over time'))
            .withPanel(perLevel)
            .withRow(new dashboard.RowBuilder('Every change'))
            .withPanel(tablePanel('Alarm changes (newest first)', 'One row per change of an alarm: raised, escalated, acknowledged, feedback, cleared, closed, ... with who did it.', history)
            .span(24)
            .height(16)
            .filterable(true)
            .withTransformation(organize({ Time: 'Time', enterprise: 'Enterprise', device: 'Device', class: 'Class', condition: 'Condition', alarm_level: 'Level', action: 'Action', state: 'State', value: 'Value', message: 'Message', by: 'By', alarm_id: 'Alarm id' }, []))
            .overrideByName('alarm_level', levelCellOverride()))
            .build();
    },
};
