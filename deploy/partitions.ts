// The partition map of the cluster profile (PARTITION_<n>_ENTERPRISES of .env), checked by init-cluster
// before any ingest or rules process starts: an enterprise in no partition would have no subscriber,
// so the broker would acknowledge its devices' readings and deliver them to nobody; one in two
// partitions would be evaluated twice. Both stop the start with the enterprise named.

const ENTERPRISE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const VARIABLE = /^PARTITION_(\d+)_ENTERPRISES$/;

export interface PartitionCheck {
  /** Partition number → its enterprises. */
  partitions: Map<number, string[]>;
  errors: string[];
  /** Listed enterprises not (yet) registered: fine, said once. */
  unregistered: string[];
}

/** The PARTITION_<n>_ENTERPRISES variables of `env` against the registered enterprise ids. */
export function checkPartitions(env: Record<string, string | undefined>, registered: string[]): PartitionCheck {
  const partitions = new Map<number, string[]>();
  const errors: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    const m = VARIABLE.exec(name);
    if (!m) continue;
    const n = Number(m[1]);
    let list: unknown;
    try {
      list = JSON.parse(value ?? '');
    } catch {
      errors.push(`${name} must be a JSON array of enterprise ids, e.g. ["demo-chem"]; got ${JSON.stringify(value ?? '')}`);
      continue;
    }
    if (!Array.isArray(list) || list.length === 0) {
      // [] means "every enterprise" to ingest.enterprises and rules.enterprises: never a partition.
      errors.push(`${name} must list at least one enterprise (an empty list would take every enterprise)`);
      continue;
    }
    const bad = list.filter((e) => typeof e !== 'string' || !ENTERPRISE_ID.test(e));
    if (bad.length) {
      errors.push(`${name}: not enterprise ids: ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
      continue;
    }
    partitions.set(n, list as string[]);
  }
  if (partitions.size === 0 && errors.length === 0) errors.push('no PARTITION_<n>_ENTERPRISES set');
  const owner = new Map<string, number[]>();
  for (const [n, list] of partitions) for (const e of new Set(list)) owner.set(e, [...(owner.get(e) ?? []), n]);
  for (const [e, ns] of owner) {
    if (ns.length > 1) errors.push(`enterprise ${e} is in more than one partition: ${ns.map((n) => `PARTITION_${n}_ENTERPRISES`).join(', ')}`);
  }
  const missing = registered.filter((e) => !owner.has(e)).sort();
  if (missing.length) {
    errors.push(`registered enterprises in no partition (their readings would reach no ingest or rules process): ${missing.join(', ')}; add each to one PARTITION_<n>_ENTERPRISES`);
  }
  const known = new Set(registered);
  return { partitions, errors, unregistered: [...owner.keys()].filter((e) => !known.has(e)).sort() };
}

/** A secret that goes into a connection URL: long enough, and nothing that needs escaping. */
export function urlSecretError(name: string, value: string | undefined): string | undefined {
  if (value && value.length >= 16 && /^[A-Za-z0-9._~-]+$/.test(value)) return undefined;
  return `${name} must be set to at least 16 characters of letters, digits, "-", "_", "." or "~" (it goes into a URL; see .env.example)`;
}
