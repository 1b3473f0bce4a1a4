/** The kept host identity: its files, the registry secret with it, and a certificate of another host refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { WharfError } from '@wharf/types';
import { ConfigError } from '../config.js';
import { joinUntilDone, loadIdentity, type HostIdentity, type JoinOptions } from './identity.js';

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
