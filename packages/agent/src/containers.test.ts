import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DROPPED_CAPABILITIES, Labels, resolveSetSpec, type SetObject } from '@wharf/types';
import { beforeHardening } from './testing/before-hardening.js';
import { canonicalJson, containerName, desiredSet, INFRA_REF, specHash, volumePath, withInfraId, type HostSettings } from './containers.js';
import { setObject as fixture } from './testing/fixtures.js';

const host = { dataDir: '/data', infraImage: 'wharf/busybox:latest' };

const setObject = (over: Partial<SetObject> = {}, spec: Record<string, unknown> = {}): SetObject =>
  fixture({
    appkey: 'shop',
    id: 7,
    resources: { cpu: 2, memory: '1Gi' },
    containers: [
      { index: 1, image: 'db:1', options: { name: 'db', cpu: 25, mem: 25, volumes: [{ path: '/data' }] } },
      { index: 0, image: 'web:1', options: { name: 'web', cpu: 75, mem: 75, command: { cmd: '/bin/web', args: ['-p', '80'] }, env: { B: '2', A: '1' }, ports: [{ containerPort: 80, hostPort: 8080 }], labels: { team: 'x' } } },
    ],
    ...spec,
  } as SetObject['spec'], { tenant: 'acme', generation: 3, ...over });

function build(set: SetObject, settings: HostSettings = host) {
  const r = resolveSetSpec(set.spec);
  assert.ok(r.ok, JSON.stringify(r));
  return desiredSet(set, r.set, settings);
}

test('names and volume path', () => {
  assert.equal(containerName({ tenant: 'acme', appkey: 'shop', id: '7' }, 'infra'), 'acme_shop_7_infra');
  assert.equal(volumePath('/data', { tenant: 'acme', appkey: 'shop', id: '7' }), '/data/volumes/acme/shop/7');
  assert.throws(() => volumePath('/data', { tenant: '..', appkey: 'shop', id: '7' }));
});

test('desired set: infra first, then business by index, with labels and limits', () => {
  const d = build(setObject());
  assert.deepEqual(d.containers.map((c) => c.name), ['infra', 'web', 'db']);
  const [infra, web, db] = d.containers;
  assert.ok(infra && web && db);
  assert.equal(infra.config.dockerName, 'acme_shop_7_infra');
  assert.deepEqual(infra.config.labels, {
    [Labels.managed]: 'true', [Labels.tenant]: 'acme', [Labels.set]: 'acme/shop/7', [Labels.app]: 'shop', [Labels.setId]: '7',
    [Labels.generation]: '3', [Labels.index]: '-1', [Labels.name]: 'infra', [Labels.role]: 'infra', [Labels.specHash]: infra.specHash,
  });
  assert.equal(infra.config.privileged, true);
  assert.equal(infra.config.ipcMode, 'shareable');
  assert.deepEqual(infra.config.ports, [{ port: '80/tcp', hostPort: 8080 }]);
  assert.deepEqual(infra.config.binds, ['/data/volumes/acme/shop/7:/volume']);

  assert.equal(web.config.labels.team, 'x');
  assert.equal(web.config.labels[Labels.index], '0');
  assert.equal(web.config.labels[Labels.role], 'business');
  assert.deepEqual(web.config.entrypoint, ['/bin/web']);
  assert.deepEqual(web.config.cmd, ['-p', '80']);
  assert.deepEqual(web.config.env, ['A=1', 'B=2']);
  assert.equal(web.config.nanoCpus, 1.5e9);
  assert.equal(web.config.memory, 0.75 * 1024 ** 3);
  assert.equal(web.config.memorySwap, web.config.memory);
  assert.equal(web.config.networkMode, `container:${INFRA_REF}`);
  assert.equal(db.config.entrypoint, undefined, 'no command: image defaults');
  assert.deepEqual(db.config.binds, ['/data/volumes/acme/shop/7:/data']);
  assert.equal(withInfraId(web.config, 'abc123').networkMode, 'container:abc123');
  assert.equal(withInfraId(web.config, 'abc123').ipcMode, 'container:abc123');
});

