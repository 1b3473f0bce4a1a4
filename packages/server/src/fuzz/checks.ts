/**
 * What every answer to bad input must be: not a 5xx; a 4xx in the catalog's shape
 * with a message; a validation failure naming the field; a refused write leaving
 * the store as it was.
 */

interface Answer {
  statusCode: number;
  body: string;
}

interface FieldError {
  path?: unknown;
  message?: unknown;
}

/** Paths that name only the part of the request, not a field in it. */
const PARTS = new Set(['body', 'querystring', 'params', 'headers', 'request']);

/** Whether a VALIDATION_FAILED message names what is wrong: a field path, or the part with the property it lacks or has too many of. */
export function namesAField(message: string, errors: FieldError[]): boolean {
  const first = errors[0];
  if (typeof first?.path !== 'string' || first.path === '' || !message.startsWith(`${first.path}: `)) return false;
  if (!PARTS.has(first.path)) return true;
  // `body: must have required property 'id'`, `body: must be object`: the body itself is the field.
  return /'[^']+'|"[^"]+"|must be (object|array|string|number|integer|boolean)/.test(message);
}

/** What is wrong with the answer, or undefined. `changed` are the store keys the request changed. */
export function problemWith(res: Answer, changed: string[]): string | undefined {
  if (res.statusCode >= 500) return `answered ${res.statusCode}: ${res.body.slice(0, 500)}`;
  if (res.statusCode < 400) return undefined;
  let error: { code?: unknown; message?: unknown; details?: { errors?: FieldError[] } } | undefined;
  try {
    error = (JSON.parse(res.body) as { error?: typeof error }).error;
  } catch {
    return `answered ${res.statusCode} with a body that is not JSON: ${res.body.slice(0, 200)}`;
  }
  if (typeof error?.code !== 'string' || !error.code) return `answered ${res.statusCode} without error.code: ${res.body.slice(0, 300)}`;
  if (typeof error.message !== 'string' || !error.message.trim()) return `answered ${res.statusCode} ${error.code} without a message`;
  if (error.code === 'VALIDATION_FAILED' && !namesAField(error.message, error.details?.errors ?? [])) {
    return `VALIDATION_FAILED does not name the field: ${res.body.slice(0, 300)}`;
  }
  if (changed.length) return `refused with ${res.statusCode} ${error.code} but changed ${changed.slice(0, 5).join(', ')}`;
  return undefined;
}
