// The alarm store as every process sees it: the rules engine raises, escalates and clears; the API
// records operator actions; both read. Every method is async so that a PostgreSQL implementation can
// fill the same interface for multi-node deployments (rules/store.ts is the embedded SQLite one).
import type {
  Alarm,
  AlarmCause,
  AlarmCondition,
  AlarmEventPayload,
  AlarmHistoryEntry,
  AlarmLevel,
  AlarmState,
  MaintenanceWindow,
} from '../contract/alarms.ts';

export interface AlarmFilter {
  enterprise?: string;
  /** Only these enterprises (an account's scope, docs/jurisdictions.md); an empty list: none. */
  enterprises?: readonly string[];
  device?: string;
  states?: AlarmState[];
  levels?: AlarmLevel[];
  conditions?: AlarmCondition[];
  /** Device classes (`device_class in (...)`). */
  deviceClasses?: string[];
  /** Free text: the device id contains it (case-insensitive). */
  deviceText?: string;
  /** raisedAt >= from (epoch ms). */
  from?: number;
  /** raisedAt < to (epoch ms). */
  to?: number;
  /** Only the consequences grouped under this alarm. */
  parent?: string;
  /** Only alarms of their own (not grouped under a cause): what an operator must act on. */
  topLevel?: boolean;
  /** Default 100, at most 1000. */
  limit?: number;
  offset?: number;
}

/** What the rules engine knows when a condition starts. */
export interface RaiseInput {
  enterprise: string;
  device: string;
  deviceClass: string;
  site: string;
  hazardSource: string | null;
  condition: AlarmCondition;
  level: AlarmLevel;
  metric: string | null;
  value: number | boolean | null;
  threshold: number | null;
  message: string;
  /** The rule file's Chinese line, when it has one. */
  messageZh?: string | null;
  /** Time of the reading or event that raised it (device time when sane). */
  at: number;
  /** The rule that decided, for the record. */
  rule?: string;
  /** The active alarm of its cause, when it is a consequence of one (rules' `groupUnder`). */
  parentId?: string | null;
  /** The snapshot of a camera event that raised it. */
  snapshot?: string | null;
}

export interface CorroborationInput {
  /** The event rule whose stage is active, and the condition it would raise on its own. */
  rule: string;
  condition: AlarmCondition;
  event: string;
  level: AlarmLevel;
  at: number;
  note?: string;
}

export interface LevelChangeInput {
  level: AlarmLevel;
  value: number | boolean | null;
  threshold: number | null;
  message: string;
  messageZh?: string | null;
  at: number;
  rule?: string;
  snapshot?: string | null;
}

export interface MaintenanceInput {
  enterprise: string;
  device: string;
  /** null or absent: the whole device. */
  condition?: AlarmCondition | null;
  by: string;
  reason: string;
  /** Epoch ms; must lie in the future. */
  until: number;
  /** Epoch ms the window starts at: absent or past, now; later, a window planned ahead (it starts then). */
  from?: number;
}

export interface MaintenanceFilter {
  enterprise?: string;
  /** Only these enterprises; an empty list: none. */
  enterprises?: readonly string[];
  device?: string;
  /** Only windows in force at this time (epoch ms). */
  activeAt?: number;
  /** Windows not ended nor expired at this time: in force, or planned to start later. */
  currentAt?: number;
}

/** One queued notification (see rules/notify/). */
export interface NotificationJob {
  id: number;
  channel: string;
  alarmId: string;
  seq: number;
  tier: number;
  kind: string;
  payload: AlarmEventPayload;
  attempts: number;
  nextAt: number;
  createdAt: number;
}

/** A stage of a rule on its way up (counting samples in a row, or waiting out an on-delay). */
export interface PendingStage {
  /** The rule's id and the stage's level. */
  rule: string;
  level: AlarmLevel;
  /** Readings counted so far, and the time of the first. */
  count: number;
  since: number;
}

/** A device's stages on their way up, saved so that a rules process restarted goes on counting. */
export interface PendingState {
  enterprise: string;
  device: string;
  stages: PendingStage[];
  /** Time of the last reading evaluated when they were saved: a reading redelivered after a crash is not counted twice. */
  lastTs: number;
}

