// Settings of hidden dangers (隐患): the `dangers` section, HAZWATCH_DANGERS_* in the environment.
import { z } from 'zod';

export const dangersConfig = z
  .object({
    path: z.string().optional().describe('SQLite file of hidden dangers and their evidence (default <dataDir>/dangers.db; ignored when database.url is set)'),
    checkSeconds: z.number().int().min(1).max(3600).default(60).describe('How often the API looks for overdue hidden dangers to escalate, seconds'),
    evidenceMaxBytes: z
      .number()
      .int()
      .min(1024)
      .max(100 * 1024 * 1024)
      .default(10 * 1024 * 1024)
      .describe('Largest evidence file (photo or PDF) accepted, bytes'),
    escalation: z
      .object({
        firstAfterMinutes: z.number().min(0).max(7 * 24 * 60).default(0).describe("Tier 1 (the enterprise's leader on duty): this long after the deadline, minutes"),
        generalHours: z.number().min(0).max(30 * 24).default(24).describe("Tier 2 (the bureau's duty) for a general danger: this long after tier 1, hours"),
        majorHours: z.number().min(0).max(30 * 24).default(4).describe("Tier 2 (the bureau's duty) for a major danger: this long after tier 1, hours"),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});
export type DangersConfig = z.infer<typeof dangersConfig>;
export type EscalationConfig = DangersConfig['escalation'];
