/**
 * Snapshots of the running Wharf containers on Docker hosts, to show that a fault or a
 * restart left them alone: same id (not recreated), same StartedAt (not restarted).
 *
 *   const before = await runningContainers(cluster.hosts);
 *   …the fault…
 *   const now = await runningContainers(cluster.hosts);
 *   assertUntouched(before, now, ['default/app/3']);   // but the sets the test deleted
 *   assertRunsOnce(now);
 */
import assert from 'node:assert/strict';
import type { DockerHost } from './docker-host.js';

/** A running Wharf container as Docker sees it. */
export interface RunningContainer {
  host: string;
  /** Its `wharf.set` label: tenant/appkey/id. */
  set: string;
  name: string;
  startedAt: string;
}

/** Every running Wharf container on `hosts`, by container id. */
export async function runningContainers(hosts: DockerHost[]): Promise<Map<string, RunningContainer>> {
  const out = new Map<string, RunningContainer>();
  for (const h of hosts) {
    // A container removed between the list and the inspect (an agent removing a deleted
    // set's) fails the inspect: list again.
    let r = { code: 1, stdout: '', stderr: '' };
    for (let attempt = 0; attempt < 5; attempt++) {
      const ps = await h.docker(['ps', '-q', '--no-trunc', '--filter', 'label=wharf.managed=true']);
      assert.equal(ps.code, 0, ps.stderr);
      const ids = ps.stdout.split('\n').filter(Boolean);
      if (!ids.length) {
        r = { code: 0, stdout: '', stderr: '' };
        break;
      }
      r = await h.docker(['inspect', '--format', '{{.Id}} {{.State.StartedAt}} {{index .Config.Labels "wharf.set"}} {{.Name}}', ...ids]);
      if (r.code === 0 || !/No such object/.test(r.stderr)) break;
    }
    assert.equal(r.code, 0, r.stderr);
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const [id, startedAt, set, name] = line.split(' ') as [string, string, string, string];
      out.set(id, { host: h.name, set, name: name.replace(/^\//, ''), startedAt });
    }
  }
  return out;
}

/** Each container running `before` runs still, not restarted, but those of the sets in `leaving` (deleted by the test). */
export function assertUntouched(before: Map<string, RunningContainer>, now: Map<string, RunningContainer>, leaving: string[] = []): void {
  assert.ok(before.size > 0, 'containers were running before');
  const changed: string[] = [];
  for (const [id, was] of before) {
    if (leaving.includes(was.set)) continue;
    const is = now.get(id);
    if (!is) changed.push(`${was.host}/${was.name} gone or recreated`);
    else if (is.startedAt !== was.startedAt) changed.push(`${was.host}/${was.name} restarted (${was.startedAt} → ${is.startedAt})`);
  }
  assert.deepEqual(changed, [], 'no running container was restarted');
}

/** No set has containers on two hosts. */
export function assertRunsOnce(now: Map<string, RunningContainer>): void {
  const hostsOf = new Map<string, Set<string>>();
  for (const r of now.values()) hostsOf.set(r.set, (hostsOf.get(r.set) ?? new Set()).add(r.host));
  const twice = [...hostsOf].filter(([, hosts]) => hosts.size > 1).map(([set, hosts]) => `${set} on ${[...hosts].join(', ')}`);
  assert.deepEqual(twice, [], 'no set runs twice');
}
