/**
 * `wharf lighthost create|ls|rm`: a light host is a set handed over like a small VM —
 * one long-running container of a base OS image (wharf/debian, which
 * scripts/build-debian-image.sh builds), with the set's own IP and volume, that
 * people open a shell in. It is an ordinary set, composed here from the set API:
 * appkey `lighthost.NAME`, id 1, one business container `host` whose image's own
 * init keeps it alive, and the volume at /data. So every set command works on it
 * too (`wharf describe set lighthost.NAME/1`, `wharf resize`, `wharf volume …`).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { WharfClient } from '@wharf/client';
import { DEFAULT_SSH_PORT, WharfError, formatBytes, parseImageReference, type SetSpec, type SetView } from '@wharf/types';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { age } from '../format/age.js';
import { outputOption, serialize, TABLE_FORMATS, type TableFormat } from '../format/output.js';
import { ipCell, images } from '../format/sets.js';
import { cell, renderTable } from '../format/table.js';
import { formatCores } from '../format/units.js';
import { formatRef } from '../ref.js';
import { waitForSet } from '../wait.js';
import { addWaitOptions, examples, waitSettings, type WaitFlags } from './common.js';
import { parseCores } from './resize.js';
import { parseSize } from './volume.js';

/** Light hosts are the sets whose appkey starts with this. */
export const LIGHTHOST_PREFIX = 'lighthost.';
export const LIGHTHOST_ID = '1';
/** The name of the one business container. */
export const LIGHTHOST_CONTAINER = 'host';
/** Where the set's volume is mounted: what survives a restart and a move. */
export const LIGHTHOST_VOLUME = '/data';
export const DEFAULT_LIGHTHOST_IMAGE = 'wharf/debian:12';
export const LIGHTHOST_DEFAULTS = { cpu: 1, memory: '1Gi', disk: '10Gi' } as const;

/** A DNS label: it is part of the appkey and reads well as a host name. */
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function parseLighthostName(text: string): string {
  if (!NAME.test(text)) throw new InvalidArgumentError('expected a name of lowercase letters, digits and "-" (at most 63, e.g. dev-alice)');
  return text;
}

/** A size flag: checked here, sent as written (the spec keeps "4Gi", not bytes). */
function sizeFlag(text: string): string {
  parseSize(text);
  return text.trim();
}

export interface LighthostFlags {
  cpu?: number;
  memory?: string;
  disk?: string;
  image?: string;
  network?: string;
}

export function lighthostAppkey(name: string): string {
  return `${LIGHTHOST_PREFIX}${name}`;
}

/** The set spec of light host `name`. */
export function lighthostSpec(name: string, f: LighthostFlags): SetSpec {
  return {
    appkey: lighthostAppkey(name),
    id: Number(LIGHTHOST_ID),
    resources: { cpu: f.cpu ?? LIGHTHOST_DEFAULTS.cpu, memory: f.memory ?? LIGHTHOST_DEFAULTS.memory, disk: f.disk ?? LIGHTHOST_DEFAULTS.disk },
    ...(f.network !== undefined ? { network: { name: f.network } } : {}),
    containers: [{
      index: 0,
      image: f.image ?? DEFAULT_LIGHTHOST_IMAGE,
      // No command: the image's own init keeps the container alive. The volume's size is resources.disk.
      options: { name: LIGHTHOST_CONTAINER, volumes: [{ path: LIGHTHOST_VOLUME }], labels: { lighthost: name } },
    }],
  };
}

/** The light host's name when `view` is one. */
export function lighthostName(view: Pick<SetView, 'appkey' | 'id'>): string | undefined {
  return view.appkey.startsWith(LIGHTHOST_PREFIX) && String(view.id) === LIGHTHOST_ID ? view.appkey.slice(LIGHTHOST_PREFIX.length) : undefined;
}

/**
 * An image without a registry in its name can only come from a host's own engine:
 * refuse it when no host has it (hosts report their images with every heartbeat).
 * Callers who may not list hosts (not platform admins) skip the check.
 */
export async function checkImageOnHosts(client: WharfClient, image: string): Promise<void> {
  const ref = parseImageReference(image);
  if (ref.registry !== undefined || ref.digest !== undefined) return;
  let hosts;
  try {
    hosts = await client.listHosts();
  } catch (err) {
    if (err instanceof WharfError && err.code === 'FORBIDDEN') return;
    throw err;
  }
  const tag = `${ref.repository}:${ref.tag ?? 'latest'}`;
  if (hosts.some((h) => (h.images ?? []).includes(tag))) return;
  throw new CliError(
    `image ${tag} is on no host and names no registry to pull it from: build it on the hosts with scripts/build-debian-image.sh ` +
      '(DOCKER_HOST=… for each host\'s dockerd; a host reports a new image within a minute), or push one with wharf image push',
  );
}

