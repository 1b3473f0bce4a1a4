/**
 * `wharf autoscale APPKEY --min N --max N [--cpu 60%] [--memory 70%] [--metric NAME --target N]
 * [--schedule 'CRON@TZ for 3h min=20'] [--off]` and `wharf autoscale status APPKEY`.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { AutoscaleSpec, ScheduleRule } from '@wharf/types';
import type { Context } from '../context.js';
import { parseSeconds } from '../duration.js';
import { CliError, plural } from '../errors.js';
import { describeAutoscale, targetsText } from '../format/autoscale.js';
import { TABLE_FORMATS, outputOption, serialize, type TableFormat } from '../format/output.js';
import { examples, parsePositiveInt } from './common.js';
import { parseReplicas } from './scale.js';

export function parsePercent(text: string): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!(n > 0 && n <= 1000)) throw new InvalidArgumentError('expected a percentage of the limit, e.g. 60%');
  return n;
}

function parsePositive(text: string): number {
  const n = Number(text.trim());
  if (!(n > 0)) throw new InvalidArgumentError('expected a number above 0');
  return n;
}

function parseWindow(text: string): number {
  return parseSeconds(text, { min: 0, max: 86_400, hint: 'a window is from 0s to 24h, e.g. 300s, 5m or 1h' });
}

/** `0 11 * * *@Asia/Shanghai for 3h min=20 max=60` (the zone is optional: UTC). */
export function parseSchedule(text: string): ScheduleRule {
  const m = /^\s*(.+?)\s*(?:@\s*(\S+))?\s+for\s+(\d+[smhd])((?:\s+(?:min|max)=\d+)+)\s*$/.exec(text);
  if (!m) throw new InvalidArgumentError("expected 'CRON[@ZONE] for DURATION min=N [max=N]', e.g. '0 11 * * *@Asia/Shanghai for 3h min=20'");
  const rule: ScheduleRule = { cron: m[1] as string, ...(m[2] ? { timezone: m[2] } : {}), duration: m[3] as string };
  for (const [, key, value] of (m[4] as string).matchAll(/(min|max)=(\d+)/g)) rule[key as 'min' | 'max'] = Number(value);
  return rule;
}

export interface AutoscaleFlags {
  min?: number;
  max?: number;
  cpu?: number;
  memory?: number;
  metric?: string;
  target?: number;
  schedule?: ScheduleRule[];
  scaleDownWindow?: number;
  maxStepUp?: number;
  maxStepDown?: number;
  off?: boolean;
}

/** The spec the flags describe; CliError when they do not make one. */
export function autoscaleSpecFromFlags(f: AutoscaleFlags): AutoscaleSpec {
  if (f.min === undefined || f.max === undefined) throw new CliError('give --min and --max (or --off)');
  if ((f.metric === undefined) !== (f.target === undefined)) throw new CliError('--metric NAME and --target N go together');
  return {
    min: f.min, max: f.max,
    ...(f.cpu !== undefined ? { cpu: f.cpu } : {}),
    ...(f.memory !== undefined ? { memory: f.memory } : {}),
    ...(f.metric !== undefined && f.target !== undefined ? { metrics: [{ name: f.metric, target: f.target }] } : {}),
    ...(f.scaleDownWindow !== undefined ? { scaleDownStabilizationSeconds: f.scaleDownWindow } : {}),
    ...(f.maxStepUp !== undefined ? { maxStepUp: f.maxStepUp } : {}),
    ...(f.maxStepDown !== undefined ? { maxStepDown: f.maxStepDown } : {}),
    ...(f.schedule && f.schedule.length > 0 ? { schedules: f.schedule } : {}),
  };
}

