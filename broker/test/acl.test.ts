// Access rules as pure functions: the integration tests prove them over MQTT, these cover the corners.
import { describe, expect, it } from 'vitest';
import { accessOf, type Identity } from '../acl.ts';
import { DEFAULT_ACCESS } from '../access-default.ts';

const mayPublish = (who: Identity, topic: string) => accessOf(DEFAULT_ACCESS, who, who.username ?? '').mayPublish(topic);
const maySubscribe = (who: Identity, filter: string) => accessOf(DEFAULT_ACCESS, who, who.username ?? '').maySubscribe(filter);
import { clientIdMatches, identityOf } from '../auth.ts';

const device: Identity = { kind: 'device', username: 'acme/gas-01', enterprise: 'acme', device: 'gas-01' };
const gateway: Identity = { kind: 'gateway', username: 'acme/gw-1', enterprise: 'acme', gateway: 'gw-1' };
const service: Identity = { kind: 'service', username: 'svc:ingest' };

describe('acl', () => {
  it('device: own telemetry, event, status only', () => {
    expect(['telemetry', 'event', 'status'].map((c) => mayPublish(device, `hw/v1/acme/gas-01/${c}`))).toEqual([true, true, true]);
    for (const topic of ['hw/v1/acme/gas-01/error', 'hw/v1/acme/gas-01/command', 'hw/v1/acme/gas-01/alarm', 'hw/v1/acme/gas-02/telemetry', 'hw/v1/beta/gas-01/telemetry', 'hw/v1/acme/gas-01/telemetry/x', 'hw/v2/acme/gas-01/telemetry', '$SYS/x', 'hw/v1/acme/gas-01/bogus']) {
      expect(mayPublish(device, topic), topic).toBe(false);
    }
  });

  it('gateway: any device of its enterprise', () => {
    expect(mayPublish(gateway, 'hw/v1/acme/anything/telemetry')).toBe(true);
    expect(mayPublish(gateway, 'hw/v1/beta/anything/telemetry')).toBe(false);
    expect(mayPublish(gateway, 'hw/v1/acme/anything/command')).toBe(false);
    expect(maySubscribe(gateway, 'hw/v1/acme/+/error')).toBe(true);
    expect(maySubscribe(gateway, 'hw/v1/acme/x/command')).toBe(true);
    expect(maySubscribe(gateway, 'hw/v1/acme/+/+')).toBe(false);
    expect(maySubscribe(gateway, 'hw/v1/+/x/command')).toBe(false);
    // A shared subscription is judged by its filter.
    expect(maySubscribe(gateway, '$share/g/hw/v1/acme/+/error')).toBe(true);
    expect(maySubscribe(gateway, '$share/g/hw/v1/beta/+/error')).toBe(false);
  });

  it('service: subscribes everywhere, publishes error, command and alarm only', () => {
    for (const f of ['#', 'hw/#', 'hw/v1/+/+/telemetry', '$SYS/#']) expect(maySubscribe(service, f), f).toBe(true);
    // Shared subscriptions (broker/shared.ts) on what it may read; malformed ones and nested ones never.
    for (const f of ['$share/ingest/hw/v1/+/+/telemetry', '$share/rules/#']) expect(maySubscribe(service, f), f).toBe(true);
    for (const f of ['$share//hw/#', '$share/g', '$share/g/$share/h/#']) expect(maySubscribe(service, f), f).toBe(false);
    // A service reads `#`, so any filter it covers (before access rules became data, `other/#` was refused
    // while `#` was granted).
    expect(maySubscribe(service, 'other/#')).toBe(true);
    expect(['error', 'command', 'alarm', 'telemetry', 'status'].map((c) => mayPublish(service, `hw/v1/acme/gas-01/${c}`))).toEqual([true, true, true, false, false]);
    // Their own state (ingest's spool) under hw/platform/, concrete topics only; never devices or gateways.
    expect(mayPublish(service, 'hw/platform/ingest/i1')).toBe(true);
    expect(mayPublish(service, 'hw/platform/ingest/+')).toBe(false);
    expect(mayPublish(gateway, 'hw/platform/ingest/i1')).toBe(false);
    expect(mayPublish(device, 'hw/platform/ingest/i1')).toBe(false);
    expect(maySubscribe(device, 'hw/platform/#')).toBe(false);
  });

  it('client ids and identities', () => {
    expect(clientIdMatches('acme/gas-01', 'acme/gas-01')).toBe(true);
    expect(clientIdMatches('acme/gas-01', 'acme/gas-01:diag')).toBe(true);
    expect(clientIdMatches('acme/gas-01', 'acme/gas-01:')).toBe(false);
    expect(clientIdMatches('acme/gas-01', 'acme/gas-012')).toBe(false);
    expect(identityOf({ username: 'acme/gw-1', kind: 'gateway', enterprise: 'acme', device: null, createdAt: 0, revokedAt: null, secretVersion: 'v' })).toEqual(gateway);
    expect(identityOf({ username: 'svc:ingest', kind: 'service', enterprise: null, device: null, createdAt: 0, revokedAt: null, secretVersion: 'v' })).toEqual(service);
  });
});