/** `--tenant T ` for the hints, when the light host is not in the default tenant. */
function tenantFlag(client: WharfClient): string {
  return client.tenant !== undefined ? `--tenant ${client.tenant} ` : '';
}

/** How to get into a running light host: `wharf exec`, or ssh through the server's gateway (its default port; docs/ssh.md). */
export function reachLines(name: string, client: WharfClient): string[] {
  const ref = formatRef({ appkey: lighthostAppkey(name), id: LIGHTHOST_ID });
  const login = `${client.tenant !== undefined ? `${client.tenant}~` : ''}${ref}`;
  return [`  shell: wharf ${tenantFlag(client)}exec -it ${ref} -- bash`, `  ssh:   ssh -p ${DEFAULT_SSH_PORT} ${login}@${new URL(client.server).hostname}`];
}

/** `10.99.0.5 on host h1`, or why there is no platform IP. */
function whereItRuns(view: SetView): string {
  const ip = view.ips[0]?.ip;
  return `${ip ? `at ${ip}` : 'without a platform IP (no network named and no default network)'} on host ${view.host ?? '?'}`;
}

function sizeText(view: SetView): string {
  return `${formatCores(view.resources.cpu)} CPU, ${formatBytes(view.resources.memory)} memory, ${formatBytes(view.resources.disk)} disk at ${LIGHTHOST_VOLUME}`;
}

const LS_COLUMNS = ['NAME', 'STATUS', 'HOST', 'IP', 'CPU', 'MEMORY', 'DISK', 'IMAGE', 'AGE'] as const;

export function renderLighthosts(views: SetView[], now: number): string {
  const rows = views
    .map((v) => ({ v, name: lighthostName(v) as string }))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(({ v, name }) => [
      name, cell(v.status), cell(v.host), ipCell(v), formatCores(v.resources.cpu), formatBytes(v.resources.memory),
      formatBytes(v.resources.disk), cell(images(v).join(',')), age(v.createdAt, now),
    ]);
  return renderTable(LS_COLUMNS, rows);
}

/** SET_NOT_FOUND of a light host's set, in its own words. */
function explainNotFound(err: unknown, name: string): unknown {
  return err instanceof WharfError && err.code === 'SET_NOT_FOUND' ? new CliError(`no light host ${name} (wharf lighthost ls lists them)`) : err;
}

async function existing(client: WharfClient, name: string): Promise<SetView | undefined> {
  try {
    return await client.getSet(lighthostAppkey(name), LIGHTHOST_ID);
  } catch (err) {
    if (err instanceof WharfError && err.code === 'SET_NOT_FOUND') return undefined;
    throw err;
  }
}

interface CreateFlags extends LighthostFlags, WaitFlags {}

