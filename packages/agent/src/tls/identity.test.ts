/** The kept host identity: its files, the registry secret with it, and a certificate of another host refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { WharfError } from '@wharf/types';
import { ConfigError } from '../config.js';
import { joinUntilDone, loadIdentity, renewalDue, type HostIdentity, type JoinOptions } from './identity.js';
import { keepRenewed } from './renewal.js';

function keepSelfSigned(dir: string, cn: string): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'host.key'), '-out', join(dir, 'host.crt'), '-subj', `/O=wharf-hosts/CN=${cn}`, '-days', '900'], { stdio: 'ignore' });
  writeFileSync(join(dir, 'ca.crt'), readFileSync(join(dir, 'host.crt')));
}

/** A logger that keeps its warnings' messages. */
function recording(): { log: pino.Logger; warnings: string[] } {
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
  return { log, warnings };
}

test('the registry secret is loaded with the certificate; without it the agent warns and goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-identity-'));
  try {
    assert.equal(await loadIdentity(dir, 'h1', recording().log), undefined);
    keepSelfSigned(dir, 'h1');
    const bare = recording();
    const without = await loadIdentity(dir, 'h1', bare.log);
    assert.ok(without?.cert.includes('BEGIN CERTIFICATE'));
    assert.equal(without?.registrySecret, undefined);
    assert.match(bare.warnings.join('\n'), /registry\.secret: private images of the platform registry do not pull/);
    writeFileSync(join(dir, 'registry.secret'), 'wharf_hrs_abc\n', { mode: 0o600 });
    const kept = recording();
    assert.equal((await loadIdentity(dir, 'h1', kept.log))?.registrySecret, 'wharf_hrs_abc');
    assert.deepEqual(kept.warnings, []);
    await assert.rejects(loadIdentity(dir, 'h2', kept.log), /certificate of host h1, not of h2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a join is tried again while the server is unreachable or failing, and not after a refusal', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const identity: HostIdentity = { key: 'k', cert: 'c', ca: 'a' };
  const opts = (log: pino.Logger): JoinOptions => ({ server: 'https://s:1', token: 't', name: 'h1', advertise: 'https://h1:2', dir: '/nowhere', log });
  const failures = [new TypeError('fetch failed'), new WharfError('STORE_UNAVAILABLE', 'store down')];
  let calls = 0;
  const { log, warnings } = recording();
  const joined = joinUntilDone(opts(log), async () => {
    calls++;
    const err = failures.shift();
    if (err) throw err;
    return identity;
  });
  for (let i = 0; i < 20 && calls < 3; i++) {
    await new Promise((res) => setImmediate(res));
    t.mock.timers.tick(2000);
  }
  assert.equal(await joined, identity);
  assert.equal(calls, 3);
  assert.deepEqual(warnings, ['cannot join the cluster yet; trying again', 'cannot join the cluster yet; trying again']);

  for (const refusal of [new WharfError('UNAUTHORIZED', 'the join token has expired'), new WharfError('CONFLICT', 'the join token was used by host h9'), new ConfigError('the server presents another CA')]) {
    let tries = 0;
    await assert.rejects(joinUntilDone(opts(recording().log), async () => {
      tries++;
      throw refusal;
    }), refusal);
    assert.equal(tries, 1, refusal.message);
  }
});

