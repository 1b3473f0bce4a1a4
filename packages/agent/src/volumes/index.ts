/** The agent's volumes: drivers (btrfs, xfs), the manager over them, their HTTP routes. See README "Volumes". */
import type { ResolvedConfig } from '../config.js';
import { BtrfsDriver } from './btrfs.js';
import { Commands } from './commands.js';
import type { VolumeDriver } from './driver.js';
import { XfsDriver } from './xfs.js';

export type { VolumeDriver } from './driver.js';
export { VolumeManager } from './manager.js';

/** The driver `--volume-driver` names, running the real tools. */
export function createVolumeDriver(config: Pick<ResolvedConfig, 'volumeDriver' | 'dataDir' | 'poolSize' | 'poolDevice'>): VolumeDriver {
  const cmd = new Commands();
  if (config.volumeDriver === 'xfs') return new XfsDriver(cmd, { dataDir: config.dataDir });
  return new BtrfsDriver(cmd, { dataDir: config.dataDir, sizeBytes: config.poolSize, ...(config.poolDevice ? { device: config.poolDevice } : {}) });
}
