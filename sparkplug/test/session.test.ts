// The host's view of edge nodes (sparkplug/session.ts) and the map files (sparkplug/mapping.ts),
// message by message: births, sequence, aliases, deaths, and every map error named.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSparkplugMaps } from '../mapping.ts';
import { hostSessions, type Action } from '../session.ts';
import { parseSparkplugTopic, sparkplugTopic } from '../topics.ts';

const MAP = new URL('../examples/edge-1.yaml', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'hw-sp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const topic = (s: string) => parseSparkplugTopic(s)!;
const kinds = (actions: Action[]) => actions.map((a) => (a.kind === 'refused' || a.kind === 'rebirth' ? `${a.kind}:${a.code}` : a.kind === 'status' ? `status:${a.device}:${a.state}` : a.kind));

describe('topics', () => {
  it('parses the Sparkplug B namespace and nothing else', () => {
    expect(parseSparkplugTopic('spBv1.0/g1/DDATA/n1/d1')).toEqual({ group: 'g1', type: 'DDATA', node: 'n1', device: 'd1' });
    expect(parseSparkplugTopic('spBv1.0/g1/NBIRTH/n1')).toEqual({ group: 'g1', type: 'NBIRTH', node: 'n1' });
    for (const bad of ['spBv1.0/g1/NBIRTH/n1/d1', 'spBv1.0/g1/DDATA/n1', 'spBv1.0/g1/XDATA/n1', 'spAv1.0/g1/NDATA/n1', 'STATE/host', 'spBv1.0//NDATA/n1', 'spBv1.0/g1/DDATA/n1/']) expect(parseSparkplugTopic(bad), bad).toBeUndefined();
    expect(sparkplugTopic({ group: 'g', type: 'NCMD', node: 'n' })).toBe('spBv1.0/g/NCMD/n');
  });
});

describe('host sessions', () => {
  const maps = loadSparkplugMaps([MAP]);
  const nbirth = { seq: 0, timestamp: 1000, metrics: [{ name: 'bdSeq', type: 'Int64' as const, value: 7 }] };
  const dbirth = (seq: number) => ({ seq, timestamp: 1001, metrics: [{ name: 'Gas/LEL', alias: 1, type: 'Double' as const, value: 3, timestamp: 1001 }] });

  it('turns births and DDATA by alias into registration, status and readings, with the map\'s conversions', () => {
    const s = hostSessions(maps);
    expect(s.handle(topic('spBv1.0/demo-chem/NBIRTH/edge-1'), nbirth, 0)).toEqual([]);
    const born = s.handle(topic('spBv1.0/demo-chem/DBIRTH/edge-1/LEL-201'), dbirth(1), 0);
    expect(kinds(born)).toEqual(['register', 'status:lel-201:online', 'readings']);
    expect(born[2]).toEqual({ kind: 'readings', enterprise: 'demo-chem', device: 'lel-201', readings: [{ ts: 1001, values: { lel: 3 } }] });
    const data = s.handle(topic('spBv1.0/demo-chem/DDATA/edge-1/LEL-201'), { seq: 2, timestamp: 1100, metrics: [{ alias: 1, type: 'Double', value: 61.5, timestamp: 1090 }, { alias: 1, type: 'Double', value: 62, timestamp: 1095 }, { alias: 99, type: 'Double', value: 1 }] }, 0);
    expect(data).toEqual([
      { kind: 'readings', enterprise: 'demo-chem', device: 'lel-201', readings: [{ ts: 1090, values: { lel: 61.5 } }, { ts: 1095, values: { lel: 62 } }] },
      { kind: 'ignored', metrics: 1 },
    ]);
    s.handle(topic('spBv1.0/demo-chem/DBIRTH/edge-1/FW-PT-301'), { seq: 3, timestamp: 1200, metrics: [{ name: 'Network/Pressure kPa', alias: 5, type: 'Double', value: 400 }, { name: 'Pump/Main running', alias: 6, type: 'Boolean', value: false }] }, 0);
    const fw = s.handle(topic('spBv1.0/demo-chem/DDATA/edge-1/FW-PT-301'), { seq: 4, timestamp: 1300, metrics: [{ alias: 5, type: 'Double', value: 250 }, { alias: 6, type: 'Boolean', value: true }] }, 0);
    expect(fw).toEqual([{ kind: 'readings', enterprise: 'demo-chem', device: 'fw-pt-301', readings: [{ ts: 1300, values: { pressure: 0.25, pump_running: true } }] }]);
    // The sequence wraps after 255 [tck-id-payloads-sequence-num-incrementing].
    expect(s.nodesOnline()).toBe(1);
  });

  it('on a gap in seq takes the devices offline and asks for a rebirth; nothing is taken until the NBIRTH', () => {
    const s = hostSessions(maps);
    s.handle(topic('spBv1.0/demo-chem/NBIRTH/edge-1'), nbirth, 0);
    s.handle(topic('spBv1.0/demo-chem/DBIRTH/edge-1/LEL-201'), dbirth(1), 0);
    expect(kinds(s.handle(topic('spBv1.0/demo-chem/DDATA/edge-1/LEL-201'), { seq: 5, metrics: [{ alias: 1, type: 'Double', value: 9 }] }, 0))).toEqual([
      'status:lel-201:offline',
      'refused:HW_ERR_SPARKPLUG_SEQ',
      'rebirth:HW_ERR_SPARKPLUG_SEQ',
    ]);
    expect(kinds(s.handle(topic('spBv1.0/demo-chem/DDATA/edge-1/LEL-201'), { seq: 6, metrics: [{ alias: 1, type: 'Double', value: 9 }] }, 0))).toEqual(['refused:HW_ERR_SPARKPLUG_UNBORN', 'rebirth:HW_ERR_SPARKPLUG_UNBORN']);
    expect(s.handle(topic('spBv1.0/demo-chem/NBIRTH/edge-1'), nbirth, 0)).toEqual([]);
    expect(kinds(s.handle(topic('spBv1.0/demo-chem/DBIRTH/edge-1/LEL-201'), dbirth(1), 0))).toEqual(['register', 'status:lel-201:online', 'readings']);
  });

  it('follows the sequence through 255 and back to 0', () => {
    const s = hostSessions(maps);
    s.handle(topic('spBv1.0/demo-chem/NBIRTH/edge-1'), nbirth, 0);
    s.handle(topic('spBv1.0/demo-chem/DBIRTH/edge-1/LEL-201'), dbirth(1), 0);
    for (let i = 2; i < 300; i++) {
      const out = s.handle(topic('spBv1.0/demo-chem/DDATA/edge-1/LEL-201'), { seq: i % 256, metrics: [{ alias: 1, type: 'Double', value: i % 100 }] }, 0);
      expect(kinds(out), `seq ${i % 256}`).toEqual(['readings']);
    }
  });

  it('takes a device offline on DDEATH (and wants a DBIRTH before more data), the whole node on its NDEATH, but not on a stale one', () => {
    const s = hostSessions(maps);
    s.handle(topic('spBv1.0/demo-chem/NBIRTH/edge-1'), nbirth, 0);
    s.handle(topic('spBv1.0/demo-chem/DBIRTH/edge-1/LEL-201'), dbirth(1), 0);
    s.handle(topic('spBv1.0/demo-chem/DBIRTH/edge-1/FW-PT-301'), { seq: 2, metrics: [] }, 0);
    expect(kinds(s.handle(topic('spBv1.0/demo-chem/DDEATH/edge-1/FW-PT-301'), { seq: 3 }, 0))).toEqual(['status:fw-pt-301:offline']);
    // A rebirth is of the whole node: its other devices are offline until their DBIRTH.
    expect(kinds(s.handle(topic('spBv1.0/demo-chem/DDATA/edge-1/FW-PT-301'), { seq: 4, metrics: [] }, 0))).toEqual(['status:lel-201:offline', 'refused:HW_ERR_SPARKPLUG_UNBORN', 'rebirth:HW_ERR_SPARKPLUG_UNBORN']);
    s.handle(topic('spBv1.0/demo-chem/NBIRTH/edge-1'), nbirth, 0);
    s.handle(topic('spBv1.0/demo-chem/DBIRTH/edge-1/LEL-201'), dbirth(1), 0);
    // The will of an earlier connection (bdSeq 6) arriving late changes nothing.
    expect(s.handle(topic('spBv1.0/demo-chem/NDEATH/edge-1'), { metrics: [{ name: 'bdSeq', type: 'Int64', value: 6 }] }, 0)).toEqual([]);
    expect(kinds(s.handle(topic('spBv1.0/demo-chem/NDEATH/edge-1'), { metrics: [{ name: 'bdSeq', type: 'Int64', value: 7 }] }, 0))).toEqual(['status:lel-201:offline']);
    expect(s.nodesOnline()).toBe(0);
  });

  it('refuses a device in no map, and data from an unknown node', () => {
    const s = hostSessions(maps);
    s.handle(topic('spBv1.0/demo-chem/NBIRTH/edge-1'), nbirth, 0);
    expect(kinds(s.handle(topic('spBv1.0/demo-chem/DBIRTH/edge-1/OTHER'), { seq: 1, metrics: [] }, 0))).toEqual(['refused:HW_ERR_SPARKPLUG_UNMAPPED']);
    expect(kinds(s.handle(topic('spBv1.0/demo-chem/DDATA/edge-1/OTHER'), { seq: 2, metrics: [] }, 0))).toEqual(['refused:HW_ERR_SPARKPLUG_UNMAPPED']);
    expect(kinds(s.handle(topic('spBv1.0/demo-chem/NDATA/edge-9'), { seq: 1, metrics: [] }, 0))).toEqual(['refused:HW_ERR_SPARKPLUG_UNBORN', 'rebirth:HW_ERR_SPARKPLUG_UNBORN']);
  });
});

describe('map files', () => {
  const write = (name: string, text: string) => {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  };

  it('loads the shipped example, and a directory of files with a group-wide node', () => {
    expect(loadSparkplugMaps([MAP]).size).toBe(2);
    const d = join(tmp, 'maps');
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d);
    writeFileSync(join(d, 'a.yaml'), 'group: g1\nnode: "*"\ndevices:\n  O2-1: { device: o2-1, class: oxygen, metrics: { O2: o2 } }\n');
    writeFileSync(join(d, 'b.json'), JSON.stringify({ group: 'g1', node: 'n7', devices: { 'O2-1': { device: 'o2-7', class: 'oxygen', metrics: { O2: 'o2' } } } }));
    const maps = loadSparkplugMaps([d]);
    expect(maps.find('g1', 'n7', 'O2-1')?.device).toBe('o2-7');
    expect(maps.find('g1', 'n3', 'O2-1')?.device).toBe('o2-1');
    expect(maps.find('g2', 'n3', 'O2-1')).toBeUndefined();
  });

  it('names every wrong entry at once', () => {
    const shape = write('shape.yaml', 'group: demo-chem\nnode: edge-1\ndevices:\n  A: { device: "bad id", class: oxygen, metrics: { O2: o2 } }\n  B: { device: b, class: tank, metrics: { L: level } }\n');
    const bad = write(
      'bad.yaml',
      `group: demo-chem
node: edge-1
devices:
  C: { device: c, class: oxygen, metrics: { O2: lel } }
  D: { device: d, class: fire_water, metrics: { P: { metric: pump_running, scale: 2 } } }
  E: { device: c, class: oxygen, metrics: { O2: o2 } }
`,
    );
    let message = '';
    try {
      loadSparkplugMaps([shape, bad]);
    } catch (err) {
      message = (err as Error).message;
      expect((err as { code?: string }).code).toBe('HW_ERR_CONFIG');
    }
    expect(message).toMatch(/devices\.A\.device: expected 1 to 64 letters/);
    expect(message).toMatch(/devices\.B\.class: /);
    expect(message).toMatch(/devices\.C\.metrics\.O2: "lel" is not a metric of oxygen \(o2\)/);
    expect(message).toMatch(/devices\.D\.metrics\.P: pump_running is a boolean: no scale or offset/);
    expect(message).toMatch(/devices\.E: hazwatch device demo-chem\/c is already the target of .*devices\.C/);
    expect(() => loadSparkplugMaps([join(tmp, 'missing.yaml')])).toThrow(/cannot read/);
  });
});
