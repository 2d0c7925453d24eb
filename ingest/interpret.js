// From one MQTT message to the lines stored and the reasons told to the device. Pure apart from
// the device directory and the per-device receive clock: no I/O, so every rule is unit-tested.
import { ERRORS, StatusPayload, interpretEvent, interpretTelemetry, parseJson, parseTopic, resolveTimestamp, TOPIC_PREFIX, } from '../contract/index.ts';
import { line, receiveClock } from './points.ts';
function refusal(code, detail) {
    return { code, message: detail ? `${ERRORS[code].message}: ${detail}` : ERRORS[code].message };
}
function deviceTags(device) {
    return { enterprise: device.enterprise, device: device.id, site: device.site, hazard_source: device.hazardSource };
}
export function createInterpreter(options) {
    const { devices, time, limits, maxPayloadBytes } = options;
    const clock = receiveClock();
    function split(all) {
        const rejections = [];
        const warnings = [];
        for (const r of all)
            (ERRORS[r.code].scope === 'warning' ? warnings : rejections).push(r);
        return { rejections, warnings };
    }
    return function interpret(topic, payload, receivedAt, retained = false) {
        const parsed = parseTopic(topic);
        if (!parsed || !['telemetry', 'event', 'status'].includes(parsed.channel)) {
            const levels = topic.split('/');
            // Answer on the error topic of whatever the topic names when it has the v1 shape, so a
            // device with a badly spelled id still hears why nothing of it is stored.
            const named = levels.length === 5 && levels[0] === 'hw' && levels[1] === 'v1' && levels[2] && levels[3] && !/[+#]/.test(levels[2] + levels[3]);
            return {
                errorTopic: named ? `${TOPIC_PREFIX}/${levels[2]}/${levels[3]}/error` : undefined,
                lines: [],
                receiveTime: false,
                rejections: [refusal('HW_ERR_TOPIC', topic)],
                warnings: [],
            };
        }
        const { enterprise, device: id, channel } = parsed;
        const errorTopic = `${TOPIC_PREFIX}/${enterprise}/${id}/error`;
        const base = { errorTopic, channel };
        if (payload.length > maxPayloadBytes) {
            return { ...base, lines: [], receiveTime: false, rejections: [refusal('HW_ERR_PAYLOAD_TOO_LARGE', `${payload.length} > ${maxPayloadBytes} bytes`)], warnings: [] };
        }
        const device = devices.get(enterprise, id);
        if (!device) {
            return { ...base, lines: [], receiveTime: false, rejections: [refusal('HW_ERR_UNKNOWN_DEVICE', `${enterprise}/${id}`)], warnings: [] };
        }
        const key = `${enterprise}/${id}`;
        const tags = deviceTags(device);
        if (channel === 'telemetry') {
            const result = interpretTelemetry(device.class, payload, receivedAt, time, limits);
            let receiveTime = false;
            const lines = result.readings.map((reading) => {
                const fields = { ...reading.values };
                let ts = reading.ts;
                if (reading.tsSource === 'receive') {
                    receiveTime = true;
                    fields.receive_time = true;
                    ts = clock(key, ts);
                }
                return line(device.class, tags, fields, ts);
            });
            return { ...base, lines, receiveTime, ...split(result.rejections) };
        }
        if (channel === 'event') {
            const result = interpretEvent(device.class, payload, receivedAt, time);
            const lines = [];
            let receiveTime = false;
            if (result.event) {
                const e = result.event;
                const fields = { active: e.active };
                if (e.message)
                    fields.message = e.message;
                let ts = e.ts;
                if (e.tsSource === 'receive') {
                    receiveTime = true;
                    fields.receive_time = true;
                    ts = clock(`${key}|event`, ts);
                }
                lines.push(line('device_event', { ...tags, hazard_source: null, class: device.class, type: e.type }, fields, ts));
            }
            return { ...base, lines, receiveTime, ...split(result.rejections) };
        }
        // status: the contract has the schema, the interpretation is this small.
        const parsedJson = parseJson(payload);
        if ('rejection' in parsedJson)
            return { ...base, lines: [], receiveTime: false, rejections: [parsedJson.rejection], warnings: [] };
        const status = StatusPayload.safeParse(parsedJson.json);
        if (!status.success) {
            const issue = status.error.issues[0];
            return { ...base, lines: [], receiveTime: false, rejections: [refusal('HW_ERR_SCHEMA', issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : undefined)], warnings: [] };
        }
        if (retained && status.data.ts === undefined)
            return { ...base, lines: [], receiveTime: false, rejections: [], warnings: [], retainedReplay: true };
        const t = resolveTimestamp(status.data.ts, receivedAt, time);
        if ('rejection' in t)
            return { ...base, lines: [], receiveTime: false, rejections: [t.rejection], warnings: [] };
        const fields = { online: status.data.state === 'online' };
        let ts = t.ts;
        if (t.tsSource === 'receive') {
            fields.receive_time = true;
            ts = clock(`${key}|status`, ts);
        }
        return {
            ...base,
            lines: [line('device_status', { ...tags, hazard_source: null, class: device.class }, fields, ts)],
            receiveTime: t.tsSource === 'receive',
            rejections: [],
            warnings: t.warning ? [t.warning] : [],
        };
    };
}
