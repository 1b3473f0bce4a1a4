/**
 * Who may do what on which repository: the one decision of the token service, pure.
 * Repositories are `<tenant>/<name>`. Today's callers are the admin token, the hosts'
 * join token and anonymous clients; users with roles per tenant come with tenancy and
 * get their row here.
 */
import { repositoryTenant } from '@wharf/types';
import type { ResourceScope } from './scope.js';

export type RegistryPrincipal =
  | { kind: 'anonymous' }
  /** The platform admin token: push and pull everything in a tenant namespace. */
  | { kind: 'admin'; subject: string }
  /** Hosts (the join token): pull everything, for the agents' pulls. */
  | { kind: 'host'; subject: string };

/** What the caller asks for on one repository, and what the registry knows of it. */
export interface RepositoryFacts {
  /** Marked public: anyone may pull it. */
  public: boolean;
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
  const namespaced = repositoryTenant(scope.name) !== undefined;
  const allowed = (): string[] => {
    switch (who.kind) {
      // Nobody writes outside a tenant namespace.
      case 'admin':
        return namespaced ? REPOSITORY_ACTIONS : ['pull'];
      case 'host':
        return ['pull'];
      case 'anonymous':
        return namespaced && repo.public ? ['pull'] : [];
    }
  };
  const ok = allowed();
  return asked.filter((a) => ok.includes(a));
}

/**
 * Whether the catalog (`GET /v1/images`, inspect) shows a repository to `who`: its
 * tenant's repositories to those who push to them (the admin token today; members of
 * the tenant with tenancy), public repositories to everyone. Hosts pull by name and
 * list nothing private.
 */
export function catalogVisible(who: RegistryPrincipal, repo: RepositoryFacts): boolean {
  return who.kind === 'admin' || repo.public;
}

/** Whether `who` may do `action` on `repository` (the catalog's writes: push for uploads and tags, delete for rm). */
export function mayWrite(who: RegistryPrincipal, repository: string, action: 'push' | 'delete', repo: RepositoryFacts): boolean {
  return grantedActions(who, { type: 'repository', name: repository, actions: [action] }, repo).includes(action);
}
