/**
 * Labels on every container Wharf creates. They are the agent's only memory:
 * after a restart it re-adopts containers by these labels (it keeps no state).
 */
export const Labels = {
  managed: 'wharf.managed',
  tenant: 'wharf.tenant',
  set: 'wharf.set',
  app: 'wharf.app',
  setId: 'wharf.set-id',
  index: 'wharf.index',
  name: 'wharf.name',
  role: 'wharf.role',
  generation: 'wharf.generation',
  /** Hash of the container's effective config; a change means the container must be recreated. */
  specHash: 'wharf.spec-hash',
} as const;

export type ContainerRole = 'infra' | 'business';

/** The name of the infra container inside a set (it is not in the user's spec). */
export const INFRA_NAME = 'infra';
