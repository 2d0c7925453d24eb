import { v1Writer } from './v1.ts';
import { v2Writer } from './v2.ts';
export * from './types.ts';
export { retryDelay } from './retry.ts';
export function createWriter(config) {
    switch (config.kind) {
        case 'v1':
            return v1Writer(config);
        case 'v2':
            return v2Writer(config);
        default:
            return undefined;
    }
}
