import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { storeContract } from './contract.js';
import { EtcdStore, type EtcdStoreOptions } from './etcd.js';
import { CompactedError, LeadershipLostError, StoreUnavailableError, type WatchEvent } from './store.js';
import { etcdSkipReason, partitionSkipReason, startEtcd, type EtcdTestCluster, type EtcdTestMember, type EtcdTestTls } from './testing/etcd.js';
import { etcdAccessFromFiles } from './url.js';

const skip = etcdSkipReason();
let namespaces = 0;
/** A private key prefix per store, so tests sharing one etcd never see each other's keys. */
const freshPrefix = () => `/test-${process.pid}-${++namespaces}/`;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Closes the stores a test opened (their watches would see the next test's restarts). */
async function closeAll(stores: EtcdStore[]): Promise<void> {
  await Promise.all(stores.splice(0).map((s) => s.close()));
}

const summary = (events: WatchEvent[]) => events.map((e) => `${e.type} ${e.kv.key}@${e.revision}`);

/** Puts until etcd acknowledges; a put that failed may still have been applied (the caller allows for it). */
async function putAcked(store: EtcdStore, key: string, value: unknown): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.put(key, value);
    } catch (err) {
      if (attempt >= 200) throw err;
      await sleep(50);
    }
  }
}

/** A generous bound on one call: longer means it hung, whatever the members do. */
const HUNG_MS = 15_000;

/** `count` puts one after another, each bounded by HUNG_MS; every one must be acknowledged. */
async function putsInTurn(store: EtcdStore, keyPrefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const started = Date.now();
    await store.put(`${keyPrefix}${i}`, i);
    const took = Date.now() - started;
    assert.ok(took < HUNG_MS, `put ${keyPrefix}${i} took ${took} ms`);
  }
}

