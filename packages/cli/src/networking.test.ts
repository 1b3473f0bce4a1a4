/**
 * End-to-end-ish, like cli.test.ts: the built CLI in a child process against the
 * fake server, for networks, set IPs, host settings, tenants and policies.
 * The tests run in order and build on each other's state.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeServer, type FakeServer } from './testing/fake-server.js';
import { runCli, type CliResult } from './testing/run-cli.js';

let server: FakeServer;
let dir: string;

function wharf(args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliResult> {
  return runCli(args, { server: server.url, home: dir, ...opts });
}

/** The requests sent by the command `run` makes. */
async function sent(run: () => Promise<CliResult>): Promise<{ result: CliResult; requests: FakeServer['requests'] }> {
  const from = server.requests.length;
  const result = await run();
  return { result, requests: server.requests.slice(from) };
}

function columns(line: string | undefined): string[] {
  return (line ?? '').trim().split(/\s{2,}/);
}

const SET = (appkey: string, network?: object) => ({
  appkey,
  id: 1,
  ...(network ? { network } : {}),
  resources: { cpu: 1, bandwidth: 200 },
  containers: [{ index: 1, image: 'nginx:1', options: { name: 'web' } }],
});

before(async () => {
  server = await startFakeServer();
  dir = mkdtempSync(join(tmpdir(), 'wharf-net-test-'));
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('network create: checked locally first, every problem named by its flag, nothing sent', async () => {
  const { result, requests } = await sent(() => wharf(['network', 'create', 'net1', '--subnet', '10.99.0.0/24', '--gateway', '10.98.0.1', '--range', '10.99.0.200-10.99.0.100']));
  assert.deepEqual(result, {
    code: 1,
    stdout: '',
    stderr: [
      'wharf: invalid network net1 (2 errors):',
      '  --gateway: 10.98.0.1 is not in 10.99.0.0/24',
      '  --range: "10.99.0.200-10.99.0.100" is not a range (use first-last, e.g. 10.99.0.100-10.99.0.250)',
      '',
    ].join('\n'),
  });
  assert.deepEqual(requests, []);
  const badName = await wharf(['network', 'create', 'Net_1', '--subnet', '10.99.0.0/24', '--gateway', '10.99.0.1']);
  assert.equal(badName.code, 1);
  assert.match(badName.stderr, /^wharf: invalid network Net_1 \(1 error\):\n {2}NAME: "Net_1" is not a network name/);
});

test('network create: usage errors exit 2', async () => {
  const vlan = await wharf(['network', 'create', 'net1', '--subnet', '10.99.0.0/24', '--gateway', '10.99.0.1', '--vlan', '5000']);
  assert.equal(vlan.code, 2);
  assert.match(vlan.stderr, /^error: option '--vlan <id>' argument '5000' is invalid\. expected a VLAN ID, a whole number 1\.\.4094/);
  const missing = await wharf(['network', 'create', 'net1', '--subnet', '10.99.0.0/24']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^error: required option '--gateway <ip>' not specified/);
});

test('network create: created, then unchanged; another definition is a conflict', async () => {
  const { result, requests } = await sent(() => wharf(['network', 'create', 'net1', '--subnet', '10.99.0.0/24', '--gateway', '10.99.0.1', '--default']));
  assert.deepEqual(result, { code: 0, stdout: 'network net1 created (10.99.0.0/24, 253 free addresses, default)\n', stderr: '' });
  assert.equal(requests.length, 1);
  assert.equal(requests[0]?.method, 'PUT');
  assert.equal(requests[0]?.url, '/v1/networks/net1');
  assert.deepEqual(JSON.parse(requests[0]?.body ?? ''), { name: 'net1', subnet: '10.99.0.0/24', gateway: '10.99.0.1', default: true });

  const again = await wharf(['network', 'create', 'net1', '--subnet', '10.99.0.0/24', '--gateway', '10.99.0.1', '--default']);
  assert.deepEqual(again, { code: 0, stdout: 'network net1 unchanged (it exists with this definition: 10.99.0.0/24, 253 free addresses, default)\n', stderr: '' });

  const other = await wharf(['network', 'create', 'net1', '--subnet', '10.99.0.0/24', '--gateway', '10.99.0.254']);
  assert.deepEqual(other, { code: 1, stdout: '', stderr: 'wharf: network net1 exists with another definition; remove it first (wharf network rm net1)\n' });

  const tagged = await wharf(['net', 'create', 'v20', '--subnet', '10.20.0.0/16', '--gateway', '10.20.0.1', '--range', '10.20.0.10-10.20.0.19', '--vlan', '20', '--zone', 'dc1']);
  assert.deepEqual(tagged, { code: 0, stdout: 'network v20 created (10.20.0.0/16, 10 free addresses)\n', stderr: '' });
  assert.deepEqual(JSON.parse(server.requests.at(-1)?.body ?? ''), { name: 'v20', subnet: '10.20.0.0/16', gateway: '10.20.0.1', range: '10.20.0.10-10.20.0.19', zone: 'dc1', vlan: 20 });
});

test('sets get platform IPs: get sets -o wide and describe set show them', async () => {
  writeFileSync(join(dir, 'a.json'), JSON.stringify(SET('com.a', { extra: [{ network: 'v20' }] })));
  const applied = await wharf(['apply', '-f', join(dir, 'a.json')]);
  assert.deepEqual(applied, { code: 0, stdout: 'set com.a/1 created\n', stderr: '' });
  writeFileSync(join(dir, 'b.json'), JSON.stringify(SET('com.b')));
  assert.equal((await wharf(['apply', '-f', join(dir, 'b.json')])).code, 0);

  const wide = await wharf(['get', 'sets', '-o', 'wide']);
  assert.equal(wide.code, 0, wide.stderr);
  const lines = wide.stdout.trimEnd().split('\n');
  assert.deepEqual(columns(lines[0]).slice(0, 7), ['APPKEY', 'ID', 'STATUS', 'READY', 'HOST', 'AGE', 'IP']);
  assert.deepEqual(columns(lines[1]).slice(0, 2), ['com.a', '1']);
  assert.equal(columns(lines[1])[6], '10.99.0.2 +1');
  assert.equal(columns(lines[2])[6], '10.99.0.3');

  const page = await wharf(['describe', 'set', 'com.a/1']);
  assert.equal(page.code, 0, page.stderr);
  assert.match(page.stdout, /^IPs: +10\.99\.0\.2 on net1 \(primary\)\n +10\.20\.0\.10 on v20$/m);
  assert.match(page.stdout, /^Bandwidth: +200 Mbit\/s each way$/m);
});

test('network ls and inspect: used and free addresses, who holds which', async () => {
  const ls = await wharf(['network', 'ls']);
  assert.equal(ls.code, 0, ls.stderr);
  const lines = ls.stdout.trimEnd().split('\n');
  assert.deepEqual(columns(lines[0]), ['NAME', 'SUBNET', 'GATEWAY', 'RANGE', 'ZONE', 'VLAN', 'USED', 'FREE', 'HOSTS', 'DEFAULT']);
  assert.deepEqual(columns(lines[1]), ['net1', '10.99.0.0/24', '10.99.0.1', '10.99.0.1-10.99.0.254', '<any>', '-', '2', '251', '1', 'yes']);
  assert.deepEqual(columns(lines[2]), ['v20', '10.20.0.0/16', '10.20.0.1', '10.20.0.10-10.20.0.19', 'dc1', '20', '1', '9', '0', 'no']);

  const json = await wharf(['network', 'ls', '-o', 'json']);
  assert.deepEqual(
    (JSON.parse(json.stdout) as { name: string; used: number }[]).map((n) => [n.name, n.used]),
    [
      ['net1', 2],
      ['v20', 1],
    ],
  );

  const inspect = await wharf(['network', 'inspect', 'net1']);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, /^Subnet: +10\.99\.0\.0\/24$/m);
  assert.match(inspect.stdout, /^Default: +yes/m);
  assert.match(inspect.stdout, /^Hosts: +h1$/m);
  const rows = inspect.stdout.trimEnd().split('\n');
  const header = rows.findIndex((l) => l.trim().startsWith('IP '));
  assert.deepEqual(columns(rows[header]), ['IP', 'SET', 'TENANT', 'PRIMARY', 'SINCE']);
  assert.deepEqual(columns(rows[header + 1]).slice(0, 4), ['10.99.0.2', 'com.a/1', 'default', 'yes']);
  assert.deepEqual(columns(rows[header + 2]).slice(0, 4), ['10.99.0.3', 'com.b/1', 'default', 'yes']);

  const yaml = await wharf(['network', 'inspect', 'v20', '-o', 'yaml']);
  assert.match(yaml.stdout, /^allocations:\n {2}- network: v20\n {4}ip: 10\.20\.0\.10\n/m);

  const missing = await wharf(['network', 'inspect', 'nope']);
  assert.deepEqual(missing, { code: 1, stdout: '', stderr: 'wharf: network nope not found\n' });
});

test('network rm: refused while sets hold addresses, listing them; works once they are gone', async () => {
  const busy = await wharf(['network', 'rm', 'net1']);
  assert.equal(busy.code, 1);
  assert.equal(busy.stdout, '');
  const lines = busy.stderr.trimEnd().split('\n');
  assert.equal(lines[0], 'wharf: network net1 is in use: 2 IPs held by 2 sets; delete those sets (or move them to another network) first');
  assert.deepEqual(columns(lines[1]), ['IP', 'SET', 'TENANT', 'PRIMARY', 'SINCE']);
  assert.deepEqual(columns(lines[2]).slice(0, 4), ['10.99.0.2', 'com.a/1', 'default', 'yes']);
  assert.deepEqual(columns(lines[3]).slice(0, 4), ['10.99.0.3', 'com.b/1', 'default', 'yes']);
  assert.equal(lines.length, 4);

  assert.equal((await wharf(['delete', 'set', 'com.b/1', '--wait'])).code, 0);
  const stillA = await wharf(['network', 'rm', 'v20']);
  assert.match(stillA.stderr, /^wharf: network v20 is in use: 1 IP held by 1 set;/);
  assert.equal((await wharf(['delete', 'set', 'com.a/1', '--wait'])).code, 0);
  assert.deepEqual(await wharf(['network', 'rm', 'v20']), { code: 0, stdout: 'network v20 removed\n', stderr: '' });
  assert.equal(server.requests.at(-1)?.method, 'DELETE');
  assert.equal(server.requests.at(-1)?.url, '/v1/networks/v20');
  assert.deepEqual(await wharf(['network', 'rm', 'v20']), { code: 1, stdout: '', stderr: 'wharf: network v20 not found\n' });
});

test('host set: networks and bandwidth override the agent; null goes back', async () => {
  const { result, requests } = await sent(() => wharf(['host', 'set', 'h1', '--network', 'net1=eth1', '--network', 'v30=bond0.30', '--bandwidth', '10000']));
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'host h1 updated: networks net1=eth1, v30=bond0.30 (set by wharf host set); bandwidth 10000 Mbit/s (set by wharf host set)\n');
  assert.equal(result.stderr, 'warning: there is no network v30 (yet); create it with "wharf network create v30 ..."\n');
  assert.equal(requests[0]?.method, 'PATCH');
  assert.equal(requests[0]?.url, '/v1/hosts/h1');
  assert.deepEqual(JSON.parse(requests[0]?.body ?? ''), { networks: [{ name: 'net1', uplink: 'eth1' }, { name: 'v30', uplink: 'bond0.30' }], bandwidth: 10000 });

  const wide = await wharf(['get', 'hosts', '-o', 'wide']);
  assert.equal(wide.code, 0, wide.stderr);
  const [header, row] = wide.stdout.trimEnd().split('\n');
  const at = columns(header).indexOf('BANDWIDTH');
  assert.deepEqual(columns(header).slice(at, at + 2), ['BANDWIDTH', 'NETWORKS']);
  assert.deepEqual(columns(row).slice(at, at + 2), ['░░░░░░░░ 0/10000 Mbit/s', 'net1=eth1,v30=bond0.30']);

  const page = await wharf(['describe', 'host', 'h1']);
  assert.equal(page.code, 0, page.stderr);
  assert.match(page.stdout, /^ {2}bandwidth +0 Mbit\/s +10000 Mbit\/s \(set by wharf host set\) +-$/m);
  assert.match(page.stdout, /^Networks \(set by wharf host set\):\n {2}NETWORK +UPLINK +INTERFACE +SUBNET +ATTACHED\n {2}net1 +eth1 +eth1 +10\.99\.0\.0\/24 +yes\n {2}v30 +bond0\.30 +- +- +no \(no such network\)$/m);

  const back = await sent(() => wharf(['host', 'set', 'h1', '--no-networks-override', '--no-bandwidth-override']));
  assert.deepEqual(back.result, { code: 0, stdout: 'host h1 updated: networks net1=eth0 (as the agent declares); bandwidth 1000 Mbit/s (as the agent declares)\n', stderr: '' });
  assert.deepEqual(JSON.parse(back.requests[0]?.body ?? ''), { networks: null, bandwidth: null });
  assert.equal(back.requests.length, 1, 'no network lookup without --network');
});

