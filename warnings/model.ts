// A warning (预警) as the monitoring room publishes it: its own record, apart from the alarm that may
// have prompted it, with a level, the enterprises or area concerned, texts in two languages, the
// audiences it goes to, and a life: drafted → (approved) → published → updated … → all clear.
import { z } from 'zod';
import { AlarmLevel } from '../contract/alarms.ts';

export const WARNING_STATES = ['draft', 'pending_approval', 'rejected', 'published', 'all_clear', 'withdrawn'] as const;
export type WarningState = (typeof WARNING_STATES)[number];

export const WARNING_ACTIONS = ['drafted', 'edited', 'submitted', 'approved', 'rejected', 'published', 'updated', 'all_clear', 'withdrawn'] as const;
export type WarningAction = (typeof WARNING_ACTIONS)[number];

export const WarningDraft = z
  .object({
    level: AlarmLevel,
    title: z.string().min(1).max(200),
    /** Chinese text: what SMS, robots and displays carry. */
    text: z.string().min(1).max(2000),
    textEn: z.string().max(2000).default(''),
    /** Enterprise ids concerned (their people and units are addressed); may be empty for an area-wide warning. */
    enterprises: z.array(z.string()).max(500).default([]),
    /** The area in words (a park, a town, "downwind of tank farm 2"). */
    area: z.string().max(200).default(''),
    audiences: z.array(z.string()).min(1),
    alarmId: z.string().nullable().default(null),
  })
  .strict();
export type WarningDraft = z.infer<typeof WarningDraft>;

export interface Recipient {
  id: string;
  name: string;
  phone?: string;
  email?: string;
  /** The audiences that reached this person. */
  audiences: string[];
}

export interface Warning extends WarningDraft {
  id: string;
  state: WarningState;
  /** Publications so far: 0 none, 1 the first, then updates and the all-clear. */
  revisions: number;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  submittedBy: string | null;
  approvedBy: string | null;
  publishedAt: number | null;
  clearedAt: number | null;
  /** Who the first publication reached; updates and the all-clear go to the same people. */
  recipients: Recipient[];
}

export interface WarningHistoryEntry {
  seq: number;
  warningId: string;
  at: number;
  by: string;
  action: WarningAction;
  note: string | null;
  /** For publications: the revision and the text sent. */
  data: Record<string, unknown> | null;
}
