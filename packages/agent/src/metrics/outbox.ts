/** The newest collection waiting for the next heartbeat: sent once, not repeated. */
import type { MetricsReport } from '@wharf/types';

export class ReportOutbox {
  private pending: MetricsReport | undefined;

  put(report: MetricsReport): void {
    this.pending = report;
  }

  /** The report not sent yet, if any; it is no longer pending. */
  take(): MetricsReport | undefined {
    const r = this.pending;
    this.pending = undefined;
    return r;
  }

  /** A heartbeat that failed gives its report back, unless a newer one came meanwhile. */
  giveBack(report: MetricsReport): void {
    this.pending ??= report;
  }
}
