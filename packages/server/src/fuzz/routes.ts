/** The API's routes as its OpenAPI document lists them: method, path, parameters and body schema. */
import type { JsonSchema } from './schema-arbitrary.js';

export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface Operation {
  parameters?: { in: 'path' | 'query' | 'header'; name: string; required?: boolean; schema?: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

export interface Route {
  method: string;
  /** OpenAPI form: `/v1/sets/{appkey}/{id}`. */
  path: string;
  pathParams: { name: string; schema: JsonSchema }[];
  query: { name: string; schema: JsonSchema }[];
  /** The JSON body's schema, when the route takes one. */
  body?: JsonSchema;
}

/**
 * Routes the fuzzer does not call, and why. Every other route of the document is
 * called; a route listed here that the document no longer has fails the test.
 */
export const SKIPPED: Record<string, string> = {
  // A WebSocket: without the upgrade there is nothing to fuzz; its query is checked before the
  // upgrade and covered by api/exec.test.ts with a real socket.
  'GET /v1/sets/{appkey}/{id}/exec': 'WebSocket (exec): needs an upgraded socket, which inject() cannot make',
};

/**
 * Query parameters that would make a valid request wait (long polls): the fuzzer sends
 * only values that answer at once, i.e. absent or invalid ones, for these.
 */
export const LONG_POLL_QUERY: Record<string, { param: string; safe: unknown[] }> = {
  // Waits up to `wait` seconds for the host's sets to change.
  'GET /v1/hosts/{name}/desired': { param: 'wait', safe: [0, '-1', 'soon', '1e9', ''] },
  // With watch=true, waits up to timeoutSeconds for the endpoints to change.
  'GET /v1/apps/{appkey}/endpoints': { param: 'watch', safe: [false, 'false', 'maybe', '2', ''] },
  // With follow=true, streams the containers' logs until the client goes away.
  'GET /v1/sets/{appkey}/{id}/logs': { param: 'follow', safe: [false, 'false', 'maybe', '2', ''] },
};

export function routeName(r: { method: string; path: string }): string {
  return `${r.method} ${r.path}`;
}

export function routesOf(doc: OpenApiDoc): Route[] {
  const routes: Route[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = op.parameters ?? [];
      routes.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        ...(op.requestBody?.content?.['application/json']?.schema ? { body: op.requestBody.content['application/json'].schema } : {}),
      });
    }
  }
  return routes;
}

export function resolver(doc: OpenApiDoc) {
  return (ref: string): JsonSchema | undefined => doc.components?.schemas?.[ref.replace('#/components/schemas/', '')];
}
