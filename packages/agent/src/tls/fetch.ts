/**
 * A `fetch` over node:https that presents a client certificate and trusts only the
 * given CA: what an agent that joined the cluster talks to the server with (the
 * global fetch cannot be given a client certificate without another dependency).
 * Given to WharfClient as its `fetch`.
 * Enough of fetch for the client: method, headers, a string or streamed body, signal;
 * failures reject like fetch's, a TypeError whose cause is the socket's error.
 */
import { Agent, request, type RequestOptions } from 'node:https';
import { Readable } from 'node:stream';

/** PEM: the CA to trust, the client certificate and its key. */
export interface ClientTls {
  ca?: string;
  cert?: string;
  key?: string;
  /** false only to fetch the CA a join token pins, which is checked before it is trusted. */
  rejectUnauthorized?: boolean;
}

/**
 * `tls` may be a function: read at every request, so a renewed certificate is used from
 * the next one on (requests in flight end on the old one's connections).
 */
export function tlsFetch(tls: ClientTls | (() => ClientTls)): typeof fetch {
  const current = typeof tls === 'function' ? tls : () => tls;
  // Connections are kept alive within one identity only: its own pool.
  let pool: { tls: ClientTls; options: RequestOptions } | undefined;
  const optionsNow = (): RequestOptions => {
    const t = current();
    if (pool?.tls !== t) pool = { tls: t, options: { ...t, agent: new Agent({ ...t, keepAlive: true }) } };
    return pool.options;
  };
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const options = optionsNow();
      const fail = (err: unknown) => reject(Object.assign(new TypeError('fetch failed'), { cause: err }));
      const headers = Object.fromEntries(new Headers(init.headers).entries());
      const req = request(String(input instanceof Request ? input.url : input), { ...options, method: init.method ?? 'GET', headers, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
        const answer = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) answer.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 502;
        const empty = [101, 204, 205, 304].includes(status);
        if (empty) res.resume();
        resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, headers: answer }));
      });
      req.on('error', (err) => (init.signal?.aborted ? reject(init.signal.reason) : fail(err)));
      const body = init.body as unknown;
      if (body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array) req.end(body ?? undefined);
      else Readable.from(body as AsyncIterable<Uint8Array>).pipe(req);
    });
}
