// Signing in and out, accounts (administrators), and the audit log.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HazwatchError } from '../../contract/errors.ts';
import { authenticate, require, requestScope, scopeFilter, SESSION_COOKIE, userOf } from '../auth.ts';
import type { User as UserRecord } from '../accounts.ts';
import type { ApiContext } from '../context.ts';
import { AuditEntry, AuditQuery, errorResponses, Login, NewUser, Ok, PasswordChange, SessionInfo, User, UserChange } from '../schemas.ts';

export function sessionRoutes(root: FastifyInstance, ctx: ApiContext): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const auth = authenticate(ctx.accounts);
  const cookieOptions = (expiresAt: number) => ({
    path: '/',
    httpOnly: true,
    sameSite: 'strict' as const,
    // Plain HTTP is common in closed monitoring networks; behind HTTPS the cookie never leaves it.
    secure: ctx.config.publicUrl?.startsWith('https:') ?? false,
    expires: new Date(expiresAt),
  });

  app.post(
    '/api/v1/session',
    {
      schema: { tags: ['session'], summary: 'Sign in; sets the console cookie and returns a bearer token', body: Login, response: { 200: SessionInfo, ...errorResponses } },
      config: { rateLimit: { max: ctx.config.loginRateLimit, timeWindow: 60_000 }, audit: 'session.login' },
    },
    async (req, reply) => {
      const user = await ctx.accounts.authenticate(req.body.username, req.body.password);
      if (!user) {
        req.auditAs = { username: req.body.username, role: 'unknown', enterprise: null };
        throw new HazwatchError('HW_ERR_UNAUTHENTICATED', 'wrong user name or password, or the account is disabled');
      }
      const { token, expiresAt } = await ctx.accounts.openSession(user.username);
      req.user = user;
      reply.setCookie(SESSION_COOKIE, token, cookieOptions(expiresAt));
      return { user, token, expiresAt, demo: ctx.config.demo };
    },
  );

  app.get('/api/v1/session', { schema: { tags: ['session'], summary: 'The signed-in account', response: { 200: SessionInfo.omit({ token: true }), ...errorResponses } }, preValidation: auth }, async (req) => {
    const session = await ctx.accounts.session(req.sessionToken!);
    if (!session) throw new HazwatchError('HW_ERR_UNAUTHENTICATED');
    return { user: session.user, expiresAt: session.expiresAt, demo: ctx.config.demo };
  });

  app.delete('/api/v1/session', { schema: { tags: ['session'], summary: 'Sign out', response: { 200: Ok, ...errorResponses } }, preValidation: auth, config: { audit: 'session.logout' } }, async (req, reply) => {
    await ctx.accounts.closeSession(req.sessionToken!);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true as const };
  });

  app.post(
    '/api/v1/session/password',
    { schema: { tags: ['session'], summary: 'Change one\'s own password (signs out every session)', body: PasswordChange, response: { 200: Ok, ...errorResponses } }, preValidation: auth, config: { audit: 'session.password' } },
    async (req) => {
      const user = userOf(req);
      if (!(await ctx.accounts.authenticate(user.username, req.body.currentPassword))) {
        throw new HazwatchError('HW_ERR_VALIDATION', 'currentPassword: does not match', { field: 'body.currentPassword' });
      }
      await ctx.accounts.setPassword(user.username, req.body.newPassword);
      return { ok: true as const };
    },
  );

  /**
   * Whether an administrator with a jurisdiction may see and manage this account: regulator accounts at
   * or below its node, enterprise accounts of its enterprises (docs/jurisdictions.md). Without one: all.
   */
  const accountInScope = (req: FastifyRequest, u: Pick<UserRecord, 'role' | 'enterprise' | 'jurisdiction'>): boolean => {
    const scope = requestScope(req);
    if (scope.all) return true;
    if (u.role === 'enterprise') return u.enterprise !== null && scope.enterprises.has(u.enterprise);
    return scope.node !== null && u.jurisdiction !== null && ctx.jurisdictions.isAtOrBelow(u.jurisdiction, scope.node);
  };
  /** The account as it would be: its jurisdiction exists, and it stays within the administrator's own scope. */
  const checkAccount = (req: FastifyRequest, u: Pick<UserRecord, 'role' | 'enterprise' | 'jurisdiction'>) => {
    if (u.jurisdiction && !ctx.jurisdictions.node(u.jurisdiction)) throw new HazwatchError('HW_ERR_VALIDATION', `jurisdiction: no jurisdiction ${u.jurisdiction}`, { field: 'body.jurisdiction' });
    if (!accountInScope(req, u)) {
      const field = u.role === 'enterprise' ? 'body.enterprise' : 'body.jurisdiction';
      throw new HazwatchError('HW_ERR_FORBIDDEN', `${field.slice(5)}: account ${userOf(req).username} may only manage accounts within its own jurisdiction`, { field });
    }
  };

  app.get('/api/v1/accounts', { schema: { tags: ['accounts'], summary: 'Console and API accounts (an administrator with a jurisdiction: those within it)', response: { 200: z.array(User), ...errorResponses } }, preValidation: auth }, async (req) => {
    require(req, 'account.read');
    return (await ctx.accounts.list()).filter((u) => accountInScope(req, u));
  });

  app.post(
    '/api/v1/accounts',
    { schema: { tags: ['accounts'], summary: 'Create an account', body: NewUser, response: { 201: User, ...errorResponses } }, preValidation: auth, config: { audit: 'account.create' } },
    async (req, reply) => {
      require(req, 'account.write');
      req.auditTarget = req.body.username;
      if (req.body.enterprise && !ctx.registry.enterprise(req.body.enterprise)) {
        throw new HazwatchError('HW_ERR_VALIDATION', `enterprise: no enterprise ${req.body.enterprise}`, { field: 'body.enterprise' });
      }
      checkAccount(req, { role: req.body.role, enterprise: req.body.enterprise ?? null, jurisdiction: req.body.jurisdiction ?? null });
      const user = await ctx.accounts.create(req.body);
      reply.code(201);
      return user;
    },
  );

  app.patch(
    '/api/v1/accounts/:username',
    {
      schema: { tags: ['accounts'], summary: 'Change role, scope, name, password, or disable an account', params: z.object({ username: z.string() }), body: UserChange, response: { 200: User, ...errorResponses } },
      preValidation: auth,
      config: { audit: 'account.update' },
    },
    async (req) => {
      const admin = require(req, 'account.write');
      const { username } = req.params;
      const { password, disabled, ...change } = req.body;
      if (username === admin.username && (disabled || (change.role && change.role !== 'administrator'))) {
        throw new HazwatchError('HW_ERR_CONFLICT', 'an administrator cannot disable or demote their own account', { field: 'params.username' });
      }
      let user = await ctx.accounts.get(username);
      // Accounts outside the administrator's jurisdiction are not confirmed to exist.
      if (!user || !accountInScope(req, user)) throw new HazwatchError('HW_ERR_NOT_FOUND', `no account ${username}`);
      req.auditTarget = username;
      if (change.enterprise && !ctx.registry.enterprise(change.enterprise)) {
        throw new HazwatchError('HW_ERR_VALIDATION', `enterprise: no enterprise ${change.enterprise}`, { field: 'body.enterprise' });
      }
      const role = change.role ?? user.role;
      checkAccount(req, {
        role,
        enterprise: change.enterprise !== undefined ? change.enterprise : role === 'enterprise' ? user.enterprise : null,
        jurisdiction: change.jurisdiction !== undefined ? change.jurisdiction : role === 'enterprise' ? null : user.jurisdiction,
      });
      if (Object.keys(change).length) user = await ctx.accounts.update(username, change);
      if (password) await ctx.accounts.setPassword(username, password);
      if (disabled !== undefined) user = await ctx.accounts.setDisabled(username, disabled);
      return user;
    },
  );

  app.get('/api/v1/audit', { schema: { tags: ['audit'], summary: 'Audit log of every write, newest first', querystring: AuditQuery, response: { 200: z.array(AuditEntry), ...errorResponses } }, preValidation: auth }, async (req) => {
    require(req, 'audit.read');
    // Accounts with a scope see what was done to its enterprises, nothing else (403 for one outside it).
    const { enterprise: _asked, ...rest } = req.query;
    return ctx.accounts.auditLog({ ...rest, enterprises: scopeFilter(req, req.query.enterprise) });
  });
}
