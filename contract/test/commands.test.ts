// The command contract (issue 15): which classes accept what, the arguments checked strictly, the
// command and reply payloads, and how a reply moves a command.
import { describe, expect, it } from 'vitest';
import { DEVICE_CLASS_IDS } from '../catalog.ts';
import { COMMANDS, CommandPayload, commandSchemaFor, commandSpec, commandsOf, nextStatus, ReplyPayload } from '../commands.ts';
import { parseTopic, topicFor } from '../topics.ts';

describe('command catalog', () => {
  it('lists every class, and no process actuation anywhere', () => {
    expect(Object.keys(COMMANDS).sort()).toEqual([...DEVICE_CLASS_IDS].sort());
    expect(Object.keys(commandsOf('vessel'))).toEqual([]);
    expect(Object.keys(commandsOf('smoke_alarm')).sort()).toEqual(['self_test', 'silence']);
    expect(Object.keys(commandsOf('fire_water')).sort()).toEqual(['pump_test_start', 'pump_test_stop']);
    expect(Object.keys(commandsOf('gas_combustible')).sort()).toEqual(['self_test', 'silence']);
    const all = DEVICE_CLASS_IDS.flatMap((c) => Object.keys(commandsOf(c)));
    // Emergency shutdown, valve closing, power cutting and remote zeroing belong elsewhere (contract/commands.ts).
    for (const name of all) expect(name).not.toMatch(/valve|shutdown|esd|trip|cut|zero|calibrat/);
  });

  it('checks arguments strictly, with the ranges of the catalog', () => {
    const start = commandSpec('fire_water', 'pump_test_start')!;
    expect(start.args.safeParse({}).success).toBe(true);
    expect(start.args.safeParse({ minutes: 15 }).success).toBe(true);
    expect(start.args.safeParse({ minutes: 0 }).success).toBe(false);
    expect(start.args.safeParse({ minutes: 31 }).success).toBe(false);
    expect(start.args.safeParse({ minutes: 2.5 }).success).toBe(false);
    expect(start.args.safeParse({ speed: 1 }).success).toBe(false);
    expect(commandSpec('smoke_alarm', 'silence')!.args.safeParse({ seconds: 10 }).success).toBe(false);
    expect(commandSpec('vessel', 'silence')).toBeUndefined();
    // Own properties only: names of Object.prototype are no commands.
    expect(commandSpec('smoke_alarm', 'toString')).toBeUndefined();
  });

  it("describes each class's command payload exactly (JSON Schema)", () => {
    const fw = commandSchemaFor('fire_water')!;
    const base = { id: 'cmd-0123456789', ts: 1, expiresAt: 2 };
    expect(fw.safeParse({ ...base, name: 'pump_test_start', args: { minutes: 5 } }).success).toBe(true);
    expect(fw.safeParse({ ...base, name: 'pump_test_start', args: { minutes: 50 } }).success).toBe(false);
    expect(fw.safeParse({ ...base, name: 'silence' }).success).toBe(false);
    expect(commandSchemaFor('vessel')).toBeUndefined();
  });
});

describe('payloads and topics', () => {
  it('reads a command and a reply as the protocol prints them, and refuses what is not', () => {
    expect(CommandPayload.parse({ id: 'cmd-mdk2h1x0-9f3a6c2e1b7d', name: 'silence', ts: 1795460000000, expiresAt: 1795460060000 }).name).toBe('silence');
    expect(CommandPayload.safeParse({ id: 'x', name: 'silence', ts: 1, expiresAt: 2 }).success).toBe(false);
    expect(ReplyPayload.parse({ id: 'cmd-mdk2h1x0-9f3a6c2e1b7d', status: 'done', message: 'sounder silenced', ts: '2026-11-23T08:00:00+08:00' }).status).toBe('done');
    expect(ReplyPayload.safeParse({ id: 'cmd-mdk2h1x0-9f3a6c2e1b7d', status: 'ok' }).success).toBe(false);
    expect(ReplyPayload.safeParse({ id: 'cmd-mdk2h1x0-9f3a6c2e1b7d', status: 'done', extra: 1 }).success).toBe(false);
    expect(parseTopic(topicFor('acme', 'sa-1', 'reply'))).toEqual({ enterprise: 'acme', device: 'sa-1', channel: 'reply' });
  });

  it('moves a command by its answers: accepted is a step, the final answer ends it, nothing moves an ended one', () => {
    expect(nextStatus('sent', 'accepted')).toBe('accepted');
    expect(nextStatus('sent', 'done')).toBe('done');
    expect(nextStatus('accepted', 'done')).toBe('done');
    expect(nextStatus('accepted', 'failed')).toBe('failed');
    expect(nextStatus('sent', 'rejected')).toBe('rejected');
    expect(nextStatus('accepted', 'accepted')).toBeUndefined();
    for (const ended of ['done', 'failed', 'rejected', 'expired'] as const) expect(nextStatus(ended, 'done')).toBeUndefined();
  });
});
