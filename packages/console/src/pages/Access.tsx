/**
 * Who may do what: tenants and their members, users, tokens, the tenant's quota and
 * your SSH keys. Each section shows only to those who may use it.
 */
import { useSession } from '../session.js';
import { Quota } from './AccessQuota.js';
import { SshKeys } from './AccessSshKeys.js';
import { Members, Tenants } from './AccessTenants.js';
import { Tokens } from './AccessTokens.js';
import { Users } from './AccessUsers.js';

export function Access() {
  const { me, canAdmin } = useSession();
  return (
    <>
      <h1>Access</h1>
      <div className="stack">
        <Quota />
        <Tenants />
        {canAdmin && <Members />}
        {me.platformAdmin && <Users />}
        <Tokens />
        {me.kind === 'user' && <SshKeys />}
      </div>
    </>
  );
}
