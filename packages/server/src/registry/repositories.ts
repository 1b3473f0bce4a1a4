/** What Wharf keeps per registry repository: today its visibility. */
import type { Store } from '@wharf/store';
import type { ImageVisibility } from '@wharf/types';
import { Keys } from '../state/keys.js';
import type { RepositoryFacts } from './access.js';

interface RepositoryRecord {
  public: boolean;
  updatedAt: string;
}

export async function getVisibility(store: Store, repository: string): Promise<ImageVisibility> {
  const rec = (await store.get<RepositoryRecord>(Keys.registryRepo(repository)))?.value;
  return { repository, public: rec?.public ?? false, ...(rec ? { updatedAt: rec.updatedAt } : {}) };
}

export async function setVisibility(store: Store, repository: string, isPublic: boolean): Promise<ImageVisibility> {
  const rec: RepositoryRecord = { public: isPublic, updatedAt: new Date().toISOString() };
  await store.put(Keys.registryRepo(repository), rec);
  return { repository, ...rec };
}

export async function repositoryFacts(store: Store, repository: string): Promise<RepositoryFacts> {
  return { public: (await getVisibility(store, repository)).public };
}
