// The loop's slices (core/loop-slice.ts): work goes on at once while a slice lasts and waits for a turn
// of the event loop once it is spent; a yield begins a new slice.
import { expect, it } from 'vitest';
import { loopPacer, loopSlice } from '../loop-slice.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));

it('is due once the loop has been held for the slice, and not again until the next slice is spent', () => {
  expect(loopSlice(60_000).due()).toBe(false);
  const slice = loopSlice(200);
  expect(slice.due()).toBe(false);
  while (!slice.due()); // held: the slice runs out
  slice.yielded();
  expect(slice.due()).toBe(false);
});

it('lets callback-driven work go on at once within a slice and after a turn of the loop once it is spent', async () => {
  const within = loopPacer(60_000);
  let ran = 0;
  within(() => ran++);
  within(() => ran++);
  expect(ran).toBe(2);

  const spent = loopPacer(0);
  const order: string[] = [];
  spent(() => order.push('next'));
  expect(order).toEqual([]);
  setImmediate(() => order.push('turn'));
  await turn();
  await turn();
  expect(order).toEqual(['next', 'turn']);
});
