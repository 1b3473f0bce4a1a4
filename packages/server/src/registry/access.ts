/**
 * Who may do what on which repository: the one decision of the token service, pure.
 * Repositories are `<tenant>/<name>`. Callers are platform admins, the hosts' join
 * token, users with roles per tenant, and anonymous clients.
 */
import { repositoryTenant, roleAllows, type TenantRole } from '@wharf/types';
import type { ResourceScope } from './scope.js';

export type RegistryPrincipal =
  | { kind: 'anonymous' }
  /** The platform admin token: push and pull everything in a tenant namespace. */
  | { kind: 'admin'; subject: string }
  /** Hosts (the join token, or a joined host's registry secret): pull everything, for the agents' pulls. */
  | { kind: 'host'; subject: string }
  /** A user: pull in tenants where it is a viewer, push as a developer, delete as a tenant admin. */
  | { kind: 'user'; subject: string; roles: Record<string, TenantRole> };

/** What the caller asks for on one repository, and what the registry knows of it. */
export interface RepositoryFacts {
  /** Marked public: anyone may pull it. */
  public: boolean;
}

/** A user's actions on a repository of a tenant where it holds `role`. */
function userActions(role: TenantRole | undefined, isPublic: boolean): string[] {
  if (!role) return isPublic ? ['pull'] : [];
  if (roleAllows(role, 'admin')) return REPOSITORY_ACTIONS;
  return roleAllows(role, 'write') ? ['pull', 'push'] : ['pull'];
}

const REPOSITORY_ACTIONS = ['pull', 'push', 'delete', '*'];

/**
 * The actions of `scope` granted to `who`: the intersection of what was asked and what
 * is allowed, never an error (the registry answers 401/403 for what is missing).
 */
export function grantedActions(who: RegistryPrincipal, scope: ResourceScope, repo: RepositoryFacts): string[] {
  const asked = scope.actions;
  if (scope.type === 'registry' && scope.name === 'catalog') return who.kind === 'admin' ? asked.filter((a) => a === '*') : [];
  if (scope.type !== 'repository' || scope.class !== undefined) return [];
  const tenant = repositoryTenant(scope.name)?.tenant;
  const namespaced = tenant !== undefined;
  const allowed = (): string[] => {
    switch (who.kind) {
      // Nobody writes outside a tenant namespace.
      case 'admin':
        return namespaced ? REPOSITORY_ACTIONS : ['pull'];
      case 'host':
        return ['pull'];
      case 'user':
        return userActions(tenant === undefined ? undefined : who.roles[tenant], repo.public);
      case 'anonymous':
        return namespaced && repo.public ? ['pull'] : [];
    }
  };
  const ok = allowed();
  return asked.filter((a) => ok.includes(a));
}

/**
 * Whether the catalog (`GET /v1/images`, inspect) shows a repository to `who`: its
 * tenant's repositories to platform admins and the tenant's members, public
 * repositories to everyone. Hosts pull by name and list nothing private.
 */
export function catalogVisible(who: RegistryPrincipal, repository: string, repo: RepositoryFacts): boolean {
  if (who.kind === 'admin' || repo.public) return true;
  const tenant = repositoryTenant(repository)?.tenant;
  return who.kind === 'user' && tenant !== undefined && who.roles[tenant] !== undefined;
}

/** Whether `who` may do `action` on `repository` (the catalog's writes: push for uploads and tags, delete for rm). */
export function mayWrite(who: RegistryPrincipal, repository: string, action: 'push' | 'delete', repo: RepositoryFacts): boolean {
  return grantedActions(who, { type: 'repository', name: repository, actions: [action] }, repo).includes(action);
}
