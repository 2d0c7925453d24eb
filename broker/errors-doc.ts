// Writes docs/errors.md from the catalogs in contract/errors.ts and contract/alarms.ts, so that the
// document can never disagree with the code (`npm run docs:errors`; a test checks it is current).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ALARM_CONDITIONS, LEVEL_COLOURS, LEVEL_MAPPINGS, ALARM_LEVELS } from '../contract/alarms.ts';
import { ERRORS, type ErrorCode, type ErrorScope } from '../contract/errors.ts';
import { CONNACK } from './auth.ts';

export const ERRORS_DOC_PATH = fileURLToPath(new URL('../docs/errors.md', import.meta.url));

const SCOPES: Record<ErrorScope, { title: string; where: string }> = {
  message: { title: 'Messages refused as a whole', where: 'Published on the device\'s error topic `hw/v1/<enterprise>/<device>/error`; nothing of the message was stored.' },
  value: { title: 'Values refused', where: 'Published on the device\'s error topic with `metric` (and `index` for a batch); the other values of the message were stored.' },
  warning: { title: 'Stored with a correction', where: 'Published on the device\'s error topic; the reading was stored, but not exactly as sent.' },
  broker: { title: 'Refused by the broker', where: 'The MQTT client sees the answer in the protocol (CONNACK, SUBACK or a closed connection); publishes and subscriptions also produce a message on the error topic.' },
  process: { title: 'Processes', where: 'In the process log and its exit status; operators, not devices, see these.' },
  request: { title: 'API requests and operator actions', where: 'In the HTTP response body `{ "code": ..., "message": ... }` with a 4xx status.' },
};