test('host set: usage errors exit 2; an unknown host exit 1', async () => {
  const nothing = await wharf(['host', 'set', 'h1']);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /^error: nothing to change; pass --network, --no-networks-override, --bandwidth or --no-bandwidth-override/);
  const both = await wharf(['host', 'set', 'h1', '--bandwidth', '100', '--no-bandwidth-override']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^error: option '--bandwidth <mbit>' cannot be used with option '--no-bandwidth-override'/);
  const bad = await wharf(['host', 'set', 'h1', '--network', 'net1']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"net1" has no "="; expected NETWORK=UPLINK, e.g\. net1=eth0/);
  const twice = await wharf(['host', 'set', 'h1', '--network', 'net1=eth0', '--network', 'net1=eth1']);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /network net1 is given twice/);
  const zero = await wharf(['host', 'set', 'h1', '--bandwidth', '0']);
  assert.equal(zero.code, 2);
  const missing = await wharf(['host', 'set', 'nope', '--bandwidth', '100']);
  assert.deepEqual(missing, { code: 1, stdout: '', stderr: 'wharf: host nope not found\n' });
});

test('--tenant, WHARF_TENANT and the config file select the tenant of sets', async () => {
  writeFileSync(join(dir, 't.json'), JSON.stringify(SET('com.t')));
  const { result, requests } = await sent(() => wharf(['--tenant', 'team-a', 'apply', '-f', join(dir, 't.json')]));
  assert.deepEqual(result, { code: 0, stdout: 'set com.t/1 created\n', stderr: '' });
  assert.equal(requests[0]?.url, '/v1/sets/com.t/1?tenant=team-a');

  const mine = await sent(() => wharf(['get', 'sets', '--appkey', 'com.t', '-o', 'json'], { env: { WHARF_TENANT: 'team-a' } }));
  assert.equal(mine.requests[0]?.url, '/v1/sets?appkey=com.t&tenant=team-a');
  assert.deepEqual((JSON.parse(mine.result.stdout) as { tenant: string }[]).map((s) => s.tenant), ['team-a']);

  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ tenant: 'team-a' }));
  const viaFile = await sent(() => wharf(['logs', 'com.t/1', '-c', 'web'], { env: { WHARF_CONFIG: join(dir, 'cfg.json') } }));
  assert.equal(viaFile.result.code, 0, viaFile.result.stderr);
  assert.equal(viaFile.requests[0]?.url, '/v1/sets/com.t/1/logs?container=web&tenant=team-a');

  const other = await wharf(['get', 'set', 'com.t/1']);
  assert.deepEqual(other, { code: 1, stdout: '', stderr: 'wharf: set com.t/1 not found\n' });
  const bad = await wharf(['--tenant', 'Team A', 'get', 'sets']);
  assert.deepEqual(bad, { code: 1, stdout: '', stderr: 'wharf: invalid tenant "Team A" (from --tenant): use lowercase letters, digits and "-", e.g. team-a\n' });
});

