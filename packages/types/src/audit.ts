/** The audit log: one record per change made through the API (`GET /v1/audit`). */
import { Type, type Static } from '@sinclair/typebox';

export const AuditRecord = Type.Object({
  time: Type.String(),
  /** The user, or the admin token's name; for a login, the user name tried. */
  actor: Type.String(),
  actorKind: Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('anonymous')]),
  /** The tenant acted in, for tenant resources. */
  tenant: Type.Optional(Type.String()),
  /** Method and route, e.g. `PUT /v1/sets/:appkey/:id`; `SSH exec`, `SSH shell` or `SSH login` for the SSH gateway. */
  action: Type.String(),
  /** The object's path, e.g. `sets/web/1` (an SSH session's: `sets/web/1/<container>`). */
  object: Type.String(),
  /** The HTTP status of the answer (an SSH session's: 200 when its command ran, else the status of its refusal). */
  status: Type.Integer(),
  /** The exit status of the command of an SSH session. */
  exitStatus: Type.Optional(Type.Integer()),
  result: Type.Union([Type.Literal('ok'), Type.Literal('failed')]),
  /** The error code of a failed change. */
  error: Type.Optional(Type.String()),
  /** What was asked: the request body, secrets masked, cut at 1 KiB. */
  request: Type.Optional(Type.String()),
  /** The object the change acted on as it was before (a summary of a set or an app; others as stored), secrets masked, cut at 1 KiB. */
  before: Type.Optional(Type.String()),
  sourceIp: Type.String(),
});
export type AuditRecord = Static<typeof AuditRecord>;

export const AuditQuery = Type.Object({
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Records at or after this time (RFC 3339)' })),
  user: Type.Optional(Type.String({ maxLength: 200 })),
  /** Records whose object starts with this, e.g. `sets/web`. */
  object: Type.Optional(Type.String({ maxLength: 500 })),
  tenant: Type.Optional(Type.String({ maxLength: 63 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 500 })),
});
export type AuditQuery = Static<typeof AuditQuery>;
