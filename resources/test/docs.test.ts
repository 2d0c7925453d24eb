// docs/resources.md says what the code does: its example register imports as it is, and its table of
// what each alarm needs is the catalog's.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { ALARM_CONDITIONS } from '../../contract/alarms.ts';
import { DEVICE_CLASSES } from '../../contract/catalog.ts';
import { examples } from '../../test/support/markdown.ts';
import { ITEMS, NEEDS_BY_CLASS, NEEDS_BY_CONDITION, RESOURCE_KINDS, SPECIALITIES, type Need } from '../catalog.ts';
import { readResources } from '../import.ts';

const DOC = readFileSync(new URL('../../docs/resources.md', import.meta.url), 'utf8');

it('imports the example register of the document', async () => {
  const blocks = examples(DOC).filter((e) => e.test.imports);
  expect(blocks).toHaveLength(1);
  for (const b of blocks) {
    const r = await readResources(Buffer.from(b.code), 'csv', { enterprise: () => undefined });
    expect(r.errors).toEqual([]);
    expect(r.resources).toHaveLength(Number(b.test.imports));
  }
  // It is the demo's register.
  expect(blocks[0].code.trim()).toBe(readFileSync(new URL('../demo.csv', import.meta.url), 'utf8').trim());
});

it('gives the table of needs as the catalog has it', () => {
  const need = (n: Need) =>
    `${RESOURCE_KINDS[n.kind].zh} \`${n.kind}\`` + (n.specialities?.length ? ` (${n.specialities.map((s) => SPECIALITIES[s].zh).join('、')})` : '') + (n.items?.length ? ` (${n.items.map((s) => ITEMS[s].zh).join('、')})` : '');
  const rows = [
    ...Object.entries(NEEDS_BY_CLASS).map(([c, needs]) => `| class \`${c}\` (${DEVICE_CLASSES[c as keyof typeof DEVICE_CLASSES].zh}) | ${needs.map(need).join('; ')} |`),
    ...Object.entries(NEEDS_BY_CONDITION).map(([c, needs]) => `| condition \`${c}\` (${ALARM_CONDITIONS[c as keyof typeof ALARM_CONDITIONS].zh}) | ${needs!.map(need).join('; ') || 'nothing'} |`),
  ];
  const table = DOC.split('\n').filter((l) => l.startsWith('| class `') || l.startsWith('| condition `'));
  expect(table).toEqual(rows);
});
