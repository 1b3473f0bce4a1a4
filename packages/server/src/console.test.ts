/** The web console's files at `/` (a build in a temporary directory), beside the API. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { bearer, startTestServer, type TestServer } from './testing/test-server.js';
import { defaultConsoleDir } from './console.js';

const INDEX = '<!doctype html><title>Wharf</title><script type="module" src="/assets/index-abc123.js"></script>';
const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('the web console at /', () => {
  let t: TestServer;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-console-test-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(dir, 'robots.txt'), 'User-agent: *\n');
    writeFileSync(join(dir, '.secret'), 'no');
    writeFileSync(`${dir}-outside.txt`, 'outside');
    t = await startTestServer({ context: { consoleDir: dir } });
  });
  after(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}-outside.txt`, { force: true });
  });

  it('answers index.html at / without a token, never cached, with the security headers', async () => {
    const r = await t.app.inject({ url: '/' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.body, INDEX);
    assert.match(r.headers['content-type'] as string, /^text\/html/);
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    const csp = r.headers['content-security-policy'] as string;
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /connect-src 'self' ws:\/\/localhost:80 wss:\/\/localhost:80/);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe/);
  });

  it('serves hashed assets cached for a year and other files revalidated', async () => {
    const js = await t.app.inject({ url: '/assets/index-abc123.js' });
    assert.equal(js.statusCode, 200);
    assert.equal(js.body, 'console.log(1)');
    assert.match(js.headers['content-type'] as string, /javascript/);
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers['x-content-type-options'], 'nosniff');
    const robots = await t.app.inject({ url: '/robots.txt' });
    assert.equal(robots.statusCode, 200);
    assert.equal(robots.headers['cache-control'], 'public, max-age=0');
    assert.equal((await t.app.inject({ url: '/index.html' })).headers['cache-control'], 'no-cache');
  });

  it('answers index.html for the console\'s pages (deep links), 404 for missing files', async () => {
    for (const url of ['/sets/web/1', '/hosts?zone=z1', '/assets/']) {
      const r = await t.app.inject({ url, headers: html });
      assert.equal(r.statusCode, 200, url);
      assert.equal(r.body, INDEX, url);
    }
    const missing = await t.app.inject({ url: '/assets/gone-123.js' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'NOT_FOUND');
  });

  it('keeps the API\'s answers: unknown /v1 paths and /metrics are not pages', async () => {
    const unknown = await t.app.inject({ url: '/v1/nope', headers: html });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.message, 'no route GET /v1/nope');
    assert.equal((await t.app.inject({ url: '/v1', headers: html })).statusCode, 404);
    assert.equal((await t.app.inject({ url: '/metrics', headers: html })).statusCode, 401);
    assert.equal((await t.app.inject({ url: '/v1/sets', headers: { ...html, ...bearer(t.admin) } })).statusCode, 200);
    const doc = (await t.app.inject({ url: '/v1/openapi.json' })).json() as { paths: Record<string, unknown> };
    assert.ok(!Object.keys(doc.paths).some((p) => !p.startsWith('/v1/') && p !== '/metrics'), Object.keys(doc.paths).join(' '));
  });

  it('never serves dotfiles or files outside its directory', async () => {
    const outside = `${basename(dir)}-outside.txt`;
    for (const url of ['/.secret', `/../${outside}`, `/%2e%2e/${outside}`, `/assets/..%2f..%2f${outside}`, '/%00']) {
      const r = await t.app.inject({ url });
      assert.equal(r.statusCode, 404, url);
    }
    assert.equal((await t.app.inject({ url: '/%E0%A4%A' })).statusCode, 400);
    const r = await t.app.inject({ url: '/.secret', headers: html });
    assert.equal(r.body, INDEX);
  });

  it('the console\'s directory comes from WHARF_CONSOLE_DIR, else the workspace\'s packages/console/dist', () => {
    assert.equal(defaultConsoleDir({ WHARF_CONSOLE_DIR: '/srv/console' }), '/srv/console');
    assert.match(defaultConsoleDir({}), /packages\/console\/dist\/$/);
  });
});

describe('the web console when it was not built', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ context: { consoleDir: join(tmpdir(), 'wharf-console-never-built') } });
  });
  after(() => t?.stop());

  it('/ says how to build it; the API works', async () => {
    const r = await t.app.inject({ url: '/' });
    assert.equal(r.statusCode, 503);
    assert.match(r.headers['content-type'] as string, /^text\/plain/);
    assert.match(r.body, /not built: run `npm run build`/);
    assert.equal((await t.app.inject({ url: '/sets', headers: html })).statusCode, 503);
    assert.equal((await t.app.inject({ url: '/v1/health' })).statusCode, 200);
  });
});
