/**
 * The SSH login name names the container to enter (see docs/ssh.md):
 *
 *   [TENANT~]APPKEY/ID[/CONTAINER]     e.g. com.example.web/1, team-a~com.example.web/1/sidecar
 *   [TENANT~]APPKEY.ID[.CONTAINER]     the same with dots, for tools that take no "/" (scp)
 *
 * The "/" form is unambiguous. Appkeys, ids and container names may hold dots, so the
 * dotted form is read from the right and settled by what exists: APPKEY.ID.CONTAINER
 * first, then APPKEY.ID (the first business container).
 */
import type { Store } from '@wharf/store';
import { APPKEY_PATTERN, DEFAULT_TENANT, INFRA_NAME, NAME_PATTERN, TENANT_PATTERN, WharfError, type SetObject } from '@wharf/types';
import { Keys } from '../state/keys.js';

export interface TargetRef {
  appkey: string;
  id: string;
  /** Absent: the business container with the lowest index. */
  container?: string;
}

export interface LoginTarget {
  tenant: string;
  /** Readings of the name in the order they are tried. */
  candidates: TargetRef[];
}

/** A resolved target: the container is always named (the default one filled in). */
export interface Target {
  tenant: string;
  appkey: string;
  id: string;
  container: string;
}

const APPKEY = new RegExp(APPKEY_PATTERN);
const NAME = new RegExp(NAME_PATTERN);
const TENANT = new RegExp(TENANT_PATTERN);
export const LOGIN_NAME_HELP = 'log in as APPKEY/ID or APPKEY/ID/CONTAINER (or APPKEY.ID[.CONTAINER]), with TENANT~ in front for a tenant other than default, e.g. ssh -p 2222 com.example.web/1@server';

const valid = (r: TargetRef) => APPKEY.test(r.appkey) && NAME.test(r.id) && (r.container === undefined || NAME.test(r.container));

/** Throws BAD_REQUEST naming the syntax when the name cannot be a target. */
export function parseLoginName(name: string): LoginTarget {
  const tilde = name.indexOf('~');
  const tenant = tilde < 0 ? DEFAULT_TENANT : name.slice(0, tilde);
  const rest = tilde < 0 ? name : name.slice(tilde + 1);
  if (!TENANT.test(tenant)) throw new WharfError('BAD_REQUEST', `"${tenant}" is not a tenant name; ${LOGIN_NAME_HELP}`);
  let candidates: TargetRef[];
  if (rest.includes('/')) {
    const [appkey = '', id = '', container, ...more] = rest.split('/');
    candidates = more.length === 0 ? [{ appkey, id, ...(container !== undefined ? { container } : {}) }] : [];
  } else {
    const parts = rest.split('.');
    candidates = [];
    if (parts.length >= 3) candidates.push({ appkey: parts.slice(0, -2).join('.'), id: parts.at(-2) ?? '', container: parts.at(-1) ?? '' });
    if (parts.length >= 2) candidates.push({ appkey: parts.slice(0, -1).join('.'), id: parts.at(-1) ?? '' });
  }
  candidates = candidates.filter(valid);
  if (candidates.length === 0) throw new WharfError('BAD_REQUEST', `"${rest}" names no container; ${LOGIN_NAME_HELP}`);
  return { tenant, candidates };
}

const setName = (r: TargetRef) => `${r.appkey}/${r.id}`;

/** The business containers of a set, lowest index first. */
function businessContainers(set: SetObject): string[] {
  return [...set.spec.containers].sort((a, b) => a.index - b.index).map((c) => c.options.name);
}

/**
 * The first reading whose set (and container) exists in the tenant. Throws SET_NOT_FOUND,
 * CONTAINER_NOT_FOUND, or FORBIDDEN for the infra container, which is never entered.
 */
export async function resolveTarget(store: Store, login: LoginTarget): Promise<Target> {
  let missingContainer: WharfError | undefined;
  for (const ref of login.candidates) {
    const set = (await store.get<SetObject>(Keys.set(login.tenant, ref.appkey, ref.id)))?.value;
    if (!set) continue;
    if (ref.container === INFRA_NAME) throw new WharfError('FORBIDDEN', `the infra container of set ${setName(ref)} is never logged into; name a business container (${businessContainers(set).join(', ')})`);
    const names = businessContainers(set);
    const container = ref.container ?? names[0];
    if (container !== undefined && names.includes(container)) return { tenant: login.tenant, appkey: ref.appkey, id: ref.id, container };
    missingContainer ??= new WharfError('CONTAINER_NOT_FOUND', `set ${setName(ref)} has no container "${ref.container ?? ''}" (containers: ${names.join(', ') || 'none'})`);
  }
  if (missingContainer) throw missingContainer;
  const tried = login.candidates.map(setName).join(' or ');
  throw new WharfError('SET_NOT_FOUND', `no set ${tried} in tenant "${login.tenant}"`);
}
