// The promise-based persistence classes of aedes-persistence and aedes-persistence-level, imported by
// path (broker/server.ts); neither package types that path.
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
