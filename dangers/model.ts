// A hidden danger (隐患) as the API takes it and the store keeps it: found in an alarm, an inspection
// or by hand, rectified by a deadline (限时整改), rechecked by someone else (回头看) and closed (闭环).
import { z } from 'zod';
import { ID_PATTERN } from '../contract/topics.ts';
import type { EscalationConfig } from './config.ts';

const Id = z.string().regex(ID_PATTERN, 'letters, digits, _ . -; at most 64; starting with a letter or digit');

export const DANGER_GRADES = ['general', 'major'] as const;
export type DangerGrade = (typeof DANGER_GRADES)[number];
export const DANGER_ORIGINS = ['alarm', 'inspection', 'manual'] as const;
export type DangerOrigin = (typeof DANGER_ORIGINS)[number];
/**
 * open: being rectified (整改中); rectified: evidence submitted, waiting for the recheck (待复查);
 * rechecked: the recheck passed, waiting to be closed (复查通过, 待销号); closed (已闭环).
 * A failed recheck sends it back to open with a new deadline.
 */
export const DANGER_STATES = ['open', 'rectified', 'rechecked', 'closed'] as const;
export type DangerState = (typeof DANGER_STATES)[number];
export const DANGER_ACTIONS = ['opened', 'evidence_added', 'rectified', 'recheck_passed', 'recheck_failed', 'closed', 'deadline_changed', 'escalated'] as const;
export type DangerAction = (typeof DANGER_ACTIONS)[number];
/** 1: the enterprise's leader on duty; 2: the bureau's duty. */
export const MAX_TIER = 2;

export const Responsible = z
  .object({
    name: z.string().trim().min(1, 'name the person responsible').max(100),
    phone: z.string().trim().max(50).default(''),
  })
  .strict();

/** What opening a danger takes; with `alarmId`, what is left out comes from the alarm. */
export const DangerInput = z
  .object({
    enterprise: Id.optional().describe("The enterprise; default: the alarm's, or an enterprise user's own"),
    hazardSource: Id.nullable().optional().describe('A hazard source of the enterprise (registry)'),
    device: Id.nullable().optional().describe('A device of the enterprise'),
    alarmId: z.string().min(1).max(100).optional().describe('Opened from this alarm: enterprise, device, hazard source, title and description default to its own'),
    origin: z.enum(DANGER_ORIGINS).optional().describe('alarm (default with alarmId), inspection, or manual (default otherwise)'),
    title: z.string().trim().min(1).max(200).optional().describe('Required unless opened from an alarm'),
    description: z.string().trim().max(4000).optional(),
    grade: z.enum(DANGER_GRADES).describe('general (一般隐患) or major (重大隐患)'),
    responsible: Responsible.describe('The person responsible for the rectification'),
    deadline: z.number().int().describe('Rectify by (epoch ms); must lie in the future'),
  })
  .strict();
export type DangerInput = z.infer<typeof DangerInput>;

export interface Danger {
  id: string;
  enterprise: string;
  hazardSource: string | null;
  device: string | null;
  alarmId: string | null;
  origin: DangerOrigin;
  title: string;
  description: string;
  grade: DangerGrade;
  responsible: { name: string; phone: string };
  deadline: number;
  state: DangerState;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  rectifiedBy: string | null;
  rectifiedAt: number | null;
  closedBy: string | null;
  closedAt: number | null;
  /** Escalation tiers reached under the current deadline (0: none yet). */
  escalatedTier: number;
  /** When the next tier is due while it stays open; null: no further tier. */
  nextEscalationAt: number | null;
  /** Open past its deadline (derived at read time). */
  overdue: boolean;
  evidenceCount: number;
}

export interface DangerHistoryEntry {
  dangerId: string;
  seq: number;
  at: number;
  action: DangerAction;
  /** An account's user name, or `system` (escalation). */
  by: string;
  /** State after the change. */
  state: DangerState;
  note: string | null;
  data: Record<string, unknown> | null;
}

export interface Evidence {
  id: number;
  dangerId: string;
  name: string;
  contentType: EvidenceType;
  size: number;
  sha256: string;
  by: string;
  at: number;
}

export const EVIDENCE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'] as const;
export type EvidenceType = (typeof EVIDENCE_TYPES)[number];

/** Open and past its deadline. */
export function isOverdue(d: { state: DangerState; deadline: number }, now: number): boolean {
  return d.state === 'open' && d.deadline < now;
}

/**
 * When tier `tier` (1 or 2) falls due under a deadline: tier 1 `firstAfterMinutes` after it, tier 2
 * the grade's interval after tier 1 (a major danger sooner). null past the last tier.
 */
export function tierDueAt(tier: number, deadline: number, grade: DangerGrade, c: EscalationConfig): number | null {
  const first = deadline + c.firstAfterMinutes * 60_000;
  if (tier === 1) return first;
  if (tier === 2) return first + (grade === 'major' ? c.majorHours : c.generalHours) * 3_600_000;
  return null;
}