/** What the sender sees and what to do, for codes where it is more than the message says. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  HW_ERR_PAYLOAD_TOO_LARGE: 'Broker: the connection is closed (`broker.maxPayloadBytes`, default 256 KiB). Ingest: refused if over its own limit. Split large batches.',
  HW_ERR_BAD_JSON: 'Send UTF-8 JSON objects, not numbers, strings or binary.',
  HW_ERR_SCHEMA: 'Compare the payload with `contract/schema/*.json` for this channel and class.',
  HW_ERR_TOPIC: 'Use `hw/v1/<enterprise>/<device>/<telemetry|event|status>`.',
  HW_ERR_UNKNOWN_DEVICE: 'Register the device: `hazwatch device add <enterprise>/<device> --class <class>`.',
  HW_ERR_TS_FUTURE: 'Synchronise the device clock (NTP), or send no `ts` and let the platform stamp the reading.',
  HW_ERR_TS_PAST: 'Replay buffered readings sooner, or ask the operator to widen the accepted past.',
  HW_WARN_CLOCK_SKEW: 'Synchronise the device clock (NTP).',
  HW_ERR_AUTH_BAD_CREDENTIALS: `CONNACK ${CONNACK.HW_ERR_AUTH_BAD_CREDENTIALS.v3} (bad user name or password; MQTT 5: 0x86). Check the credentials printed by \`hazwatch device add\`; failures count towards a ban.`,
  HW_ERR_AUTH_REVOKED: `CONNACK ${CONNACK.HW_ERR_AUTH_REVOKED.v3} (not authorized; MQTT 5: 0x87). Connected sessions of a revoked account are closed within seconds.`,
  HW_ERR_AUTH_ROTATED: 'The broker closes a connected device or gateway session within seconds of its password being set again (`hazwatch device rotate`, the console, the API); connect again with the new password. Service accounts are not closed this way.',
  HW_ERR_AUTH_BANNED: `CONNACK ${CONNACK.HW_ERR_AUTH_BANNED.v3} (not authorized; MQTT 5: 0x8A), without a password check, for \`broker.ban.durationSeconds\`. Fix the password and wait.`,
  HW_ERR_CLIENT_ID_REQUIRED: `CONNACK ${CONNACK.HW_ERR_CLIENT_ID_REQUIRED.v3} (identifier rejected) [MQTT-3.1.3-8]: a persistent session needs a client id to be found again. Set a client id, or connect with clean session 1 (the broker then assigns one).`,
  HW_ERR_AUTH_CLIENT_ID: `CONNACK ${CONNACK.HW_ERR_AUTH_CLIENT_ID.v3} (identifier rejected; MQTT 5: 0x85). The client id must be the user name, or \`<user name>:<suffix>\`.`,
  HW_ERR_AUTH_ANONYMOUS: `CONNACK ${CONNACK.HW_ERR_AUTH_ANONYMOUS.v3} (not authorized; MQTT 5: 0x87). Connect with a user name and password.`,
  HW_ERR_ACL_PUBLISH: 'The message is acknowledged (PUBACK) but dropped; the reason goes to the error topic. A last will on a foreign topic refuses the CONNECT (CONNACK 5).',
  HW_ERR_ACL_SUBSCRIBE: 'SUBACK 0x80 for that filter; the connection stays open.',
  HW_ERR_SHARED_CLUSTER: 'SUBACK 0x80 for any `$share/...` filter on a broker node of a cluster (`broker.cluster.redis`): each node would choose its own member, so a message would reach one member per node. Several ingest processes on a cluster split the load by enterprise (`ingest.enterprises`). `hazwatch ingest` with `ingest.shareGroup` stops with HW_ERR_SHARED_SUBSCRIPTION naming the refused filters.',
  HW_ERR_SHARED_SUBSCRIPTION: 'SUBACK 0x80 for a malformed `$share/<group>/<filter>` (empty group, `+`/`#` in it, no filter); the connection stays open. A well-formed one is checked like its filter (HW_ERR_ACL_SUBSCRIBE). `hazwatch ingest` with `ingest.shareGroup` stops with this code when the broker refuses its subscription.',
  HW_ERR_RATE_LIMIT: 'Acknowledged but dropped; repeated excess (`broker.rateLimitDisconnectAfter` within 10 s) closes the connection. Send batches instead of many small messages.',
  HW_ERR_CONNECTION_LIMIT: `CONNACK ${CONNACK.HW_ERR_CONNECTION_LIMIT.v3} (server unavailable; MQTT 5: 0x97). Retry with back-off.`,
  HW_ERR_MALFORMED_PACKET: 'The connection is closed; other connections are not affected. Update the MQTT library.',
  HW_ERR_MQTT_VERSION: 'CONNACK 1 (unacceptable protocol version). Configure the client for MQTT 3.1.1 (mosquitto_pub `-V mqttv311`).',
  HW_ERR_CONFIG: 'The message names the setting, where it came from and what was expected.',
};

function escape(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function renderErrorsDoc(): string {
  const lines: string[] = [
    '# Error and alarm codes',
    '',
    '<!-- Generated by `npm run docs:errors` from contract/errors.ts and contract/alarms.ts. Do not edit by hand. -->',
    '',
    'Every refusal and every alarm condition has one stable code. The same code appears on the device\'s error',
    'topic, in the logs, as the `code`/`reason` label of the metrics, in the API and here. Codes are never renamed',
    'or reused. The payload on the error topic is described in [protocol.md](protocol.md#7-errors).',
    '',
  ];
  const scopes = Object.keys(SCOPES) as ErrorScope[];
  for (const scope of scopes) {
    const entries = (Object.entries(ERRORS) as [ErrorCode, { scope: ErrorScope; message: string }][]).filter(([, spec]) => spec.scope === scope);
    if (entries.length === 0) continue;
    lines.push(`## ${SCOPES[scope].title}`, '', SCOPES[scope].where, '', '| code | meaning | what the sender sees, what to do |', '|---|---|---|');
    for (const [code, spec] of entries) lines.push(`| \`${code}\` | ${escape(spec.message)} | ${escape(HINTS[code] ?? '')} |`);
    lines.push('');
  }
  lines.push(
    '## Alarm levels',
    '',
    'Level 1 is the most severe. A gas detector\'s first-stage alarm is the milder one: stages are not levels.',
    '',
    '| level | colour | 中文 | ThingsBoard | InfluxDB check |',
    '|---|---|---|---|---|',
    ...ALARM_LEVELS.map((l) => `| ${l} | ${LEVEL_COLOURS[l].name} | ${LEVEL_COLOURS[l].zh} | ${LEVEL_MAPPINGS[l].thingsboard} | ${LEVEL_MAPPINGS[l].influxdb} |`),
    '',
    '## Alarm conditions',
    '',
    'Published on `hw/v1/<enterprise>/<device>/alarm` at every state change, stored, and shown in the console.',
    '',
    '| code | condition | 中文 | raised by |',
    '|---|---|---|---|',
    ...Object.entries(ALARM_CONDITIONS).map(([code, spec]) => `| \`${code}\` | ${escape(spec.title)} | ${spec.zh} | ${spec.source} |`),
    '',
  );
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(ERRORS_DOC_PATH, renderErrorsDoc());
  process.stdout.write(`wrote ${ERRORS_DOC_PATH}\n`);
}
