// What every hazwatch dashboard shares: the provisioned data source, the template variables, the
// alarm annotations, threshold colours that follow the alarm levels, and the finishing steps
// (panel ids, stable JSON) that make the generated files reproducible.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { LEVEL_COLOURS, type AlarmLevel } from '../contract/alarms.ts';
import type { DeviceClass } from '../contract/catalog.ts';
import { from, fromSubquery, showTagValues } from './influxql.ts';
import type { Measurement, TagOf } from './schema.ts';
import type { LongRanges } from './tiers.ts';

/** The data source deploy/grafana/provisioning/datasources/influxdb.yaml provisions, with this uid. */
export const DATASOURCE_UID = 'hazwatch-influxdb';
export const DATASOURCE: DataSourceRef = { type: 'influxdb', uid: DATASOURCE_UID };

/** Colour of values in the normal range. */
export const NORMAL = 'green';

export function levelColour(level: AlarmLevel): string {
  return LEVEL_COLOURS[level].hex;
}

/** Absolute threshold steps: a base colour, then `[value, colour]` in ascending order. */
export function thresholds(base: string, ...steps: [number, string][]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: base }, ...steps.map(([value, color]) => ({ value, color }))]);
}

/** A count that is harmless at 0 and shows the level colour from 1 on (active alarms, offline devices). */
export function countThresholds(level: AlarmLevel): dashboard.ThresholdsConfigBuilder {
  return thresholds(NORMAL, [1, levelColour(level)]);
}

export const VAR = { enterprise: 'enterprise', hazardSource: 'hazard_source', device: 'device', site: 'site' } as const;

