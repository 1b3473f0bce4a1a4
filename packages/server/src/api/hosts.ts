import { Type } from '@sinclair/typebox';
import { DesiredSets, Host, HostRegistration, HostRemoved, HostSettingsPatch, RevokedCertificate, StatusReport, WharfError, type NetworkAttachment, type NetworkPolicy, type SetObject, type SetStatus } from '@wharf/types';
import { Keys, setKeys } from '../state/keys.js';
import { allocations, getEffectiveHost, heartbeatRecord, hostView, listAllSets, listHostRecords, reachableNetworks, withSettings, type HostRecord, type HostSettings } from '../state/hosts.js';
import { firewallFor } from '../state/firewall.js';
import { loadNetworks, releaseOps } from '../state/ipam.js';
import { appendEvents, logAppend, updateSet } from '../state/sets.js';
import { recordVolumeFill, volumeFill } from '../state/volume-fill.js';
import { reservationRevision } from '../state/reservations.js';
import { revocation, revokedCertificates, revokeHostCert } from '../tls/join-tokens.js';
import type { App, ApiContext } from './context.js';
import type { Op } from '@wharf/store';
import { errors } from './schemas.js';

const HostParams = Type.Object({ name: Type.String() });
/** Longest a desired-state long poll is held. */
const MAX_WAIT_SECONDS = 60;

