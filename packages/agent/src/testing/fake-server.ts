/**
 * A minimal wharf-server for agent tests: registration, the desired-state long poll,
 * status reports and the registry's description, over real HTTP (so the typed client
 * is exercised too).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AddressGroups, HostRegistration, NetworkAttachment, RegistryInfo, SetFirewall, SetObject, StatusReport } from '@wharf/types';

export class FakeServer {
  revision = 1;
  sets: SetObject[] = [];
  /** Sent with the sets when set (the host's network attachments and the sets' firewalls). */
  networks: NetworkAttachment[] | undefined;
  firewall: Record<string, SetFirewall> | undefined;
  addressGroups: AddressGroups | undefined;
  /** GET /v1/registry; none: 404, like a server from before the registry. */
  registry: RegistryInfo | undefined;
  readonly registrations: HostRegistration[] = [];
  readonly reports: StatusReport[] = [];
  readonly authHeaders: (string | undefined)[] = [];
  url = '';
  private waiters: (() => void)[] = [];
  private reportWaiters: (() => void)[] = [];
  private readonly server = createServer((req, res) => void this.handle(req, res));

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const w of this.waiters) w();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Changes the desired sets and wakes the long polls. */
  setDesired(sets: SetObject[], net: { networks?: NetworkAttachment[]; firewall?: Record<string, SetFirewall>; addressGroups?: AddressGroups } = {}): void {
    this.sets = sets;
    if ('networks' in net) this.networks = net.networks;
    if ('firewall' in net) this.firewall = net.firewall;
    if ('addressGroups' in net) this.addressGroups = net.addressGroups;
    this.revision++;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the first report (from now on or already received) that matches. */
  async waitForReport(pred: (r: StatusReport) => boolean, timeoutMs = 5_000): Promise<StatusReport> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      for (; seen < this.reports.length; seen++) if (pred(this.reports[seen]!)) return this.reports[seen]!;
      if (Date.now() > deadline) throw new Error(`no matching report in ${timeoutMs} ms; got ${JSON.stringify(this.reports).slice(0, 2000)}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 50);
        this.reportWaiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.authHeaders.push(req.headers.authorization);
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as unknown) : undefined;
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'PUT' && /^\/v1\/hosts\/[^/]+$/.test(url.pathname)) {
      this.registrations.push(body as HostRegistration);
      return json(200, body);
    }
    if (req.method === 'GET' && url.pathname.endsWith('/desired')) {
      const rev = Number(url.searchParams.get('revision'));
      const wait = Number(url.searchParams.get('wait') ?? 30);
      if (rev >= this.revision) {
        await new Promise<void>((r) => {
          const timer = setTimeout(r, wait * 1000);
          this.waiters.push(() => {
            clearTimeout(timer);
            r();
          });
        });
      }
      return json(200, { revision: this.revision, sets: this.sets, ...(this.networks ? { networks: this.networks } : {}), ...(this.firewall ? { firewall: this.firewall } : {}), ...(this.addressGroups ? { addressGroups: this.addressGroups } : {}) });
    }
    if (req.method === 'GET' && url.pathname === '/v1/registry' && this.registry) return json(200, this.registry);
    if (req.method === 'POST' && url.pathname.endsWith('/status')) {
      this.reports.push(body as StatusReport);
      const w = this.reportWaiters;
      this.reportWaiters = [];
      for (const f of w) f();
      res.writeHead(204);
      return void res.end();
    }
    json(404, { error: { code: 'NOT_FOUND', message: url.pathname } });
  }
}
