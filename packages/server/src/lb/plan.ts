/**
 * Which slot of an app's backend each set takes and in which state (pure):
 * a ready set serves, a set not ready or draining is drained (its connections
 * finish, no new ones), a set that is gone leaves its slot in maintenance, free.
 * A set keeps its slot while it exists; slots are recovered from the addresses
 * HAProxy holds, so a restart of wharf-server moves nothing.
 */
import type { Endpoint } from '@wharf/types';
import { slotCommands, type ServerState, type SlotState } from './runtime.js';

export interface SlotWant {
  server: string;
  set?: string;
  addr: string;
  port: number;
  state: SlotState;
}

function stateOf(e: Endpoint): SlotState {
  return e.ready && !e.draining ? 'ready' : 'drain';
}

/** `assigned`: set id → slot name, updated in place. */
export function planBackend(endpoints: Endpoint[], targetPort: number, current: ServerState[], assigned: Map<string, string>): SlotWant[] {
  const reachable = endpoints.filter((e) => e.ip !== undefined && e.ports.some((p) => p.containerPort === targetPort && p.protocol === 'tcp'));
  const ids = new Set(reachable.map((e) => e.set));
  for (const [set] of assigned) if (!ids.has(set)) assigned.delete(set);
  const taken = new Set(assigned.values());
  // Recover a slot that already points at the set's address.
  for (const e of reachable) {
    if (assigned.has(e.set)) continue;
    const held = current.find((s) => !taken.has(s.server) && s.state !== 'maint' && s.addr === e.ip && s.port === targetPort);
    if (held) {
      assigned.set(e.set, held.server);
      taken.add(held.server);
    }
  }
  // A slot just left by a set goes to maintenance first; it is reused only when no other is free.
  const unowned = current.filter((s) => !taken.has(s.server));
  const free = [...unowned.filter((s) => s.state === 'maint'), ...unowned.filter((s) => s.state !== 'maint')].map((s) => s.server);
  for (const e of reachable) {
    if (assigned.has(e.set)) continue;
    const slot = free.shift();
    if (!slot) break;
    assigned.set(e.set, slot);
    taken.add(slot);
  }
  const bySet = new Map([...assigned].map(([set, server]) => [server, set]));
  const endpointOf = new Map(reachable.map((e) => [e.set, e]));
  return current.map((s) => {
    const set = bySet.get(s.server);
    const e = set ? endpointOf.get(set) : undefined;
    if (!e?.ip) return { server: s.server, addr: s.addr, port: s.port, state: 'maint' };
    return { server: s.server, set: e.set, addr: e.ip, port: targetPort, state: stateOf(e) };
  });
}

/** Runtime commands that make the backend match the plan. */
export function commandsFor(backend: string, current: ServerState[], plan: SlotWant[]): string[] {
  const byServer = new Map(current.map((s) => [s.server, s]));
  return plan.flatMap((w) => slotCommands(backend, w.server, byServer.get(w.server), w));
}
