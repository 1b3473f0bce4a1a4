/**
 * Property-based fuzzing of every route of the OpenAPI document (`/v1/openapi.json`)
 * against the in-process server: bodies from each route's schema broken in one place,
 * text that is not JSON, path segments with traversal, NUL and bad escapes, query
 * values of the wrong type. Whatever comes in: never a 5xx, every 4xx in the error
 * shape with a message, VALIDATION_FAILED naming the field, and a refused request
 * leaving the store as it was.
 *
 * WHARF_FUZZ_RUNS (cases per route, default 15) and WHARF_FUZZ_SEED (default fixed)
 * run more or other cases: `WHARF_FUZZ_RUNS=500 node --test packages/server/dist/fuzz/`.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestServer } from '../testing/test-server.js';
import { StoreChanges, baseline, resetAgent, restoreStore, seedFixtures } from './fixtures.js';
import { problemWith } from './checks.js';
import { describeRequest, requestArbitrary, type FuzzRequest } from './requests.js';
import { LONG_POLL_QUERY, SKIPPED, resolver, routeName, routesOf, type OpenApiDoc } from './routes.js';
import { REGRESSIONS } from './regressions.js';

const RUNS = Number(process.env.WHARF_FUZZ_RUNS ?? 15);
const SEED = Number(process.env.WHARF_FUZZ_SEED ?? 20261202);
/** A request that has not been answered after this long is a hang (no route here waits on purpose). */
const HANG_MS = 30_000;

const t = await startTestServer({ agents: ['h1'] });
await seedFixtures(t);
// From here nothing writes in the background, so any change to the store is the request's.
t.placement.stop();
const base = await baseline(t);
const changes = await StoreChanges.start(t);
/** Whether a case changed the store, so the next one starts from the fixtures again. */
let dirty = false;
const doc = (await t.app.inject({ url: '/v1/openapi.json' })).json() as OpenApiDoc;
const routes = routesOf(doc);
const resolve = resolver(doc);
const REGRESSIONS_NAME = 'regressions';
const tally = new Map<string, { cases: number; ok: number; refused: number }>();

async function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer after ${HANG_MS} ms: ${what}`)), HANG_MS); });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends `req` on the fixtures as seeded; throws naming the request when the answer breaks a property. */
async function check(name: string, req: FuzzRequest): Promise<void> {
  if (dirty) await restoreStore(t, base);
  resetAgent(t);
  const before = await changes.revision();
  changes.forget(before);
  const res = await bounded(t.app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, ...(req.payload !== undefined ? { payload: req.payload } : {}) }), describeRequest(req));
  const changed = await changes.since(before);
  dirty = changed.length > 0;
  const count = tally.get(name) ?? { cases: 0, ok: 0, refused: 0 };
  count.cases++;
  if (res.statusCode < 400) count.ok++;
  else count.refused++;
  tally.set(name, count);
  const problem = problemWith(res, changed);
  if (problem) throw new Error(`${describeRequest(req)}\n  ${problem}`);
}

describe(`API fuzz (${RUNS} cases per route, seed ${SEED})`, () => {
  after(async () => {
    let total = 0;
    for (const [name, c] of tally) {
      total += c.cases;
      console.log(`fuzz ${name}: ${c.cases} cases (${c.ok} accepted, ${c.refused} refused)`);
    }
    const fuzzed = [...tally.keys()].filter((name) => name !== REGRESSIONS_NAME).length;
    console.log(`fuzz total: ${total} cases over ${fuzzed} routes (${routes.length} in the document), seed ${SEED}`);
    changes.stop();
    await t.stop();
  });

  it('fuzzes every route of the OpenAPI document but the ones that cannot be injected', () => {
    const names = new Set(routes.map(routeName));
    for (const name of [...Object.keys(SKIPPED), ...Object.keys(LONG_POLL_QUERY)]) assert.ok(names.has(name), `${name} is not in the document any more`);
    assert.ok(routes.length > 50, `only ${routes.length} routes in the document`);
  });

  it('answers the requests that once failed (regressions)', async () => {
    for (const req of REGRESSIONS) await check(REGRESSIONS_NAME, { ...req, headers: { authorization: `Bearer ${t.admin}`, ...req.headers } });
  });

  for (const route of routes) {
    const name = routeName(route);
    if (SKIPPED[name]) continue;
    it(name, async () => {
      await fc.assert(fc.asyncProperty(requestArbitrary(route, resolve, t.admin), (req) => check(name, req)), { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
    });
  }
});
