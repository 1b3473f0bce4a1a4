/**
 * Wiring: builds the commander program, runs it, and turns whatever went wrong
 * into stderr lines and an exit code.
 *
 *   argv → commander (parse, usage errors → exit 2) → command action → WharfClient → format → stdout
 *                                                                    ↘ error → describeError → stderr, exit 1
 */
import { Command, CommanderError } from 'commander';
import { WHARF_VERSION } from '@wharf/types';
import { registerAdmin } from './commands/admin.js';
import { registerApp } from './commands/app.js';
import { registerApply } from './commands/apply.js';
import { registerAudit } from './commands/audit.js';
import { registerAutoscale } from './commands/autoscale.js';
import { examples } from './commands/common.js';
import { registerDelete } from './commands/delete.js';
import { registerDescribe } from './commands/describe.js';
import { registerEndpoints } from './commands/endpoints.js';
import { registerExec } from './commands/exec.js';
import { registerGet } from './commands/get.js';
import { registerLifecycle } from './commands/lifecycle.js';
import { registerLogin } from './commands/login.js';
import { registerLogs } from './commands/logs.js';
import { registerHostCommands } from './commands/hosts.js';
import { registerJoinToken } from './commands/join-token.js';
import { registerImage } from './commands/image.js';
import { registerLighthost } from './commands/lighthost.js';
import { registerUser } from './commands/user.js';
import { registerVersion } from './commands/version.js';
import { registerNetwork } from './commands/network.js';
import { registerPolicy } from './commands/policy.js';
import { registerQuota } from './commands/quota.js';
import { registerRollout } from './commands/rollout.js';
import { registerResize } from './commands/resize.js';
import { registerScale } from './commands/scale.js';
import { registerSet } from './commands/set.js';
import { registerSshKey } from './commands/ssh-key.js';
import { registerTenant } from './commands/tenant.js';
import { registerToken } from './commands/token.js';
import { registerTop } from './commands/top.js';
import { registerVolume } from './commands/volume.js';
import { createContext, type Context, type GlobalFlags, type Io } from './context.js';
import { CommandExit, describeError } from './errors.js';

/** Exit code of usage errors (unknown command or flag, bad flag value, missing argument). */
export const USAGE_EXIT_CODE = 2;

export function createProgram(makeContext: (flags: () => GlobalFlags) => Context): { program: Command; ctx: Context } {
  const program = new Command('wharf');
  const ctx = makeContext(() => program.opts<GlobalFlags>());
  const { io } = ctx;
  program
    .description('Manage sets of containers on a Wharf cluster.')
    .version(WHARF_VERSION, '-v, --version', 'print the client version')
    .option('--server <url>', `wharf-server URL (else $WHARF_SERVER, else "server" in ~/.wharf/config.json, else http://127.0.0.1:7070)`)
    .option('--token <token>', 'API token (else $WHARF_TOKEN, else "token" in ~/.wharf/config.json, which wharf login writes)')
    .option('--tenant <name>', 'tenant of sets, policies and images (else $WHARF_TENANT, else "tenant" in ~/.wharf/config.json, else the default tenant)')
    .helpOption('-h, --help', 'show help for a command')
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      '\nConnection settings, first found wins: --server/--token/--tenant flags > WHARF_SERVER/WHARF_TOKEN/WHARF_TENANT\n' +
        '> config file ($WHARF_CONFIG or ~/.wharf/config.json) > http://127.0.0.1:7070 and the default tenant.\n' +
        examples([
          ['wharf apply -f web.yaml --wait', 'create or update a set and wait until it runs'],
          ['wharf get sets', 'list sets'],
          ['wharf describe set com.example.web/1', 'details and recent events of a set'],
          ['wharf logs com.example.web/1 -f', 'follow the log of its first container'],
          ['wharf exec -it com.example.web/1', 'a shell in its first container'],
          ['wharf --server http://10.0.0.5:7070 get hosts', 'talk to another server'],
          ['wharf --tenant team-a get sets', "another tenant's sets"],
          ['wharf network ls', 'platform networks with used and free addresses'],
          ['wharf volume ls', 'set volumes with usage and quota'],
          ['wharf image push web.tar web:1', 'upload a docker save archive to the platform registry'],
          ['wharf resize com.example.web/1 --cpu 4 --memory 8Gi --wait', 'resize a running set without a restart'],
          ['wharf rollout start com.example.web --container web --image web:2 --wait', 'gray update of one container, batch by batch'],
          ['wharf app create -f app.yaml', 'an app: a set template kept at a replica count'],
          ['wharf lighthost create dev-alice --cpu 2 --memory 4Gi --disk 20Gi --wait', 'a Debian container with its own IP and volume, like a small VM'],
          ['wharf scale com.example.web --replicas 10 --wait', 'scale an app, with a progress bar to all ready'],
          ['wharf autoscale com.example.web --min 2 --max 40 --cpu 60%', 'scale an app by its CPU use'],
          ['wharf endpoints com.example.web --watch', "an app's ready sets with IP:PORT, on every change"],
          ['wharf top sets -w', 'CPU, memory, network and disk of every set, refreshed every 2 s'],
          ['wharf login alice', 'log in; the session token goes into the config file'],
          ['wharf tenant grant team-a alice developer', 'give a user a role in a tenant'],
          ['wharf ssh-key add', 'register ~/.ssh/id_ed25519.pub for ssh -p 2222 APPKEY/ID@SERVER-HOST'],
          ['wharf quota set team-a --keep --cpu 64', "change one limit of a tenant's quota"],
          ['wharf audit --since 1h', 'who changed what in the last hour'],
        ]),
    );

  // Subcommands inherit exitOverride, output and error settings: register them after.
  registerApply(program, ctx);
  registerGet(program, ctx);
  registerDescribe(program, ctx);
  registerDelete(program, ctx);
  for (const action of ['start', 'stop', 'restart'] as const) registerLifecycle(program, ctx, action);
  registerLogs(program, ctx);
  registerExec(program, ctx);
  registerHostCommands(program, ctx);
  registerJoinToken(program, ctx);
  registerNetwork(program, ctx);
  registerPolicy(program, ctx);
  registerVolume(program, ctx);
  registerImage(program, ctx);
  registerSet(program, ctx);
  registerResize(program, ctx);
  registerRollout(program, ctx);
  registerApp(program, ctx);
  registerLighthost(program, ctx);
  registerScale(program, ctx);
  registerAutoscale(program, ctx);
  registerEndpoints(program, ctx);
  registerTop(program, ctx);
  registerLogin(program, ctx);
  registerTenant(program, ctx);
  registerUser(program, ctx);
  registerToken(program, ctx);
  registerSshKey(program, ctx);
  registerQuota(program, ctx);
  registerAudit(program, ctx);
  registerVersion(program, ctx);
  registerAdmin(program, ctx);
  return { program, ctx };
}

/** Runs the CLI with `args` (without node and script) and returns the exit code. */
export async function run(args: string[], io: Io): Promise<number> {
  const { program, ctx } = createProgram((flags) => createContext(io, flags));
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    // Commander has already printed its message (or the help/version text).
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    if (err instanceof CommandExit) return err.exitCode;
    const { lines, exitCode } = describeError(err, ctx.debug);
    io.stderr.write(`${lines.join('\n')}\n`);
    return exitCode;
  }
}
