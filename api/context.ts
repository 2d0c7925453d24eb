// What every route of the API works with; built once by startApi/buildApi, passed in, no globals.
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Logger } from '../core/log.ts';
import type { Registry } from '../registry/registry.ts';
import type { HazardSources } from '../registry/hazard-sources.ts';
import type { Jurisdictions } from '../registry/jurisdictions.ts';
import type { AlarmStore } from '../rules/store-types.ts';
import type { AccountStore } from './accounts.ts';
import type { ApiConfig } from './config.ts';
import type { InfluxTarget } from './chart.ts';
import type { LatestStore } from './latest.ts';
import type { ResourceStore } from '../resources/store.ts';
import type { RosterStore } from '../registry/roster.ts';
import type { DispatchConfig } from '../core/dispatch/config.ts';
import type { Dispatcher } from '../core/dispatch/dispatcher.ts';
import type { Outbox } from '../core/dispatch/store.ts';
import type { WarningService } from '../warnings/service.ts';
import type { WarningStore } from '../warnings/store.ts';
import type { DangerStore } from '../dangers/store.ts';
import type { DangersConfig } from '../dangers/config.ts';
import type { Danger } from '../dangers/model.ts';
import type { CommandService } from './command-service.ts';
import type { CommandStore } from './commands-store.ts';

/** Something open a shift hands over (duty handover, issue 16). */
export type OpenItem = { kind: 'alarm' | 'warning' | 'danger'; id: string; title: string; enterprise: string; level?: number; since: number; overdue?: boolean; link: string };
/** A component's open work in a scope (an enterprise, or everything). */
export type OpenWorkSource = (scope: { enterprise?: string }) => Promise<OpenItem[]>;

export interface ApiContext {
  config: ApiConfig;
  log: Logger;
  metrics: MetricsRegistry;
  registry: Registry;
  sources: HazardSources;
  /** The jurisdiction tree and the enterprises' nodes (registry/jurisdictions.ts): what every account's scope is computed from. */
  jurisdictions: Jurisdictions;
  accounts: AccountStore;
  alarms: AlarmStore;
  /** Emergency resources (resources/store.ts). */
  resources: ResourceStore;
  latest: LatestStore;
  /** Warning publication (warnings/): the service, its store, the outbox of messages, the sender. */
  warnings: WarningService;
  warningStore: WarningStore;
  outbox: Outbox;
  dispatcher: Dispatcher;
  dispatch: DispatchConfig;
  influx?: InfluxTarget;
  /** Rule files of the rules engine (rules.files), to show the thresholds in force per device. */
  ruleFiles: string[];
  now: () => number;
  /** Whether the API can serve its job right now (stores open, broker connection up). */
  ready: () => boolean;
  /** Hidden dangers (dangers/store.ts) and their settings (the `dangers` section). */
  dangers: DangerStore;
  dangersConfig: DangersConfig;
  /** Called once per tier an overdue hidden danger escalates to (1: the enterprise's leader on duty, 2: the bureau's duty). */
  onDangerEscalated?: (danger: Danger, tier: number) => Promise<void>;
  /** The duty roster (registry/roster.ts): units, people, shifts, who is on duty, handovers. */
  roster: RosterStore;
  /** Where the duty handover collects open work from: each component pushes its source. */
  openWork: OpenWorkSource[];
  /** Device commands (issue 15): sending on the API's broker connection, and their record. */
  commands?: CommandService;
  commandStore?: CommandStore;
}
