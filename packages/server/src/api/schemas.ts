import { Type } from '@sinclair/typebox';
import { DEFAULT_TENANT, TENANT_PATTERN, WharfError } from '@wharf/types';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  { $id: 'Error' },
);

export const SetParams = Type.Object({
  appkey: Type.String({ description: 'The set\'s appkey' }),
  id: Type.String({ description: 'The set\'s id within the appkey' }),
});

export const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorResponse]));

/** The tenant a request acts in: `?tenant=`, else the default tenant. Callers need a role there (platform admins act in any). */
export const TenantQuery = Type.Object({
  tenant: Type.Optional(Type.String({ pattern: TENANT_PATTERN, description: 'Tenant to act in (default: "default")' })),
});

export function tenantOf(q: { tenant?: string | undefined }): string {
  if (q.tenant !== undefined && !new RegExp(TENANT_PATTERN).test(q.tenant)) {
    throw WharfError.validation([{ path: 'tenant', message: `"${q.tenant}" is not a tenant name (lowercase letters, digits and "-")` }]);
  }
  return q.tenant ?? DEFAULT_TENANT;
}
