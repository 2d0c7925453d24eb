// Device commands on the API's broker connection (issue 15): checks a command against the catalog,
// records it, publishes it QoS 1 on hw/v1/<e>/<d>/command, takes the device's answers from
// hw/v1/+/+/reply into the store, and expires what waits too long. Several API nodes may run side by
// side: each hears every reply (no shared subscription: a broker cluster does not serve them), and the
// store's transactions apply each answer and each expiry once.
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Registry as MetricsRegistry } from 'prom-client';
import { commandSpec, ReplyPayload, type CommandPayload } from '../contract/commands.ts';
import { ERRORS, HazwatchError, type ErrorCode } from '../contract/errors.ts';
import { DEFAULT_TIME_POLICY, errorMessage, parseJson, resolveTimestamp, type Rejection } from '../contract/payloads.ts';
import { channelFilter, parseTopic, topicFor } from '../contract/topics.ts';
import type { Logger } from '../core/log.ts';
import { counter } from '../core/metrics.ts';
import type { DeviceRecord } from '../registry/registry.ts';
import type { CommandStore, DeviceCommand } from './commands-store.ts';

/** How long a device has to answer when the request does not say (issue 15: 60 s). */
export const DEFAULT_EXPIRY_SECONDS = 60;
/** How long the broker has to acknowledge the publish before the command is recorded as not delivered. */
const PUBACK_TIMEOUT_MS = 10_000;

export interface CommandServiceOptions {
  store: CommandStore;
  /** The API's broker connection, when it has one (api/start.ts). */
  client?: MqttClient;
  now: () => number;
  log: Logger;
  metrics: MetricsRegistry;
  /** How often open commands are checked for expiry (default 1 s). */
  checkMs?: number;
}

export interface SendInput {
  device: DeviceRecord;
  name: string;
  args?: Record<string, unknown>;
  /** The account asking. */
  username: string;
  expiresInSeconds?: number;
}

export type CommandService = ReturnType<typeof startCommandService>;

