/**
 * Platform networking on a 3-host cluster (h1 z1, h2 z1, h3 z2), all cabled to one
 * switch: sets get IPs from the platform's IPAM on the hosts' uplinks (Docker
 * macvlan, no overlay, no NAT) and reach each other across hosts by those IPs; the
 * IPs stay through container, dockerd and agent restarts and a host loss; fixed
 * and extra IPs; bandwidth limits measured with iperf3 and changed online; tenant
 * isolation opened by a policy; the host reaches its own sets; a full pool says so.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WharfClient } from '@wharf/client';
import type { SetView } from '@wharf/types';
import { Cluster } from './harness/cluster.js';
import { waitFor } from './harness/exec.js';
import { containerNetns, iperf } from './harness/iperf.js';

/** busybox httpd serving "hello from <name>" on port 80. */
function web(appkey: string, id: number, extra: Record<string, unknown> = {}) {
  const script = `mkdir -p /www && echo hello from ${appkey}/${id} > /www/index.html && exec httpd -f -p 80 -h /www`;
  return {
    appkey, id,
    resources: { cpu: 0.5, memory: '64Mi' },
    containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'web', command: { cmd: '/bin/sh', args: ['-c', script] } } }],
    ...extra,
  };
}

describe('platform networks on a 3-host cluster', () => {
  let cluster: Cluster;
  let c: WharfClient;
  let prefix: string;

  before(async () => {
    cluster = await Cluster.start(3);
    c = cluster.platform.client;
    prefix = cluster.gateway.replace(/\.1$/, '');
    // The harness subnet is the hosts' own; sets take .100-.140.
    await cluster.addLan();
  });

  after(async () => {
    await cluster?.stop();
  });

  function infraName(s: { appkey: string; id: string | number }, tenant = 'default'): string {
    return `${tenant}_${s.appkey}_${s.id}_infra`;
  }

  async function infraPid(s: SetView): Promise<number> {
    const info = await cluster.host(s.host as string).inspect(infraName(s, s.tenant));
    return info.State.Pid as number;
  }

  /** wget from inside a set's container: the page, or undefined when it cannot connect. */
  async function fetchFrom(from: SetView, url: string, timeoutS = 3): Promise<string | undefined> {
    const r = await cluster.host(from.host as string).docker(['exec', `${from.tenant}_${from.appkey}_${from.id}_web`, 'timeout', String(timeoutS), 'wget', '-q', '-O', '-', url]);
    return r.code === 0 ? r.stdout.trim() : undefined;
  }

  async function running(appkey: string, id: number, client = c): Promise<SetView> {
    return waitFor(`${appkey}/${id} running`, async () => {
      const s = await client.getSet(appkey, id);
      return s.status === 'running' && s.observedGeneration >= s.generation ? s : undefined;
    }, 60_000, 200);
  }

  const ip = (s: SetView) => s.ips[0]?.ip as string;

  it('gives sets platform IPs and they reach each other across hosts', async () => {
    await c.applySet(web('srv', 1, { placement: { zones: ['z2'] } }));
    await c.applySet(web('cli', 1, { placement: { zones: ['z1'] } }));
    const srv = await running('srv', 1);
    const cli = await running('cli', 1);
    assert.equal(srv.host, 'h3');
    assert.notEqual(cli.host, 'h3');
    assert.match(ip(srv), new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(1[0-3]\\d|140)$`));
    assert.equal(await fetchFrom(cli, `http://${ip(srv)}/`), 'hello from srv/1');
    // The CLI shows it.
    const wide = await cluster.platform.cli(['get', 'sets', '-o', 'wide']);
    assert.equal(wide.code, 0, wide.stderr);
    assert.match(wide.stdout, new RegExp(ip(srv).replace(/\./g, '\\.')));
  });

  it('lets a host reach its own sets (macvlan shim)', async () => {
    const srv = await c.getSet('srv', 1);
    const r = await cluster.exec('h3', 'busybox', ['timeout', '3', 'wget', '-q', '-O', '-', `http://${ip(srv)}/`]);
    assert.equal(r.stdout.trim(), 'hello from srv/1', r.stderr);
  });

  it('keeps the IP across a container restart, a dockerd restart and an agent restart', async () => {
    const before = await c.getSet('srv', 1);
    const cli = await c.getSet('cli', 1);
    await c.setAction('srv', 1, 'restart');
    await waitFor('srv restarted', async () => {
      const s = await c.getSet('srv', 1);
      const started = s.containers.find((x) => x.name === 'web')?.startedAt;
      return s.status === 'running' && started !== before.containers.find((x) => x.name === 'web')?.startedAt;
    }, 60_000, 200);
    assert.equal(ip(await c.getSet('srv', 1)), ip(before));
    assert.equal(await fetchFrom(cli, `http://${ip(before)}/`), 'hello from srv/1');

    await cluster.host('h3').restartDockerd();
    await running('srv', 1);
    assert.equal(ip(await c.getSet('srv', 1)), ip(before));
    assert.equal(await waitFor('srv reachable after dockerd restart', () => fetchFrom(cli, `http://${ip(before)}/`), 30_000, 500), 'hello from srv/1');

    await cluster.platform.stopAgent('h3', 'SIGKILL');
    await cluster.platform.startAgent('h3');
    await running('srv', 1);
    assert.equal(ip(await c.getSet('srv', 1)), ip(before));
    assert.equal(await fetchFrom(cli, `http://${ip(before)}/`), 'hello from srv/1');
  });

  it('honours a fixed IP and extra IPs', async () => {
    await c.applySet(web('fixed', 1, { network: { ip: `${prefix}.140`, extra: [{}] }, placement: { zones: ['z2'] } }));
    const s = await running('fixed', 1);
    assert.equal(ip(s), `${prefix}.140`);
    assert.equal(s.ips.length, 2);
    const cli = await c.getSet('cli', 1);
    for (const x of s.ips) assert.equal(await fetchFrom(cli, `http://${x.ip}/`), 'hello from fixed/1', `extra IP ${x.ip}`);
    const taken = await cluster.platform.cli(['apply', '-f', '-'], JSON.stringify(web('fixed', 2, { network: { ip: `${prefix}.140` } })));
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, new RegExp(`${prefix.replace(/\./g, '\\.')}\\.140 of network lan is used by set fixed/1`));
  });

  it('limits bandwidth within 15% and changes the limit online', async () => {
    const spec = (mbit: number) => web('bw', 1, { resources: { cpu: 0.5, memory: '64Mi', bandwidth: mbit }, placement: { zones: ['z2'] } });
    await c.applySet(spec(40));
    let s = await running('bw', 1);
    const cli = await c.getSet('cli', 1);
    const [bwNs, cliNs] = [containerNetns(await infraPid(s)), containerNetns(await infraPid(cli))];
    const egress = await iperf(bwNs, cliNs, ip(cli), 4);
    const ingress = await iperf(cliNs, bwNs, ip(s), 4);
    assert.ok(Math.abs(egress.mbits - 40) <= 6, `egress ${egress.mbits.toFixed(1)} Mbit/s, limit 40`);
    assert.ok(Math.abs(ingress.mbits - 40) <= 6, `ingress ${ingress.mbits.toFixed(1)} Mbit/s, limit 40`);

    const ids = s.containers.map((x) => x.containerId);
    await c.applySet(spec(80));
    s = await running('bw', 1);
    assert.deepEqual(s.containers.map((x) => x.containerId), ids, 'no container was recreated');
    const faster = await waitFor('new limit in force', async () => {
      const r = await iperf(bwNs, cliNs, ip(cli), 3);
      return r.mbits > 60 ? r : undefined;
    }, 30_000, 500);
    assert.ok(Math.abs(faster.mbits - 80) <= 12, `egress ${faster.mbits.toFixed(1)} Mbit/s, limit 80`);
  });

  it('isolates tenants until a policy opens a set to the other tenant', async () => {
    const blue = new WharfClient({ server: cluster.platform.url, token: cluster.platform.adminToken, tenant: 'blue' });
    await blue.applySet(web('db', 1, { placement: { zones: ['z2'] } }));
    const db = await running('db', 1, blue);
    const cli = await c.getSet('cli', 1);
    assert.equal(await fetchFrom(cli, `http://${ip(db)}/`, 2), undefined, 'tenant default reached tenant blue');
    // blue's own sets still reach it: a set made after db joins blue's address group, and db's firewall is rewritten with it.
    await blue.applySet(web('app', 1, { placement: { zones: ['z1'] } }));
    const app = await running('app', 1, blue);
    assert.equal(await fetchFrom(app, `http://${ip(db)}/`), 'hello from db/1');

    await blue.request('PUT', '/v1/policies/db/from-cli?tenant=blue', { name: 'from-cli', appkey: 'db', ingress: [{ from: [{ app: 'cli', tenant: 'default' }], ports: [{ port: 80 }] }] });
    const opened = Date.now();
    assert.equal(await waitFor('policy in force', () => fetchFrom(cli, `http://${ip(db)}/`, 2), 20_000, 200), 'hello from db/1');
    assert.ok(Date.now() - opened < 15_000);
    // Another set of tenant default (not app cli) is still shut out.
    const srv = await c.getSet('srv', 1);
    assert.equal(await fetchFrom(srv, `http://${ip(db)}/`, 2), undefined);
  });

  it('moves a set off a lost host with its IP', async () => {
    await c.applySet(web('mover', 1, { placement: { zones: ['z1'] } }));
    const before = await running('mover', 1);
    const lost = before.host as string;
    const third = await c.getSet('srv', 1);
    // A lost host: its agent and dockerd die and its cable is cut (its containers linger, unreachable).
    await cluster.cutNetwork(lost);
    await cluster.killHost(lost);
    const after = await waitFor('mover running elsewhere', async () => {
      const s = await c.getSet('mover', 1);
      return s.host !== lost && s.status === 'running' ? s : undefined;
    }, 120_000, 500);
    assert.equal(ip(after), ip(before));
    assert.equal(await waitFor('mover reachable at its IP', () => fetchFrom(third, `http://${ip(before)}/`), 30_000, 500), 'hello from mover/1');
    await cluster.healNetwork(lost);
    await cluster.reviveHost(lost);
  });

  it('says which network is full', async () => {
    await c.request('PUT', '/v1/networks/tiny', { name: 'tiny', subnet: '10.214.0.0/24', gateway: '10.214.0.1', range: '10.214.0.10-10.214.0.10' });
    for (const h of ['h1', 'h2', 'h3']) await c.request('PATCH', `/v1/hosts/${h}`, { networks: [{ name: 'lan', uplink: 'eth0' }, { name: 'tiny', uplink: 'eth0' }] });
    await c.applySet(web('t', 1, { network: { name: 'tiny' } }));
    const r = await cluster.platform.cli(['apply', '-f', '-'], JSON.stringify(web('t', 2, { network: { name: 'tiny' } })));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /network tiny has no free IP: all 1 addresses of 10\.214\.0\.10-10\.214\.0\.10 are in use/);
    const rm = await cluster.platform.cli(['network', 'rm', 'tiny']);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr + rm.stdout, /t\/1/);
  });

  it('leaves no IP behind when sets are deleted', async () => {
    for (const s of await c.listSets()) await c.deleteSet(s.appkey, s.id);
    const blue = new WharfClient({ server: cluster.platform.url, token: cluster.platform.adminToken, tenant: 'blue' });
    for (const s of await blue.listSets()) await blue.deleteSet(s.appkey, s.id);
    await waitFor('every set gone', async () => (await c.listSets()).length + (await blue.listSets()).length === 0, 90_000, 500);
    const nets = await c.request<{ name: string; used: number }[]>('GET', '/v1/networks');
    assert.deepEqual(nets.map((n) => [n.name, n.used]).sort(), [['lan', 0], ['tiny', 0]]);
    const rm = await cluster.platform.cli(['network', 'rm', 'tiny']);
    assert.equal(rm.code, 0, rm.stderr);
  });
});
