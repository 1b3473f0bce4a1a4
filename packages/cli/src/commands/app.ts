/**
 * `wharf app create|apply|get|describe|delete`: an app is every set of one appkey,
 * kept at a replica count from a set template by the server.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { WharfClient } from '@wharf/client';
import { WharfError, type AppEvent, type AppSpec } from '@wharf/types';
import type { Context } from '../context.js';
import { CliError, fieldErrors, fieldLines, plural } from '../errors.js';
import { describeApp, renderApps } from '../format/apps.js';
import { outputOption, serialize, type OutputFormat } from '../format/output.js';
import { addWaitOptions, examples, waitSettings, type WaitFlags } from './common.js';
import { parseCores } from './resize.js';
import { SCALE_POLL_MS, followScale, replicasOption, warmPoolOption } from './scale.js';
import { parseSize } from './volume.js';

export interface QuickAppFlags {
  image?: string;
  replicas?: number;
  warmPool?: number;
  cpu?: number;
  memory?: string;
  port?: number[];
  name?: string;
}

export function parsePort(text: string, previous: number[] = []): number[] {
  const n = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port, 1 to 65535');
  return [...previous, n];
}

/** The spec of a one-container app from flags. */
export function quickAppSpec(appkey: string, f: QuickAppFlags): AppSpec {
  if (!f.image) throw new CliError('give the image of the app\'s container (--image IMG), or a spec file (-f app.yaml)', [], 2);
  const resources = { ...(f.cpu !== undefined ? { cpu: f.cpu } : {}), ...(f.memory !== undefined ? { memory: f.memory } : {}) };
  const ports = (f.port ?? []).map((containerPort) => ({ containerPort }));
  return {
    appkey,
    replicas: f.replicas ?? 1,
    ...(f.warmPool ? { warmPool: f.warmPool } : {}),
    template: {
      ...(Object.keys(resources).length > 0 ? { resources } : {}),
      containers: [{ index: 1, image: f.image, options: { name: f.name ?? 'main', ...(ports.length > 0 ? { ports } : {}) } }],
    },
  };
}

/** Rewords a VALIDATION_FAILED answer so every field error gets its own line. */
function explainAppError(err: unknown, where: string): unknown {
  if (err instanceof WharfError && err.code === 'APP_EXISTS') {
    const appkey = String(err.details?.appkey ?? 'APPKEY');
    return new CliError(err.message, [`  change it with: wharf app apply -f FILE, or: wharf scale ${appkey} --replicas N`]);
  }
  if (!(err instanceof WharfError) || err.code !== 'VALIDATION_FAILED') return err;
  const fields = fieldErrors(err);
  if (fields.length === 0) return new CliError(`invalid app spec in ${where}: ${err.message}`);
  return new CliError(`invalid app spec in ${where} (${plural(fields.length, 'error')}):`, fieldLines(fields));
}

async function readAppSpec(ctx: Context, file: string): Promise<{ spec: Record<string, unknown>; where: string }> {
  // Loaded here, not at start-up: the YAML parser is only needed with -f.
  const { parseDocuments, readSource } = await import('../input.js');
  const name = file === '-' ? 'stdin' : file;
  const docs = parseDocuments(await readSource(file, ctx.io.stdin), name, { what: 'app spec', shape: 'an app spec (an object with appkey, template and replicas)' });
  if (docs.length > 1) throw new CliError(`${name} holds ${docs.length} documents; an app file holds one app`);
  return docs[0] as { spec: Record<string, unknown>; where: string };
}

type PutResult = Awaited<ReturnType<WharfClient['applyApp']>>;

