// One Prometheus registry per process, passed to every component; no global default registry,
// so that several components (or several test instances) in one process never collide.
import { Registry, collectDefaultMetrics, Counter, Gauge, Histogram } from 'prom-client';
export { Registry, Counter, Gauge, Histogram };
export function createMetricsRegistry(options = {}) {
    const registry = new Registry();
    if (options.process)
        registry.setDefaultLabels({ process: options.process });
    if (options.defaults)
        collectDefaultMetrics({ register: registry, prefix: 'hazwatch_' });
    return registry;
}
/** Returns the metric of that name in the registry, creating it the first time (components may be started twice in one process). */
export function counter(registry, name, help, labelNames = []) {
    return registry.getSingleMetric(name) ?? new Counter({ name, help, labelNames, registers: [registry] });
}
export function gauge(registry, name, help, labelNames = []) {
    return registry.getSingleMetric(name) ?? new Gauge({ name, help, labelNames, registers: [registry] });
}
export function histogram(registry, name, help, labelNames = [], buckets) {
    return (registry.getSingleMetric(name) ??
        new Histogram({ name, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) }));
}
