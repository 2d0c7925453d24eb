// Alarm-quality figures (api/alarm-quality.ts) over a period, in the caller's scope, and the monthly
// report as a printable page.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Alarm } from '../../contract/alarms.ts';
import { HazwatchError } from '../../contract/errors.ts';
import { allAlarms } from '../alarm-pages.ts';
import { alarmQuality, BENCHMARKS } from '../alarm-quality.ts';
import { authenticate, require, scopeFilter } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { renderQualityReport } from '../quality-report.ts';
import { errorResponses } from '../schemas.ts';

const DAY = 86_400_000;
/** ISA-18.2 judges its figures over at least 30 days. */
const DEFAULT_DAYS = 30;
/** A period longer than this is refused: the figures are computed from every alarm of it. */
const MAX_DAYS = 400;

const Epoch = z.coerce.number().int().min(0);
const QualityQuery = z
  .object({
    from: Epoch.optional().describe('Start, epoch ms (default: 30 days before `to`)'),
    to: Epoch.optional().describe('End, epoch ms (default: now)'),
    enterprise: z.string().min(1).max(64).optional(),
  })
  .strict();
const ReportQuery = z
  .object({
    month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM').optional().describe('Calendar month in China Standard Time (default: the last complete one)'),
    enterprise: z.string().min(1).max(64).optional(),
    lang: z.enum(['zh', 'en']).default('zh'),
  })
  .strict();

/** China Standard Time (UTC+8, no daylight saving): the month of a monitoring room in China. */
const CST = 8 * 3_600_000;
function monthRange(month: string | undefined, now: number): { from: number; to: number } {
  let y: number;
  let m: number;
  if (month) [y, m] = month.split('-').map(Number);
  else {
    const d = new Date(now + CST);
    y = d.getUTCFullYear();
    m = d.getUTCMonth(); // the last complete month, 1-based
    if (m === 0) (y -= 1), (m = 12);
  }
  return { from: Date.UTC(y, m - 1, 1) - CST, to: Date.UTC(y, m, 1) - CST };
}

export function qualityRoutes(root: FastifyInstance, ctx: ApiContext): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const auth = authenticate(ctx.accounts);

  /** Every alarm raised in the period, and the ones still active from before it (standing alarms), in scope. */
  async function alarmsOf(enterprises: string[] | undefined, from: number, to: number): Promise<Alarm[]> {
    if (to <= from) throw new HazwatchError('HW_ERR_VALIDATION', 'the period must end after it starts');
    if (to - from > MAX_DAYS * DAY) throw new HazwatchError('HW_ERR_VALIDATION', `a period of at most ${MAX_DAYS} days`);
    const raised = await allAlarms(ctx.alarms, { enterprises, from, to });
    const before = await allAlarms(ctx.alarms, { enterprises, to: from, states: ['active_unacknowledged', 'active_acknowledged', 'shelved'] });
    return [...raised, ...before];
  }

  app.get(
    '/api/v1/alarm-quality',
    { schema: { tags: ['alarms'], summary: 'Alarm-quality figures (ISA-18.2, EEMUA 191) over a period, with their benchmarks', querystring: QualityQuery, response: { 200: z.any(), ...errorResponses } }, preValidation: auth },
    async (req) => {
      require(req, 'read');
      const enterprises = scopeFilter(req, req.query.enterprise);
      const to = req.query.to ?? ctx.now();
      const from = req.query.from ?? to - DEFAULT_DAYS * DAY;
      // `enterprise`: the one the figures are about, when they are about one.
      return { ...alarmQuality(await alarmsOf(enterprises, from, to), from, to), enterprise: req.query.enterprise ?? (enterprises?.length === 1 ? enterprises[0] : null), benchmarks: BENCHMARKS };
    },
  );

  app.get(
    '/api/v1/alarm-quality/report',
    { schema: { tags: ['alarms'], summary: 'The monthly alarm-quality report, a printable HTML page (print it to PDF)', querystring: ReportQuery, response: { 200: z.string(), ...errorResponses } }, preValidation: auth },
    async (req, reply) => {
      require(req, 'read');
      const enterprises = scopeFilter(req, req.query.enterprise);
      const enterprise = req.query.enterprise ?? (enterprises?.length === 1 ? enterprises[0] : undefined);
      const month = monthRange(req.query.month, ctx.now());
      // The month so far, when it is the current one: rates over the time that has passed.
      const to = Math.min(month.to, ctx.now());
      const figures = alarmQuality(await alarmsOf(enterprises, month.from, to), month.from, to);
      return reply.type('text/html; charset=utf-8').send(renderQualityReport(figures, { lang: req.query.lang, enterprise }));
    },
  );
}
