/** Pieces shared by the command modules. */
import { Argument, InvalidArgumentError, Option, type Command } from 'commander';
import { parseDuration } from '../duration.js';
import { parseSetRef } from '../ref.js';
import { DEFAULT_TIMEOUT_MS } from '../wait.js';

/** The `Examples:` block under a command's --help. */
export function examples(lines: [command: string, comment: string][]): string {
  const width = Math.max(...lines.map(([c]) => c.length));
  return `\nExamples:\n${lines.map(([c, why]) => `  $ ${c.padEnd(width)}   # ${why}`).join('\n')}\n`;
}

export function setArgument(): Argument {
  return new Argument('<set>', 'the set, as APPKEY/ID (e.g. com.example.web/1)').argParser(parseSetRef);
}

export interface WaitFlags {
  wait?: boolean;
  timeout?: number;
}

/** --wait and --timeout. A --timeout on its own implies --wait. */
export function addWaitOptions(cmd: Command, what: string): Command {
  return cmd
    .option('--wait', `wait until ${what}, showing progress`)
    .addOption(
      new Option('--timeout <duration>', 'how long --wait waits, e.g. 90s, 2m or seconds (default 120s; implies --wait)').argParser(parseDuration),
    );
}

export function waitSettings(flags: WaitFlags): { wait: boolean; timeoutMs: number } {
  return { wait: flags.wait === true || flags.timeout !== undefined, timeoutMs: flags.timeout ?? DEFAULT_TIMEOUT_MS };
}

export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError("expected a whole number ≥ 0");
  return Number(text);
}

/** A whole number ≥ 1 (--limit, --max-unavailable). */
export function parsePositiveInt(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return Number(text);
}

/** --batch: a number of sets, or `25%` of them; as the API takes it (`BatchSize`). */
export function parseBatch(text: string): number | string {
  const s = text.trim();
  const percent = /^(\d+)%$/.exec(s);
  if (percent && Number(percent[1]) >= 1 && Number(percent[1]) <= 100) return `${Number(percent[1])}%`;
  if (/^\d+$/.test(s) && Number(s) >= 1) return Number(s);
  throw new InvalidArgumentError('expected a number of sets (e.g. 2) or a percentage of them from 1% to 100% (e.g. 25%)');
}