test('renewal is due when a third of the life is left, or the time given before the end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-identity-'));
  try {
    keepSelfSigned(dir, 'h1');
    const cert = readFileSync(join(dir, 'host.crt'), 'utf8');
    const x = new X509Certificate(cert);
    const from = Date.parse(x.validFrom);
    const to = Date.parse(x.validTo);
    assert.equal(renewalDue(cert), to - (to - from) / 3);
    assert.equal(renewalDue(cert, 30 * 86_400_000), to - 30 * 86_400_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a renewal cut short between its renames: the start takes the renewed certificate that matches the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-identity-'));
  try {
    keepSelfSigned(dir, 'h1');
    const old = readFileSync(join(dir, 'host.crt'), 'utf8');
    // The new pair was written as .next; the key was renamed into place, the certificate not.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'host.key'), '-out', join(dir, 'host.crt.next'), '-subj', '/O=wharf-hosts/CN=h1', '-days', '900'], { stdio: 'ignore' });
    const renewed = readFileSync(join(dir, 'host.crt.next'), 'utf8');
    const r = recording();
    const id = await loadIdentity(dir, 'h1', r.log);
    assert.equal(id?.cert, renewed);
    assert.notEqual(id?.cert, old);
    assert.equal(readFileSync(join(dir, 'host.crt'), 'utf8'), renewed);
    assert.match(r.warnings.join('\n'), /took the renewed certificate/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a renewal cut short before its renames: the start takes the renewed pair (the server revoked the old one)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-identity-'));
  try {
    keepSelfSigned(dir, 'h1');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'host.key.next'), '-out', join(dir, 'host.crt.next'), '-subj', '/O=wharf-hosts/CN=h1', '-days', '900'], { stdio: 'ignore' });
    const renewed = { key: readFileSync(join(dir, 'host.key.next'), 'utf8'), cert: readFileSync(join(dir, 'host.crt.next'), 'utf8') };
    const r = recording();
    const id = await loadIdentity(dir, 'h1', r.log);
    assert.deepEqual({ key: id?.key, cert: id?.cert }, renewed);
    assert.deepEqual({ key: readFileSync(join(dir, 'host.key'), 'utf8'), cert: readFileSync(join(dir, 'host.crt'), 'utf8') }, renewed);
    assert.equal(existsSync(join(dir, 'host.key.next')) || existsSync(join(dir, 'host.crt.next')), false);
    // A certificate cut short is left alone: the pair in place stays.
    writeFileSync(join(dir, 'host.crt.next'), '-----BEGIN CERTIFICATE-----\nMII');
    assert.equal((await loadIdentity(dir, 'h1', recording().log))?.cert, renewed.cert);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keepRenewed renews a due certificate and hands it on; a failed renewal is tried again later', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-identity-'));
  const nextDir = mkdtempSync(join(tmpdir(), 'wharf-identity-'));
  try {
    keepSelfSigned(dir, 'h1');
    keepSelfSigned(nextDir, 'h1');
    const read = (d: string): HostIdentity => ({ key: readFileSync(join(d, 'host.key'), 'utf8'), cert: readFileSync(join(d, 'host.crt'), 'utf8'), ca: '' });
    const first = read(dir);
    // Due at once: renew 1,000 days before the end of a 900-day certificate.
    const beforeMs = 1000 * 86_400_000;
    const ok = new AbortController();
    let current = first;
    const handed: HostIdentity[] = [];
    const r1 = recording();
    await keepRenewed({
      server: 'https://127.0.0.1:1', dir, beforeMs, current: () => current, log: r1.log, signal: ok.signal,
      renewed: (next) => {
        handed.push(next);
        current = next;
        ok.abort();
      },
      renew: async (o) => {
        assert.equal(o.current.cert, first.cert);
        return read(nextDir);
      },
    });
    assert.deepEqual(handed.map((h) => h.cert), [read(nextDir).cert]);
    assert.match(r1.warnings.join('\n'), /longer than the certificates the server issues/);

    const failing = new AbortController();
    const r2 = recording();
    let calls = 0;
    const done = keepRenewed({
      server: 'https://127.0.0.1:1', dir, beforeMs, current: () => first, log: r2.log, signal: failing.signal,
      renewed: () => assert.fail('nothing was renewed'),
      renew: async () => {
        calls++;
        throw new Error('server unreachable');
      },
    });
    await new Promise((res) => setTimeout(res, 100));
    // One attempt, then a wait of a minute (ended here by the abort).
    assert.equal(calls, 1);
    assert.match(r2.warnings.join('\n'), /cannot renew the host certificate yet/);
    failing.abort();
    await done;
    assert.equal(calls, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(nextDir, { recursive: true, force: true });
  }
});
