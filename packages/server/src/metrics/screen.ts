/**
 * A heartbeat is the host's liveness: figures the schema rejects (a negative rate
 * after a counter reset, a missing field) must not make it fail and the host look
 * dead. They are taken out of the body before validation, and the heartbeat counts.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { MetricsReport } from '@wharf/types';

const report = TypeCompiler.Compile(MetricsReport);

/** Removes `metrics` from a heartbeat body when it is not a valid MetricsReport; returns what was wrong. */
export function dropInvalidMetrics(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('metrics' in body)) return undefined;
  const metrics = (body as { metrics: unknown }).metrics;
  if (metrics === undefined || report.Check(metrics)) return undefined;
  const first = report.Errors(metrics).First();
  delete (body as { metrics?: unknown }).metrics;
  return first ? `metrics${first.path.replaceAll('/', '.')}: ${first.message}` : 'metrics: is not a metrics report';
}
