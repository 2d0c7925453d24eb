// Access rules as data (broker/access.ts): topic and filter matching as MQTT 3.1.1 4.7 states it, the
// file format and its errors, and the built-in set held against the hand-written rules it replaced
// (kept below as the reference), on every combination of a corpus of identities and topics.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEVICE_PUBLISH_CHANNELS, DEVICE_SUBSCRIBE_CHANNELS, PLATFORM_TOPIC_PREFIX, TOPIC_PREFIX, isValidId, parseTopic } from '../../contract/topics.ts';
import { accessOf, type Identity } from '../acl.ts';
import { DEFAULT_ACCESS, SERVICE_PUBLISH_CHANNELS } from '../access-default.ts';
import { accessFileText, filterCovers, filtersOverlap, loadAccess, topicMatches } from '../access.ts';
import { parseSharedFilter } from '../shared.ts';

const device: Identity = { kind: 'device', username: 'acme/gas-01', enterprise: 'acme', device: 'gas-01' };
const gateway: Identity = { kind: 'gateway', username: 'acme/gw-1', enterprise: 'acme', gateway: 'gw-1' };
const service: Identity = { kind: 'service', username: 'svc:ingest' };
const anonymous: Identity = { kind: 'anonymous', username: undefined };
const split = (s: string) => s.split('/');
const tmp = mkdtempSync(join(tmpdir(), 'hw-access-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('matching', () => {
  it('matches topics as MQTT 3.1.1 4.7 states', () => {
    const m = (p: string, t: string) => topicMatches(split(p), split(t));
    // [MQTT-4.7.1-2] "sport/#" also matches "sport"; "#" everything.
    expect([m('sport/#', 'sport'), m('sport/#', 'sport/tennis/player1'), m('#', 'a/b/c')]).toEqual([true, true, true]);
    // [MQTT-4.7.1-3] "+" exactly one level, an empty one included.
    expect([m('sport/+', 'sport'), m('sport/+', 'sport/'), m('sport/+', 'sport/a/b'), m('+/+', '/finance')]).toEqual([false, true, false, true]);
    // [MQTT-4.7.2-1] a filter starting with a wildcard does not match a topic starting with $.
    expect([m('#', '$SYS/broker'), m('+/broker', '$SYS/broker'), m('$SYS/#', '$SYS/broker')]).toEqual([false, false, true]);
    // [MQTT-4.7.3-1] topic names are case-sensitive.
    expect(m('Hw/#', 'hw/v1')).toBe(false);
  });

  it('lets a filter be subscribed only when the pattern covers every topic it can match', () => {
    const c = (p: string, f: string) => filterCovers(split(p), split(f));
    expect([c('#', 'a/+/#'), c('a/#', 'a'), c('a/#', 'a/b/#'), c('a/+/c', 'a/+/c'), c('a/+/c', 'a/x/c')]).toEqual([true, true, true, true, true]);
    expect([c('a/+/c', 'a/#'), c('a/+/c', 'a/+/+'), c('a/b', 'a/+'), c('a/+', 'a/b/c'), c('#', '$SYS/#')]).toEqual([false, false, false, false, false]);
  });

  it('finds whether two filters share a topic', () => {
    const o = (a: string, b: string) => filtersOverlap(split(a), split(b));
    expect([o('secret/#', '#'), o('secret/#', 'secret'), o('a/+/c', 'a/b/+'), o('a/b', 'a/b')]).toEqual([true, true, true, true]);
    expect([o('a/b', 'a/c'), o('a/+', 'a/b/c'), o('$SYS/#', '#'), o('a/b/c', 'a/b')]).toEqual([false, false, false, false]);
  });
});

