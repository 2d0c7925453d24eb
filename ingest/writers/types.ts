// What the drain loop needs from a database, whatever its version.

export interface Writer {
  kind: 'v1' | 'v2' | 'none';
  /** Where the points go, for logs (never contains a secret). */
  target: string;
  /** Writes line protocol (ms precision); throws WriteError. */
  write(body: string): Promise<void>;
  /** Makes the target ready (v1: CREATE DATABASE when allowed); failures are reported, not thrown. */
  prepare?(): Promise<string | undefined>;
}

export type WriteFailure =
  /** The server or the network may recover: retry the same batch later. */
  | 'transient'
  /** The server refuses these points for good (bad point, field type conflict, outside retention): split, then set aside. */
  | 'refused'
  /** The body is too large for the server: split. */
  | 'too_large';

export class WriteError extends Error {
  readonly failure: WriteFailure;
  readonly status?: number;
  /** Delay asked for by the server (Retry-After), in ms. */
  readonly retryAfterMs?: number;
  constructor(failure: WriteFailure, message: string, options: { status?: number; retryAfterMs?: number } = {}) {
    super(message);
    this.name = 'WriteError';
    this.failure = failure;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 10.2.3). */
export function parseRetryAfter(value: string | string[] | null | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** How an HTTP status of a write answer is handled. */
export function classifyStatus(status: number): WriteFailure {
  if (status === 413) return 'too_large';
  // 400 bad line protocol / partial write / field type conflict / beyond retention; 422 the same in 2.x.
  if (status === 400 || status === 422) return 'refused';
  // 401/403/404 are configuration faults (token, database): keep the data and retry until fixed.
  return 'transient';
}