test('spec hash is stable across runs and key order, and ignores the generation', () => {
  const a = build(setObject());
  const b = build(setObject({ generation: 99 }));
  assert.deepEqual(a.containers.map((c) => c.specHash), b.containers.map((c) => c.specHash));
  assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: undefined }] }), '{"a":[1,{"d":2}],"b":1}');
  // A literal: if this changes, every running container would be recreated on agent upgrade.
  assert.equal(a.containers[0]?.specHash, specHash(a.containers[0]!.config));
  assert.equal(a.containers[0]?.specHash, 'b78877614934b8714b9923a24fc802b3f4fbd4e6656bd9a7b5e1e0f3e3ea2973');
});

test('CPU and memory are not in any hash: they are desired limits, applied online', () => {
  const a = build(setObject());
  const b = build(setObject({}, { resources: { cpu: 4, memory: '2Gi' } }));
  assert.deepEqual(a.containers.map((c) => c.specHash), b.containers.map((c) => c.specHash));
  assert.deepEqual(b.containers.map((c) => c.limits), [undefined, { nanoCpus: 3e9, memory: 1.5 * 1024 ** 3 }, { nanoCpus: 1e9, memory: 0.5 * 1024 ** 3 }]);
  assert.equal(b.containers[1]?.config.nanoCpus, 3e9, 'a new container is created with them');
});

test('business containers: Docker restart policy "no", the spec\'s policy and probes beside the config', () => {
  const spec = setObject().spec;
  spec.containers[1]!.options.restartPolicy = 'on-failure';
  spec.containers[1]!.options.readiness = { http: { port: 80 }, periodSeconds: 2 };
  const a = build(setObject());
  const d = build(setObject({ spec }));
  assert.equal(d.containers[0]?.config.restartPolicy, 'unless-stopped');
  assert.equal(d.containers[1]?.config.restartPolicy, 'no');
  assert.deepEqual(d.containers[1]?.health, {
    restartPolicy: 'on-failure',
    readiness: { kind: 'http', port: 80, path: '/', initialDelaySeconds: 0, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 },
  });
  assert.deepEqual(d.containers[2]?.health, { restartPolicy: 'always' });
  assert.deepEqual(d.containers.map((c) => c.specHash), a.containers.map((c) => c.specHash), 'probes and policy are not in the hash');
});

test('a port change changes the infra hash', () => {
  const a = build(setObject());
  const spec = setObject().spec;
  const web = spec.containers[1];
  assert.ok(web);
  web.options.ports = [{ containerPort: 81 }];
  const b = build(setObject({ spec }));
  assert.notEqual(a.containers[0]?.specHash, b.containers[0]?.specHash);
});

test('a set with platform IPs: infra on the primary network with its IPs, nothing published, IPs in the hash', () => {
  const ips = [{ network: 'lan', ip: '10.0.0.5' }, { network: 'lan', ip: '10.0.0.6' }, { network: 'dmz', ip: '10.1.0.5' }];
  const plain = build(setObject());
  const d = build(setObject({ ips }));
  const infra = d.containers[0]!;
  assert.equal(infra.config.networkMode, 'wharf-lan');
  assert.deepEqual(infra.config.ips, [{ network: 'wharf-lan', ip: '10.0.0.5' }, { network: 'wharf-lan', ip: '10.0.0.6' }, { network: 'wharf-dmz', ip: '10.1.0.5' }]);
  assert.deepEqual(infra.endpoints, { 'wharf-lan': '10.0.0.5', 'wharf-dmz': '10.1.0.5' });
  assert.deepEqual(infra.config.ports, [], 'no NAT: nothing to publish');
  assert.notEqual(infra.specHash, plain.containers[0]?.specHash);
  assert.equal(plain.containers[0]?.endpoints, undefined);
  // Business containers are untouched: they join the infra namespace as before.
  assert.deepEqual(d.containers.slice(1).map((c) => c.specHash), plain.containers.slice(1).map((c) => c.specHash));
  // The same IPs: the same hash (never recreated); another IP: another hash.
  assert.equal(build(setObject({ ips, generation: 9 })).containers[0]?.specHash, infra.specHash);
  assert.notEqual(build(setObject({ ips: [{ network: 'lan', ip: '10.0.0.7' }, ...ips.slice(1)] })).containers[0]?.specHash, infra.specHash);
  // No IPs (an empty list included): the hash of before.
  assert.equal(build(setObject({ ips: [] })).containers[0]?.specHash, plain.containers[0]?.specHash);
});

