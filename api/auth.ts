// Who is asking, and what they may do. A request carries a session either as the console's cookie
// (HttpOnly, SameSite=Strict: other sites cannot ride on it) or as `Authorization: Bearer <token>` for
// API clients; both are the same server-side session with a sliding expiry.
// Permissions are one table (PERMISSIONS), so the docs and the tests can enumerate it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HazwatchError } from '../contract/errors.ts';
import type { AccountStore, Role, User } from './accounts.ts';
import type { Jurisdictions } from '../registry/jurisdictions.ts';

export const SESSION_COOKIE = 'hw_session';

export const PERMISSIONS = {
  /** Read anything in scope: enterprises, sources, devices, values, alarms, maintenance. */
  read: ['operator', 'supervisor', 'administrator', 'enterprise'],
  'alarm.acknowledge': ['operator', 'supervisor', 'administrator', 'enterprise'],
  'alarm.feedback': ['operator', 'supervisor', 'administrator', 'enterprise'],
  'alarm.close': ['operator', 'supervisor', 'administrator', 'enterprise'],
  // Shelving and manual clearing silence an alarm: the monitoring room's senior staff decide.
  'alarm.shelve': ['supervisor', 'administrator'],
  'alarm.clear': ['supervisor', 'administrator'],
  'maintenance.write': ['supervisor', 'administrator', 'enterprise'],
  // Thresholds decide whether an alarm is raised at all: not the enterprise's own call.
  'threshold.write': ['supervisor', 'administrator'],
  'device.write': ['administrator', 'enterprise'],
  'source.write': ['administrator'],
  'enterprise.write': ['administrator'],
  // Emergency resources (rescue teams, warehouses, shelters ...) are the bureau's register, kept by the monitoring room.
  'resource.write': ['supervisor', 'administrator'],
  'account.read': ['administrator'],
  'account.write': ['administrator'],
  'audit.read': ['supervisor', 'administrator', 'enterprise'],
  // The platform's own processes (ingest's spool, reporting upward): the monitoring room's, not an enterprise's.
  'platform.read': ['operator', 'supervisor', 'administrator'],
  // Hidden dangers (issue 16): whoever finds one opens it, the enterprise rectifies and proves it with
  // evidence; the recheck (回头看), closure and a new deadline are the regulator's senior staff's call.
  'danger.write': ['operator', 'supervisor', 'administrator', 'enterprise'],
  'danger.recheck': ['supervisor', 'administrator'],
  // The duty roster (issue 16): the monitoring room's senior staff keep the units, people and shifts;
  // an enterprise keeps its own unit's. Every duty officer signs handovers, an operator included.
  // Warnings (issue 16): the monitoring room drafts them; a supervisor approves (four-eyes), updates and lifts them.
  'warning.draft': ['operator', 'supervisor', 'administrator'],
  'warning.approve': ['supervisor', 'administrator'],
  'duty.write': ['supervisor', 'administrator', 'enterprise'],
  'duty.handover': ['operator', 'supervisor', 'administrator', 'enterprise'],
  // Device commands (issue 15): the monitoring room, and an enterprise for its own devices (the equipment
  // is theirs; the catalog holds no process actuation: contract/commands.ts says why).
  'device.command': ['operator', 'supervisor', 'administrator', 'enterprise'],
  // Rule override files (issue 15): thresholds decide whether an alarm is raised at all, so saving them
  // from the console is the monitoring room's senior staff's, like threshold.write.
  'rules.write': ['supervisor', 'administrator'],
  // The jurisdiction tree (issue 15) decides who sees what: administrators keep it (below their own node).
  'jurisdiction.write': ['administrator'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

/**
 * What an account sees and acts on (issue 15, docs/jurisdictions.md): everything (a regulator account
 * without a jurisdiction), or a set of enterprises — those at or below the account's jurisdiction
 * node, or an enterprise user's own. The one rule every route applies, through inScope, require and
 * scopeFilter; `node` is the account's jurisdiction, for what hangs on nodes rather than enterprises.
 */
export type Scope = { readonly all: true } | { readonly all: false; readonly enterprises: ReadonlySet<string>; readonly node: string | null };
const ALL: Scope = { all: true };

/** The scope of an account, computed from the jurisdiction tree (memoised per tree revision by the tree itself). */
export function scopeOf(user: Pick<User, 'role' | 'enterprise' | 'jurisdiction'>, tree: Pick<Jurisdictions, 'enterprisesBelow'> | undefined): Scope {
  if (user.role === 'enterprise') return { all: false, enterprises: new Set(user.enterprise ? [user.enterprise] : []), node: null };
  if (!user.jurisdiction) return ALL;
  // Without a tree nothing can be below the node: closed, not open.
  return { all: false, enterprises: tree ? tree.enterprisesBelow(user.jurisdiction) : new Set(), node: user.jurisdiction };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The jurisdiction tree the scope rule reads (decorated on the root by buildApi). */
    jurisdictions?: Jurisdictions;
  }
  interface FastifyRequest {
    user?: User;
    sessionToken?: string;
    /** Who to record in the audit log when nobody is signed in (failed logins). */
    auditAs?: { username: string; role: string; enterprise: string | null };
    /** The enterprise a write concerned and the resource it named, for the audit log. */
    auditEnterprise?: string;
    auditTarget?: string;
    /** Added to the audit entry's detail (e.g. the consequences acknowledged with their cause). */
    auditDetail?: Record<string, unknown>;
  }
  interface FastifyContextConfig {
    /** Action name in the audit log; every route that writes has one. */
    audit?: string;
  }
}

function tokenOf(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  return req.cookies?.[SESSION_COOKIE];
}

/** preHandler for every /api/v1 route but login: the session, or 401. */
export function authenticate(accounts: AccountStore) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const token = tokenOf(req);
    const session = token ? await accounts.session(token) : undefined;
    if (!session) throw new HazwatchError('HW_ERR_UNAUTHENTICATED');
    req.user = session.user;
    req.sessionToken = token;
  };
}

