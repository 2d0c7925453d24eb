// The catalog of every reason the platform refuses something, each with one stable code.
// The same code appears on a device's error topic, in the logs, as the `reason` label of the
// rejection metrics and in docs/errors.md, so an enterprise engineer can search for it anywhere.
// Codes are never renamed or reused; a retired code stays here marked as such.

export type ErrorScope =
  /** The whole message was refused; nothing of it was stored. */
  | 'message'
  /** One value (or one reading of a batch) was refused; its siblings were stored. */
  | 'value'
  /** Stored, but not as sent (e.g. receive time used instead of the device's clock). */
  | 'warning'
  /** A connection, publish or subscribe refused by the broker. */
  | 'broker'
  /** A process refused to start or to take a setting. */
  | 'process'
  /** An API request refused (HTTP 4xx). */
  | 'request';

export interface ErrorSpec {
  scope: ErrorScope;
  message: string;
}

export const ERRORS = {
  // Messages (ingest; scope message)
  HW_ERR_PAYLOAD_TOO_LARGE: { scope: 'message', message: 'payload exceeds the maximum message size' },
  HW_ERR_BAD_JSON: { scope: 'message', message: 'payload is not valid UTF-8 JSON' },
  HW_ERR_SCHEMA: { scope: 'message', message: 'payload does not match the contract schema for this channel' },
  HW_ERR_TOPIC: { scope: 'message', message: 'topic is not a v1 device topic this client may publish on' },
  HW_ERR_UNKNOWN_DEVICE: { scope: 'message', message: 'device is not registered, or has been revoked' },
  HW_ERR_BATCH_TOO_LARGE: { scope: 'message', message: 'batch holds more readings than allowed' },
  HW_ERR_EMPTY: { scope: 'message', message: 'message carries no value' },
  HW_ERR_UNKNOWN_EVENT: { scope: 'message', message: 'event type is not defined for this device class' },
  // Sparkplug B edge nodes (sparkplug/; scope message)
  HW_ERR_SPARKPLUG_PAYLOAD: { scope: 'message', message: 'Sparkplug B payload is not a valid protobuf Payload' },
  HW_ERR_SPARKPLUG_UNBORN: { scope: 'message', message: 'Sparkplug message from an edge node or device without a current birth certificate: rebirth requested' },
  HW_ERR_SPARKPLUG_SEQ: { scope: 'message', message: 'Sparkplug sequence number out of order (a message was lost): the node\'s devices are offline and a rebirth is requested' },
  HW_ERR_SPARKPLUG_UNMAPPED: { scope: 'message', message: 'Sparkplug device is in no Sparkplug map (sparkplug.maps): its data is not taken' },
  // Mapped devices, Sparkplug B and vendor maps alike (sparkplug/, vendor/; scope message)
  HW_ERR_MAP_CLASS: { scope: 'message', message: 'device is mapped with another class than the one it is registered with: its data is not taken' },
  HW_ERR_MAP_PATH: { scope: 'message', message: 'payload lacks a field the vendor map reads (an array to iterate, or a field of the device id)' },
  HW_ERR_MAP_DEVICE: { scope: 'message', message: 'enterprise or device id made by the vendor map is not a valid id' },
  HW_ERR_MAP_TIMESTAMP: { scope: 'message', message: 'timestamp field is missing or not in the format the vendor map declares' },
  // Values (ingest; scope value)
  HW_ERR_UNKNOWN_METRIC: { scope: 'value', message: 'metric is not defined for this device class' },
  HW_ERR_TYPE: { scope: 'value', message: 'value has the wrong type for this metric' },
  HW_ERR_NOT_FINITE: { scope: 'value', message: 'value is NaN or infinite' },
  HW_ERR_RANGE: { scope: 'value', message: 'value is outside the physical range of this metric' },
  HW_ERR_TS_FUTURE: { scope: 'value', message: 'timestamp is too far in the future' },
  HW_ERR_TS_PAST: { scope: 'value', message: 'timestamp is older than the platform accepts' },
  HW_ERR_TS_INVALID: { scope: 'value', message: 'timestamp is neither epoch milliseconds nor ISO 8601' },
  // Stored with a correction (scope warning)
  HW_WARN_CLOCK_SKEW: { scope: 'warning', message: 'device clock is off: receive time used instead of the device timestamp' },
  // Broker
  HW_ERR_AUTH_BAD_CREDENTIALS: { scope: 'broker', message: 'bad user name or password' },
  HW_ERR_AUTH_REVOKED: { scope: 'broker', message: 'credentials have been revoked' },
  HW_ERR_AUTH_ROTATED: { scope: 'broker', message: 'the password was replaced (rotated): the session opened with the old one is closed; connect with the new one' },
  HW_ERR_AUTH_BANNED: { scope: 'broker', message: 'client is banned after too many failed connection attempts' },
  HW_ERR_AUTH_CLIENT_ID: { scope: 'broker', message: 'client id does not belong to these credentials' },
  HW_ERR_CLIENT_ID_REQUIRED: { scope: 'broker', message: 'a zero-length client id needs a clean session' },
  HW_ERR_AUTH_ANONYMOUS: { scope: 'broker', message: 'anonymous access is disabled' },
  HW_ERR_ACL_PUBLISH: { scope: 'broker', message: 'client may not publish on this topic' },
  HW_ERR_ACL_SUBSCRIBE: { scope: 'broker', message: 'client may not subscribe to this filter' },
  HW_ERR_SHARED_SUBSCRIPTION: { scope: 'broker', message: 'malformed shared subscription: $share/<group>/<filter>, a group name without / + # and a filter after it' },
  HW_ERR_SHARED_CLUSTER: { scope: 'broker', message: 'shared subscriptions are not served by a broker cluster: split the load by enterprise (ingest.enterprises, rules.enterprises)' },
  HW_ERR_RATE_LIMIT: { scope: 'broker', message: 'client publishes faster than its allowed rate' },
  HW_ERR_CONNECTION_LIMIT: { scope: 'broker', message: 'broker is at its maximum number of connections' },
  // Broker (added with the broker: packets refused before any topic is known)
  HW_ERR_MALFORMED_PACKET: { scope: 'broker', message: 'packet violates the MQTT protocol; the connection was closed' },
  HW_ERR_MQTT_VERSION: { scope: 'broker', message: 'MQTT protocol version not supported: use MQTT 3.1.1 (protocol level 4)' },
  // Processes
  HW_ERR_CONFIG: { scope: 'process', message: 'configuration is invalid' },
  HW_ERR_SPOOL_FULL: { scope: 'process', message: 'ingest spool is full: messages are no longer acknowledged' },
  HW_ERR_DB_WRITE: { scope: 'process', message: 'time-series database write failed' },
  HW_ERR_SUBSCRIBE_TIMEOUT: { scope: 'process', message: 'the broker did not answer a SUBSCRIBE in time: the service reconnects and subscribes again' },
  // API requests and operator actions
  HW_ERR_VALIDATION: { scope: 'request', message: 'request does not match the schema' },
  HW_ERR_UNAUTHENTICATED: { scope: 'request', message: 'not signed in, or the session has expired' },
  HW_ERR_FORBIDDEN: { scope: 'request', message: 'not allowed for this account or enterprise' },
  HW_ERR_NOT_FOUND: { scope: 'request', message: 'no such resource' },
  HW_ERR_CONFLICT: { scope: 'request', message: 'resource already exists or was changed meanwhile' },
  HW_ERR_ALARM_TRANSITION: { scope: 'request', message: 'this action is not possible in the alarm\'s current state' },
  // ---- Added by api (issue 6) ----
  HW_ERR_UNAVAILABLE: { scope: 'request', message: 'a service the request needs (time-series database, alarm store) is unavailable' },
  HW_ERR_TOO_MANY_REQUESTS: { scope: 'request', message: 'too many requests (e.g. sign-in attempts) from this client: wait and retry' },
  // ---- Added by gateway (issue 7) ----
  HW_ERR_GATEWAY_BUFFER_FULL: { scope: 'process', message: 'gateway outbox is full: the oldest buffered readings were dropped' },
  // ---- Added by dangers (issue 16): hidden dangers and their evidence ----
  HW_ERR_DANGER_TRANSITION: { scope: 'request', message: "this action is not possible in the hidden danger's current state" },
  HW_ERR_DANGER_NO_EVIDENCE: { scope: 'request', message: 'a hidden danger is marked rectified only with evidence (a photo or a file) added since it was opened or last failed its recheck' },
  HW_ERR_DANGER_SAME_ACCOUNT: { scope: 'request', message: 'the account that marked a hidden danger rectified may not recheck it: another account rechecks' },
  HW_ERR_EVIDENCE_TYPE: { scope: 'request', message: 'evidence file is not a JPEG, PNG, WebP or PDF (judged by its content, not its name)' },
  HW_ERR_EVIDENCE_TOO_LARGE: { scope: 'request', message: 'evidence file is larger than dangers.evidenceMaxBytes' },
  // ---- Added by the duty roster (issue 16): shifts and handovers ----
  HW_ERR_DUTY_OVERLAP: { scope: 'request', message: 'shift overlaps another shift of the same unit' },
  HW_ERR_DUTY_PERSON: { scope: 'request', message: 'a person named on the shift is not in the duty directory of its unit' },
  HW_ERR_HANDOVER_SAME_ACCOUNT: { scope: 'request', message: 'the incoming officer signs a handover with another account than the outgoing one' },
  HW_ERR_HANDOVER_SIGNED: { scope: 'request', message: 'the handover is signed by both sides and kept as it is: it cannot be signed or changed again' },
  // ---- Added by warnings (issue 16): publication through one entry point ----
  HW_ERR_WARNING_STATE: { scope: 'request', message: "this action is not possible in the warning's current state" },
  HW_ERR_FOUR_EYES: { scope: 'request', message: 'a warning is approved by another supervisor than the one who drafted or submitted it' },
  HW_ERR_WARNING_NO_RECIPIENTS: { scope: 'request', message: 'no configured channel reaches anyone in the audiences chosen: nothing would be sent' },
  HW_ERR_WARNING_AUDIENCE: { scope: 'request', message: 'unknown audience (see GET /api/v1/warnings/catalog)' },
  // ---- Added by the console's management screens (issue 15) ----
  HW_ERR_RULES_INVALID: { scope: 'request', message: 'the rule file does not pass the check of `hazwatch rules --check` (the message names the file and the rule); nothing was saved' },
  // ---- Added by device commands (issue 15): commands on hw/v1/<e>/<d>/command and their replies ----
  HW_ERR_COMMAND_UNKNOWN: { scope: 'request', message: "the device's class accepts no command of that name (see GET /api/v1/commands/catalog)" },
  HW_ERR_COMMAND_ARGS: { scope: 'request', message: 'the arguments do not match the command (unknown, missing or out of range)' },
  HW_ERR_COMMAND_REVOKED: { scope: 'request', message: 'the device is revoked: it can no longer connect to hear a command' },
  HW_ERR_COMMAND_OFFLINE: { scope: 'request', message: 'the device is offline: a command would expire unheard; wait until it is online' },
  HW_ERR_COMMAND_BUSY: { scope: 'request', message: 'a command to this device is still waiting for its answer: one at a time per device' },
  HW_ERR_COMMAND_BROKER: { scope: 'request', message: "the API has no broker connection to publish the command on: nothing was sent" },
  HW_ERR_COMMAND_REPLY_UNKNOWN: { scope: 'message', message: 'reply names no command sent to this device' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERRORS[code];
}

/** An error that carries a catalog code, for throwing across module boundaries. */
export class HazwatchError extends Error {
  readonly code: ErrorCode;
  readonly detail?: Record<string, unknown>;
  constructor(code: ErrorCode, message?: string, detail?: Record<string, unknown>) {
    super(message ?? ERRORS[code].message);
    this.name = 'HazwatchError';
    this.code = code;
    this.detail = detail;
  }
}