export function registerAutoscale(program: Command, ctx: Context): void {
  const cmd = program
    .command('autoscale')
    .summary("scale an app by its metrics and schedules")
    .description(
      "Set an app's autoscaling, or show its status. The autoscaler looks every 15 s: for each target it wants ceil(replicas × observed / target) " +
        '(no change within ±10 %), takes the highest, scales up at once (at most double or 4 sets per step, 30 s apart) ' +
        'and down one set at a time once every recommendation of the last 5 minutes agreed (120 s apart). ' +
        'Schedules raise min (or lower max) for a window; without any target, replicas follow min. Every change is an app event with its reason.',
    )
    .addHelpText(
      'after',
      examples([
        ['wharf autoscale com.example.web --min 2 --max 40 --cpu 60%', 'keep CPU near 60 % of the limit'],
        ['wharf autoscale status com.example.web', 'bounds, signals, windows and decisions'],
        ['wharf autoscale set --help', 'every flag'],
      ]),
    );

  cmd
    .command('set', { isDefault: true })
    .description("Set the app's autoscaling (`wharf autoscale APPKEY …` is short for it)")
    .argument('<appkey>', 'the app')
    .addOption(new Option('--min <n>', 'fewest sets').argParser(parseReplicas))
    .addOption(new Option('--max <n>', 'most sets').argParser(parseReplicas))
    .addOption(new Option('--cpu <percent>', "target CPU use, percent of the sets' CPU limit, e.g. 60%").argParser(parsePercent))
    .addOption(new Option('--memory <percent>', "target memory use, percent of the sets' memory limit").argParser(parsePercent))
    .option('--metric <name>', 'a custom metric pushed to POST /v1/apps/APPKEY/metrics (the app total)')
    .addOption(new Option('--target <n>', 'target of --metric per set').argParser(parsePositive))
    .addOption(new Option('--schedule <rule>', "'CRON[@ZONE] for DURATION min=N [max=N]'; repeatable").argParser((v: string, prev: ScheduleRule[] = []) => [...prev, parseSchedule(v)]))
    .addOption(new Option('--scale-down-window <duration>', 'scale-down stabilization window (default 300s)').argParser(parseWindow))
    .addOption(new Option('--max-step-up <n>', 'most sets added per change (default: double, at least 4)').argParser(parsePositiveInt))
    .addOption(new Option('--max-step-down <n>', 'most sets removed per change (default 1)').argParser(parsePositiveInt))
    .option('--off', 'turn autoscaling off (replicas stay where they are)')
    .addHelpText(
      'after',
      examples([
        ['wharf autoscale com.example.web --min 2 --max 40 --cpu 60%', 'keep CPU near 60 % of the limit'],
        ['wharf autoscale com.example.web --min 2 --max 40 --metric qps --target 500', '500 requests per second per set'],
        ["wharf autoscale com.example.web --min 2 --max 40 --cpu 60% --schedule '0 11 * * *@Asia/Shanghai for 3h min=20'", 'at least 20 sets over lunch'],
        ['wharf autoscale com.example.web --off', 'stop autoscaling'],
        ['wharf autoscale status com.example.web', 'bounds, signals, windows and decisions'],
      ]),
    )
    .action(async (appkey: string, flags: AutoscaleFlags) => {
      const client = ctx.client();
      if (flags.off) {
        await client.disableAutoscale(appkey);
        ctx.out(`app ${appkey}: autoscaling off`);
        return;
      }
      const spec = autoscaleSpecFromFlags(flags);
      const status = await client.setAutoscale(appkey, spec);
      ctx.out(`app ${appkey} autoscaled: ${spec.min}..${spec.max} sets, targets ${targetsText(spec)}${spec.schedules ? `, ${plural(spec.schedules.length, 'schedule')}` : ''} (now ${status.current})`);
    });

  cmd
    .command('status')
    .description("Show an app's autoscaling: effective bounds, signals, schedule windows of the next 24 h, recent decisions")
    .argument('<appkey>', 'the app')
    .addOption(outputOption(TABLE_FORMATS))
    .action(async (appkey: string, opts: { output: TableFormat }) => {
      const status = await ctx.client().autoscaleStatus(appkey);
      if (opts.output === 'json' || opts.output === 'yaml') return ctx.out(await serialize(status, opts.output));
      ctx.out(describeAutoscale(status, ctx.clock.now()));
    });
}
