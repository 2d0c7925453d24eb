// The console's symbols come from the package, not from the operator's machine: a workstation in a
// closed network often has no emoji or symbol font, and a missing glyph is an empty box where an
// operator expects a meaning. Icons are inline SVG (api/console/icons.js) in the text's colour.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { EVENT_TYPES } from '../../contract/catalog.ts';
import { texts } from '../console/i18n.js';

const CONSOLE = fileURLToPath(new URL('../console/', import.meta.url));

/** Every file of the console but its font (a binary, with its licence and the script that cuts it). */
function consoleFiles(dir = CONSOLE): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return relative(CONSOLE, path) === 'fonts' ? [] : consoleFiles(path);
    return [path];
  });
}

describe('console icons', () => {
  test('no file of the console relies on an emoji or pictographic symbol font', () => {
    const files = consoleFiles();
    expect(files.map((f) => relative(CONSOLE, f))).toEqual(expect.arrayContaining(['app.js', 'i18n.js', 'icons.js', 'index.html', 'style.css']));
    const found = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => [...line.matchAll(/\p{Extended_Pictographic}/gu)].map((m) => `${relative(CONSOLE, f)}:${i + 1}: ${m[0]} U+${m[0].codePointAt(0)!.toString(16).toUpperCase()}`)),
    );
    expect(found).toEqual([]);
  });

  test('every icon is an SVG drawn in the colour of its text', () => {
    const icons = readFileSync(join(CONSOLE, 'icons.js'), 'utf8');
    const exported = [...icons.matchAll(/^export const (\w+) = \(\) => svg\('([\w-]+)'/gm)].map((m) => m[1]);
    expect(exported).toEqual(expect.arrayContaining(['bell', 'bellOff', 'check', 'warning', 'dot', 'back', 'close', 'consequence']));
    expect(icons).toContain('stroke="currentColor"');
    expect(icons).not.toMatch(/#[0-9a-f]{3,6}\b|rgb\(/i);
    // The console uses them: the symbols it drew with text glyphs before are gone.
    const app = readFileSync(join(CONSOLE, 'app.js'), 'utf8');
    for (const name of exported) expect(app).toContain(`icon.${name}()`);
    expect(app).not.toMatch(/[●←×]/u);
  });
});

// The history names the device's own event that corroborated an alarm; the Chinese view has no English.
test('every event type a device may send has a name in both languages', () => {
  for (const lang of ['zh', 'en']) {
    const events = texts(lang).events as Record<string, string>;
    expect(EVENT_TYPES.filter((e) => !events[e]), lang).toEqual([]);
    if (lang === 'zh') expect(Object.values(events).filter((w) => /[A-Za-z]/.test(w))).toEqual([]);
  }
});
