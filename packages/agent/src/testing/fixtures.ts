import type { SetObject, SetSpec } from '@wharf/types';

/** A desired set as the server would send it, for tests; `over` replaces any field. */
export function setObject(spec: SetSpec, over: Partial<SetObject> = {}): SetObject {
  return {
    tenant: 't',
    appkey: spec.appkey,
    id: String(spec.id),
    generation: 1,
    desired: 'running',
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    spec,
    ...over,
  };
}
