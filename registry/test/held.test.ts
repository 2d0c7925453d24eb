// heldForRegistry: messages of a sender not yet known wait for one more read of the registry, in order,
// and `holding()` says until when (rules holds their PUBACKs that long: rules/ack-gate.ts).
import { expect, it } from 'vitest';
import { heldForRegistry } from '../registry.ts';

it('holds the unknown sender and everything after it until the registry was read, and says so', async () => {
  let read!: () => void;
  const registry = { pollChanges: () => new Promise<boolean>((r) => (read = () => r(true))) };
  const known = new Set(['a']);
  const handled: string[] = [];
  const handler = heldForRegistry(registry, (d: string) => known.has(d), (d: string) => void handled.push(d), { now: () => 1000 });
  expect(handler.holding()).toBeUndefined();
  handler('a');
  handler('new');
  handler('a');
  expect(handled).toEqual(['a']);
  const holding = handler.holding();
  expect(holding).toBeInstanceOf(Promise);
  known.add('new');
  read();
  await holding;
  expect(handled).toEqual(['a', 'new', 'a']);
  expect(handler.holding()).toBeUndefined();
});