export interface AlarmStore {
  // ---- reading ----
  list(filter?: AlarmFilter): Promise<Alarm[]>;
  count(filter?: Omit<AlarmFilter, 'limit' | 'offset'>): Promise<number>;
  get(id: string): Promise<Alarm | undefined>;
  /** Append-only history of one alarm, oldest first. */
  history(id: string): Promise<AlarmHistoryEntry[]>;
  /** The histories of these alarms, by alarm id then seq (exports). */
  historyOf(ids: string[]): Promise<AlarmHistoryEntry[]>;
  /** Every change with seq > afterSeq, in seq order (at most `limit`, default 1000): the outbox. */
  tailHistory(afterSeq: number, limit?: number): Promise<AlarmEventPayload[]>;
  /** Highest seq written so far (0 when empty). */
  lastSeq(): Promise<number>;

  // ---- operator actions: each returns the change, or throws HazwatchError HW_ERR_NOT_FOUND / HW_ERR_ALARM_TRANSITION ----
  acknowledge(id: string, by: string, note?: string): Promise<AlarmEventPayload>;
  feedback(id: string, by: string, feedback: { cause: AlarmCause; measures: string; note?: string }): Promise<AlarmEventPayload>;
  shelve(id: string, by: string, until: number, reason: string): Promise<AlarmEventPayload>;
  unshelve(id: string, by: string): Promise<AlarmEventPayload>;
  /** Manual clear with a reason; if the condition persists the rules engine raises a new instance. */
  clear(id: string, by: string, reason: string): Promise<AlarmEventPayload>;
  closeAlarm(id: string, by: string, note?: string): Promise<AlarmEventPayload>;

  // ---- planned maintenance ----
  setMaintenance(input: MaintenanceInput): Promise<MaintenanceWindow>;
  endMaintenance(id: string, by: string): Promise<MaintenanceWindow>;
  maintenance(filter?: MaintenanceFilter): Promise<MaintenanceWindow[]>;

  // ---- rules engine ----
  /** Raises a new instance, or returns the change to the one already active for device+condition (never a duplicate). */
  raise(input: RaiseInput): Promise<AlarmEventPayload | undefined>;
  /** Escalates or de-escalates an active instance in place; undefined when nothing changed. */
  changeLevel(id: string, input: LevelChangeInput): Promise<AlarmEventPayload | undefined>;
  /** The condition returned past its clear threshold; undefined when the alarm was no longer active. */
  clearAuto(id: string, value: number | boolean | null, at: number, message?: string): Promise<AlarmEventPayload | undefined>;
  /** Instances whose condition is active, one per device+condition. */
  activeInstances(): Promise<Alarm[]>;
  /** The instance whose condition is active for this device and condition, if any. */
  activeFor(enterprise: string, device: string, condition: AlarmCondition): Promise<Alarm | undefined>;
  /** Saves a device's stages on their way up (none: forgets them). Not part of the history: no seq. */
  savePending(state: PendingState): Promise<void>;
  /** Every device's saved stages on their way up (a rules process starting). */
  pendingStates(): Promise<PendingState[]>;
  /** Ends expired shelving and maintenance; returns the changes made. */
  expire(now: number): Promise<AlarmEventPayload[]>;
  /** Puts an alarm under the alarm of its cause ('grouped'); undefined when it already has one or is closed. */
  group(id: string, parentId: string, at: number): Promise<AlarmEventPayload | undefined>;
  /** Records the device's own event on the same measurement on an active alarm ('corroborated'). */
  corroborate(id: string, input: CorroborationInput): Promise<AlarmEventPayload | undefined>;
  /** Records a notification in the alarm's history ('notified' or 'escalated_notification'). */
  recordNotified(id: string, action: 'notified' | 'escalated_notification', data: Record<string, unknown>): Promise<AlarmEventPayload>;

  // ---- outbox cursors and the notification queue (used by the single publisher, the rules process) ----
  cursor(name: string): Promise<number>;
  setCursor(name: string, seq: number): Promise<void>;
  /** Queues notifications and moves the cursor in one transaction (exactly-once enqueue). */
  enqueueNotifications(cursorName: string, cursorSeq: number, jobs: Omit<NotificationJob, 'id' | 'attempts' | 'createdAt'>[]): Promise<void>;
  dueNotifications(channel: string, now: number, limit?: number): Promise<NotificationJob[]>;
  pendingNotificationChannels(): Promise<string[]>;
  finishNotifications(ids: number[]): Promise<void>;
  retryNotification(id: number, nextAt: number, error: string): Promise<void>;

  dispose(): Promise<void>;
}