const POLICIES = `# two policies in one list
- name: allow-lb
  appkey: com.web
  ingress:
    - from: [{ app: com.lb }, { cidr: 10.0.0.0/8 }]
      ports: [{ port: 8080 }, { port: 53, protocol: udp }]
- name: allow-ops
  appkey: com.web
  ingress:
    - from: [{ app: com.mon, tenant: ops }]
`;

test('policy apply: a list of policies; created, then configured', async () => {
  writeFileSync(join(dir, 'policies.yaml'), POLICIES);
  const { result, requests } = await sent(() => wharf(['--tenant', 'team-a', 'policy', 'apply', '-f', join(dir, 'policies.yaml')]));
  assert.deepEqual(result, { code: 0, stdout: 'policy com.web/allow-lb created in tenant team-a\npolicy com.web/allow-ops created in tenant team-a\n', stderr: '' });
  assert.deepEqual(
    requests.map((r) => `${r.method} ${r.url}`),
    ['PUT /v1/policies/com.web/allow-lb?tenant=team-a', 'PUT /v1/policies/com.web/allow-ops?tenant=team-a'],
  );
  assert.deepEqual(JSON.parse(requests[0]?.body ?? ''), {
    name: 'allow-lb',
    appkey: 'com.web',
    ingress: [{ from: [{ app: 'com.lb' }, { cidr: '10.0.0.0/8' }], ports: [{ port: 8080 }, { port: 53, protocol: 'udp' }] }],
  });
  const again = await wharf(['policy', 'apply', '-f', '-'], { stdin: POLICIES, env: { WHARF_TENANT: 'team-a' } });
  assert.deepEqual(again, { code: 0, stdout: 'policy com.web/allow-lb configured in tenant team-a\npolicy com.web/allow-ops configured in tenant team-a\n', stderr: '' });
});

