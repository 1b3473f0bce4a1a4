export {
  CompactedError,
  LeadershipLostError,
  StoreUnavailableError,
  type Campaign,
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
export { DEFAULT_ETCD_PREFIX, EtcdStore, type EtcdAccess, type EtcdStoreOptions } from './etcd.js';
export {
  STORE_URL_FORMS,
  etcdAccessFromFiles,
  openStore,
  parseStoreUrl,
  type EtcdAccessFiles,
  type OpenStoreOptions,
  type StoreLocation,
} from './url.js';
export { TargetNotEmptyError, copyStore, type CopyOptions, type CopyResult } from './copy.js';
export type { WatchErrorHandler } from './watchers.js';
// The contract suite imports node:test, so it lives at '@wharf/store/contract', not here;
// the etcd test helper (it starts processes) at '@wharf/store/testing'.
