/**
 * One probe run. exec: the command in the business container. http and tcp: from the
 * set's network namespace, by exec in its infra container (busybox): `wget` for http
 * (fails on a status ≥ 400), `nc` for tcp (busybox's nc has no -z: with no input it
 * connects and hangs up). busybox's `wget -T` crashes, so both run under `timeout`.
 */
import type { ResolvedProbe } from '@wharf/types';
import { EngineError, type Engine } from '../docker/engine.js';

/** The outcome of a probe; undefined when there is none (the container stopped, Docker did not answer). */
export interface ProbeOutcome {
  ok: boolean;
  /** What it printed, or why it failed; short. */
  output: string;
}

export interface ProbeCommand {
  /** Where it runs: the business container, or the set's infra container (its network namespace). */
  in: 'container' | 'infra';
  cmd: string[];
  /** How long the engine waits for it. */
  timeoutMs: number;
}

/** Exit code of busybox `timeout` when it had to stop the command (SIGTERM). */
const TIMEOUT_EXIT = 143;
/** Room for `timeout` to stop wget/nc before the engine gives up on the exec. */
const EXEC_MARGIN_MS = 1_000;
const OUTPUT_IN_MESSAGES = 200;

export function probeCommand(p: ResolvedProbe): ProbeCommand {
  const t = String(p.timeoutSeconds);
  switch (p.kind) {
    case 'exec':
      return { in: 'container', cmd: p.command, timeoutMs: p.timeoutSeconds * 1000 };
    case 'http':
      return { in: 'infra', cmd: ['timeout', t, 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${p.port}${p.path}`], timeoutMs: p.timeoutSeconds * 1000 + EXEC_MARGIN_MS };
    case 'tcp':
      return { in: 'infra', cmd: ['timeout', t, 'nc', '-w', t, '127.0.0.1', String(p.port)], timeoutMs: p.timeoutSeconds * 1000 + EXEC_MARGIN_MS };
  }
}

function shorten(text: string): string {
  const one = text.trim().replace(/\s+/g, ' ');
  return one.length > OUTPUT_IN_MESSAGES ? `${one.slice(0, OUTPUT_IN_MESSAGES)}…` : one;
}

/** Runs the probe of container `containerId` (infra `infraId` for http and tcp). */
export async function runProbe(engine: Engine, p: ResolvedProbe, containerId: string, infraId: string | undefined): Promise<ProbeOutcome | undefined> {
  const c = probeCommand(p);
  const target = c.in === 'container' ? containerId : infraId;
  if (!target) return undefined;
  let result;
  try {
    result = await engine.exec(target, c.cmd, c.timeoutMs);
  } catch (err) {
    if (err instanceof EngineError && (err.statusCode === 404 || err.statusCode === 409)) return undefined;
    // exec itself failed (e.g. no such command in the image): the probe fails.
    if (err instanceof EngineError && err.statusCode !== undefined) return { ok: false, output: shorten(err.message) };
    return undefined;
  }
  if (result.exitCode === 0) return { ok: true, output: shorten(result.output) };
  if (result.timedOut || (c.in === 'infra' && result.exitCode === TIMEOUT_EXIT)) return { ok: false, output: `timed out after ${p.timeoutSeconds}s` };
  const output = shorten(result.output);
  return { ok: false, output: output || `exit code ${result.exitCode}` };
}