test('policy ls, get, and get -o yaml | apply -f - round trip', async () => {
  const ls = await sent(() => wharf(['--tenant', 'team-a', 'policy', 'ls', '--app', 'com.web']));
  assert.equal(ls.result.code, 0, ls.result.stderr);
  assert.equal(ls.requests[0]?.url, '/v1/policies?appkey=com.web&tenant=team-a');
  const lines = ls.result.stdout.trimEnd().split('\n');
  assert.deepEqual(columns(lines[0]), ['APPKEY', 'NAME', 'INGRESS', 'AGE']);
  assert.deepEqual(columns(lines[1]).slice(0, 3), ['com.web', 'allow-lb', 'app:com.lb,cidr:10.0.0.0/8 → 8080/tcp,53/udp']);
  assert.deepEqual(columns(lines[2]).slice(0, 3), ['com.web', 'allow-ops', 'app:com.mon tenant:ops → all ports']);

  const none = await wharf(['policy', 'ls']);
  assert.deepEqual(none, { code: 0, stdout: '', stderr: 'No network policies.\n' });

  const yaml = await wharf(['--tenant', 'team-a', 'policy', 'get', 'com.web', 'allow-lb', '-o', 'yaml']);
  assert.equal(yaml.code, 0, yaml.stderr);
  assert.match(yaml.stdout, /^tenant: team-a$/m);
  assert.match(yaml.stdout, /^createdAt: /m);
  // what get prints applies again as it is: read-only fields dropped, the file's tenant used
  const back = await sent(() => wharf(['policy', 'apply', '-f', '-'], { stdin: yaml.stdout }));
  assert.deepEqual(back.result, { code: 0, stdout: 'policy com.web/allow-lb configured in tenant team-a\n', stderr: '' });
  assert.equal(back.requests[0]?.url, '/v1/policies/com.web/allow-lb?tenant=team-a');
  assert.deepEqual(Object.keys(JSON.parse(back.requests[0]?.body ?? '{}') as object).sort(), ['appkey', 'ingress', 'name']);
  // ...but not into another tenant chosen explicitly
  const clash = await wharf(['--tenant', 'team-b', 'policy', 'apply', '-f', '-'], { stdin: yaml.stdout });
  assert.deepEqual(clash, { code: 1, stdout: '', stderr: 'wharf: stdin is for tenant team-a, but --tenant selects tenant team-b; remove "tenant" from the file or change the tenant\n' });
});

