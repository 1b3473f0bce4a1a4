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
 * The numbers in a validated part of a request that are not finite, as field errors.
 * Ajv refuses Infinity itself, but coerces strings such as "1e999" to it without
 * checking it again (ajv-validator/ajv#2212): it passes the schema yet cannot be
 * stored or answered.
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
    seen.add(v);
    if (Array.isArray(v)) v.forEach((item, i) => todo.push([`${at}[${i}]`, item]));
    else for (const [k, item] of Object.entries(v)) todo.push([`${at}.${k}`, item]);
  }
  return errors;
}

/** The request parts a route validates (and so coerces), by their name in field paths. */
const VALIDATED = [['params', 'params'], ['querystring', 'query'], ['body', 'body']] as const;

/** A preHandler: 400 naming the field when a validated part holds a non-finite number. */
export async function refuseNonFiniteNumbers(req: FastifyRequest): Promise<void> {
  const schema = req.routeOptions.schema;
  if (!schema) return;
  const errors = VALIDATED.flatMap(([part, field]) => (schema[part] ? nonFiniteNumbers(req[field], part) : []));
  if (errors.length) throw WharfError.validation(errors);
}

/** The error code each failed answer carried (for the audit log). */
const answeredCodes = new WeakMap<object, string>();

export function answeredErrorCode(reply: object): string | undefined {
  return answeredCodes.get(reply);
}

/**
 * Every failure's answer. Also Fastify's `frameworkErrors`: errors raised before routing
 * (a URL whose percent escapes do not decode) do not reach the error handler.
 */
export function answerError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
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
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(answerError);
  app.setNotFoundHandler((req, reply) => {
    const e = new WharfError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    answeredCodes.set(reply, e.code);
    return reply.status(404).send(e.toBody());
  });
}
