// The promise-based persistence classes of aedes-persistence, aedes-persistence-level and
// aedes-persistence-redis, imported by path (broker/server.ts, broker/cluster.ts); no package types that path.
declare module 'aedes-persistence-level/asyncPersistence.js' {
  export default class AsyncLevelPersistence {
    constructor(db: unknown);
    setup(broker: unknown): Promise<void>;
    destroy(): Promise<void>;
  }
}

declare module 'aedes-persistence/asyncPersistence.js' {
  export default class AsyncMemoryPersistence {
    constructor(opts?: object);
    setup(broker: unknown): Promise<void>;
    destroy(): Promise<void>;
  }
}

declare module 'aedes-persistence-redis/asyncPersistence.js' {
  export default class AsyncRedisPersistence {
    constructor(opts?: { conn?: unknown; maxSessionDelivery?: number; packetTTL?: () => number });
    createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown>;
    addSubscriptions(client: { id: string }, subs: { topic: string; qos: number }[]): Promise<unknown>;
    setup(broker: unknown): Promise<void>;
    destroy(): Promise<void>;
  }
}
