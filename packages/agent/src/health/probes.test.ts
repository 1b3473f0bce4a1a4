import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResolvedProbe } from '@wharf/types';
import { EngineError, type Engine, type ExecResult } from '../docker/engine.js';
import { probeCommand, runProbe } from './probes.js';

const timing = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 1 };
const execP: ResolvedProbe = { ...timing, kind: 'exec', command: ['test', '-f', '/tmp/ok'] };
const httpP: ResolvedProbe = { ...timing, kind: 'http', port: 8080, path: '/healthz?x=1' };
const tcpP: ResolvedProbe = { ...timing, kind: 'tcp', port: 5432 };

test('probeCommand: exec in the container; http and tcp in the infra container under busybox timeout', () => {
  assert.deepEqual(probeCommand(execP), { in: 'container', cmd: ['test', '-f', '/tmp/ok'], timeoutMs: 2_000 });
  assert.deepEqual(probeCommand(httpP), { in: 'infra', cmd: ['timeout', '2', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/healthz?x=1'], timeoutMs: 3_000 });
  assert.deepEqual(probeCommand(tcpP), { in: 'infra', cmd: ['timeout', '2', 'nc', '-w', '2', '127.0.0.1', '5432'], timeoutMs: 3_000 });
});

function engineAnswering(answer: (id: string, cmd: string[]) => ExecResult | Error): Engine & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    exec: async (id: string, cmd: string[]) => {
      calls.push(`${id} ${cmd[0]}`);
      const a = answer(id, cmd);
      if (a instanceof Error) throw a;
      return a;
    },
  } as unknown as Engine & { calls: string[] };
}

test('runProbe: outcomes', async () => {
  const ok = engineAnswering(() => ({ exitCode: 0, output: '' }));
  assert.deepEqual(await runProbe(ok, execP, 'web', 'infra'), { ok: true, output: '' });
  assert.deepEqual(await runProbe(ok, httpP, 'web', 'infra'), { ok: true, output: '' });
  assert.deepEqual(ok.calls, ['web test', 'infra timeout']);
  assert.equal(await runProbe(ok, tcpP, 'web', undefined), undefined, 'no infra container running: no result');

  const failing = engineAnswering(() => ({ exitCode: 1, output: 'wget: server returned error: HTTP/1.1 503 Service Unavailable\n' }));
  assert.deepEqual(await runProbe(failing, httpP, 'web', 'infra'), { ok: false, output: 'wget: server returned error: HTTP/1.1 503 Service Unavailable' });
  assert.deepEqual(await runProbe(engineAnswering(() => ({ exitCode: 2, output: '' })), execP, 'web', 'infra'), { ok: false, output: 'exit code 2' });
  assert.deepEqual(await runProbe(engineAnswering(() => ({ exitCode: -1, output: '', timedOut: true })), execP, 'web', 'infra'), { ok: false, output: 'timed out after 2s' });
  assert.deepEqual(await runProbe(engineAnswering(() => ({ exitCode: 143, output: '' })), tcpP, 'web', 'infra'), { ok: false, output: 'timed out after 2s' });
  assert.deepEqual(await runProbe(engineAnswering(() => ({ exitCode: 'x'.length, output: 'y'.repeat(500) })), execP, 'web', 'infra').then((o) => o?.output.length), 201, 'output is cut short');

  assert.equal(await runProbe(engineAnswering(() => new EngineError('Container web is not running', 409)), execP, 'web', 'infra'), undefined);
  assert.equal(await runProbe(engineAnswering(() => new EngineError('connect ENOENT /var/run/docker.sock', undefined, 'ENOENT')), execP, 'web', 'infra'), undefined);
  assert.deepEqual(await runProbe(engineAnswering(() => new EngineError('exec: "curl": executable file not found in $PATH', 500)), execP, 'web', 'infra'), {
    ok: false, output: 'exec: "curl": executable file not found in $PATH',
  });
});