export function registerLighthost(program: Command, ctx: Context): void {
  const lighthost = program
    .command('lighthost')
    .summary('light hosts: a base OS container with its own IP and volume, handed over like a small VM')
    .description(
      `A light host is a set that runs a base OS image (default ${DEFAULT_LIGHTHOST_IMAGE}, built by scripts/build-debian-image.sh) ` +
        `whose init keeps it running, with its own IP and a volume at ${LIGHTHOST_VOLUME}, for people who want a machine rather than an image. ` +
        `It is the set ${LIGHTHOST_PREFIX}NAME/${LIGHTHOST_ID} with one container "${LIGHTHOST_CONTAINER}": the set commands work on it too.`,
    )
    .addHelpText(
      'after',
      examples([
        ['wharf lighthost create dev-alice --cpu 2 --memory 4Gi --disk 20Gi --wait', 'a Debian host, waited for until it runs'],
        [`wharf exec -it ${LIGHTHOST_PREFIX}dev-alice/${LIGHTHOST_ID} -- bash`, 'a shell in it'],
        ['wharf lighthost ls', 'every light host of the tenant'],
        ['wharf lighthost rm dev-alice --wait', 'delete it (its volume goes to the recycle bin)'],
      ]),
    );

  const create = lighthost
    .command('create')
    .summary('create a light host')
    .description(
      `Create light host NAME: the set ${LIGHTHOST_PREFIX}NAME/${LIGHTHOST_ID} with one container "${LIGHTHOST_CONTAINER}" of the image, ` +
        `the CPU and memory of the set, and a volume of --disk at ${LIGHTHOST_VOLUME} (a hard quota). The image must keep itself running ` +
        `(wharf/debian's PID 1 is catatonit, an init that reaps orphans and waits). An image without a registry in its name must be on a host ` +
        '(scripts/build-debian-image.sh). Fails when the light host exists. With --wait, follows it until it runs and prints how to reach it.',
    )
    .argument('<name>', 'the light host\'s name: lowercase letters, digits and "-"', parseLighthostName)
    .option('--cpu <cores>', `CPU cores (default ${LIGHTHOST_DEFAULTS.cpu})`, parseCores)
    .option('--memory <size>', `memory, e.g. 4Gi (default ${LIGHTHOST_DEFAULTS.memory})`, sizeFlag)
    .option('--disk <size>', `the volume at ${LIGHTHOST_VOLUME}, e.g. 20Gi (default ${LIGHTHOST_DEFAULTS.disk})`, sizeFlag)
    .option('--image <image>', `the base OS image (default ${DEFAULT_LIGHTHOST_IMAGE})`)
    .option('--network <name>', 'the platform network of its IP (default: the default network)');
  addWaitOptions(create, 'it runs')
    .addHelpText(
      'after',
      examples([
        ['wharf lighthost create dev-alice --cpu 2 --memory 4Gi --disk 20Gi --wait', 'create and wait; prints how to get in'],
        ['wharf lighthost create ci-1 --image wharf/debian:12 --network lan', 'a given image, its IP on network lan'],
        ['wharf --tenant team-a lighthost create build-box --disk 50Gi', 'in tenant team-a, return at once'],
      ]),
    )
    .action(async (name: string, opts: CreateFlags) => {
      const { wait, timeoutMs } = waitSettings(opts);
      const spec = lighthostSpec(name, opts);
      const client = ctx.client();
      // The set API creates or updates; a light host is only ever created here.
      const taken = await existing(client, name);
      if (taken) throw new CliError(`light host ${name} exists (${taken.status}, created ${age(taken.createdAt, ctx.clock.now())} ago); pick another name or remove it with: wharf ${tenantFlag(client)}lighthost rm ${name}`);
      await checkImageOnHosts(client, spec.containers[0]?.image as string);
      const { created, set } = await client.applySet(spec);
      // Another create of the same name between the look-up and the write: say so rather than claim it.
      if (!created) throw new CliError(`light host ${name} was created by another request at the same time; see it with: wharf ${tenantFlag(client)}describe set ${formatRef(set)}`);
      ctx.out(`light host ${name} created (set ${formatRef(set)}: ${sizeText(set)}, image ${set.spec.containers[0]?.image ?? '?'})`);
      if (!wait) return ctx.note(`follow it with: wharf ${tenantFlag(client)}lighthost ls`);
      const view = await waitForSet({
        client, clock: ctx.clock, progress: await ctx.progress(), ref: { appkey: set.appkey, id: LIGHTHOST_ID }, goal: { kind: 'applied' }, timeoutMs, initial: set,
      });
      if (!view) return;
      ctx.out([`light host ${name} is running ${whereItRuns(view)}`, ...reachLines(name, client)].join('\n'));
    });

  lighthost
    .command('ls')
    .alias('list')
    .summary('list light hosts')
    .description('List the light hosts of the tenant: NAME STATUS HOST IP CPU MEMORY DISK IMAGE AGE; -o json|yaml prints their sets as the API gives them.')
    .addOption(outputOption(TABLE_FORMATS))
    .addHelpText('after', examples([['wharf lighthost ls', 'every light host'], ['wharf lighthost ls -o json', 'their sets, as JSON']]))
    .action(async (opts: { output: TableFormat }) => {
      const views = (await ctx.client().listSets()).filter((v) => lighthostName(v) !== undefined);
      if (opts.output !== 'table') return ctx.out(await serialize(views, opts.output));
      if (views.length === 0) return ctx.note('no light hosts');
      ctx.out(renderLighthosts(views, ctx.clock.now()));
    });

  const rm = lighthost
    .command('rm')
    .alias('delete')
    .summary('delete a light host')
    .description('Delete a light host: its container stops and is removed; its volume goes to the recycle bin (wharf volume trash ls) until purged.')
    .argument('<name>', 'the light host', parseLighthostName);
  addWaitOptions(rm, 'it is gone')
    .addHelpText('after', examples([['wharf lighthost rm dev-alice', 'request deletion and return'], ['wharf lighthost rm dev-alice --wait', 'and wait until it is gone']]))
    .action(async (name: string, opts: WaitFlags) => {
      const { wait, timeoutMs } = waitSettings(opts);
      const client = ctx.client();
      const ref = { appkey: lighthostAppkey(name), id: LIGHTHOST_ID };
      const set = await client.deleteSet(ref.appkey, ref.id).catch((err: unknown) => {
        throw explainNotFound(err, name);
      });
      if (!wait) return ctx.out(`light host ${name} deleting`);
      await waitForSet({ client, clock: ctx.clock, progress: await ctx.progress(), ref, goal: { kind: 'deleted' }, timeoutMs, initial: set });
      ctx.out(`light host ${name} deleted`);
    });
}