function tagVariable(name: string, label: string, query: string): dashboard.QueryVariableBuilder {
  return (
    new dashboard.QueryVariableBuilder(name)
      .label(label)
      .datasource(DATASOURCE)
      .query(query)
      .definition(query)
      .refresh(dashboard.VariableRefresh.OnDashboardLoad)
      .sort(dashboard.VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      // "All" as `.*` keeps the queries short with thousands of devices; the other filters still apply.
      .allValue('.*')
      .current({ selected: true, text: ['All'], value: ['$__all'] })
  );
}

export function enterpriseVariable(): dashboard.QueryVariableBuilder {
  return tagVariable(VAR.enterprise, 'Enterprise', showTagValues(null, 'enterprise'));
}

export function hazardSourceVariable(): dashboard.QueryVariableBuilder {
  return tagVariable(VAR.hazardSource, 'Hazard source', showTagValues('vessel', 'hazard_source', [{ tag: 'enterprise', variable: VAR.enterprise }]));
}

/** Sites (areas) of an enterprise where devices of this class report. */
export function siteVariable(measurement: Measurement): dashboard.QueryVariableBuilder {
  return tagVariable(VAR.site, 'Site', showTagValues(measurement, 'site' as TagOf<Measurement>, [{ tag: 'enterprise', variable: VAR.enterprise }]));
}

/** Devices of one class, narrowed by the enterprise (and hazard source where the dashboard has one). */
export function deviceVariable(measurement: Measurement, narrowBy: 'hazard_source' | 'site' | null = null): dashboard.QueryVariableBuilder {
  const filters: { tag: TagOf<Measurement>; variable: string }[] = [{ tag: 'enterprise', variable: VAR.enterprise }];
  if (narrowBy === 'hazard_source') filters.push({ tag: 'hazard_source' as TagOf<Measurement>, variable: VAR.hazardSource });
  if (narrowBy === 'site') filters.push({ tag: 'site' as TagOf<Measurement>, variable: VAR.site });
  return tagVariable(VAR.device, 'Device', showTagValues(measurement, 'device' as TagOf<Measurement>, filters));
}

/** Alarm changes as annotations, one toggle per level in its colour. */
export function alarmAnnotations(deviceFilter: boolean): cog.Builder<dashboard.AnnotationQuery>[] {
  return ([1, 2, 3, 4] as AlarmLevel[]).map((level) => {
    const q = from('alarm_event', DATASOURCE)
      .select({ field: 'message' }, { tag: 'device' }, { tag: 'condition' }, { tag: 'action' }, { field: 'state' })
      .whereVariable('enterprise', VAR.enterprise)
      .whereTag('level', '=', String(level));
    if (deviceFilter) q.whereVariable('device', VAR.device);
    const target = {
      build: () => ({
        ...q.build(),
        refId: 'Anno',
        fromAnnotations: true,
        textEditor: true,
        textColumn: 'message',
        tagsColumn: 'device,condition,action,state',
        titleColumn: '',
        timeEndColumn: '',
      }),
    };
    return new dashboard.AnnotationQueryBuilder()
      .name(`Level ${level} alarms (${LEVEL_COLOURS[level].name})`)
      .datasource(DATASOURCE)
      .enable(level <= 2)
      .iconColor(levelColour(level))
      .target(target);
  });
}

/**
 * The newest state of each alarm (one per device and condition: the rules engine escalates one alarm
 * instead of raising duplicates) over the last 30 days, with its level selected from the tag.
 * 30 days is the retention the regulations require, so no alarm still open can be older.
 */
export function latestAlarmStates(deviceFilter = false) {
  const q = from('alarm_event', DATASOURCE)
    .select({ field: 'state', fn: 'last', as: 'state' }, { tag: 'level', as: 'alarm_level' })
    .since('30d')
    .whereVariable('enterprise', VAR.enterprise);
  if (deviceFilter) q.whereVariable('device', VAR.device);
  return q.groupBy('enterprise', 'device', 'condition');
}

/** Active (unacknowledged or acknowledged, not cleared) alarms at one level, counted per `groupBy` tag. */
export function activeAlarmCount(level: AlarmLevel, groupBy: ('enterprise' | 'device')[] = [], deviceFilter = false) {
  const q = fromSubquery(latestAlarmStates(deviceFilter), DATASOURCE)
    .select({ field: 'state', fn: 'count', as: `level_${level}` })
    .anyTime()
    .whereField('state', '=~', /^active_/)
    .whereField('alarm_level', '=', String(level));
  if (groupBy.length) q.groupBy(...groupBy);
  return q;
}

/**
 * Devices offline: those whose HW_ALM_DEVICE_OFFLINE alarm is active. The alarm follows the one
 * definition of contract/presence.ts (an intermittent device's DISCONNECT is not offline), which the raw
 * device_status (its connection) does not.
 */
export function offlineDeviceCount(groupBy: 'enterprise'[] = []) {
  const inner = from('alarm_event', DATASOURCE)
    .select({ field: 'state', fn: 'last', as: 'state' })
    .since('30d')
    .whereVariable('enterprise', VAR.enterprise)
    .whereTag('condition', '=', 'HW_ALM_DEVICE_OFFLINE')
    .groupBy('enterprise', 'device');
  const q = fromSubquery(inner, DATASOURCE).select({ field: 'state', fn: 'count', as: 'offline' }).anyTime().whereField('state', '=~', /^active_/);
  if (groupBy.length) q.groupBy(...groupBy);
  return q;
}

/** Minimum $__interval of a class's panels: its reporting interval, so no bucket is empty by design. */
export function classInterval(seconds: number): string {
  return `${seconds}s`;
}

/** Gaps of three reporting intervals stay visible as gaps: a missing reading is a fact (panels.ts metricPanel). */
export function gapMs(seconds: number): number {
  return seconds * 3 * 1000;
}

/** What a board is built from besides the code: how long ranges are read (dashboards/tiers.ts). */
export interface BoardContext {
  ranges: LongRanges;
}

export interface BoardSpec {
  /** File name under deploy/grafana/dashboards/. */
  file: string;
  build(ctx: BoardContext): dashboard.Dashboard;
}

/** Common settings: uid, tags, time, refresh, links between the hazwatch dashboards. */
export function board(uid: string, title: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['hazwatch'])
    .timezone('browser')
    .refresh('10s')
    .time({ from: 'now-6h', to: 'now' })
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .readonly()
    .link(
      new dashboard.DashboardLinkBuilder('Hazwatch')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(['hazwatch'])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
}

/** Gives every panel (rows and their children included) a unique id in layout order. */
export function numberPanels(d: dashboard.Dashboard): dashboard.Dashboard {
  let id = 1;
  const walk = (panels: { id?: number; panels?: unknown[] }[] | undefined) => {
    for (const p of panels ?? []) {
      p.id = id++;
      if (Array.isArray(p.panels)) walk(p.panels as { id?: number }[]);
    }
  };
  walk(d.panels as { id?: number; panels?: unknown[] }[]);
  // Grafana expects the lists even when a dashboard has no variables or annotations.
  d.templating = { list: d.templating?.list ?? [] };
  d.annotations = { list: d.annotations?.list ?? [] };
  return d;
}

/** JSON with object keys sorted and functions dropped: same dashboards, same bytes. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) {
        const child = (v as Record<string, unknown>)[key];
        if (typeof child === 'function' || child === undefined) continue;
        out[key] = sort(child);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sort(value), null, 2) + '\n';
}

export type { DeviceClass };
