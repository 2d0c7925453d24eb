export * from './catalog.ts';
export * from './topics.ts';
export * from './errors.ts';
export * from './payloads.ts';
export * from './alarms.ts';
export * from './presence.ts';
export * from './commands.ts';