test('policy apply: validation errors name the document and every field', async () => {
  const bad = 'name: bad\nappkey: com.web\ningress: []\n---\nname: ports\nappkey: com.web\ningress:\n  - from: [{ app: a }]\n    ports: [{ port: 0 }]\n';
  const r = await wharf(['policy', 'apply', '-f', '-'], { stdin: bad });
  assert.deepEqual(r, { code: 1, stdout: '', stderr: 'wharf: invalid network policy in stdin (document 1) (1 error):\n  ingress: must have at least 1 rule\n' });
  const two = 'name: two\nappkey: com.web\ningress:\n  - from: [{ app: a, cidr: 10.0.0.0/8 }]\n    ports: [{ port: 0 }]\n';
  const r2 = await wharf(['policy', 'apply', '-f', '-'], { stdin: two });
  assert.deepEqual(r2, {
    code: 1,
    stdout: '',
    stderr: 'wharf: invalid network policy in stdin (2 errors):\n  ingress[0].from[0]: give exactly one of app or cidr\n  ingress[0].ports[0].port: must be 1..65535\n',
  });
  const notObject = await wharf(['policy', 'apply', '-f', '-'], { stdin: '- 1\n' });
  assert.deepEqual(notObject, { code: 1, stdout: '', stderr: 'wharf: stdin (item 1) holds a number; expected a network policy (an object with name, appkey and ingress), or a list of them\n' });
});

