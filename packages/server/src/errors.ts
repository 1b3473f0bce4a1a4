/**
 * One error handler maps every failure to the catalog's shape and status.
 * Expected failures are WharfErrors; a store that cannot be reached is 503
 * STORE_UNAVAILABLE; anything else is logged and answered 500 without internals.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { StoreUnavailableError } from '@wharf/store';
import { WharfError, jsonPointerToPath, type FieldError } from '@wharf/types';

/** The store did not serve a call in time (etcd down or without quorum): the request was fine, try it again shortly. */
export function fromStore(err: unknown): WharfError | undefined {
  if (!(err instanceof StoreUnavailableError)) return undefined;
  return new WharfError('STORE_UNAVAILABLE', `the store cannot be reached now; try again shortly (${err.message})`, { retryAfterSeconds: 1 });
}

function fromFastify(err: FastifyError): WharfError | undefined {
  if (err.validation) {
    const errors: FieldError[] = err.validation.map((v) => ({
      path: [err.validationContext, jsonPointerToPath(v.instancePath)].filter(Boolean).join('.') || String(err.validationContext ?? 'request'),
      message: v.message ?? 'is invalid',
    }));
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

/** The error code each failed answer carried (for the audit log). */
const answeredCodes = new WeakMap<object, string>();

export function answeredErrorCode(reply: object): string | undefined {
  return answeredCodes.get(reply);
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