describe('EtcdStore, one member', { skip }, () => {
  let etcd: EtcdTestCluster;
  const stores: EtcdStore[] = [];
  const open = async (opts: Partial<EtcdStoreOptions> = {}) => {
    const store = await EtcdStore.open({ hosts: etcd.endpoints, prefix: freshPrefix(), ...opts });
    stores.push(store);
    return store;
  };
  before(async () => {
    etcd = await startEtcd();
  });
  afterEach(() => closeAll(stores));
  after(() => etcd?.stop());

  storeContract('etcd', (opts) => EtcdStore.open({ hosts: etcd.endpoints, prefix: freshPrefix(), ...opts }));

  it('leader election: one leader at a time; a resign or a close hands over; a killed leader is replaced when its lease runs out', async () => {
    const prefix = freshPrefix();
    const a = await open({ prefix });
    const b = await open({ prefix });
    const c = await open({ prefix });
    const first = a.campaign('controllers', 'a', 2);
    await first.elected;
    assert.equal(await b.leader('controllers'), 'a');
    const second = b.campaign('controllers', 'b', 2);
    let bLeads = false;
    void second.elected.then(() => (bLeads = true));
    await sleep(300);
    assert.equal(bLeads, false, 'b waits while a leads');
    assert.deepEqual((await a.list('')).items, [], 'the election keys are outside the store\'s keys');
    await first.resign();
    await waitFor('b leads after a resigned', () => bLeads);
    assert.equal(await a.leader('controllers'), 'b');
    const third = c.campaign('controllers', 'c', 2);
    await b.close();
    await third.elected;
    assert.equal(await c.leader('controllers'), 'c', 'a closing store hands over');

    // A leader in another process, killed: its lease is not renewed and runs out after the TTL.
    await third.resign();
    const script = `
      import { EtcdStore } from ${JSON.stringify(new URL('./index.js', import.meta.url).href)};
      const s = await EtcdStore.open({ hosts: ${JSON.stringify(etcd.endpoints)}, prefix: ${JSON.stringify(prefix)} });
      await s.campaign('controllers', 'child', 2).elected;
      console.log('elected');
      setInterval(() => undefined, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('elected') && resolve());
        child.once('exit', (code) => reject(new Error(`the child exited with ${code}`)));
      });
      const fourth = a.campaign('controllers', 'a again', 2);
      let aLeads = false;
      void fourth.elected.then(() => (aLeads = true));
      await sleep(500);
      assert.equal(aLeads, false, 'the child leads while it lives');
      child.kill('SIGKILL');
      const killed = Date.now();
      await fourth.elected;
      const took = Date.now() - killed;
      assert.equal(await a.leader('controllers'), 'a again');
      assert.ok(took >= 500 && took < 10_000, `a took over ${took} ms after the leader was killed (lease TTL 2 s)`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a leader\'s fenced writes are refused the moment its lease is gone, before it notices; its successor\'s go through', async () => {
    const prefix = freshPrefix();
    const a = await open({ prefix });
    const b = await open({ prefix });
    const first = a.campaign('controllers', 'a', 5);
    await first.elected;
    const lost: Error[] = [];
    first.onLost((err) => lost.push(err));
    const fenced = first.fenced();
    await fenced.put('/x', 1);
    const x = await a.get('/x');
    assert.equal(x?.value, 1, 'the leader writes');
    const cas = await fenced.txn([{ key: '/x', modRevision: (x?.modRevision ?? 0) + 100 }], [{ type: 'put', key: '/x', value: 2 }]);
    assert.equal(cas.succeeded, false, 'a compare of its own that fails is an ordinary failed txn');
    assert.deepEqual(lost, [], 'and does not end the leadership');

    // The lease runs out behind the leader's back (as after a pause longer than its TTL): revoked through another client.
    const raw = new Etcd3({ hosts: etcd.endpoints });
    try {
      const electionKeys = await raw.getAll().prefix(`${prefix.replace(/\/$/, '')}-elections/`).exec();
      const lease = electionKeys.kvs[0]?.lease;
      assert.ok(lease && lease !== '0', 'the candidate\'s key is held by a lease');
      await raw.leaseClient.leaseRevoke({ ID: lease });
    } finally {
      raw.close();
    }
    await assert.rejects(fenced.put('/y', 1), LeadershipLostError);
    await assert.rejects(fenced.txn([], [{ type: 'delete', key: '/x' }]), LeadershipLostError);
    assert.equal(await a.get('/y'), undefined, 'the refused put was not applied');
    assert.equal((await a.get('/x'))?.value, 1, 'the refused delete was not applied');
    assert.ok(lost.length === 1 && lost[0], 'the leadership is reported lost, once');

    const second = b.campaign('controllers', 'b', 5);
    await second.elected;
    await second.fenced().put('/y', 'b');
    assert.equal((await b.get('/y'))?.value, 'b', 'the successor writes');
    await assert.rejects(fenced.put('/y', 'a'), LeadershipLostError, 'the old leader still cannot');
    assert.equal((await b.get('/y'))?.value, 'b');
  });

  it('keeps each prefix to itself: keys, lists and watches', async () => {
    const a = await open();
    const b = await open();
    const seenByB: WatchEvent[] = [];
    await b.watch('', (ev) => seenByB.push(ev));
    await a.put('k', 'from a');
    const rb = await b.put('k', 'from b');
    await waitFor('b sees its own put', () => seenByB.length === 1);
    await sleep(50);
    assert.deepEqual(summary(seenByB), [`put k@${rb}`]);
    assert.equal((await a.get('k'))?.value, 'from a');
    assert.deepEqual((await b.list('')).items.map((kv) => kv.value), ['from b']);
  });

  it('lists more keys than one page, all at one revision', async () => {
    const s = await open();
    const keys = Array.from({ length: 1203 }, (_, i) => `many/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 100) {
      await s.txn([], keys.slice(i, i + 100).map((key) => ({ type: 'put' as const, key, value: { key } })));
    }
    const rev = await s.revision();
    const { items, revision } = await s.list('many/');
    assert.equal(revision, rev);
    assert.deepEqual(items.map((kv) => kv.key), keys);
  });

  it('a txn that changes one key twice keeps the last op', async () => {
    const s = await open();
    const { succeeded, revision } = await s.txn([], [
      { type: 'put', key: 'd', value: 1 },
      { type: 'put', key: 'e', value: 1 },
      { type: 'put', key: 'd', value: 2 },
    ]);
    assert.equal(succeeded, true);
    assert.deepEqual(await s.get('d'), { key: 'd', value: 2, createRevision: revision, modRevision: revision, version: 1 });
  });

  it('rejects bad keys, values and options before sending anything', async () => {
    const s = await open();
    const r0 = await s.revision();
    await assert.rejects(s.put('', 1), TypeError);
    await assert.rejects(s.put('a', undefined), TypeError);
    await assert.rejects(s.txn([], [{ type: 'put', key: 'ok', value: 1 }, { type: 'put', key: 'bad', value: () => 1 }]), TypeError);
    await assert.rejects(s.txn([{ key: 'a', modRevision: -1 }], []), RangeError);
    await assert.rejects(s.watch('', () => {}, { fromRevision: 0 }), RangeError);
    assert.equal(await s.revision(), r0);
    assert.equal(await s.get('ok'), undefined);
    await assert.rejects(EtcdStore.open({ hosts: etcd.endpoints, prefix: '/no-slash' }), /must end with '\/'/);
    await assert.rejects(EtcdStore.open({ hosts: etcd.endpoints, historyLimit: 0 }), RangeError);
  });

  it('open names the endpoints it could not reach', async () => {
    await assert.rejects(EtcdStore.open({ hosts: ['127.0.0.1:1'], requestTimeoutMs: 2_000 }), /etcd at 127\.0\.0\.1:1: /);
  });

  it('close ends the watches and later calls reject', async () => {
    const s = await EtcdStore.open({ hosts: etcd.endpoints, prefix: freshPrefix() });
    const events: WatchEvent[] = [];
    await s.watch('', (ev) => events.push(ev));
    await s.close();
    await assert.rejects(s.put('a', 1), /closed/);
    await assert.rejects(s.watch('', () => {}), /closed/);
    await s.close();
    assert.equal(events.length, 0);
  });

  it('a watch goes on across a restart of etcd, with nothing missed or repeated', async () => {
    const prefix = freshPrefix();
    const watching = await open({ prefix });
    const writer = await open({ prefix });
    const from = (await writer.revision()) + 1;
    const events: WatchEvent[] = [];
    await watching.watch('r/', (ev) => events.push(ev), { fromRevision: from });
    const acked: string[] = [];
    for (let i = 1; i <= 5; i++) acked.push(`put r/${i}@${await writer.put(`r/${i}`, i)}`);
    await waitFor('the first 5 events', () => events.length >= 5);

    await etcd.members[0]?.kill('SIGKILL');
    await etcd.members[0]?.start();
    // Written while the watching store is still reconnecting: it must replay them.
    for (let i = 6; i <= 10; i++) acked.push(`put r/${i}@${await putAcked(writer, `r/${i}`, i)}`);
    acked.push(`delete r/1@${await writer.delete('r/1')}`);
    await waitFor('all 11 events', () => events.length >= 11);
    await sleep(200);
    assert.deepEqual(summary(events), acked);
    assert.deepEqual(events[10]?.kv.value, 1, 'the delete carries the last value');
  });

  it('watching from a compacted revision rejects with the oldest one kept', async () => {
    const s = await open({ historyLimit: 5 });
    const r0 = await s.revision();
    for (let i = 0; i < 20; i++) await s.put('c', i);
    const rev = await s.revision();
    const err = await s.watch('c', () => {}, { fromRevision: r0 + 1 }).then(
      () => assert.fail('watch from a compacted revision resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CompactedError, String(err));
    assert.equal(err.requested, r0 + 1);
    assert.ok(err.compactRevision > r0 + 1 && err.compactRevision <= rev - 4, `compactRevision ${err.compactRevision}, rev ${rev}`);
  });
});

describe('EtcdStore, three members', { skip }, () => {
  let etcd: EtcdTestCluster;
  const stores: EtcdStore[] = [];
  const open = async (opts: Partial<EtcdStoreOptions> & { prefix: string }) => {
    const store = await EtcdStore.open({ hosts: etcd.endpoints, ...opts });
    stores.push(store);
    return store;
  };
  before(async () => {
    etcd = await startEtcd({ members: 3 });
  });
  afterEach(() => closeAll(stores));
  after(() => etcd?.stop());

  it('while members are killed and restarted, writes go on and a watch sees each exactly once', async () => {
    const prefix = freshPrefix();
    const watching = await open({ prefix });
    const writer = await open({ prefix, requestTimeoutMs: 3_000 });
    const from = (await writer.revision()) + 1;
    const live: WatchEvent[] = [];
    await watching.watch('w/', (ev) => live.push(ev), { fromRevision: from });

    const acked: { key: string; rev: number }[] = [];
    let writing = true;
    const load = (async () => {
      for (let i = 0; writing; i++) {
        const key = `w/${i}`;
        try {
          acked.push({ key, rev: await writer.put(key, i) });
        } catch {
          await sleep(20); // no quorum for a moment; the next key is a new one
        }
      }
    })();
    for (const member of etcd.members) {
      const before = acked.length;
      await member.kill('SIGKILL');
      await waitFor(`writes with ${member.name} down`, () => acked.length >= before + 20, 60_000);
      await member.start();
    }
    writing = false;
    await load;

    const last = acked[acked.length - 1];
    assert.ok(last);
    await waitFor('the watch to reach the last acknowledged write', () => live.some((e) => e.revision >= last.rev), 60_000);
    // The oracle: etcd's own history, replayed to a new store from the same revision.
    const replayed: WatchEvent[] = [];
    const replay = await (await open({ prefix })).watch('w/', (ev) => replayed.push(ev), { fromRevision: from });
    await waitFor('the replay', () => replayed.some((e) => e.revision >= last.rev), 60_000);
    replay.cancel();
    const upTo = (events: WatchEvent[]) => summary(events.filter((e) => e.revision <= last.rev));
    assert.deepEqual(upTo(live), upTo(replayed));
    const seen = new Set(upTo(live));
    for (const a of acked) assert.ok(seen.has(`put ${a.key}@${a.rev}`), `acknowledged ${a.key}@${a.rev} not watched`);
    const revisions = live.map((e) => e.revision);
    assert.deepEqual(revisions, [...new Set(revisions)].sort((x, y) => x - y), 'revisions strictly increasing');
  });

  it('with the leader killed, writes under way and the 20 after all succeed, none hangs', async () => {
    const prefix = freshPrefix();
    const store = await open({ prefix });
    const leader = await etcd.leader();
    // Writes under way when the leader dies, from several callers, as on a server.
    let writing = true;
    const inFlight = [0, 1, 2, 3].map(async (w) => {
      let n = 0;
      for (; writing; n++) await store.put(`busy/${w}/${n}`, n);
      return n;
    });
    try {
      await sleep(200);
      await leader.kill('SIGKILL');
      await putsInTurn(store, 'after/', 20);
    } finally {
      writing = false;
      await Promise.allSettled(inFlight);
      await leader.start();
    }
    const counts = await Promise.all(inFlight);
    const { items } = await store.list('');
    const keys = new Set(items.map((kv) => kv.key));
    for (let i = 0; i < 20; i++) assert.ok(keys.has(`after/${i}`), `after/${i} missing`);
    counts.forEach((n, w) => assert.ok(keys.has(`busy/${w}/${n - 1}`), `busy/${w}/${n - 1} missing`));
  });

  it('with a member hung (stopped, connections open), writes go to the others', async () => {
    const prefix = freshPrefix();
    const store = await open({ prefix });
    const [, , hung] = etcd.members;
    assert.ok(hung);
    await store.put('warm', 0); // connections to every member are open before it hangs
    hung.pause();
    try {
      await putsInTurn(store, 'k/', 20);
    } finally {
      hung.resume();
    }
  });

  it('a write while every member is down goes through once they are back within the request timeout; after the timeout it names the endpoints', async () => {
    const prefix = freshPrefix();
    const store = await open({ prefix, requestTimeoutMs: 30_000 });
    const quick = await open({ prefix, requestTimeoutMs: 1_000 });
    await store.put('before', 0);
    const startAll = () => Promise.all(etcd.members.map((m) => m.start())); // together: one alone has no quorum
    await Promise.all(etcd.members.map((m) => m.kill('SIGKILL')));
    try {
      await assert.rejects(quick.put('lost', 0), (err: Error) => {
        assert.ok(err instanceof StoreUnavailableError, String(err));
        assert.ok(err.message.startsWith(`etcd at ${etcd.endpoints.join(',')}: `), err.message);
        return true;
      });
      const write = store.put('waited', 1);
      await sleep(1_000);
      await startAll();
      await write;
      assert.equal((await store.get('waited'))?.value, 1);
    } finally {
      await startAll();
    }
  });

  it('a quiet watch resumes after history elsewhere in the store was compacted', async () => {
    const prefix = freshPrefix();
    const [m0, m1, m2] = etcd.members;
    assert.ok(m0 && m1 && m2);
    // Pinned to one member, so killing it cuts the watch stream.
    const watching = await open({ prefix, hosts: [m0.endpoint] });
    const busy = await open({ prefix, hosts: [m1.endpoint, m2.endpoint], historyLimit: 5 });
    const events: WatchEvent[] = [];
    const ended: Error[] = [];
    await watching.watch('quiet/', (ev) => events.push(ev), { onError: (err) => ended.push(err) });
    // The busy writes reach the watching store's one stream too; seen through a second
    // watcher. etcd syncs a new stream within ~100 ms, and until then a compaction past its
    // start would end it: so one write is seen before the burst, and the burst before the cut.
    let busySeen = 0;
    await watching.watch('busy', (ev) => (busySeen = ev.revision));
    const first = await busy.put('busy', -1);
    await waitFor('the watching stream to be live', () => busySeen >= first);
    let lastBusy = 0;
    for (let i = 0; i < 30; i++) lastBusy = await busy.put('busy', i);
    await waitFor('the watching store to receive the busy writes', () => busySeen >= lastBusy);
    await m0.kill('SIGKILL');
    for (let i = 0; i < 2; i++) await busy.put('busy', i); // fewer than historyLimit: still there to resume from
    await m0.start();
    const rev = await busy.put('quiet/1', 'hello');
    await waitFor('the quiet event', () => events.length >= 1 || ended.length > 0);
    assert.deepEqual(ended.map((e) => e.message), [], 'the watch ended');
    assert.deepEqual(summary(events), [`put quiet/1@${rev}`]);
  });

  it('a watch that cannot resume because its history is compacted ends with CompactedError', async () => {
    const prefix = freshPrefix();
    const [m0, m1, m2] = etcd.members;
    assert.ok(m0 && m1 && m2);
    const watching = await open({ prefix: freshPrefix(), hosts: [m0.endpoint] });
    const busy = await open({ prefix, hosts: [m1.endpoint, m2.endpoint], historyLimit: 5 });
    const ended: Error[] = [];
    await watching.watch('', () => {}, { onError: (err) => ended.push(err) });
    await m0.kill('SIGKILL');
    // Another platform sharing this etcd compacts it while the stream is down.
    for (let i = 0; i < 30; i++) await busy.put('busy', i);
    await m0.start();
    await waitFor('the watch to end', () => ended.length === 1);
    assert.ok(ended[0] instanceof CompactedError, String(ended[0]));
  });
});

/** A CA and one certificate for 127.0.0.1 that serves as etcd's and as the client's. */
function makeCertificates(dir: string): EtcdTestTls {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=wharf test CA');
  openssl('req', ...ec, '-keyout', file('etcd.key'), '-out', file('etcd.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(file('ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl('x509', '-req', '-in', file('etcd.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('etcd.pem'), '-days', '2', '-extfile', file('ext'));
  return { ca: file('ca.pem'), cert: file('etcd.pem'), key: file('etcd.key') };
}

describe('EtcdStore over TLS with a user', { skip }, () => {
  let dir: string;
  let etcd: EtcdTestCluster;
  let tls: EtcdTestTls;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-etcd-tls-'));
    tls = makeCertificates(dir);
    etcd = await startEtcd({ tls });
    const credentials = { rootCertificate: readFileSync(tls.ca), certChain: readFileSync(tls.cert), privateKey: readFileSync(tls.key) };
    const admin = new Etcd3({ hosts: etcd.endpoints, credentials });
    try {
      await admin.user('root').create('root-secret');
      await admin.user('root').addRole('root');
      await admin.auth.authEnable();
    } finally {
      admin.close();
    }
  });
  after(async () => {
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects with the CA, the client certificate and the password from the flags\' files', async () => {
    writeFileSync(join(dir, 'password'), 'root-secret\n');
    const access = await etcdAccessFromFiles({ ...tls, user: 'root', passwordFile: join(dir, 'password') });
    const store = await EtcdStore.open({ hosts: etcd.endpoints, ...access });
    try {
      const events: WatchEvent[] = [];
      await store.watch('', (ev) => events.push(ev));
      const rev = await store.put('secure', { ok: true });
      assert.deepEqual((await store.get('secure'))?.value, { ok: true });
      await waitFor('the watch event', () => events.length === 1);
      assert.equal(events[0]?.revision, rev);
    } finally {
      await store.close();
    }
  });

  it('is refused without the CA, or with a wrong password', async () => {
    const timeout = { requestTimeoutMs: 3_000 };
    await assert.rejects(EtcdStore.open({ hosts: etcd.endpoints, ...timeout, auth: { username: 'root', password: 'root-secret' } }), /^StoreUnavailableError: etcd at 127\.0\.0\.1:\d+: /);
    const tlsOnly = await etcdAccessFromFiles(tls);
    await assert.rejects(
      EtcdStore.open({ hosts: etcd.endpoints, ...timeout, ...tlsOnly, auth: { username: 'root', password: 'wrong' } }),
      /authentication failed/,
    );
  });
});

/** How many watch streams a member serves (etcd's own gauge). */
async function watchStreams(member: EtcdTestMember): Promise<number> {
  const text = await (await fetch(`http://${member.endpoint}/metrics`)).text();
  return Number(/^etcd_debugging_mvcc_watch_stream_total (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('EtcdStore, a member cut off from the others', { skip: skip || partitionSkipReason() }, () => {
  let etcd: EtcdTestCluster;
  const stores: EtcdStore[] = [];
  before(async () => {
    etcd = await startEtcd({ members: 3, partitionable: true });
  });
  after(async () => {
    await closeAll(stores);
    await etcd?.stop();
  });

  it('a watch served by the cut-off member moves to the others and misses nothing', async () => {
    const prefix = freshPrefix();
    const watcher = await EtcdStore.open({ hosts: etcd.endpoints, prefix });
    stores.push(watcher);
    const events: WatchEvent[] = [];
    await watcher.watch('', (ev) => events.push(ev));
    // The member its stream went to: that one is cut off, with the stream open.
    let cut: EtcdTestMember | undefined;
    await waitFor('the watch stream on a member', async () => {
      for (const m of etcd.members) if ((await watchStreams(m)) > 0) cut = m;
      return cut !== undefined;
    });
    const member = cut as EtcdTestMember;
    const writer = await EtcdStore.open({ hosts: etcd.endpoints.filter((e) => e !== member.endpoint), prefix });
    stores.push(writer);
    etcd.partition(member);
    const started = Date.now();
    try {
      // The two others keep a quorum and take the writes; the cut-off member has no leader and gets none of them.
      for (let i = 0; i < 20; i++) {
        await putAcked(writer, `k${i}`, i);
        await sleep(200);
      }
      await waitFor('every write on the watch', () => events.length >= 20, 30_000);
      console.log(`# all 20 writes watched ${Date.now() - started} ms after ${member.name} was cut off (its last stream closed: ${(await watchStreams(member)) === 0})`);
    } finally {
      etcd.heal();
    }
    assert.deepEqual(events.map((e) => e.kv.key), Array.from({ length: 20 }, (_, i) => `k${i}`), 'each write once, in order');
  });
});
