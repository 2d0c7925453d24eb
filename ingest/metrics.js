import { counter, gauge, histogram } from '../core/metrics.ts';
import { line } from './points.ts';
export function ingestMetrics(registry) {
    return {
        received: counter(registry, 'hazwatch_ingest_received_total', 'MQTT messages received, by channel', ['channel']),
        stored: counter(registry, 'hazwatch_ingest_stored_points_total', 'Points the database accepted'),
        rejected: counter(registry, 'hazwatch_ingest_rejected_total', 'Refusals (whole messages or single values), by reason code', ['reason']),
        warnings: counter(registry, 'hazwatch_ingest_warnings_total', 'Values stored with a correction, by warning code', ['reason']),
        duplicates: counter(registry, 'hazwatch_ingest_duplicates_total', 'Messages recognised as re-deliveries and not stored again', ['kind']),
        errorReplies: counter(registry, 'hazwatch_ingest_error_replies_total', 'Answers on device error topics: sent, or suppressed by the per-device rate limit', ['result']),
        spoolMessages: gauge(registry, 'hazwatch_ingest_spool_messages', 'Messages in the spool, not yet in the database'),
        spoolPoints: gauge(registry, 'hazwatch_ingest_spool_points', 'Points in the spool'),
        spoolBytes: gauge(registry, 'hazwatch_ingest_spool_bytes', 'Bytes of line protocol in the spool'),
        spoolFill: gauge(registry, 'hazwatch_ingest_spool_fill_ratio', 'Spool fill against its limit, 0..1'),
        spoolAge: gauge(registry, 'hazwatch_ingest_spool_age_seconds', 'Age of the oldest message in the spool'),
        spoolFull: gauge(registry, 'hazwatch_ingest_spool_full', '1 while the spool is full and ingest does not acknowledge (back-pressure)'),
        spoolRefused: gauge(registry, 'hazwatch_ingest_spool_refused_messages', 'Messages the database refused for good, kept aside in the spool'),
        writeLatency: histogram(registry, 'hazwatch_ingest_write_seconds', 'Duration of accepted database writes', [], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
        dbErrors: counter(registry, 'hazwatch_ingest_db_errors_total', 'Failed database writes, by kind (transient, refused, too_large)', ['kind']),
        refusedPoints: counter(registry, 'hazwatch_ingest_refused_points_total', 'Points the database refused for good'),
        connected: gauge(registry, 'hazwatch_ingest_connected', '1 while connected to the broker'),
    };
}
/** The platform_ingest point and one platform_rejection point per reason seen (cumulative counts). */
export function healthLines(instance, s, ts) {
    const lines = [
        line('platform_ingest', { instance }, {
            received: s.received,
            stored: s.stored,
            rejected: s.rejected,
            warnings: s.warnings,
            duplicates: s.duplicates,
            spool_depth: s.spoolDepth,
            spool_age_s: s.spoolAgeS,
            write_latency_ms: Math.round(s.writeLatencyMs * 10) / 10,
        }, ts),
    ];
    for (const [reason, count] of Object.entries(s.rejectedByReason))
        lines.push(line('platform_rejection', { instance, reason }, { count }, ts));
    return lines;
}