/** Sends an app spec (a refusal reworded for `where`), prints `said` of the answer, and with --wait follows the app to its replicas. */
async function putApp(ctx: Context, flags: WaitFlags, where: string, put: (client: WharfClient) => Promise<PutResult>, said: (r: PutResult) => string): Promise<void> {
  const { wait, timeoutMs } = waitSettings(flags);
  const client = ctx.client();
  let result: PutResult;
  try {
    result = await put(client);
  } catch (err) {
    throw explainAppError(err, where);
  }
  ctx.out(said(result));
  if (wait) await followScale({ client, clock: ctx.clock, progress: await ctx.progress(), appkey: result.app.appkey, replicas: result.app.replicas, timeoutMs });
}

interface CreateFlags extends QuickAppFlags, WaitFlags {
  filename?: string;
}

export function registerApp(program: Command, ctx: Context): void {
  const app = program
    .command('app')
    .summary('apps: every set of one appkey, kept at a replica count from a template')
    .description(
      'An app is every set of one appkey: a set template, a replica count and policies. The server creates sets from the template ' +
        '(ids 1, 2, 3 …), and on scale-in drains the sets its policy picks before stopping them. Scale with "wharf scale", ' +
        'see where its sets serve with "wharf endpoints".',
    )
    .addHelpText(
      'after',
      examples([
        ['wharf app create -f app.yaml --wait', 'create an app from a file and wait until its sets are ready'],
        ['wharf app create web --image web:1 --replicas 3 --port 8080', 'a one-container app from flags'],
        ['wharf app get', 'every app with replicas wanted and ready'],
        ['wharf app describe web', 'template, sets and scaling events'],
        ['wharf app delete web --wait', 'delete the app and all its sets'],
      ]),
    );

  const create = app
    .command('create')
    .summary('create an app from a file, or a one-container app from flags')
    .description(
      'Create an app: from a JSON or YAML spec (-f; appkey, template = a set spec without id and appkey, replicas, scaleIn, update), ' +
        'or with one container from flags (APPKEY --image IMG). Fails when the app exists (change it with "wharf app apply -f" or "wharf scale").',
    )
    .argument('[appkey]', 'with --image: the appkey of the new app')
    .option('-f, --filename <file>', 'the app spec file, or - to read stdin')
    .option('--image <image>', 'the image of the one container')
    .addOption(replicasOption(false))
    .addOption(warmPoolOption())
    .option('--cpu <cores>', 'CPU cores of each set (default 1)', parseCores)
    .option('--memory <size>', 'memory of each set, e.g. 256Mi (default 1Gi)', (v: string) => (parseSize(v), v))
    .option('--port <port>', 'a port the container listens on (repeatable)', parsePort)
    .option('--name <name>', 'the container\'s name (default main)');
  addWaitOptions(create, 'every set of the app is ready')
    .addHelpText(
      'after',
      examples([
        ['wharf app create -f docs/examples/app.yaml', 'from a spec file'],
        ['wharf app create web --image web:1 --replicas 3 --cpu 0.5 --memory 256Mi --port 8080 --wait', 'from flags, and wait'],
      ]),
    )
    .action(async (appkey: string | undefined, opts: CreateFlags, command: Command) => {
      const usage = (m: string): never => command.error(`error: ${m}`, { exitCode: 2, code: 'wharf.appUsage' });
      if (opts.filename && (appkey !== undefined || opts.image)) usage('give either -f FILE or APPKEY --image IMG, not both');
      if (!opts.filename && appkey === undefined) usage('give -f FILE, or APPKEY --image IMG');
      const { spec, where } = opts.filename ? await readAppSpec(ctx, opts.filename) : { spec: quickAppSpec(appkey as string, opts), where: 'the flags' };
      await putApp(ctx, opts, where, (client) => client.createApp(spec), ({ app }) => `app ${app.appkey} created (${plural(app.replicas, 'replica')})`);
    });

  const apply = app
    .command('apply')
    .summary('create an app or update its spec from a file')
    .description('Create the app in the file, or update it: a new template applies to sets created from now on (change running sets with "wharf rollout" or "wharf resize app"); a new replica count scales it.')
    .requiredOption('-f, --filename <file>', 'the app spec file, or - to read stdin');
  addWaitOptions(apply, 'the app has its replicas ready')
    .addHelpText('after', examples([['wharf app apply -f app.yaml', 'create or update'], ['wharf app apply -f app.yaml --wait', 'and wait until its sets are ready']]))
    .action(async (opts: { filename: string } & WaitFlags) => {
      const { spec, where } = await readAppSpec(ctx, opts.filename);
      await putApp(ctx, opts, where, (client) => client.applyApp(spec), ({ app, created }) => `app ${app.appkey} ${created ? 'created' : 'configured'}`);
    });

  app
    .command('get')
    .summary('list apps, or show one')
    .description('List the apps of the tenant: APPKEY, REPLICAS (wanted), READY, SETS (counting toward replicas), LEAVING (draining or being deleted), AGE; -o wide adds IMAGES, CPU, MEMORY, PORTS, SCALE-IN and MESSAGE.')
    .argument('[appkey]', 'only this app')
    .addOption(outputOption())
    .addHelpText('after', examples([['wharf app get', 'every app'], ['wharf app get web -o wide', 'one app with its template'], ['wharf app get web -o yaml', 'the API object']]))
    .action(async (appkey: string | undefined, opts: { output: OutputFormat }) => {
      const client = ctx.client();
      const apps = appkey !== undefined ? [await client.getApp(appkey)] : await client.listApps();
      if (opts.output === 'json' || opts.output === 'yaml') return ctx.out(await serialize(appkey !== undefined ? apps[0] : apps, opts.output));
      if (apps.length === 0) return ctx.note('no apps');
      ctx.out(renderApps(apps, opts.output === 'wide', ctx.clock.now()));
    });

  app
    .command('describe')
    .summary('show an app: template, replicas, sets and recent events')
    .argument('<appkey>', 'the app')
    .addHelpText('after', examples([['wharf app describe web', 'why does web have only 7 of 10 sets ready?']]))
    .action(async (appkey: string) => {
      const client = ctx.client();
      const view = await client.getApp(appkey);
      let events: AppEvent[] | Error;
      try {
        events = await client.appEvents(appkey);
      } catch (err) {
        events = err instanceof Error ? err : new Error(String(err));
      }
      ctx.out(describeApp(view, events, ctx.clock.now()));
    });

  const del = app
    .command('delete')
    .summary('delete an app and all its sets')
    .description('Delete an app: every set of it is stopped (containers in reverse index order) and removed, then the app is gone. --wait waits for that.')
    .argument('<appkey>', 'the app');
  addWaitOptions(del, 'the app and its sets are gone')
    .addHelpText('after', examples([['wharf app delete web', 'request deletion and return'], ['wharf app delete web --wait --timeout 2m', 'and wait until nothing is left']]))
    .action(async (appkey: string, opts: WaitFlags) => {
      const { wait, timeoutMs } = waitSettings(opts);
      const client = ctx.client();
      const view = await client.deleteApp(appkey);
      if (!wait) return ctx.out(`app ${appkey} deleting (${plural(view.sets.length, 'set')})`);
      const progress = await ctx.progress();
      const deadline = ctx.clock.now() + timeoutMs;
      for (;;) {
        let left: number;
        try {
          left = (await client.getApp(appkey)).sets.length;
        } catch (err) {
          if (err instanceof WharfError && err.code === 'APP_NOT_FOUND') break;
          throw err;
        }
        const line = `${appkey}: deleting, ${plural(left, 'set')} left`;
        if (ctx.clock.now() >= deadline) {
          progress.fail(line);
          throw new CliError(`timed out waiting for app ${appkey} to be deleted; ${plural(left, 'set')} left`);
        }
        progress.update(line);
        await ctx.clock.sleep(SCALE_POLL_MS);
      }
      progress.succeed(`${appkey}: deleted`);
      ctx.out(`app ${appkey} deleted`);
    });
}
