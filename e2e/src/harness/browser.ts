/**
 * A headless browser for the console's end-to-end tests: Debian's chromium driven
 * by playwright-core (no browser is ever downloaded). Every page opened through it
 * reports its console errors and uncaught exceptions into one list, so a test can
 * assert that a whole run left the browser console clean; screenshots go to one
 * directory that is printed once.
 *
 *   const b = await ConsoleBrowser.launch(platform.url);
 *   const page = await b.newPage();                   // or newPage({ width: 390, height: 844 })
 *   await b.loginWithPassword(page, 'ops', 'secret');
 *   await b.screenshot(page, 'overview');
 *   assert.deepEqual(b.errors, []);
 *   await b.close();
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Why the browser tests cannot run here, or false when they can. Outside CI a
 * missing browser skips them; under CI=true they run and fail, so a CI image
 * without chromium is noticed.
 */
export function browserSkipReason(env: NodeJS.ProcessEnv = process.env): string | false {
  if (existsSync(CHROMIUM) || env.CI) return false;
  return `${CHROMIUM} is missing (install the Debian package chromium: scripts/install-test-deps.sh as root)`;
}

/** Flags for a headless chromium as root in a test: no sandbox (root), GPU, or traffic of its own. */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const ROOT = new URL('../../..', import.meta.url).pathname;
/** The screenshots of each run (WHARF_SCREENSHOTS overrides); docs/screenshots holds copies picked by hand. */
export const SCREENSHOT_DIR = process.env.WHARF_SCREENSHOTS || join(ROOT, 'e2e/dist/screenshots');

/**
 * A copy of the console's build (packages/console/dist) in a new temp directory, for
 * WHARF_CONSOLE_DIR: the browser keeps the files it started with even if the console
 * is rebuilt while the test runs. The caller removes it.
 */
export function copyConsoleBuild(): string {
  const dist = join(ROOT, 'packages/console/dist');
  if (!existsSync(join(dist, 'index.html'))) throw new Error(`the console is not built (${dist}): run npm run build`);
  const dir = mkdtempSync(join(tmpdir(), 'wharf-console-'));
  cpSync(dist, dir, { recursive: true });
  return dir;
}

export interface Viewport {
  width: number;
  height: number;
}

export const LAPTOP: Viewport = { width: 1280, height: 860 };
export const PHONE: Viewport = { width: 390, height: 844 };

/** Waits until the (first) element is visible: pages poll every 2 s, so live changes take a moment. */
export async function see(locator: Locator, timeoutMs = 15_000): Promise<void> {
  await locator.first().waitFor({ state: 'visible', timeout: timeoutMs });
}

/**
 * The lines an xterm.js terminal inside `within` shows, trimmed. Its DOM renderer
 * draws one element per row under `.xterm-rows`, spaces as no-break spaces.
 */
export async function terminalLines(within: Locator): Promise<string[]> {
  const rows = await within.locator('.xterm-rows > *').allTextContents();
  return rows.map((r) => r.replace(/\u00a0/g, ' ').trim());
}

/** What the functions below use of the browser's globals (the e2e code is built without the DOM types). */
interface BrowserGlobals {
  document: { activeElement: unknown; scrollingElement: { scrollWidth: number } };
  innerWidth: number;
}

/** The page's width and the screen's: wider means the page scrolls sideways. */
export function widths(page: Page): Promise<{ scroll: number; inner: number }> {
  // Runs in the browser: reaches no module scope (the cast is erased).
  return page.evaluate(() => {
    const w = globalThis as unknown as BrowserGlobals;
    return { scroll: w.document.scrollingElement.scrollWidth, inner: w.innerWidth };
  });
}

/** Does the element have the keyboard focus? */
export function focused(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => el === (globalThis as unknown as BrowserGlobals).document.activeElement);
}

export class ConsoleBrowser {
  /** Console errors and uncaught exceptions of every page, as "where: text". */
  readonly errors: string[] = [];
  private readonly contexts: BrowserContext[] = [];

  private constructor(private readonly browser: Browser, readonly baseUrl: string) {}

  static async launch(baseUrl: string): Promise<ConsoleBrowser> {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install the Debian package chromium`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    console.log(`console screenshots: ${SCREENSHOT_DIR}`);
    return new ConsoleBrowser(browser, baseUrl);
  }

  /** A page in a context of its own (its own login: localStorage is per context). */
  async newPage(viewport: Viewport = LAPTOP): Promise<Page> {
    const context = await this.browser.newContext({ baseURL: this.baseUrl, viewport });
    this.contexts.push(context);
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') this.errors.push(`console error at ${page.url()}: ${m.text()} (${m.location().url}:${m.location().lineNumber})`);
    });
    page.on('pageerror', (e) => this.errors.push(`uncaught at ${page.url()}: ${e.stack ?? e.message}`));
    return page;
  }

  /** The real login: user name and password on the login page (POST /v1/login). */
  async loginWithPassword(page: Page, user: string, password: string): Promise<void> {
    await page.goto('/');
    await page.getByLabel('User').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
  }

  /** The login page's "Log in with an API token instead". */
  async loginWithToken(page: Page, token: string): Promise<void> {
    await page.goto('/');
    await page.getByText('Log in with an API token instead').click();
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
  }

  /** A PNG named `name` in SCREENSHOT_DIR of the whole page, or of one element; returns its path. */
  async screenshot(target: Page | Locator, name: string): Promise<string> {
    const path = join(SCREENSHOT_DIR, `${name}.png`);
    if ('mainFrame' in target) await target.screenshot({ path, fullPage: true });
    else await target.screenshot({ path });
    return path;
  }

  async close(): Promise<void> {
    for (const c of this.contexts.splice(0)) await c.close().catch(() => undefined);
    await this.browser.close();
  }
}
