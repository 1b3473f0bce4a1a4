/**
 * A CommandRunner for tests: records every command line (nsenter prefix included) and
 * answers from a list of canned results (first match wins; default: success, no output);
 * a function answer may resolve later, to hold a command while a test looks on.
 */
import type { CommandResult, CommandRunner } from '../network/netns.js';

export interface RecordedCommand {
  argv: string[];
  input?: string;
}

export class RecordingRunner {
  readonly calls: RecordedCommand[] = [];
  /** Answers by the command line (joined by spaces). A function answer sees the input. */
  readonly answers: { match: RegExp; result: Partial<CommandResult> | ((c: RecordedCommand) => Partial<CommandResult> | Promise<Partial<CommandResult>>); once?: boolean }[] = [];

  answer(match: RegExp, result: Partial<CommandResult> | ((c: RecordedCommand) => Partial<CommandResult> | Promise<Partial<CommandResult>>), once = false): this {
    this.answers.push({ match, result, once });
    return this;
  }

  readonly run: CommandRunner = async (argv, opts = {}) => {
    const c: RecordedCommand = { argv, ...(opts.input !== undefined ? { input: opts.input } : {}) };
    this.calls.push(c);
    const line = argv.join(' ');
    const i = this.answers.findIndex((a) => a.match.test(line));
    const a = this.answers[i];
    if (!a) return { code: 0, stdout: '', stderr: '' };
    if (a.once) this.answers.splice(i, 1);
    const r = typeof a.result === 'function' ? await a.result(c) : a.result;
    return { code: 0, stdout: '', stderr: '', ...r };
  };

  /** The command lines so far, without the nsenter prefix when `strip` names the namespace. */
  lines(strip?: string): string[] {
    return this.calls.map((c) => c.argv.join(' ')).map((l) => (strip ? l.replace(`nsenter --net=${strip} `, '') : l));
  }

  clear(): void {
    this.calls.length = 0;
  }
}
