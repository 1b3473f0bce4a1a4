/**
 * The web console in a real browser (Debian's chromium, headless, driven by
 * playwright-core) against a platform on one real Docker host: log in, create a set
 * from the editor, a terminal in it, resize it, scale an app to ready, a rollout
 * paused, resumed and rolled back, a volume back from the recycle bin, a volume
 * snapshot taken and restored, an image made public and private again, what a viewer
 * sees, switching tenants, a phone-sized screen and keyboard navigation — and not one
 * error in the browser console for the whole run. Screenshots of each main page are
 * saved on every run (path printed).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { WharfClient } from '@wharf/client';
import type { Rollout } from '@wharf/types';
import { ConsoleBrowser, PHONE, browserSkipReason, copyConsoleBuild, focused, see, terminalLines, widths } from './harness/browser.js';
import type { DockerHost } from './harness/docker-host.js';
import { waitFor } from './harness/exec.js';
import { LOOP, buildImage } from './harness/images.js';
import { Platform } from './harness/platform.js';

const PASSWORD = 'console-e2e-password';
/** How long a paused rollout must start no batch: longer than the rollout controller's 2 s resync. */
const PAUSE_HOLD_MS = 3_000;
const V2 = 'wharf/console:v2';
const APP = 'api';
/** A second tenant, with a set of its own, that the viewer is also a member of. */
const BLUE = 'blue';
/** A repository of the platform registry (the busybox image, uploaded). */
const REPO = 'tools';

/** A set with a volume, as a person would paste it into the editor. */
const SET_YAML = `appkey: web
id: "1"
resources: { cpu: 0.5, memory: 64Mi, disk: 64Mi }
containers:
  - index: 1
    image: wharf/busybox:latest
    options:
      name: main
      volumes: [{ path: /data }]
      command: { cmd: /bin/sh, args: ["-c", "${LOOP}"] }
`;

