// What every route of the API works with; built once by startApi/buildApi, passed in, no globals.
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Logger } from '../core/log.ts';
import type { Registry } from '../registry/registry.ts';
import type { HazardSources } from '../registry/hazard-sources.ts';
import type { AlarmStore } from '../rules/store-types.ts';
import type { AccountStore } from './accounts.ts';
import type { ApiConfig } from './config.ts';
import type { InfluxTarget } from './chart.ts';
import type { LatestStore } from './latest.ts';
import type { ResourceStore } from '../resources/store.ts';

export interface ApiContext {
  config: ApiConfig;
  log: Logger;
  metrics: MetricsRegistry;
  registry: Registry;
  sources: HazardSources;
  accounts: AccountStore;
  alarms: AlarmStore;
  /** Emergency resources (resources/store.ts). */
  resources: ResourceStore;
  latest: LatestStore;
  influx?: InfluxTarget;
  /** Rule files of the rules engine (rules.files), to show the thresholds in force per device. */
  ruleFiles: string[];
  now: () => number;
  /** Whether the API can serve its job right now (stores open, broker connection up). */
  ready: () => boolean;
}
