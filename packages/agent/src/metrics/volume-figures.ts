/**
 * The volume pool and usage figures the heartbeat fetches anyway (one btrfs command),
 * kept for the collector so it runs no command of its own. At most one heartbeat
 * interval old (plus btrfs's 5 s commit).
 */
import type { VolumeManager } from '../volumes/manager.js';
import type { VolumeFigures } from './collector.js';

export class VolumeFiguresCache {
  private last: VolumeFigures | undefined;

  constructor(private readonly source: Pick<VolumeManager, 'report'>) {}

  /** What the heartbeat calls: the source's report, remembered. */
  async report(): Promise<VolumeFigures | undefined> {
    const r = await this.source.report();
    this.last = r;
    return r;
  }

  latest(): VolumeFigures | undefined {
    return this.last;
  }
}