test('policy rm: removed, then not found', async () => {
  const { result, requests } = await sent(() => wharf(['--tenant', 'team-a', 'policy', 'rm', 'com.web', 'allow-lb']));
  assert.deepEqual(result, { code: 0, stdout: 'policy com.web/allow-lb removed in tenant team-a\n', stderr: '' });
  assert.deepEqual([requests[0]?.method, requests[0]?.url], ['DELETE', '/v1/policies/com.web/allow-lb?tenant=team-a']);
  const again = await wharf(['--tenant', 'team-a', 'policy', 'rm', 'com.web', 'allow-lb']);
  assert.deepEqual(again, { code: 1, stdout: '', stderr: 'wharf: policy com.web/allow-lb not found in tenant team-a\n' });
  const elsewhere = await wharf(['policy', 'get', 'com.web', 'allow-ops']);
  assert.deepEqual(elsewhere, { code: 1, stdout: '', stderr: 'wharf: policy com.web/allow-ops not found in tenant default (--tenant selects another)\n' });
  assert.deepEqual([...server.policies.keys()], ['team-a/com.web/allow-ops']);
});

test('every new command has --help with examples', async () => {
  for (const args of [
    ['network'],
    ['network', 'create'],
    ['network', 'ls'],
    ['network', 'inspect'],
    ['network', 'rm'],
    ['host', 'set'],
    ['describe', 'host'],
    ['policy'],
    ['policy', 'apply'],
    ['policy', 'ls'],
    ['policy', 'get'],
    ['policy', 'rm'],
  ]) {
    const r = await wharf([...args, '--help']);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, new RegExp(`^Usage: wharf ${args.join(' ')}`), args.join(' '));
    assert.match(r.stdout, /\nExamples:\n {2}\$ wharf /, args.join(' '));
  }
  const top = await wharf(['--help']);
  assert.match(top.stdout, /--tenant <name>/);
});
