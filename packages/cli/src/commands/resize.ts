/**
 * `wharf resize SET …` and `wharf resize app APPKEY …`: new CPU, memory, disk or
 * containers' shares for running sets, applied by their hosts without a restart. A
 * whole app goes batch by batch, each batch waited for before the next starts.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { WharfClient } from '@wharf/client';
import { WharfError, formatBytes, resolveSetSpec, type ContainerResize, type ResizeRequest, type SetView } from '@wharf/types';
import { checkTenant } from '../config.js';
import type { Context } from '../context.js';
import { CliError, fieldErrors, fieldLines, plural } from '../errors.js';
import { compareSets } from '../format/sets.js';
import { formatCores } from '../format/units.js';
import type { Progress } from '../progress.js';
import { formatRef, parseSetRef, type SetRef } from '../ref.js';
import { waitForSet, type Clock, type ContainerLimits, type WaitGoal } from '../wait.js';
import { addWaitOptions, examples, parseBatch, waitSettings, type WaitFlags } from './common.js';
import { parseSize } from './volume.js';

export function parseCores(text: string): number {
  const cores = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(cores > 0) || cores > 1024) throw new InvalidArgumentError('expected CPU cores: a number such as 2 or 0.5 (at most 1024)');
  return cores;
}

export function parsePercent(text: string): number {
  const pct = Number(text.trim().replace(/%$/, ''));
  if (!/^\d+(\.\d+)?%?$/.test(text.trim()) || pct < 1 || pct > 100) throw new InvalidArgumentError("expected a share of the set's size in percent, 1 to 100");
  return pct;
}

/** `items` in batches of `size`, a number or `25%` of them (a percentage rounds up: at least one per batch). */
export function batches<T>(items: T[], size: number | string): T[][] {
  const n = typeof size === 'number' ? size : Math.max(1, Math.ceil((items.length * Number.parseInt(size, 10)) / 100));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

/**
 * `--container NAME` and the `--cpu-pct`/`--mem-pct` after it, in the order given:
 * each percentage belongs to the `--container` before it. With one container the
 * order does not matter.
 */
export class ContainerFlags {
  private readonly groups: { name?: string; cpu?: number; mem?: number }[] = [];

  container(name: string): void {
    this.groups.push({ name });
  }

  percent(which: 'cpu' | 'mem', value: number): void {
    let group = this.groups.at(-1);
    if (!group) this.groups.push((group = {}));
    if (group[which] !== undefined) throw new InvalidArgumentError(`--${which}-pct is given twice for ${group.name ? `container ${group.name}` : 'one container'}`);
    group[which] = value;
  }

  /** The request's containers, or what is wrong with the flags. */
  resolve(): ContainerResize[] | string {
    let groups = this.groups;
    const [first, only, ...more] = groups;
    if (first && first.name === undefined) {
      const clash = only && ((first.cpu !== undefined && only.cpu !== undefined) || (first.mem !== undefined && only.mem !== undefined));
      if (!only || more.length > 0 || clash) return '--cpu-pct and --mem-pct belong to a container: write --container NAME before them';
      groups = [{ ...only, cpu: only.cpu ?? first.cpu, mem: only.mem ?? first.mem }];
    }
    const seen = new Set<string>();
    const out: ContainerResize[] = [];
    for (const g of groups) {
      const name = g.name ?? '';
      if (seen.has(name)) return `--container ${name} is given twice`;
      seen.add(name);
      if (g.cpu === undefined && g.mem === undefined) return `--container ${name} needs --cpu-pct or --mem-pct`;
      out.push({ name, ...(g.cpu !== undefined ? { cpu: g.cpu } : {}), ...(g.mem !== undefined ? { mem: g.mem } : {}) });
    }
    return out;
  }
}

interface ResizeFlags extends WaitFlags {
  cpu?: number;
  memory?: number;
  disk?: number;
  moveIfNeeded?: boolean;
  batch?: number | string;
  tenant?: string;
}

/** The request the flags ask for; undefined when they ask for nothing. */
function resizeRequest(flags: ResizeFlags, containers: ContainerResize[]): ResizeRequest | undefined {
  const request: ResizeRequest = {
    ...(flags.cpu !== undefined ? { cpu: flags.cpu } : {}),
    ...(flags.memory !== undefined ? { memory: flags.memory } : {}),
    ...(flags.disk !== undefined ? { disk: flags.disk } : {}),
    ...(containers.length > 0 ? { containers } : {}),
  };
  if (Object.keys(request).length === 0) return undefined;
  return flags.moveIfNeeded ? { ...request, moveIfNeeded: true } : request;
}

/** What changed between two views of a set: "cpu 1 → 2 cores, memory 1Gi → 2Gi, web cpu 50% → 60%". */
export function describeChange(before: SetView, after: SetView): string {
  const was = before.resources;
  const now = after.resources;
  const parts = [
    was.cpu !== now.cpu ? `cpu ${formatCores(was.cpu)} → ${formatCores(now.cpu)} cores` : '',
    was.memory !== now.memory ? `memory ${formatBytes(was.memory)} → ${formatBytes(now.memory)}` : '',
    was.disk !== now.disk ? `disk ${formatBytes(was.disk)} → ${formatBytes(now.disk)}` : '',
  ];
  const a = resolveSetSpec(before.spec);
  const b = resolveSetSpec(after.spec);
  const shares = a.ok && b.ok ? b.set.containers.flatMap((c) => {
    const old = a.set.containers.find((x) => x.name === c.name);
    if (!old) return [];
    return [old.cpuPct !== c.cpuPct ? `${c.name} cpu ${old.cpuPct}% → ${c.cpuPct}%` : '', old.memPct !== c.memPct ? `${c.name} mem ${old.memPct}% → ${c.memPct}%` : ''];
  }) : [];
  return [...parts, ...shares].filter(Boolean).join(', ') || 'no change';
}

/** --wait: the agent has seen the new generation and every container reports the limits its spec resolves to. */
export function resizedGoal(view: SetView): WaitGoal {
  const r = resolveSetSpec(view.spec);
  const limits: ContainerLimits[] = r.ok ? r.set.containers.map((c) => ({ name: c.name, nanoCpus: c.nanoCpus, memory: c.memoryBytes })) : [];
  return { kind: 'resized', generation: view.generation, limits };
}

/** A refusal of the server, said for the command line. */
function explain(err: unknown, ref: SetRef, request: ResizeRequest): unknown {
  if (!(err instanceof WharfError)) return err;
  const d = err.details ?? {};
  if (err.code === 'CONTAINER_NOT_FOUND' && typeof d.container === 'string') {
    const has = Array.isArray(d.containers) ? ` (it has ${d.containers.join(', ')})` : '';
    return new CliError(`set ${formatRef(ref)} has no container "${d.container}"${has}`);
  }
  if (err.code === 'INSUFFICIENT_RESOURCES' && d.relocatable === true && !request.moveIfNeeded) {
    return new CliError(err.message, ['  add --move-if-needed to move the set to a host that fits it']);
  }
  return err;
}

/** An error's message and detail lines, to say inside another message. */
function reasonOf(err: unknown): { text: string; lines: string[] } {
  if (err instanceof CliError) return { text: err.message, lines: err.lines };
  if (err instanceof WharfError) return { text: err.message, lines: err.code === 'VALIDATION_FAILED' ? fieldLines(fieldErrors(err)) : [] };
  return { text: err instanceof Error ? err.message : String(err), lines: [] };
}

interface Runner {
  client: WharfClient;
  clock: Clock;
  progress: Progress;
  timeoutMs: number;
}

/** One set's resize as the server took it: the set before and after. */
interface Requested {
  ref: SetRef;
  before: SetView;
  after: SetView;
}

async function requestResize(client: WharfClient, ref: SetRef, request: ResizeRequest): Promise<Requested> {
  const before = await client.getSet(ref.appkey, ref.id);
  try {
    return { ref, before, after: await client.resizeSet(ref.appkey, ref.id, request) };
  } catch (err) {
    throw explain(err, ref, request);
  }
}

function unchanged(r: Requested): boolean {
  return r.after.generation === r.before.generation;
}

/** What to print without waiting. */
function requestedLine(r: Requested): string {
  const name = formatRef(r.ref);
  if (unchanged(r)) return `set ${name} already has that size; nothing changed`;
  const leaving = r.before.host && !r.after.host ? ` (host ${r.before.host} cannot fit it; moving to a host that can)` : '';
  return `resizing ${name}: ${describeChange(r.before, r.after)}${leaving}`;
}

/** Waits until the set runs at the new size; what to print then. */
async function confirm(run: Runner, r: Requested): Promise<string> {
  if (unchanged(r)) return requestedLine(r);
  const view = await waitForSet({ client: run.client, clock: run.clock, progress: run.progress, ref: r.ref, goal: resizedGoal(r.after), timeoutMs: run.timeoutMs, initial: r.after });
  const moved = r.before.host && !r.after.host && view?.host ? ` (moved from host ${r.before.host} to ${view.host})` : '';
  return `resized ${formatRef(r.ref)}: ${describeChange(r.before, r.after)}${moved}`;
}

/**
 * Every set of the app, batch by batch: the batch's requests first, then a wait for
 * each of its sets. The first failure stops it, saying where every set stands.
 */
async function resizeApp(ctx: Context, run: Runner, appkey: string, request: ResizeRequest, size: number | string): Promise<void> {
  const sets = (await run.client.listSets({ appkey })).sort(compareSets);
  if (sets.length === 0) throw new CliError(`app ${appkey} has no sets${run.client.tenant ? ` in tenant ${run.client.tenant}` : ''}`);
  const groups = batches(sets, size);
  ctx.note(`resizing ${plural(sets.length, 'set')} of app ${appkey} in ${plural(groups.length, 'batch', 'batches')}`);
  const done: string[] = [];
  let requested: Requested[] = [];
  const stop = (label: string, name: string, err: unknown): CliError => {
    const why = reasonOf(err);
    const pending = requested.map((r) => formatRef(r.ref)).filter((n) => n !== name && !done.includes(n));
    const untouched = sets.map(formatRef).filter((n) => n !== name && !done.includes(n) && !pending.includes(n));
    return new CliError(`resize of app ${appkey} stopped in ${label} at ${name}: ${why.text}`, [
      ...why.lines,
      ...(done.length > 0 ? [`  resized: ${done.join(', ')}`] : []),
      ...(pending.length > 0 ? [`  asked, not confirmed: ${pending.join(', ')}`] : []),
      ...(untouched.length > 0 ? [`  not resized: ${untouched.join(', ')}`] : []),
    ]);
  };
  for (const [i, group] of groups.entries()) {
    const label = `batch ${i + 1}/${groups.length}`;
    ctx.note(`${label}: ${group.map(formatRef).join(', ')}`);
    requested = [];
    for (const set of group) {
      try {
        requested.push(await requestResize(run.client, set, request));
      } catch (err) {
        throw stop(label, formatRef(set), err);
      }
    }
    for (const r of requested) {
      try {
        ctx.out(await confirm(run, r));
      } catch (err) {
        throw stop(label, formatRef(r.ref), err);
      }
      done.push(formatRef(r.ref));
    }
  }
  ctx.out(`app ${appkey} resized: ${plural(done.length, 'set')} in ${plural(groups.length, 'batch', 'batches')}`);
}

export function registerResize(program: Command, ctx: Context): void {
  const containers = new ContainerFlags();
  const cmd = program
    .command('resize')
    .summary("resize running sets (CPU, memory, disk, containers' shares) without restarting them")
    .description(
      "Give a set a new size: CPU cores, memory, disk (its volume), or a container's share of the set's CPU and memory " +
        "(--container NAME with --cpu-pct/--mem-pct, the spec's containers[].options.cpu/mem; give several --container, each followed " +
        "by its percentages). The new size goes into the set's spec as a new generation; its host applies it without restarting " +
        "a container. The host must have the growth unreserved, else the command fails naming what is short; --move-if-needed " +
        'lets a set without a local volume move to a host that fits instead. The disk grows online and cannot shrink below what ' +
        'the volume holds. "wharf resize app APPKEY" resizes every set of an app, --batch sets at a time (default 1), waiting for ' +
        'each batch to run at the new size before the next; it stops at the first failure.',
    )
    .usage('<set> [options] | app <appkey> [options]')
    .argument('<set>', 'the set as APPKEY/ID, or "app" followed by an APPKEY')
    .argument('[appkey]', 'after "app": the app whose sets to resize')
    .option('--cpu <cores>', 'CPU cores of the set, e.g. 2 or 0.5', parseCores)
    .option('--memory <size>', 'memory of the set, e.g. 2Gi', parseSize)
    .option('--disk <size>', "the set's volume, e.g. 50Gi", parseSize)
    .option('--container <name>', 'the container the --cpu-pct/--mem-pct after it are for (repeatable)', (name: string) => {
      containers.container(name);
      return name;
    })
    .option('--cpu-pct <percent>', "the container's share of the set's CPU, 1-100", (v: string) => {
      containers.percent('cpu', parsePercent(v));
      return v;
    })
    .option('--mem-pct <percent>', "the container's share of the set's memory, 1-100", (v: string) => {
      containers.percent('mem', parsePercent(v));
      return v;
    })
    .option('--move-if-needed', 'when its host cannot fit the new size, move the set (one without a local volume) to a host that can')
    .option('--batch <n|percent>', "with app: sets per batch, a number or a share of the app's sets such as 25% (default 1)", parseBatch)
    .option('--tenant <name>', 'the tenant of the sets (like the global --tenant)');
  addWaitOptions(cmd, 'the set runs at the new size and its containers report the new limits (app: always)')
    .addHelpText(
      'after',
      examples([
        ['wharf resize com.example.web/1 --cpu 4 --memory 8Gi --wait', 'more CPU and memory, and wait until applied'],
        ['wharf resize com.example.db/1 --disk 50Gi', 'grow the volume online'],
        ['wharf resize com.example.web/1 --container web --cpu-pct 60 --container log --cpu-pct 40', "shift the CPU between containers"],
        ['wharf resize com.example.web/1 --cpu 16 --move-if-needed --wait', 'move it if its host is too small'],
        ['wharf resize app com.example.web --memory 4Gi --batch 25%', 'every set of the app, a quarter at a time'],
      ]),
    )
    .action(async (target: string, appkey: string | undefined, opts: ResizeFlags, command: Command) => {
      const usage = (m: string): never => command.error(`error: ${m}`, { exitCode: 2, code: 'wharf.resizeUsage' });
      const forApp = target === 'app';
      if (forApp && appkey === undefined) usage('"wharf resize app" needs the APPKEY of the app');
      if (!forApp && appkey !== undefined) usage(`unexpected "${appkey}" after the set (to resize every set of an app: wharf resize app APPKEY …)`);
      if (!forApp && opts.batch) usage('--batch goes with "wharf resize app APPKEY"');
      let ref: SetRef | undefined;
      try {
        ref = forApp ? undefined : parseSetRef(target);
      } catch (err) {
        usage(`${(err as Error).message} (or "app APPKEY" for every set of an app)`);
      }
      const shares = containers.resolve();
      if (typeof shares === 'string') return usage(shares);
      const request = resizeRequest(opts, shares);
      if (!request) return usage('nothing to resize: give --cpu, --memory, --disk, or --container NAME with --cpu-pct/--mem-pct');
      if (opts.tenant !== undefined) checkTenant(opts.tenant, '--tenant');
      const client = opts.tenant !== undefined ? ctx.client().forTenant(opts.tenant) : ctx.client();
      const { wait, timeoutMs } = waitSettings(opts);
      const run: Runner = { client, clock: ctx.clock, progress: await ctx.progress(), timeoutMs };
      if (forApp) return resizeApp(ctx, run, appkey as string, request, opts.batch ?? 1);
      const r = await requestResize(client, ref as SetRef, request);
      ctx.out(wait ? await confirm(run, r) : requestedLine(r));
    });
}