export function hostRoutes(app: App, { store, hostChanges, monitoring, peers }: ApiContext): void {
  // A change of a set's IPs (or a revocation) wakes every agent's long poll at once, and
  // they ask at the same revision: every set, and the revoked certificates, are read and
  // parsed once for all of them, not once each.
  type Shared = { revision: number; all: SetObject[]; revoked: string[] };
  let setsAt: Shared | undefined;
  const setsNow = async (): Promise<Shared> => {
    if (setsAt && setsAt.revision === (await store.revision())) return setsAt;
    const [{ items, revision }, revoked] = await Promise.all([store.list<SetObject>(Keys.setsPrefix), revokedCertificates(store)]);
    setsAt = { revision, all: items.map((kv) => kv.value), revoked };
    return setsAt;
  };

  app.get('/v1/hosts', {
    schema: { tags: ['hosts'], summary: 'List hosts', response: { 200: Type.Array(Host), ...errors(401) } },
  }, async () => {
    const [hosts, sets] = await Promise.all([listHostRecords(store), listAllSets(store)]);
    const alloc = allocations(sets);
    return hosts.map((h) => hostView(h, alloc.get(h.name), sets));
  });

  app.get('/v1/hosts/:name', {
    schema: { tags: ['hosts'], summary: 'Get a host', params: HostParams, response: { 200: Host, ...errors(401, 404) } },
  }, async (req) => {
    const h = await getEffectiveHost(store, req.params.name);
    if (!h) throw new WharfError('HOST_NOT_FOUND', `host ${req.params.name} not found`);
    const sets = await listAllSets(store);
    return hostView(h, allocations(sets).get(req.params.name), sets);
  });

  app.patch('/v1/hosts/:name', {
    config: { access: 'admin' },
    schema: {
      tags: ['hosts'],
      summary: "Change a host's settings: the networks it reaches (and through which uplink) and its uplink bandwidth",
      description: 'These win over what the agent declares; null gives the agent\'s own value back.',
      params: HostParams,
      body: HostSettingsPatch,
      response: { 200: Host, ...errors(400, 401, 404) },
    },
  }, async (req) => {
    const { name } = req.params;
    const key = Keys.hostSettings(name);
    const names = (req.body.networks ?? []).map((n) => n.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw WharfError.validation([{ path: 'networks', message: `network ${dup} is listed twice` }]);
    for (let attempt = 0; attempt < 10; attempt++) {
      const [rec, kv] = await Promise.all([store.get<HostRecord>(Keys.host(name)), store.get<HostSettings>(key)]);
      if (!rec) throw new WharfError('HOST_NOT_FOUND', `host ${name} not found`);
      const next: HostSettings = { ...kv?.value };
      for (const field of ['networks', 'bandwidth'] as const) {
        const v = req.body[field];
        if (v === null) delete next[field];
        else if (v !== undefined) (next as Record<string, unknown>)[field] = v;
      }
      const cmp = kv ? { key, modRevision: kv.modRevision } : { key, absent: true as const };
      if ((await store.txn([cmp], [{ type: 'put', key, value: next }])).succeeded) {
        req.log.info({ host: name, settings: next }, 'host settings changed');
        const sets = await listAllSets(store);
        return hostView(withSettings(rec.value, next), allocations(sets).get(name), sets);
      }
    }
    throw new WharfError('CONFLICT', `host ${name} is changing too often; try again`);
  });

  const actions: Record<string, { summary: string; change: (h: HostRecord, setsHere: number) => HostRecord }> = {
    cordon: { summary: 'Mark a host unschedulable (running sets stay)', change: (h) => ({ ...h, cordoned: true }) },
    uncordon: {
      summary: 'Make a host schedulable again (also ends a drain)',
      change: ({ drainStarted: _, ...h }) => ({ ...h, cordoned: false, draining: false }),
    },
    drain: {
      summary: 'Cordon a host and move its sets without a volume elsewhere, one at a time',
      // What the host held when the drain began is kept, so progress can be shown as a share of it.
      change: (h, setsHere) => ({ ...h, cordoned: true, draining: true, drainStarted: h.draining && h.drainStarted ? h.drainStarted : { at: new Date().toISOString(), sets: setsHere } }),
    },
  };
  for (const [action, { summary, change }] of Object.entries(actions)) {
    app.post(`/v1/hosts/:name/${action}`, {
      schema: { tags: ['hosts'], summary, params: HostParams, response: { 200: Host, ...errors(401, 404) } },
    }, async (req) => {
      const { name } = req.params as { name: string };
      const key = Keys.host(name);
      // Read once: the change (a drain counts the host's sets) and the answer's view both use them.
      const sets = await listAllSets(store);
      const setsHere = sets.filter((s) => s.host === name && !s.deleting).length;
      for (let attempt = 0; attempt < 10; attempt++) {
        const kv = await store.get<HostRecord>(key);
        if (!kv) throw new WharfError('HOST_NOT_FOUND', `host ${name} not found`);
        const next = change(kv.value, setsHere);
        if ((await store.txn([{ key, modRevision: kv.modRevision }], [{ type: 'put', key, value: next }])).succeeded) {
          req.log.info({ host: name, action }, 'host changed');
          const settings = await store.get<HostSettings>(Keys.hostSettings(name));
          return hostView(withSettings(next, settings?.value), allocations(sets).get(name), sets);
        }
      }
      throw new WharfError('CONFLICT', `host ${name} is changing too often; try again`);
    });
  }

  app.delete('/v1/hosts/:name', {
    config: { access: 'admin' },
    schema: {
      tags: ['hosts'],
      summary: 'Remove a host that holds no set: its record and settings go, and its certificate is revoked',
      description: 'A host with sets is 409: drain it, or delete its sets, first. A host that joined with a token can come back '
        + 'only with a new one; stop its agent first, as an agent on the shared join token registers again at its next heartbeat.',
      params: HostParams,
      response: { 200: HostRemoved, ...errors(401, 403, 404, 409) },
    },
  }, async (req) => {
    const { name } = req.params;
    for (let attempt = 0; attempt < 10; attempt++) {
      // Read before the sets: a placement on the host meanwhile touches it, and the removal fails and looks again.
      const reserved = await reservationRevision(store, name);
      const here = (await listAllSets(store)).filter((s) => s.host === name);
      if (here.length) {
        const refs = here.slice(0, 3).map((s) => `${s.tenant}/${s.appkey}/${s.id}`).join(', ') + (here.length > 3 ? ', …' : '');
        throw new WharfError('CONFLICT', `host ${name} still holds ${here.length} set(s) (${refs}): drain it ("wharf drain ${name}") or delete them, then remove it`);
      }
      const [rec, cert] = await Promise.all([store.get(Keys.host(name)), revocation(store, name, 'removed')]);
      if (!rec && !cert.revoked) throw new WharfError('HOST_NOT_FOUND', `host ${name} not found`);
      const hostCmp = rec ? { key: rec.key, modRevision: rec.modRevision } : { key: Keys.host(name), absent: true as const };
      const reservedCmp = reserved.modRevision ? reserved : { key: reserved.key, absent: true as const };
      const gone: Op[] = [Keys.host(name), Keys.hostSettings(name), Keys.reservation(name)].map((key) => ({ type: 'delete', key }));
      if ((await store.txn([hostCmp, reservedCmp, ...cert.compares], [...gone, ...cert.ops])).succeeded) {
        req.log.info({ host: name, certificate: cert.revoked?.fingerprint }, 'host removed');
        return { name, ...(cert.revoked ? { revokedCertificate: cert.revoked } : {}) };
      }
    }
    throw new WharfError('CONFLICT', `host ${name} is changing too often; try again`);
  });

  app.delete('/v1/hosts/:name/certificate', {
    config: { access: 'admin' },
    schema: {
      tags: ['hosts'],
      summary: "Revoke a joined host's certificate (and its registry secret)",
      description: 'The server refuses it at once, agents at their next desired-state answer. The host stays, with its sets; '
        + 'its agent can act again only after joining with a new token.',
      params: HostParams,
      response: { 200: RevokedCertificate, ...errors(401, 403, 404) },
    },
  }, async (req) => {
    const revoked = await revokeHostCert(store, req.params.name, 'revoked');
    if (!revoked) throw new WharfError('NOT_FOUND', `host ${req.params.name} holds no certificate (it did not join with a token, or it was revoked)`);
    req.log.warn({ host: req.params.name, certificate: revoked.fingerprint }, 'host certificate revoked');
    return revoked;
  });

  app.put('/v1/hosts/:name', {
    config: { access: 'agent' },
    preValidation: async (req) => {
      const problem = monitoring?.screen(req.body);
      if (problem) req.log.warn({ host: (req.params as { name: string }).name, problem }, 'heartbeat metrics ignored: not a valid report');
    },
    schema: {
      tags: ['agent'],
      summary: 'Register a host or heartbeat (agents)',
      params: HostParams,
      body: HostRegistration,
      response: { 200: Host, ...errors(400, 401) },
    },
  }, async (req) => {
    if (req.body.name !== req.params.name) throw WharfError.validation([{ path: 'name', message: `"${req.body.name}" does not match the URL's "${req.params.name}"` }]);
    // Metrics go to the in-memory history only: the host record is rewritten on every heartbeat.
    const { metrics, ...registration } = req.body;
    monitoring?.heartbeat(req.params.name, metrics);
    if (metrics) peers?.hostReport(req.params.name, metrics);
    const key = Keys.host(req.params.name);
    const now = new Date().toISOString();
    for (let attempt = 0; attempt < 10; attempt++) {
      const kv = await store.get<HostRecord>(key);
      const fill = volumeFill(req.params.name, kv?.value.fullVolumes, registration.volumes);
      const rec = heartbeatRecord(kv?.value, registration, now, fill.full);
      const cmp = kv ? { key, modRevision: kv.modRevision } : { key, absent: true as const };
      if ((await store.txn([cmp], [{ type: 'put', key, value: rec }])).succeeded) {
        if (!kv) req.log.info({ host: rec.name, zone: rec.zone }, 'host registered');
        await recordVolumeFill(store, rec.name, fill.events, req.log);
        // Heartbeats are frequent: the allocation comes from the watch, sets are read only for drain progress.
        const settings = await store.get<HostSettings>(Keys.hostSettings(rec.name));
        return hostView(withSettings(rec, settings?.value), hostChanges.allocation(rec.name), rec.draining ? await listAllSets(store) : []);
      }
    }
    throw new WharfError('CONFLICT', `host ${req.params.name} is being registered concurrently`);
  });

  app.get('/v1/hosts/:name/desired', {
    config: { access: 'agent' },
    schema: {
      tags: ['agent'],
      summary: 'Long-poll the sets placed on a host (agents)',
      description: 'Answers at once when the host\'s sets changed after `revision`, else when they change or after `wait` seconds.',
      params: HostParams,
      querystring: Type.Object({
        revision: Type.Integer({ minimum: 0, default: 0 }),
        wait: Type.Integer({ minimum: 0, maximum: MAX_WAIT_SECONDS, default: 30 }),
      }),
      response: { 200: DesiredSets, ...errors(400, 401) },
    },
  }, async (req) => {
    const { name } = req.params;
    const abort = new AbortController();
    req.raw.once('close', () => abort.abort());
    await hostChanges.wait(name, req.query.revision, req.query.wait * 1000, abort.signal);
    // The revision is read first: anything written after it wakes the next poll, so nothing is missed.
    const { all, revision, revoked } = await setsNow();
    const mine = all.filter((s) => s.host === name);
    const [nets, host, policies] = await Promise.all([
      loadNetworks(store),
      getEffectiveHost(store, name),
      mine.some((s) => s.ips?.length) ? store.list<NetworkPolicy>(Keys.policiesPrefix) : Promise.resolve(undefined),
    ]);
    const networks: NetworkAttachment[] = (host ? reachableNetworks(host, nets.byName) : []).flatMap((hn) => {
      const n = nets.byName.get(hn.name);
      return n ? [{ name: n.name, subnet: n.subnet, gateway: n.gateway, uplink: hn.uplink, ...(n.vlan !== undefined ? { vlan: n.vlan } : {}) }] : [];
    });
    const { firewall, addressGroups } = policies ? firewallFor(mine, all, policies.items.map((kv) => kv.value)) : { firewall: {}, addressGroups: {} };
    return { revision, sets: mine, networks, firewall, addressGroups, revokedCertificates: revoked };
  });

  app.post('/v1/hosts/:name/status', {
    config: { access: 'agent' },
    schema: {
      tags: ['agent'],
      summary: 'Report the actual state of sets on a host (agents)',
      params: HostParams,
      body: StatusReport,
      response: { 204: Type.Null(), ...errors(400, 401) },
    },
  }, async (req, reply) => {
    const host = req.params.name;
    for (const r of req.body.sets) {
      const k = setKeys(r);
      const kv = await store.get<SetObject>(k.set);
      // A report about a set that is gone or lives elsewhere now is stale: ignore it.
      if (!kv || kv.value.host !== host) continue;
      const events = (r.events ?? []).map((e) => ({ ...e, host }));
      if (r.deleted && kv.value.deleting) {
        await appendEvents(store, r, events);
        await store.txn([{ key: k.set, modRevision: kv.modRevision }], [
          { type: 'delete', key: k.set }, { type: 'delete', key: k.status }, { type: 'delete', key: k.events }, ...releaseOps(kv.value),
        ]);
        continue;
      }
      const old = r.status ? await store.get<SetStatus>(k.status) : undefined;
      const { updatedAt: _ignored, ...oldStatus } = old?.value ?? ({} as Partial<SetStatus>);
      const next = r.status && { ...r.status, host };
      // Unchanged reports write nothing, so periodic resyncs do not churn the store.
      const statusOps: Op[] = next && JSON.stringify(oldStatus) !== JSON.stringify(next) ? [{ type: 'put', key: k.status, value: { ...next, updatedAt: new Date().toISOString() } }] : [];
      // The events and the status in one commit (each commit is an fsync); the log is compared, so a lost race is tried again.
      for (let attempt = 0; attempt < 20 && (events.length > 0 || statusOps.length > 0); attempt++) {
        const logged = await logAppend(store, k.events, events);
        if ((await store.txn(logged.compares, [...logged.ops, ...statusOps])).succeeded) break;
      }
      if (!next) continue;
      if (next.phase === 'running' && kv.value.movedFrom) {
        // The move is complete: a drain may now move the next set.
        await updateSet(store, r, (s) => {
          if (s.host !== host || !s.movedFrom) return undefined;
          const { movedFrom: _done, ...rest } = s;
          return rest;
        });
        await appendEvents(store, r, [{ time: new Date().toISOString(), type: 'Normal', reason: 'Moved', message: `running on host ${host} (moved from ${kv.value.movedFrom})`, host }]);
      }
    }
    return reply.status(204).send(null);
  });
}
