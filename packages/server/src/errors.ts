/**
 * One error handler maps every failure to the catalog's shape and status.
 * Expected failures are WharfErrors; a store that cannot be reached is 503
 * STORE_UNAVAILABLE; anything else is logged and answered 500 without internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StoreUnavailableError } from '@wharf/store';
import { WharfError, jsonPointerToPath, type FieldError } from '@wharf/types';

/** The store did not serve a call in time (etcd down or without quorum): the request was fine, try it again shortly. */
export function fromStore(err: unknown): WharfError | undefined {
  if (!(err instanceof StoreUnavailableError)) return undefined;
  return new WharfError('STORE_UNAVAILABLE', `the store cannot be reached now; try again shortly (${err.message})`, { retryAfterSeconds: 1 });
}

function fromFastify(err: FastifyError): WharfError | undefined {
  if (err.validation) {
    const errors: FieldError[] = err.validation.map((v) => {
      // Ajv puts an unknown field's name in params only: the path names the object holding it.
      const unknown = v.keyword === 'additionalProperties' ? (v.params as { additionalProperty?: unknown }).additionalProperty : undefined;
      const at = [err.validationContext, jsonPointerToPath(v.instancePath)].filter(Boolean).join('.') || String(err.validationContext ?? 'request');
      return typeof unknown === 'string' ? { path: `${at}.${unknown}`, message: 'unknown field' } : { path: at, message: v.message ?? 'is invalid' };
    });
    return WharfError.validation(errors);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new WharfError('UNSUPPORTED_MEDIA_TYPE', 'the body must be JSON (application/json) or YAML (application/yaml)');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new WharfError('PAYLOAD_TOO_LARGE', 'the request body is too large');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new WharfError('BAD_REQUEST', 'the request body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new WharfError('BAD_REQUEST', `the body is not valid JSON: ${err.message}`);
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new WharfError('BAD_REQUEST', err.message);
  }
  return undefined;
}

/**
 * The numbers in a request that are not finite, as field errors. JSON's `1e999`, YAML's
 * `.inf` and strings such as "1e999" that the schemas coerce all become Infinity, which
 * passes a schema's type check (and a missing maximum) but cannot be stored or answered.
 */
export function nonFiniteNumbers(value: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<object>(); // YAML aliases can make a graph, even a cycle
  // A stack, not recursion: a body may be nested thousands deep.
  const todo: [string, unknown][] = [[path, value]];
  for (let next = todo.pop(); next; next = todo.pop()) {
    const [at, v] = next;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) errors.push({ path: at, message: `${v} is not a finite number` });
      continue;
    }
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    // Parsed JSON, YAML and query strings only: not a streamed body (image uploads).
    const proto: unknown = Object.getPrototypeOf(v);
    if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) continue;
    seen.add(v);
    if (Array.isArray(v)) v.forEach((item, i) => todo.push([`${at}[${i}]`, item]));
    else for (const [k, item] of Object.entries(v)) todo.push([`${at}.${k}`, item]);
  }
  return errors;
}

/** The error code each failed answer carried (for the audit log). */
const answeredCodes = new WeakMap<object, string>();

export function answeredErrorCode(reply: object): string | undefined {
  return answeredCodes.get(reply);
}

/**
 * Fastify's `frameworkErrors`: errors raised before routing (a URL whose percent escapes
 * do not decode) never reach the error handler, so they get the catalog's shape here.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const known = fromFastify(err) ?? new WharfError('BAD_REQUEST', err.message);
  answeredCodes.set(reply, known.code);
  void reply.status(known.status).send(known.toBody());
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const known = err instanceof WharfError ? err : (fromStore(err) ?? fromFastify(err));
    answeredCodes.set(reply, known?.code ?? 'INTERNAL');
    if (known) {
      if (known.status >= 500) req.log.warn({ code: known.code }, known.message);
      const retry = known.details?.retryAfterSeconds;
      if (typeof retry === 'number') void reply.header('retry-after', String(retry));
      return reply.status(known.status).send(known.toBody());
    }
    req.log.error({ err }, 'unhandled error');
    const internal = new WharfError('INTERNAL', 'internal error; see the server log');
    return reply.status(500).send(internal.toBody());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new WharfError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    answeredCodes.set(reply, e.code);
    return reply.status(404).send(e.toBody());
  });
}