const template = {
  resources: { cpu: 0.2, memory: '32Mi' },
  containers: [{ index: 1, image: 'wharf/busybox:latest', options: { name: 'main', command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }],
};

/** Buttons that change things: a viewer must see none of them. */
const CHANGING = /^(Create|Apply|Delete|Delete .*|Stop|Start|Restart|Scale|Resize|Connect|Restore|Purge.*|Rollback|Start rollout|Pause|Resume|Cordon|Uncordon|Drain|Take snapshot|Make public|Make private)$/;

/**
 * Browser console errors that are expected, each with why. Chromium logs every HTTP
 * error answer of a fetch as "Failed to load resource", even one the page handles.
 */
const EXPECTED_ERRORS: Array<{ why: string; match: RegExp }> = [
  {
    why: 'the set page polls its set every 2 s; a poll in flight when the page deletes the set answers 404 after the page has moved on to /sets',
    match: /^console error at \S+\/sets: Failed to load resource: the server responded with a status of 404 \(Not Found\) \(\S+\/v1\/(sets|volumes)\/web\/1\?/,
  },
  {
    why: 'the scale test sends a replica count the server refuses, to see its message at the field',
    match: /^console error at \S+\/apps\/api: Failed to load resource: the server responded with a status of 400 \(Bad Request\) \(\S+\/v1\/apps\/api\/scale/,
  },
  {
    why: 'the session test answers /v1/me with 503 once, to see the page keep the login and offer to try again',
    match: /^console error at \S+\/: Failed to load resource: the server responded with a status of 503 \(Service Unavailable\) \(\S+\/v1\/me/,
  },
];

describe('the web console in a real browser, on a platform with one Docker host', { skip: browserSkipReason() }, () => {
  let platform: Platform;
  let host: DockerHost;
  let c: WharfClient;
  let browser: ConsoleBrowser;
  let page: Page;
  let consoleDir: string | undefined;

  before(async () => {
    consoleDir = copyConsoleBuild();
    process.env.WHARF_CONSOLE_DIR = consoleDir;
    platform = await Platform.onOwnHost('h1', { registry: true });
    host = platform.host('h1');
    c = platform.client;
    await buildImage(host, V2, ['RUN echo v2 > /version']);
    await c.putTenant(BLUE);
    await c.forTenant(BLUE).applySet({ appkey: 'shop', id: '1', ...template });
    await c.createUser('ops', { password: PASSWORD, platformAdmin: true });
    await c.createUser('watcher', { password: PASSWORD, roles: { default: 'viewer', [BLUE]: 'viewer' } });
    browser = await ConsoleBrowser.launch(platform.url);
    page = await browser.newPage();
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      await platform?.stop();
      if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
    }
  });

  const heading = (p: Page, name: string | RegExp) => see(p.getByRole('heading', { level: 1, name }));

  it('logs in with user name and password and shows the overview', async () => {
    await browser.loginWithPassword(page, 'ops', PASSWORD);
    await heading(page, 'Overview');
    await see(page.getByRole('heading', { name: 'Hosts (1)' }));
    await see(page.getByRole('heading', { name: 'Capacity by zone' }));
  });

  it('lists the host with its allocation and opens its detail', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Hosts' }).click();
    await heading(page, 'Hosts');
    await see(page.getByRole('link', { name: 'h1', exact: true }));
    await browser.screenshot(page, 'hosts');
    await page.getByRole('link', { name: 'h1', exact: true }).click();
    await heading(page, /h1/);
    await see(page.getByRole('heading', { name: 'Facts' }));
    await browser.screenshot(page, 'host-detail');
  });

  it('creates a set from the YAML editor and shows it running on its page', async () => {
    await page.goto('/create');
    await heading(page, 'Create');
    await page.getByLabel('Spec (YAML)').fill(SET_YAML);
    await browser.screenshot(page, 'create');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.waitForURL('**/sets/web/1');
    await heading(page, 'Set web/1');
    await see(page.locator('#summary .badge', { hasText: /^running$/ }), 60_000);
    await see(page.locator('#containers').getByRole('cell', { name: 'main', exact: true }));
    assert.equal((await c.getSet('web', 1)).status, 'running');
    await browser.screenshot(page, 'set-detail');
  });

  it('opens a terminal in the set and runs a command', async () => {
    const terminal = page.locator('#terminal');
    await terminal.getByRole('button', { name: 'Connect' }).click();
    await see(terminal.getByRole('status').filter({ hasText: 'Connected.' }));
    await terminal.locator('.xterm').click();
    await page.keyboard.type('echo hi-from-console\n');
    // The command's own line is echoed as "… echo hi-from-console"; its output is a line of its own.
    await waitFor('the command\'s output in the terminal', async () => (await terminalLines(terminal)).includes('hi-from-console'), 20_000, 200);
    await browser.screenshot(terminal, 'terminal');
    await terminal.getByRole('button', { name: 'Disconnect' }).click();
    await see(terminal.getByRole('status').filter({ hasText: 'Not connected.' }));
  });

  it('resizes the set\'s CPU and memory in place and shows the new size', async () => {
    const form = page.locator('#resize');
    await form.getByLabel('CPU').fill('0.75');
    await form.getByLabel('Memory').fill('96Mi');
    await form.getByRole('button', { name: 'Resize' }).click();
    await see(form.getByRole('status').filter({ hasText: /^Resized/ }));
    await see(page.locator('#summary').getByText('0.75 cores · 96 MiB memory'), 30_000);
    const s = await c.getSet('web', 1);
    assert.deepEqual([s.resources.cpu, s.resources.memory], [0.75, 96 * 1024 * 1024]);
  });

  it('scales an app and follows its sets to ready', async () => {
    await c.createApp({ appkey: APP, replicas: 1, template });
    await page.goto(`/apps/${APP}`);
    await heading(page, new RegExp(APP));
    const ready = page.getByRole('progressbar', { name: 'Ready sets' });
    await waitFor('1/1 ready', async () => (await ready.getAttribute('aria-valuetext')) === '1/1 ready', 60_000, 200);
    // The server's validation message shows at the field it names (the schema says body.replicas).
    const replicas = page.getByLabel('Replicas', { exact: true });
    await replicas.fill('99999999');
    await page.getByRole('button', { name: 'Scale' }).click();
    await waitFor('Replicas marked invalid', async () => (await replicas.getAttribute('aria-invalid')) === 'true', 15_000, 100);
    const described = await replicas.getAttribute('aria-describedby');
    assert.ok(described, 'the invalid field points at its message');
    assert.match((await page.locator(`[id="${described}"]`).textContent()) ?? '', /must be <= 10000/);
    await replicas.fill('3');
    await page.getByRole('button', { name: 'Scale' }).click();
    await waitFor('3/3 ready', async () => (await ready.getAttribute('aria-valuetext')) === '3/3 ready', 60_000, 200);
    const app = await c.getApp(APP);
    assert.deepEqual([app.replicas, app.ready], [3, 3]);
  });

  it('starts a rollout, pauses and resumes it, sees it succeed, and rolls it back', async () => {
    const wizard = page.getByRole('form', { name: 'New rollout' });
    await wizard.getByLabel('Container').selectOption('main');
    await wizard.getByLabel('Image', { exact: true }).fill(V2);
    await wizard.getByLabel('Batch size').fill('2');
    await wizard.getByRole('button', { name: 'Start rollout' }).click();
    const current = page.getByRole('group', { name: 'Rollout 1' });
    // The first batch's sets leave the endpoints for the app's drainSeconds (default 5) before
    // they change: time enough to pause. The batch under way finishes; the second must not start.
    await current.getByRole('button', { name: 'Pause' }).click();
    await see(current.locator('.badge', { hasText: /^paused$/ }));
    const firstDone = (r: Rollout) => r.targets.filter((t) => t.batch === 1).every((t) => t.state === 'updated');
    await waitFor('the first batch updated', async () => firstDone(await c.getRollout(APP, 'current')), 60_000, 250);
    const held = Date.now();
    const batches = current.getByRole('progressbar', { name: 'Batches done' });
    await waitFor('1/2 batches done on the page', async () => (await batches.getAttribute('aria-valuetext'))?.startsWith('1/2 batches done'), 10_000, 200);
    await new Promise((resolve) => setTimeout(resolve, PAUSE_HOLD_MS - (Date.now() - held)));
    const paused = await c.getRollout(APP, 'current');
    assert.equal(paused.state, 'paused');
    assert.deepEqual(paused.targets.map((t) => t.batch ?? 0).sort(), [0, 1, 1], 'one set waits, in no batch');
    await current.getByRole('button', { name: 'Resume' }).click();
    await see(current.locator('.badge', { hasText: /^succeeded$/ }), 90_000);
    assert.equal(await current.getByRole('progressbar', { name: 'Sets updated' }).getAttribute('aria-valuetext'), '3/3 sets updated');
    assert.equal(await batches.getAttribute('aria-valuetext'), '2/2 batches done');
    assert.equal((await c.getRollout(APP, 'current')).state, 'succeeded');
    await browser.screenshot(page, 'app-detail-rollout');
    await current.getByRole('button', { name: 'Rollback' }).click();
    await page.getByRole('dialog', { name: 'Rollback' }).getByRole('button', { name: 'Rollback' }).click();
    await see(current.locator('.badge', { hasText: /^rolled-back$/ }), 90_000);
    assert.equal((await c.getRollout(APP, 'current')).state, 'rolled-back');
    for (const s of await c.listSets({ appkey: APP })) assert.equal(s.spec.containers[0]?.image, 'wharf/busybox:latest', `set ${s.id} back on the old image`);
  });

  it('deletes a set with a volume and restores the volume from the recycle bin', async () => {
    const before = await host.docker(['exec', 'default_web_1_main', 'sh', '-c', 'echo kept > /data/note']);
    assert.equal(before.code, 0, before.stderr);
    // The volume goes back into a stopped set of the same size.
    await c.applySet({ appkey: 'web', id: '2', resources: { cpu: 0.5, memory: '64Mi', disk: '64Mi' }, containers: [{ index: 1, image: 'wharf/busybox:latest', options: { name: 'main', volumes: [{ path: '/data' }], command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }] });
    await platform.waitRunning('web', 2, 60_000);
    await c.setAction('web', 2, 'stop');
    await platform.waitForSet('web', 2, 'stopped', (s) => s.status === 'stopped', 60_000);

    await page.goto('/sets/web/1');
    await page.locator('#summary').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete' }).getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL('**/sets');
    await waitFor('web/1 in the recycle bin', async () => (await c.listTrash()).entries.some((t) => t.appkey === 'web' && t.id === '1'), 60_000, 250);

    await page.goto('/volumes');
    await heading(page, 'Volumes');
    const row = page.getByRole('row').filter({ hasText: 'web/1' }).filter({ has: page.getByRole('button', { name: 'Restore' }) });
    await see(row, 20_000);
    await browser.screenshot(page, 'volumes');
    await row.getByRole('button', { name: 'Restore' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore' });
    await dialog.getByLabel('Appkey').fill('web');
    await dialog.getByLabel('Set id').fill('2');
    await dialog.getByRole('button', { name: 'Restore' }).click();
    // The restored volume leaves the bin (web/2's own, replaced, goes in).
    await waitFor('web/1 out of the bin', async () => !(await c.listTrash()).entries.some((t) => t.appkey === 'web' && t.id === '1'), 30_000, 250).catch(async (err: Error) => {
      throw new Error(`${err.message}; the page says: ${(await page.getByRole('alert').allTextContents()).join(' | ') || 'no error'}`);
    });
    await row.waitFor({ state: 'detached' });
    await c.setAction('web', 2, 'start');
    await platform.waitRunning('web', 2, 60_000);
    assert.equal((await host.docker(['exec', 'default_web_2_main', 'cat', '/data/note'])).stdout.trim(), 'kept');
  });

  it('takes a snapshot of a volume on its page and rolls the volume back to it', async () => {
    await page.goto('/volumes');
    await page.getByRole('region', { name: 'Volumes of tenant default' }).getByRole('link', { name: 'web/2', exact: true }).click();
    await heading(page, 'Volume web/2');
    await page.getByLabel('Snapshot name').fill('with-note');
    await page.getByRole('button', { name: 'Take snapshot' }).click();
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'with-note' }) });
    await see(row);
    assert.deepEqual((await c.listSnapshots('web', 2)).map((s) => s.name), ['with-note']);
    await browser.screenshot(page, 'volume');

    const changed = await host.docker(['exec', 'default_web_2_main', 'sh', '-c', 'echo changed > /data/note']);
    assert.equal(changed.code, 0, changed.stderr);
    await c.setAction('web', 2, 'stop');
    await platform.waitForSet('web', 2, 'stopped', (s) => s.status === 'stopped', 60_000);
    await row.getByRole('button', { name: 'Restore' }).click();
    await page.getByRole('dialog', { name: 'Restore' }).getByRole('button', { name: 'Restore' }).click();
    await waitFor('the SnapshotRestored event', async () => (await c.setEvents('web', 2)).some((e) => e.reason === 'SnapshotRestored'), 30_000, 250);
    await c.setAction('web', 2, 'start');
    await platform.waitRunning('web', 2, 60_000);
    assert.equal((await host.docker(['exec', 'default_web_2_main', 'cat', '/data/note'])).stdout.trim(), 'kept');
  });

  it('makes an image public and private again, after asking', async () => {
    // The busybox image every set here runs, uploaded as a docker save archive.
    const dir = mkdtempSync(join(tmpdir(), 'wharf-console-image-'));
    try {
      const file = join(dir, 'busybox.tar');
      const saved = await host.docker(['save', '-o', file, 'wharf/busybox:latest']);
      assert.equal(saved.code, 0, saved.stderr);
      await c.uploadImage({ name: REPO, tag: '1', body: createReadStream(file), length: statSync(file).size });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const visibility = async () => (await c.listImages()).find((r) => r.name === REPO)?.public;
    await page.goto('/images');
    await heading(page, 'Images');
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: REPO, exact: true }) });
    await see(row);
    for (const [label, want] of [['Make public', true], ['Make private', false]] as const) {
      await row.getByRole('button', { name: label }).click();
      await page.getByRole('dialog', { name: label }).getByRole('button', { name: label }).click();
      await see(row.getByRole('button', { name: want ? 'Make private' : 'Make public' }));
      assert.equal(await visibility(), want, `${REPO} public after ${label}`);
      if (want) await see(row.locator('.badge', { hasText: /^public$/ }));
    }
    await browser.screenshot(page, 'images');
  });

  it('drains the only host: the drain waits with its progress and reason, no set stops; uncordon ends it', async () => {
    await page.goto('/hosts/h1');
    await heading(page, /h1/);
    await page.getByRole('button', { name: 'Drain', exact: true }).click();
    await page.getByRole('dialog', { name: 'Drain' }).getByRole('button', { name: 'Drain' }).click();
    const h = await waitFor('h1 draining', async () => {
      const x = await c.getHost('h1');
      return x.state === 'draining' ? x : undefined;
    });
    const total = h.drain?.total ?? -1;
    assert.ok(total >= 2, `the host held the test's sets when the drain began: ${total}`);
    const drain = page.getByRole('region', { name: 'Drain' });
    await see(drain.getByText(new RegExp(`^Began \\d+s ago with ${total} sets\\.`)));
    await see(drain.getByRole('progressbar', { name: 'Drain progress' }));
    // No other host: the next set waits on h1, running, and says why.
    const tenants = [c, c.forTenant(BLUE)];
    await waitFor('a DrainWaiting event', async () => {
      for (const t of tenants) {
        for (const x of await t.listSets()) if ((await t.setEvents(x.appkey, x.id)).some((e) => e.reason === 'DrainWaiting')) return true;
      }
      return undefined;
    }, 15_000, 500);
    for (const t of tenants) assert.deepEqual((await t.listSets()).filter((x) => x.host !== 'h1').map((x) => `${x.appkey}/${x.id}`), [], 'no set left the host');
    await browser.screenshot(page, 'host-drain');
    await page.getByRole('button', { name: 'Uncordon' }).click();
    await see(page.getByRole('button', { name: 'Cordon' }));
    assert.equal((await c.getHost('h1')).state, 'ready');
  });

  it('a viewer sees the data but no button that changes things, and switches to their other tenant', async () => {
    const viewer = await browser.newPage();
    await browser.loginWithPassword(viewer, 'watcher', PASSWORD);
    for (const [path, data] of [['/sets/web/2', 'main'], ['/sets/api/1', 'main'], [`/apps/${APP}`, '3/3 ready'], ['/create', 'Spec (YAML)'], ['/volumes', 'web/2'], ['/volumes/web/2', 'with-note'], ['/images', REPO], ['/hosts', '']] as const) {
      await viewer.goto(path);
      await see(viewer.getByRole('heading', { level: 1 }));
      if (data) await see(viewer.getByText(data).first(), 20_000);
      // Give the page's first poll time to render what it would add.
      await viewer.waitForLoadState('networkidle');
      const changing = await viewer.getByRole('button', { name: CHANGING }).allTextContents();
      assert.deepEqual(changing, [], `buttons a viewer sees on ${path}`);
    }

    // A member of two tenants switches in the header: the other tenant's sets, not the first's.
    await viewer.goto('/sets');
    await heading(viewer, 'Sets');
    const link = (name: string) => viewer.getByRole('link', { name, exact: true });
    await see(link('web/2'));
    await viewer.getByRole('combobox', { name: 'Tenant' }).selectOption(BLUE);
    await see(link('shop/1'));
    assert.equal(await link('web/2').count(), 0, `no set of default in ${BLUE}`);
    await viewer.context().close();
  });

  it('renders the overview on a phone without horizontal overflow', async () => {
    const phone = await browser.newPage(PHONE);
    await browser.loginWithToken(phone, platform.adminToken);
    for (const path of ['/', '/sets', '/sets/web/2', `/apps/${APP}`, '/hosts']) {
      await phone.goto(path);
      await see(phone.getByRole('heading', { level: 1 }));
      await phone.waitForLoadState('networkidle');
      const { scroll, inner } = await widths(phone);
      assert.ok(scroll <= inner, `${path}: the page is ${scroll} px wide on a ${inner} px screen`);
      if (path === '/') await browser.screenshot(phone, 'phone-overview');
    }
    await phone.context().close();
  });

  it('reaches the main navigation with the keyboard', async () => {
    await page.goto('/');
    await heading(page, 'Overview');
    // web/2 and the app's 3 sets, on the overview that also serves as its screenshot.
    await see(page.getByRole('heading', { name: 'Sets in default (4)' }));
    await browser.screenshot(page, 'overview');
    const target = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sets' });
    let onTarget = false;
    for (let i = 0; i < 30 && !onTarget; i++) {
      await page.keyboard.press('Tab');
      onTarget = await focused(target);
    }
    assert.ok(onTarget, 'the Sets link of the navigation takes the focus within 30 Tabs');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/sets');
    await heading(page, 'Sets');
  });

  it('keeps the login when the server fails for a moment, and offers to try again', async () => {
    // The server answers 503 for the caller once: the page says so and keeps the token.
    await page.route('**/v1/me', (r) => r.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'STORE_UNAVAILABLE', message: 'etcd at test: unavailable' } }) }), { times: 1 });
    await page.goto('/');
    await see(page.getByRole('alert').getByText(/^Cannot load your session: etcd at test: unavailable$/));
    assert.ok(await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('wharf.session')), 'the token is kept');
    await page.getByRole('button', { name: 'Try again' }).click();
    await heading(page, 'Overview');
  });

  it('left no error in the browser console', (t) => {
    const expected = browser.errors.filter((e) => EXPECTED_ERRORS.some((x) => x.match.test(e)));
    if (expected.length) t.diagnostic(`expected errors (see EXPECTED_ERRORS): ${expected.join('; ')}`);
    assert.deepEqual(browser.errors.filter((e) => !expected.includes(e)), []);
  });
});
