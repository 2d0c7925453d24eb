// A third-party MQTT 3.1.1 conformance suite against the broker in anonymous mode: the Eclipse Paho
// interoperability tests (test/vendor/paho-interop/client_test.py, their own Python client: basic
// QoS 0/1/2, retained messages, zero-length client id, offline queueing, overlapping subscriptions,
// keepalive with will, redelivery on reconnect, subscribe failure, $ topics, unsubscribe), run side by
// side against Mosquitto 2 on the same machine. The subscribe failure test needs a filter the server
// refuses, `test/nosubscribe`: a deny rule in each broker's access file.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { ownMosquitto, type OwnMosquitto } from '../../test/support/mosquitto.ts';

const SUITE = new URL('../../test/vendor/paho-interop/', import.meta.url).pathname;
const TESTS = ['Basic', '$ topics', 'Keepalive', 'Offline message queueing', 'Overlapping subscriptions', 'Redelivery on reconnect', 'Retained message', 'Subscribe failure', 'unsubscribe', 'Zero length clientid'];

const tmp = mkdtempSync(join(tmpdir(), 'hw-conformance-'));
let ours: TestBroker | undefined;
let mosquitto: OwnMosquitto | undefined;
afterAll(async () => {
  await ours?.close();
  await mosquitto?.remove();
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs the suite against 127.0.0.1:port; which of its tests succeeded, and its exit code. */
function paho(port: number): Promise<{ passed: string[]; code: number; output: string }> {
  return new Promise((resolve) => {
    // `--hostname=`, not `-h`: the suite's option loop takes `-h` for `--help` ("-h" in "--help").
    execFile('python3', ['client_test.py', '--hostname=127.0.0.1', `--port=${port}`], { cwd: SUITE, timeout: 150_000 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      const passed = TESTS.filter((t) => output.includes(`${t} test succeeded`) || output.includes(`${t} tests succeeded`));
      resolve({ passed, code: err ? ((err as { code?: number }).code ?? 1) : 0, output });
    });
  });
}

it('passes every test of the Paho MQTT 3.1.1 interoperability suite in anonymous mode, as many as Mosquitto or more', async () => {
  const acl = join(tmp, 'acl.yaml');
  writeFileSync(acl, 'rules:\n  - { kind: anonymous, access: deny, topic: test/nosubscribe }\n');
  ours = await startTestBroker({ broker: { allowAnonymous: true, aclFile: acl } });
  mosquitto = await ownMosquitto({ acl: 'topic readwrite #\ntopic deny test/nosubscribe\n' });
  await mosquitto.start();
  // Side by side: the suite is mostly waiting (15 s of keepalive, sleeps between steps).
  const [a, b] = await Promise.all([paho(ours.port), paho(mosquitto.port)]);
  console.log(`paho interoperability suite: hazwatch ${a.passed.length}/${TESTS.length}, Mosquitto ${b.passed.length}/${TESTS.length}` + (b.passed.length < TESTS.length ? ` (Mosquitto failed: ${TESTS.filter((t) => !b.passed.includes(t)).join(', ')})` : ''));
  expect(a.passed, a.output).toEqual(TESTS);
  expect(a.code, a.output).toBe(0);
  for (const t of b.passed) expect(a.passed).toContain(t);
}, 200_000);
