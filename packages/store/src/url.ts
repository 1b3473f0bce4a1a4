/**
 * Store URLs, as `wharf-server --store` and `wharf admin migrate` take them:
 *
 *   sqlite:PATH                                   the embedded store in one file
 *   etcd://HOST:PORT[,HOST:PORT...][?prefix=/P/]  an etcd cluster, keys under /P/ (default /wharf/)
 *
 * TLS and user auth for etcd come from files named by flags (see etcdAccessFromFiles).
 */
import { readFile } from 'node:fs/promises';
import { DEFAULT_ETCD_PREFIX, EtcdStore, type EtcdAccess } from './etcd.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'etcd'; hosts: string[]; prefix: string };

export const STORE_URL_FORMS = 'sqlite:PATH or etcd://HOST:PORT[,HOST:PORT...][?prefix=/wharf/]';

// A host name or IPv4 address, or an IPv6 address in brackets; then a port.
const HOST_PORT = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/** Parses a store URL; throws an Error that names what is wrong. */
export function parseStoreUrl(url: string): StoreLocation {
  const sqlite = /^sqlite:(.*)$/.exec(url);
  if (sqlite) {
    if (!sqlite[1]) throw new Error(`store "${url}": sqlite: needs a file path (sqlite:/var/lib/wharf/wharf.db)`);
    return { kind: 'sqlite', path: sqlite[1] };
  }
  const etcd = /^etcd:\/\/([^?]*)(?:\?(.*))?$/.exec(url);
  if (!etcd) throw new Error(`store "${url}": not ${STORE_URL_FORMS}`);
  const hosts = (etcd[1] ?? '').split(',');
  for (const host of hosts) {
    const port = HOST_PORT.exec(host)?.[1];
    if (!port || Number(port) < 1 || Number(port) > 65535) {
      throw new Error(`store "${url}": "${host}" is not HOST:PORT (e.g. 10.0.0.1:2379)`);
    }
  }
  let prefix = DEFAULT_ETCD_PREFIX;
  for (const [name, value] of new URLSearchParams(etcd[2] ?? '')) {
    if (name !== 'prefix') throw new Error(`store "${url}": unknown parameter "${name}" (only prefix)`);
    if (!value.startsWith('/') || !value.endsWith('/')) {
      throw new Error(`store "${url}": prefix "${value}" must start and end with '/' (e.g. /wharf/)`);
    }
    prefix = value;
  }
  return { kind: 'etcd', hosts, prefix };
}

export interface OpenStoreOptions {
  /** TLS and auth for etcd; ignored for SQLite. */
  etcd?: EtcdAccess;
  historyLimit?: number;
  /** Where an etcd store's background problems go (see EtcdStoreOptions.log). */
  log?: (message: string) => void;
}

/** Opens the store a URL names; rejects with a message naming the URL when it cannot. */
export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const where = parseStoreUrl(url);
  const history = opts.historyLimit !== undefined ? { historyLimit: opts.historyLimit } : {};
  if (where.kind === 'sqlite') {
    try {
      return SqliteStore.open(where.path, history);
    } catch (err) {
      throw new Error(`store "${url}": ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return EtcdStore.open({
    hosts: where.hosts,
    prefix: where.prefix,
    ...history,
    ...opts.etcd,
    ...(opts.log ? { log: opts.log } : {}),
  });
}

/** The etcd TLS and auth flags: file names and a user. */
export interface EtcdAccessFiles {
  /** CA certificate that signed etcd's server certificates; turns TLS on. */
  ca?: string;
  /** Client certificate and key, when etcd asks for one (--client-cert-auth). */
  cert?: string;
  key?: string;
  user?: string;
  /** A file whose first line is the user's password. */
  passwordFile?: string;
}

/** Reads the files of the etcd flags; throws naming the flag when one is missing, unreadable or alone. */
export async function etcdAccessFromFiles(files: EtcdAccessFiles): Promise<EtcdAccess> {
  const flag = (name: string) => `--etcd-${name}`;
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new Error(`${flag('cert')} and ${flag('key')} go together`);
  }
  if (files.cert !== undefined && files.ca === undefined) throw new Error(`${flag('cert')} needs ${flag('ca')}`);
  if ((files.user === undefined) !== (files.passwordFile === undefined)) {
    throw new Error(`${flag('user')} and ${flag('password-file')} go together`);
  }
  const read = async (name: string, path: string) => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new Error(`${flag(name)} ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  };
  const access: EtcdAccess = {};
  if (files.ca !== undefined) {
    access.tls = {
      ca: await read('ca', files.ca),
      ...(files.cert !== undefined ? { cert: await read('cert', files.cert) } : {}),
      ...(files.key !== undefined ? { key: await read('key', files.key) } : {}),
    };
  }
  if (files.user !== undefined && files.passwordFile !== undefined) {
    const password = (await read('password-file', files.passwordFile)).toString('utf8').split(/\r?\n/)[0] ?? '';
    if (!password) throw new Error(`${flag('password-file')} ${files.passwordFile}: the file is empty`);
    access.auth = { username: files.user, password };
  }
  return access;
}
