/**
 * Bandwidth limits of a set, as `tc` commands run in the set's network namespace
 * (pure rendering; netns.ts runs them).
 *
 * - egress: a token bucket (tbf) as the root qdisc of every interface of the set;
 * - ingress: this kernel has no act_police and no matchall classifier, so ingress
 *   traffic is redirected (u32 match-all + mirred) to an ifb device in the set's
 *   namespace, whose root tbf does the shaping.
 *
 * Every command is idempotent (`replace`, or a tolerated "already so" error), so the
 * program can be applied again at any time; changing the rate is a `replace` of the
 * tbf alone and never touches a container.
 */
import type { Cmd } from './netns.js';

/** The ifb device that carries a set's ingress traffic (in the set's namespace, so one name fits all). */
export const IFB = 'wharf-ifb';

export interface Bandwidth {
  /** Mbit/s; absent: no limit. */
  egress?: number;
  ingress?: number;
}

/** Nothing to delete: no such qdisc (or only the default one), no such device. */
const GONE = /Cannot delete qdisc with handle of zero|Cannot find specified qdisc|Invalid handle|No such file or directory|Cannot find device|does not exist/;

/** tbf arguments: rate in kbit, burst max(32 KiB, 10 ms at the rate), 50 ms of queue. */
export function tbfArgs(mbit: number): string[] {
  if (!(mbit > 0) || !Number.isFinite(mbit)) throw new Error(`bandwidth ${mbit} Mbit/s is not a positive number`);
  const kbit = Math.max(1, Math.round(mbit * 1000));
  const burst = Math.max(32 * 1024, Math.ceil(mbit * 1250)); // bytes sent in 10 ms
  return ['tbf', 'rate', `${kbit}kbit`, 'burst', String(burst), 'latency', '50ms'];
}

/** The commands that make `ifaces` carry exactly the limits in `bw` (no limit: the qdiscs are removed). */
export function bandwidthCommands(ifaces: string[], bw: Bandwidth): Cmd[] {
  const cmds: Cmd[] = [];
  for (const dev of ifaces) {
    cmds.push(
      bw.egress !== undefined
        ? { argv: ['tc', 'qdisc', 'replace', 'dev', dev, 'root', ...tbfArgs(bw.egress)] }
        : { argv: ['tc', 'qdisc', 'del', 'dev', dev, 'root'], tolerate: GONE },
    );
  }
  if (bw.ingress !== undefined) {
    cmds.push(
      { argv: ['ip', 'link', 'add', IFB, 'type', 'ifb'], tolerate: /File exists/ },
      { argv: ['ip', 'link', 'set', IFB, 'up'] },
      { argv: ['tc', 'qdisc', 'replace', 'dev', IFB, 'root', ...tbfArgs(bw.ingress)] },
    );
    for (const dev of ifaces) {
      cmds.push(
        { argv: ['tc', 'qdisc', 'replace', 'dev', dev, 'handle', 'ffff:', 'ingress'] },
        // A fixed priority and handle make `replace` idempotent (no duplicate filters).
        {
          argv: ['tc', 'filter', 'replace', 'dev', dev, 'parent', 'ffff:', 'protocol', 'all', 'pref', '1', 'handle', '800::800', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', IFB],
        },
      );
    }
  } else {
    for (const dev of ifaces) cmds.push({ argv: ['tc', 'qdisc', 'del', 'dev', dev, 'ingress'], tolerate: GONE });
    cmds.push({ argv: ['ip', 'link', 'del', IFB], tolerate: GONE });
  }
  return cmds;
}
