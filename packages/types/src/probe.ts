/**
 * Health of a container: liveness and readiness probes and the restart policy. The
 * agent runs the probes (exec in the container; http and tcp from inside the set's
 * network namespace) and restarts containers itself, with back-off.
 */
import { Type, type Static } from '@sinclair/typebox';

const Port = Type.Integer({ minimum: 1, maximum: 65535 });

export const ProbeSpec = Type.Object(
  {
    exec: Type.Optional(Type.Object(
      { command: Type.Array(Type.String(), { minItems: 1, description: 'Run in the container; exit code 0 is healthy' }) },
      { additionalProperties: false },
    )),
    http: Type.Optional(Type.Object(
      {
        port: Port,
        path: Type.Optional(Type.String({ pattern: '^/', description: 'Default /' })),
      },
      { additionalProperties: false, description: 'GET http://127.0.0.1:PORT/PATH in the set; 200–399 is healthy' },
    )),
    tcp: Type.Optional(Type.Object({ port: Port }, { additionalProperties: false, description: 'A TCP connect to 127.0.0.1:PORT in the set' })),
    initialDelaySeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600, description: 'Wait after the container starts (default 0)' })),
    periodSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, description: 'Between probes (default 10)' })),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 600, description: 'A probe that takes longer fails (default 1)' })),
    failureThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Consecutive failures that make the container unhealthy or not ready (default 3)' })),
    successThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Consecutive successes that make it healthy or ready again (default 1)' })),
  },
  { additionalProperties: false, description: 'Exactly one of exec, http and tcp' },
);
export type ProbeSpec = Static<typeof ProbeSpec>;

export const RestartPolicy = Type.Union([Type.Literal('always'), Type.Literal('on-failure'), Type.Literal('never')], {
  description: 'When the agent starts an exited container again (default always), with back-off 1 s, 2 s, 4 s … 5 min',
});
export type RestartPolicy = Static<typeof RestartPolicy>;

export const PROBE_DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 } as const;

/** A probe with every default filled in. */
export type ResolvedProbe =
  & { initialDelaySeconds: number; periodSeconds: number; timeoutSeconds: number; failureThreshold: number; successThreshold: number }
  & ({ kind: 'exec'; command: string[] } | { kind: 'http'; port: number; path: string } | { kind: 'tcp'; port: number });

/** Fills in defaults; undefined when the probe names no check or more than one (resolveSetSpec reports that). */
export function resolveProbe(p: ProbeSpec): ResolvedProbe | undefined {
  const checks = [p.exec, p.http, p.tcp].filter((c) => c !== undefined).length;
  if (checks !== 1) return undefined;
  const timing = {
    initialDelaySeconds: p.initialDelaySeconds ?? PROBE_DEFAULTS.initialDelaySeconds,
    periodSeconds: p.periodSeconds ?? PROBE_DEFAULTS.periodSeconds,
    timeoutSeconds: p.timeoutSeconds ?? PROBE_DEFAULTS.timeoutSeconds,
    failureThreshold: p.failureThreshold ?? PROBE_DEFAULTS.failureThreshold,
    successThreshold: p.successThreshold ?? PROBE_DEFAULTS.successThreshold,
  };
  if (p.exec) return { ...timing, kind: 'exec', command: p.exec.command };
  if (p.http) return { ...timing, kind: 'http', port: p.http.port, path: p.http.path ?? '/' };
  return { ...timing, kind: 'tcp', port: p.tcp!.port };
}

/** Why a container last stopped running. */
export const TerminationReason = Type.Union([
  Type.Literal('Completed'), Type.Literal('Error'), Type.Literal('OOMKilled'), Type.Literal('Unhealthy'), Type.Literal('Stopped'),
]);
export type TerminationReason = Static<typeof TerminationReason>;

export const LastTermination = Type.Object({
  reason: TerminationReason,
  exitCode: Type.Integer(),
  oomKilled: Type.Boolean(),
  finishedAt: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
});
export type LastTermination = Static<typeof LastTermination>;