export function userOf(req: FastifyRequest): User {
  if (!req.user) throw new HazwatchError('HW_ERR_UNAUTHENTICATED');
  return req.user;
}

/** The scope of the signed-in account of this request, read from the tree as it is now. */
export function requestScope(req: FastifyRequest): Scope {
  if (!req.server || !('raw' in req)) throw new TypeError('requestScope: pass the request, not the user');
  return scopeOf(userOf(req), req.server.jurisdictions);
}

/** True when the scope (or the request's) covers this enterprise. */
export function inScope(scope: Scope | FastifyRequest, enterprise: string): boolean {
  const s = 'all' in scope ? scope : requestScope(scope);
  return s.all || s.enterprises.has(enterprise);
}

/**
 * Throws unless the user holds the permission, for this enterprise when one is given. An enterprise
 * user asking about another enterprise gets 403 when the request names it; `hide` turns that into 404
 * for look-ups by id, so that ids of other enterprises' alarms are not confirmed to exist.
 */
export function require(req: FastifyRequest, permission: Permission, enterprise?: string, options: { hide?: boolean } = {}): User {
  const user = userOf(req);
  if (enterprise !== undefined) req.auditEnterprise = enterprise;
  if (enterprise !== undefined && !inScope(req, enterprise)) {
    if (options.hide) throw new HazwatchError('HW_ERR_NOT_FOUND');
    throw new HazwatchError('HW_ERR_FORBIDDEN', `account ${user.username} may not access enterprise ${enterprise}`);
  }
  if (!(PERMISSIONS[permission] as readonly Role[]).includes(user.role)) {
    throw new HazwatchError('HW_ERR_FORBIDDEN', `role ${user.role} may not ${permission}`);
  }
  return user;
}

/**
 * The enterprises a list is limited to: the one asked for (403 when out of scope), else every
 * enterprise in scope; undefined: no limit (a platform-wide account asking for no enterprise).
 * An empty list means nothing: stores answer none for it.
 */
export function scopeFilter(req: FastifyRequest, requested: string | undefined): string[] | undefined {
  const scope = requestScope(req);
  if (requested !== undefined && requested !== '') {
    if (!inScope(scope, requested)) throw new HazwatchError('HW_ERR_FORBIDDEN', `account ${userOf(req).username} may not access enterprise ${requested}`);
    return [requested];
  }
  return scope.all ? undefined : [...scope.enterprises];
}
