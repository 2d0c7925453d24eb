// The TLS and WebSocket listeners carry the same MQTT, authentication and access rules as TCP.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import type { Credentials } from '../../registry/registry.ts';
import { collect, connackCode, connect, subscribe } from './helpers.ts';

let dir: string;
let tb: TestBroker;
let creds: Credentials;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hazwatch-tls-'));
  // A self-signed certificate for 127.0.0.1, made with the openssl command line (as an operator would).
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  tb = await startTestBroker({ broker: { wsPort: 0, tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } } });
  creds = await tb.registry.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible' });
});

afterAll(async () => {
  await tb?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('listeners', () => {
  it('serves MQTT over TLS with the configured certificate', async () => {
    expect(tb.tlsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(join(dir, 'cert.pem'));
    const svc = await connect(tb.url, tb.service);
    const got = collect(svc);
    await subscribe(svc, 'hw/v1/#');
    const device = await connect(tb.tlsUrl!, { ...creds, ca, rejectUnauthorized: true });
    await device.publishAsync('hw/v1/acme/gas-01/telemetry', '{"values":{"lel":5}}', { qos: 1 });
    await waitFor(() => got.some((m) => m.topic.endsWith('/telemetry')));
    expect(await connackCode(tb.tlsUrl!, { ...creds, password: 'wrong', ca })).toBe(4);
    await device.endAsync();
    await svc.endAsync();
  });

  it('serves MQTT over WebSocket', async () => {
    expect(tb.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const device = await connect(tb.wsUrl!, creds);
    expect(await subscribe(device, ['hw/v1/acme/gas-01/command', '#'])).toEqual([1, 128]);
    const got = collect(device);
    const svc = await connect(tb.url, tb.service);
    await svc.publishAsync('hw/v1/acme/gas-01/command', '{"do":"test"}', { qos: 1 });
    await waitFor(() => got.length > 0);
    expect(got[0]).toMatchObject({ topic: 'hw/v1/acme/gas-01/command', payload: '{"do":"test"}' });
    expect(await connackCode(tb.wsUrl!, { ...creds, password: 'wrong' })).toBe(4);
    await device.endAsync();
    await svc.endAsync();
  });
});
