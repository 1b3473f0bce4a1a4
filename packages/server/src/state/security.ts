/**
 * Tenant security policy at admission: a set spec or an app's template may ask its
 * business containers for added capabilities or no-new-privileges turned off only as far
 * as its tenant allows (the tenant's `allowedCapabilities`, `allowPrivilegeEscalation`,
 * set by platform admins). Sets and apps already admitted keep running when a policy
 * narrows; the next apply of their spec is refused.
 */
import type { Store } from '@wharf/store';
import { securityBeyondPolicy, WharfError, type SetSpec } from '@wharf/types';
import { getTenant } from './identity.js';

/**
 * Throws 403 FORBIDDEN naming the first capability (or no-new-privileges) the spec's
 * containers ask beyond `tenant`'s policy; `prefix` is where the containers are in the
 * body as written (`template.` for an app).
 */
export async function admitSecurity(store: Store, tenant: string, containers: SetSpec['containers'], prefix = ''): Promise<void> {
  // Beyond an empty policy is all the spec asks: nothing asked, no tenant to read.
  if (securityBeyondPolicy(containers, {}).length === 0) return;
  const policy = (await getTenant(store, tenant))?.value ?? {};
  const beyond = securityBeyondPolicy(containers, policy).map((v) => ({ ...v, path: prefix + v.path }));
  const first = beyond[0];
  if (!first) return;
  const what = first.capability
    ? `add capability ${first.capability} (${first.path}); a platform admin can allow it in the tenant's allowedCapabilities`
    : `turn off no-new-privileges (${first.path}); a platform admin can allow it with the tenant's allowPrivilegeEscalation`;
  throw new WharfError('FORBIDDEN', `tenant "${tenant}" may not ${what}`, { tenant, refused: beyond });
}