export function startCommandService(options: CommandServiceOptions) {
  const { store, client, now, log } = options;
  const sent = counter(options.metrics, 'hazwatch_api_commands_total', 'Device commands by outcome (sent, refused, undelivered, and each answer and expiry)', ['outcome']);
  const replies = counter(options.metrics, 'hazwatch_api_command_replies_total', 'Replies of devices to commands, by what became of them', ['outcome']);

  /** Tells the device why its reply was not taken, on its error topic, as ingest does for data. */
  const refuse = (topic: string, enterprise: string, device: string, rejection: Rejection, receivedAt: number) => {
    replies.inc({ outcome: rejection.code });
    client?.publish(topicFor(enterprise, device, 'error'), JSON.stringify(errorMessage(rejection, topic, receivedAt)), { qos: 1 });
  };
  const rejection = (code: ErrorCode, detail?: string): Rejection => ({ code, message: detail ? `${ERRORS[code].message}: ${detail}` : ERRORS[code].message });

  async function onReply(topic: string, payload: Buffer): Promise<void> {
    const t = parseTopic(topic);
    if (!t || t.channel !== 'reply') return;
    const at = now();
    const json = parseJson(payload);
    if ('rejection' in json) return refuse(topic, t.enterprise, t.device, json.rejection, at);
    const parsed = ReplyPayload.safeParse(json.json);
    if (!parsed.success) return refuse(topic, t.enterprise, t.device, rejection('HW_ERR_SCHEMA', parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ')), at);
    const r = parsed.data;
    // The device's time of its answer is recorded beside ours; a wrong clock does not refuse an answer.
    const time = resolveTimestamp(r.ts, at, DEFAULT_TIME_POLICY);
    const deviceTs = 'ts' in time && time.tsSource === 'device' ? time.ts : null;
    const result = await store.reply(t.enterprise, t.device, { id: r.id, status: r.status, message: r.message, deviceTs }, at);
    if (result.outcome === 'unknown') return refuse(topic, t.enterprise, t.device, rejection('HW_ERR_COMMAND_REPLY_UNKNOWN', r.id), at);
    replies.inc({ outcome: result.outcome });
    if (result.outcome === 'applied') {
      sent.inc({ outcome: result.command.status });
      log.info({ command: r.id, device: `${t.enterprise}/${t.device}`, name: result.command.name, status: result.command.status }, 'device answered a command');
    }
  }

  if (client) {
    const subscribe = () =>
      client.subscribe(channelFilter('reply'), { qos: 1 }, (err) => {
        if (err) log.error({ err }, 'commands: subscribe to replies failed');
      });
    client.on('connect', subscribe);
    if (client.connected) subscribe();
    client.on('message', (topic, payload) => {
      if (!topic.endsWith('/reply')) return;
      onReply(topic, payload).catch((err) => log.error({ err, topic }, 'commands: reply could not be recorded'));
    });
  }

  const timer = setInterval(() => {
    store
      .expire(now())
      .then((expired) => {
        for (const c of expired) {
          sent.inc({ outcome: 'expired' });
          log.warn({ command: c.id, device: `${c.enterprise}/${c.device}`, name: c.name }, 'device command expired without an answer');
        }
      })
      .catch((err) => log.error({ err }, 'commands: expiry check failed'));
  }, options.checkMs ?? 1000);
  timer.unref();

  const publish = (topic: string, body: string) =>
    new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`no PUBACK within ${PUBACK_TIMEOUT_MS / 1000} s`)), PUBACK_TIMEOUT_MS);
      client!.publish(topic, body, { qos: 1, retain: false }, (err) => {
        clearTimeout(timeout);
        if (err) reject(err);
        else resolve();
      });
    });

  return {
    /**
     * Checks, records and publishes one command. Throws a HazwatchError with a HW_ERR_COMMAND_* code
     * for what the catalog or the moment refuses; a publish the broker does not take is recorded failed.
     */
    async send(input: SendInput): Promise<DeviceCommand> {
      const { device } = input;
      const spec = commandSpec(device.class, input.name);
      if (!spec) throw new HazwatchError('HW_ERR_COMMAND_UNKNOWN', `a ${device.class} device accepts no command "${input.name}"`, { field: 'body.name' });
      const args = spec.args.safeParse(input.args ?? {});
      if (!args.success) {
        const issue = args.error.issues[0];
        throw new HazwatchError('HW_ERR_COMMAND_ARGS', `${input.name}: ${args.error.issues.map((i) => `args.${i.path.join('.') || '(unknown)'}: ${i.message}`).join('; ')}`, { field: `body.args${issue?.path.length ? '.' + issue.path.join('.') : ''}` });
      }
      if (!client || !client.connected) throw new HazwatchError('HW_ERR_COMMAND_BROKER');
      const at = now();
      const id = `cmd-${at.toString(36)}-${randomBytes(6).toString('hex')}`;
      const expiresAt = at + (input.expiresInSeconds ?? DEFAULT_EXPIRY_SECONDS) * 1000;
      const created = await store.create({ id, enterprise: device.enterprise, device: device.id, deviceClass: device.class, name: input.name, args: args.data, requestedBy: input.username, requestedAt: at, expiresAt, runSeconds: spec.runSeconds });
      if ('busy' in created) {
        sent.inc({ outcome: 'busy' });
        throw new HazwatchError('HW_ERR_COMMAND_BUSY', `command ${created.busy.id} (${created.busy.name}) to ${device.enterprise}/${device.id} is ${created.busy.status}; it ends by its answer or at ${new Date(created.busy.finishBy ?? created.busy.expiresAt).toISOString()}`);
      }
      const payload: CommandPayload = { id, name: input.name, ...(Object.keys(args.data).length ? { args: args.data } : {}), ts: at, expiresAt };
      try {
        await publish(topicFor(device.enterprise, device.id, 'command'), JSON.stringify(payload));
      } catch (err) {
        sent.inc({ outcome: 'undelivered' });
        log.error({ err, command: id }, 'device command not taken by the broker');
        return (await store.undelivered(id, now(), `not delivered to the broker: ${(err as Error).message}`))!;
      }
      sent.inc({ outcome: 'sent' });
      log.info({ command: id, device: `${device.enterprise}/${device.id}`, name: input.name, by: input.username }, 'device command sent');
      return (await store.get(id))!;
    },
    close() {
      clearInterval(timer);
    },
  };
}
