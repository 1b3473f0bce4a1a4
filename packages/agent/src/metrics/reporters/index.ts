/** Metrics reporters: InfluxDB, Graphite and Zabbix, fed by the hub. */
export { createReporterHub, HUB_DEFAULTS, type ReporterHub, type ReporterHubOptions } from './hub.js';
export { parseReporterSpec, parseReporterSpecs, createReporter, ReporterSpecError, type ReporterSpec } from './config.js';
export { RejectedPointsError, type MetricPoint, type Reporter, type SendResult } from './reporter.js';
export type { ReporterLog } from './log.js';
