// Authentication of CONNECT against the registry. Secrets are scrypt hashes (registry/secrets.ts); a
// reconnect storm of thousands of devices would queue thousands of scrypt runs on libuv's four threads,
// so each successful verification is remembered as an HMAC of the password under a key that lives only
// in this process. The memory is dropped whenever the registry changes (new secret, revocation).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ErrorCode } from '../contract/errors.ts';
import type { Registry, Account } from '../registry/registry.ts';
import type { Identity } from './acl.ts';
import type { connectGuard } from './limits.ts';

/**
 * CONNACK return codes of MQTT 3.1.1 (table 3.1) and the MQTT 5 reason code with the same meaning.
 * aedes 1.x speaks MQTT 3.1 and 3.1.1 only, so the 3.1.1 code is what goes on the wire today.
 */
export const CONNACK = {
  HW_ERR_AUTH_BAD_CREDENTIALS: { v3: 4, v5: 0x86 },
  HW_ERR_AUTH_BANNED: { v3: 5, v5: 0x8a },
  HW_ERR_AUTH_REVOKED: { v3: 5, v5: 0x87 },
  HW_ERR_AUTH_ANONYMOUS: { v3: 5, v5: 0x87 },
  HW_ERR_AUTH_CLIENT_ID: { v3: 2, v5: 0x85 },
  HW_ERR_CLIENT_ID_REQUIRED: { v3: 2, v5: 0x85 },
  HW_ERR_ACL_PUBLISH: { v3: 5, v5: 0x87 },
  HW_ERR_CONNECTION_LIMIT: { v3: 3, v5: 0x97 },
} as const satisfies Partial<Record<ErrorCode, { v3: number; v5: number }>>;
export type ConnectRefusal = keyof typeof CONNACK;

/** `secretVersion`: the version of the password the session was opened with (Account.secretVersion). */
export type AuthResult = { ok: true; identity: Identity; secretVersion?: string } | { ok: false; code: ConnectRefusal };

export function identityOf(account: Account): Identity | undefined {
  if (account.kind === 'service') return { kind: 'service', username: account.username };
  if (!account.enterprise) return undefined;
  if (account.kind === 'device' && account.device) return { kind: 'device', username: account.username, enterprise: account.enterprise, device: account.device };
  if (account.kind === 'gateway') return { kind: 'gateway', username: account.username, enterprise: account.enterprise, gateway: account.username.slice(account.enterprise.length + 1) };
  return undefined;
}

/** The client id must be the user name, or the user name followed by `:<suffix>` (several sessions of one account). */
export function clientIdMatches(username: string, clientId: string): boolean {
  return clientId === username || (clientId.startsWith(username + ':') && clientId.length > username.length + 1);
}

export interface AuthenticatorOptions {
  registry: Registry;
  allowAnonymous: boolean;
  guard: ReturnType<typeof connectGuard>;
  /** Bound on remembered verifications; past it the memory starts over (a few MB at the default). */
  cacheSize?: number;
}

export function authenticator(options: AuthenticatorOptions) {
  const { registry, guard } = options;
  const cacheSize = options.cacheSize ?? 200_000;
  const key = randomBytes(32);
  const cache = new Map<string, { digest: Buffer; identity: Identity; secretVersion?: string }>();
  const digestOf = (username: string, password: Buffer) => createHmac('sha256', key).update(username).update('\0').update(password).digest();
  // A verification that was running while the registry changed (a revocation, a new secret) must not
  // be remembered: the generation tells.
  let generation = 0;
  const stopListening = registry.onChange(() => {
    generation++;
    cache.clear();
  });
  let cacheHits = 0;

  async function verify(username: string, password: Buffer): Promise<AuthResult> {
    const digest = digestOf(username, password);
    const hit = cache.get(username);
    if (hit && timingSafeEqual(hit.digest, digest)) {
      cacheHits++;
      return { ok: true, identity: hit.identity, secretVersion: hit.secretVersion };
    }
    const startedIn = generation;
    const { result, secretVersion } = await registry.verifyVersion(username, password.toString('utf8'));
    if (result === 'revoked') return { ok: false, code: 'HW_ERR_AUTH_REVOKED' };
    if (result !== 'ok') return { ok: false, code: 'HW_ERR_AUTH_BAD_CREDENTIALS' };
    let account = registry.account(username);
    // Registered (or registered again) a moment ago, by another process: read the registry's change now.
    if (!account || account.revokedAt !== null) {
      await registry.pollChanges().catch(() => false);
      account = registry.account(username);
    }
    const identity = account && account.revokedAt === null ? identityOf(account) : undefined;
    if (!identity) return { ok: false, code: 'HW_ERR_AUTH_BAD_CREDENTIALS' };
    if (startedIn === generation) {
      if (cache.size >= cacheSize) cache.clear();
      cache.set(username, { digest, identity, secretVersion });
    }
    return { ok: true, identity, secretVersion };
  }

  return {
    /** Decides a CONNECT; failures that look like guessing are recorded in the guard (and may ban). */
    async authenticate(input: { clientId: string; username?: string; password?: Buffer; address?: string }): Promise<AuthResult> {
      const { clientId, username, password, address } = input;
      if (guard.banned(address, username)) return { ok: false, code: 'HW_ERR_AUTH_BANNED' };
      if (username === undefined || username === '') {
        if (options.allowAnonymous && !password) return { ok: true, identity: { kind: 'anonymous', username: undefined } };
        return { ok: false, code: 'HW_ERR_AUTH_ANONYMOUS' };
      }
      const result = password ? await verify(username, password) : ({ ok: false, code: 'HW_ERR_AUTH_BAD_CREDENTIALS' } as const);
      if (!result.ok) {
        guard.failure(address, username);
        return result;
      }
      guard.success(username);
      // Checked after the password, so that the answer does not reveal which accounts exist.
      if (!clientIdMatches(username, clientId)) return { ok: false, code: 'HW_ERR_AUTH_CLIENT_ID' };
      return result;
    },
    stats(): { cached: number; cacheHits: number } {
      return { cached: cache.size, cacheHits };
    },
    close(): void {
      stopListening();
      cache.clear();
    },
  };
}