// The hand-written rules of the broker before they became data (broker/acl.ts until issue 14).
function referencePublish(who: Identity, topic: string): boolean {
  if (who.kind === 'anonymous') return !topic.startsWith('$');
  if (who.kind === 'service' && topic.startsWith(`${PLATFORM_TOPIC_PREFIX}/`) && !/[+#]/.test(topic)) return true;
  const t = parseTopic(topic);
  if (!t) return false;
  if (who.kind === 'device') return t.enterprise === who.enterprise && t.device === who.device && DEVICE_PUBLISH_CHANNELS.includes(t.channel);
  if (who.kind === 'gateway') return t.enterprise === who.enterprise && DEVICE_PUBLISH_CHANNELS.includes(t.channel);
  return (SERVICE_PUBLISH_CHANNELS as readonly string[]).includes(t.channel);
}
function referenceSubscribe(who: Identity, filter: string): boolean {
  if (filter.startsWith('$share/')) {
    const shared = parseSharedFilter(filter);
    return shared !== undefined && !shared.filter.startsWith('$share/') && referenceSubscribe(who, shared.filter);
  }
  if (who.kind === 'anonymous') return true;
  const levels = filter.split('/');
  if (who.kind === 'service') return levels[0] === '#' || levels[0] === '+' || levels[0] === 'hw' || levels[0] === '$SYS';
  if (levels.length !== 5 || levels[0] !== 'hw' || levels[1] !== 'v1') return false;
  const [, , enterprise, dev, channel] = levels;
  if (!(DEVICE_SUBSCRIBE_CHANNELS as readonly string[]).includes(channel)) return false;
  if (who.kind === 'device') return enterprise === who.enterprise && dev === who.device;
  return enterprise === who.enterprise && (dev === '+' || isValidId(dev));
}

function corpus(): string[] {
  const out = new Set<string>();
  for (const e of ['acme', 'beta', '+', 'bad id', 'platform'])
    for (const d of ['gas-01', 'gw-1', 'other', '+', '#', 'x y', ''])
      for (const c of ['telemetry', 'event', 'status', 'error', 'command', 'alarm', 'presence', 'reply', 'other', '+', '#']) out.add(`${TOPIC_PREFIX}/${e}/${d}/${c}`);
  for (const t of ['#', '+', 'hw', 'hw/#', 'hw/+', 'hw/v1', 'hw/v1/#', 'hw/v1/acme', 'hw/v1/acme/#', 'hw/v1/acme/gas-01', 'hw/v1/acme/gas-01/telemetry/x',
    'hw/v2/acme/gas-01/telemetry', 'hw/platform/ingest/i1', 'hw/platform/ingest', 'hw/platform/#', 'hw/platform/+', 'hw/platform/ingest/+', '$SYS/#', '$SYS/broker/load',
    '$share/g/hw/v1/acme/+/error', '$share/g/hw/v1/beta/+/error', '$share/g/#', '$share//hw/#', '$share/g', '$share/g/$share/h/#', '$share/g+/hw/#', '+/v1/acme/gas-01/telemetry', '+/#'])
    out.add(t);
  return [...out];
}

describe('the built-in set', () => {
  it('grants what the hand-written rules granted, on every identity and topic of the corpus', () => {
    const topics = corpus();
    const differences: string[] = [];
    for (const who of [device, gateway, service, anonymous]) {
      const access = accessOf(DEFAULT_ACCESS, who, who.username ?? 'anon-1');
      for (const t of topics) {
        // Publishes only on topics without wildcards: aedes refuses the others first [MQTT-3.3.2-2].
        if (!/[+#]/.test(t) && !t.startsWith('$share/') && access.mayPublish(t) !== referencePublish(who, t)) differences.push(`${who.kind} publish ${t}: ${access.mayPublish(t)}`);
        if (access.maySubscribe(t) !== referenceSubscribe(who, t)) differences.push(`${who.kind} subscribe ${t}: ${access.maySubscribe(t)}`);
      }
    }
    // Where the data differs, on purpose: the hw/v1 namespace is the contract's whoever publishes or
    // subscribes (a topic there that does not parse is refused, and so is a filter that can match no
    // contract topic); services read `#`, so they may subscribe to any filter it covers.
    const contractTopic = (t: string) => parseTopic(t) !== undefined;
    const contractFilter = (f: string) => {
      const l = f.split('/');
      if (l[0] !== 'hw' || l[1] !== 'v1' || l.length < 3) return !(l[0] === 'hw' && l[1] === 'v1');
      for (let i = 2; i < l.length; i++) {
        if (l[i] === '#') return true;
        if (l[i] !== '+' && !(i === 4 ? ['telemetry', 'event', 'status', 'error', 'command', 'alarm', 'presence', 'reply'].includes(l[i]) : i < 4 && isValidId(l[i]))) return false;
      }
      return l.length === 5;
    };
    const expected = topics.flatMap((t) => {
      const out: string[] = [];
      const inContract = t === 'hw/v1' || t.startsWith('hw/v1/');
      if (inContract && !/[+#]/.test(t) && !contractTopic(t)) out.push(`anonymous publish ${t}: false`);
      if (inContract && !contractFilter(t)) {
        out.push(`anonymous subscribe ${t}: false`, `service subscribe ${t}: false`);
        if (referenceSubscribe(gateway, t)) out.push(`gateway subscribe ${t}: false`);
        if (referenceSubscribe(device, t)) out.push(`device subscribe ${t}: false`);
      }
      return out;
    });
    expect(differences.sort()).toEqual(expected.sort());
  });

  it('gives every device only its own topics, whatever other devices or enterprises are called', () => {
    const a = accessOf(DEFAULT_ACCESS, device, 'acme/gas-01');
    expect(DEVICE_PUBLISH_CHANNELS.map((c) => a.mayPublish(`hw/v1/acme/gas-01/${c}`))).toEqual([true, true, true, true]);
    // Commands (issue 15): a device hears its own commands and answers on its own reply topic only.
    expect([a.mayPublish('hw/v1/acme/gas-01/reply'), a.mayPublish('hw/v1/acme/gas-02/reply'), a.mayPublish('hw/v1/acme/gas-01/command')]).toEqual([true, false, false]);
    expect(a.mayPublish('hw/v1/acme/gas-02/telemetry')).toBe(false);
    expect(a.maySubscribe('hw/v1/acme/+/command')).toBe(false);
    expect(a.maySubscribe('hw/v1/acme/gas-01/command')).toBe(true);
  });
});

describe('broker.aclFile', () => {
  const file = (name: string, text: string) => {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  };

  it('adds rules to the built-in set, with substitutions of the account, and deny before allow', () => {
    const rules = loadAccess(
      file(
        'add.yaml',
        `rules:
  - { kind: anonymous, access: deny, topic: "secret/#" }
  - { username: alice, access: readwrite, topic: "users/%u/#" }
  - { kind: gateway, enterprise: acme, access: write, topic: "vendor/%e/%g/+" }
  - { kind: service, access: write, topic: "bridge/%c/out" }
`,
      ),
    );
    expect(rules.length).toBe(DEFAULT_ACCESS.length + 4);
    const anon = accessOf(rules, anonymous, 'anon-1');
    expect([anon.mayPublish('factory/a'), anon.mayPublish('secret/x'), anon.maySubscribe('secret/+'), anon.maySubscribe('secret')]).toEqual([true, false, false, false]);
    // `#` stays allowed beside the deny rule, as in Mosquitto; what it denies is kept from it message by message.
    expect([anon.maySubscribe('#'), anon.needsDeliveryCheck('#'), anon.mayRead('secret/x'), anon.mayRead('factory/a')]).toEqual([true, true, false, true]);
    expect([anon.maySubscribe('factory/#'), anon.needsDeliveryCheck('factory/#'), anon.needsDeliveryCheck('$share/g/secret/#')]).toEqual([true, false, true]);
    const gw = accessOf(rules, gateway, 'acme/gw-1');
    expect([gw.mayPublish('vendor/acme/gw-1/data'), gw.mayPublish('vendor/acme/gw-2/data'), gw.mayPublish('hw/v1/acme/x/telemetry')]).toEqual([true, false, true]);
    const other = accessOf(rules, { kind: 'gateway', username: 'beta/gw-1', enterprise: 'beta', gateway: 'gw-1' }, 'beta/gw-1');
    expect(other.mayPublish('vendor/beta/gw-1/data')).toBe(false);
    const svc = accessOf(rules, service, 'svc:ingest:a');
    expect([svc.mayPublish('bridge/svc:ingest:a/out'), svc.mayPublish('bridge/svc:ingest:b/out')]).toEqual([true, false]);
    // A client id holding a wildcard or a level separator never widens a rule.
    for (const id of ['a/#', '+', 'x/y']) expect(accessOf(rules, service, id).mayPublish(`bridge/${id}/out`), id).toBe(false);
    expect(accessOf(rules, { kind: 'service', username: 'alice' }, 'c1').mayPublish('users/alice/notes')).toBe(true);
  });

  it('prints the rules in force as a file that loads back to the same rules', () => {
    const printed = file('printed.yaml', accessFileText(DEFAULT_ACCESS));
    expect(loadAccess(printed)).toEqual(DEFAULT_ACCESS);
  });

  it('replaces the built-in set when asked to, and reads JSON too', () => {
    const rules = loadAccess(file('only.json', JSON.stringify({ replaceDefaults: true, rules: [{ kind: 'device', access: 'write', topic: 'legacy/%d' }] })));
    const a = accessOf(rules, device, 'acme/gas-01');
    expect([a.mayPublish('legacy/gas-01'), a.mayPublish('hw/v1/acme/gas-01/telemetry')]).toEqual([true, false]);
    expect(loadAccess(undefined)).toBe(DEFAULT_ACCESS);
  });

  it('refuses a file with a clear message naming each wrong rule', () => {
    const bad = file(
      'bad.yaml',
      `rules:
  - { access: read, topic: "a/#/b" }
  - { access: read, topic: "a/%x" }
  - { access: all, topic: "a" }
  - { access: read, topic: "a", kinds: device }
`,
    );
    expect(() => loadAccess(bad)).toThrow(/HW_ERR_CONFIG|broker\.aclFile/);
    let message = '';
    try {
      loadAccess(bad);
    } catch (err) {
      message = (err as Error).message;
      expect((err as { code?: string }).code).toBe('HW_ERR_CONFIG');
    }
    expect(message).toContain('rules[0].topic: not a valid MQTT topic filter');
    expect(message).toContain('rules[1].topic: unknown substitution');
    expect(message).toMatch(/rules\[2\]\.access: /);
    expect(message).toMatch(/rules\[3\]: .*kinds/);
    expect(() => loadAccess(file('syntax.yaml', 'rules: [ {'))).toThrow(/is not valid YAML/);
    expect(() => loadAccess(join(tmp, 'missing.yaml'))).toThrow(/cannot read/);
  });
});