test('bandwidth is not in any hash: a new limit is applied online', () => {
  const a = build(setObject());
  const b = build(setObject({}, { resources: { cpu: 2, memory: '1Gi', bandwidth: 40 } }));
  assert.deepEqual(a.containers.map((c) => c.specHash), b.containers.map((c) => c.specHash));
});

function withSecurity(security: Record<string, unknown>): SetObject {
  const spec = setObject().spec;
  spec.containers[1]!.options.security = security;
  return setObject({ spec });
}

test('business containers: not privileged, no-new-privileges, the dropped capabilities; infra unchanged', () => {
  const [infra, web, db] = build(setObject()).containers;
  for (const c of [web, db]) {
    assert.equal(c?.config.privileged, false);
    assert.deepEqual(c?.config.securityOpt, ['no-new-privileges:true']);
    assert.deepEqual(c?.config.capDrop, ['AUDIT_WRITE', 'MKNOD', 'NET_RAW', 'SETFCAP', 'SETPCAP', 'SYS_CHROOT']);
    assert.equal(c?.config.capAdd, undefined);
    assert.ok(!(c?.config.securityOpt ?? []).some((o) => o.startsWith('seccomp')), "Docker's default seccomp profile");
  }
  assert.equal(infra?.config.privileged, true);
  assert.equal(infra?.config.capDrop, undefined);
  assert.equal(infra?.config.securityOpt, undefined);
  const custom = build(setObject(), { ...host, infraPrivilege: { privileged: false, capAdd: ['ALL'], capDrop: ['SYS_RESOURCE'], securityOpt: ['seccomp=unconfined'] } });
  assert.deepEqual(custom.containers[0]?.config.capDrop, ['SYS_RESOURCE'], 'the infra container keeps its own privilege settings');
});

test("a spec's security: capAdd passes through (and is not dropped), no-new-privileges can be turned off", () => {
  const added = build(withSecurity({ capAdd: ['NET_RAW', 'SYS_PTRACE', 'NET_RAW'] })).containers[1]!;
  assert.deepEqual(added.config.capAdd, ['NET_RAW', 'SYS_PTRACE']);
  assert.deepEqual(added.config.capDrop, DROPPED_CAPABILITIES.filter((c) => c !== 'NET_RAW'));
  assert.deepEqual(added.config.securityOpt, ['no-new-privileges:true']);
  const escalating = build(withSecurity({ noNewPrivileges: false })).containers[1]!;
  assert.equal(escalating.config.securityOpt, undefined);
  assert.equal(escalating.config.privileged, false);
});

test('the hardening recreates no container made before it; what a spec asks beyond it does', () => {
  const plain = build(setObject());
  // Literals taken before business containers were hardened: an upgraded agent keeps them running.
  assert.deepEqual(plain.containers.map((c) => c.specHash), [
    'b78877614934b8714b9923a24fc802b3f4fbd4e6656bd9a7b5e1e0f3e3ea2973',
    '9f0115573aaa2b347d5d43946bfbbc8392b9226c2530a6fa139ece16b5e15248',
    'fd85c9f51110064fe997a90312a1d82551acc13d587f4a29587da15108a6816f',
  ]);
  for (const c of plain.containers.slice(1)) assert.equal(beforeHardening(c.config).hash, c.specHash);
  const hashes = [
    plain.containers[1]!.specHash,
    build(withSecurity({ capAdd: ['NET_RAW'] })).containers[1]!.specHash,
    build(withSecurity({ capAdd: ['NET_RAW', 'SYS_PTRACE'] })).containers[1]!.specHash,
    build(withSecurity({ noNewPrivileges: false })).containers[1]!.specHash,
  ];
  assert.equal(new Set(hashes).size, hashes.length, 'each change of security recreates the container');
  assert.equal(build(withSecurity({ noNewPrivileges: true, capAdd: [] })).containers[1]!.specHash, hashes[0], 'the defaults written out change nothing');
});
