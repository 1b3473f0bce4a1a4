export {
  CompactedError,
  type Compare,
  type KeyValue,
  type ListResult,
  type Op,
  type Store,
  type TxnResult,
  type WatchEvent,
  type WatchOptions,
  type Watcher,
} from './store.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite.js';
export type { WatchErrorHandler } from './watchers.js';
// The contract suite imports node:test, so it lives at '@wharf/store/contract', not here.
