/**
 * The one error catalog of Wharf. Every error that crosses the API has a `code`
 * from this table; the server maps the code to its HTTP status in one handler,
 * and clients match on the code, never on the message text.
 */
export const ErrorCatalog = {
  VALIDATION_FAILED: { status: 400, title: 'The request is invalid' },
  BAD_REQUEST: { status: 400, title: 'The request cannot be understood' },
  UNAUTHORIZED: { status: 401, title: 'A valid bearer token is required' },
  FORBIDDEN: { status: 403, title: 'The token does not allow this' },
  NOT_FOUND: { status: 404, title: 'No such route or object' },
  TENANT_NOT_FOUND: { status: 404, title: 'No such tenant' },
  USER_NOT_FOUND: { status: 404, title: 'No such user' },
  TOKEN_NOT_FOUND: { status: 404, title: 'No such token' },
  SSH_KEY_NOT_FOUND: { status: 404, title: 'No such SSH key' },
  TENANT_EXISTS: { status: 409, title: 'A tenant with this name exists' },
  USER_EXISTS: { status: 409, title: 'A user with this name exists' },
  SSH_KEY_EXISTS: { status: 409, title: 'The SSH key, or a key with this name, is registered already' },
  TENANT_NOT_EMPTY: { status: 409, title: 'The tenant still has sets, apps or images' },
  TOO_MANY_REQUESTS: { status: 429, title: 'Too many attempts; wait and try again' },
  QUOTA_EXCEEDED: { status: 403, title: "The change would exceed the tenant's quota" },
  SET_NOT_FOUND: { status: 404, title: 'No such set' },
  HOST_NOT_FOUND: { status: 404, title: 'No such host' },
  CONTAINER_NOT_FOUND: { status: 404, title: 'No such container in the set' },
  NETWORK_NOT_FOUND: { status: 404, title: 'No such network' },
  POLICY_NOT_FOUND: { status: 404, title: 'No such network policy' },
  VOLUME_NOT_FOUND: { status: 404, title: 'No such volume' },
  TRASH_NOT_FOUND: { status: 404, title: 'No such volume in the recycle bin' },
  SNAPSHOT_NOT_FOUND: { status: 404, title: 'No such snapshot' },
  APP_NOT_FOUND: { status: 404, title: 'No set has this appkey' },
  APP_EXISTS: { status: 409, title: 'An app with this appkey exists' },
  LB_NOT_FOUND: { status: 404, title: 'The app has no load balancer' },
  IMAGE_NOT_FOUND: { status: 404, title: 'No such repository or tag in the platform registry' },
  IMAGE_IN_USE: { status: 409, title: 'Sets use the image' },
  ROLLOUT_NOT_FOUND: { status: 404, title: 'No such rollout' },
  ROLLOUT_IN_PROGRESS: { status: 409, title: 'The app already has a rollout under way' },
  INSUFFICIENT_RESOURCES: { status: 409, title: 'The host has not enough CPU, memory, disk or bandwidth for this' },
  VOLUME_IN_USE: { status: 409, title: 'The volume is in use by running containers' },
  VOLUME_TOO_SMALL: { status: 409, title: 'The new size is below what the volume holds' },
  VOLUME_OP_UNSUPPORTED: { status: 409, title: 'The volume driver cannot do this' },
  INSUFFICIENT_DISK: { status: 409, title: 'The host has not enough disk for this' },
  NETWORK_IN_USE: { status: 409, title: 'The network still has IPs in use' },
  IP_IN_USE: { status: 409, title: 'The IP address is held by another set' },
  NETWORK_EXHAUSTED: { status: 409, title: 'The network has no free IP address' },
  CONFLICT: { status: 409, title: 'The object changed or is in a state that forbids this' },
  REVISION_COMPACTED: { status: 410, title: 'The requested revision is no longer kept' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The body must be JSON or YAML' },
  HOST_UNREACHABLE: { status: 502, title: 'The host agent did not answer' },
  REGISTRY_UNAVAILABLE: { status: 503, title: 'The platform registry is not taking writes now' },
  STORE_UNAVAILABLE: { status: 503, title: "The platform's store cannot be reached now" },
  INTERNAL: { status: 500, title: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof ErrorCatalog;

/** A problem with one field of an input document. `path` looks like `containers[1].options.cpu`. */
export interface FieldError {
  path: string;
  message: string;
}

/** The wire shape of every API error. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** Thrown by server code (and rebuilt by the client) for every expected failure. */
export class WharfError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'WharfError';
  }

  get status(): number {
    return ErrorCatalog[this.code].status;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }

  static validation(errors: FieldError[]): WharfError {
    const first = errors[0];
    const message = first ? `${first.path}: ${first.message}` : 'invalid input';
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    return new WharfError('VALIDATION_FAILED', message + more, { errors });
  }
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ErrorCatalog, code);
}
