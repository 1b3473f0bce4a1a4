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

export function tlsFetch(tls: ClientTls): typeof fetch {
  // Connections are kept alive within this identity only: its own pool.
  const options: RequestOptions = { ...tls, agent: new Agent({ ...tls, keepAlive: true }) };
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
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
