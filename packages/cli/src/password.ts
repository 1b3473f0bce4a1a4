/**
 * Passwords and names for `wharf login`, `user create` and `user passwd`: asked on a
 * terminal (passwords without echo), or read from stdin with --password-stdin (one per
 * line), so scripts and CI never put a password on a command line.
 */
import { PASSWORD_MIN } from '@wharf/types';
import type { Io, OutStream } from './context.js';
import { CliError, plural } from './errors.js';
import { readSource } from './input.js';

/** stdin as a terminal gives it: raw mode turns off the echo and line editing. */
export type TtyInput = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

/** The longest password the server takes. */
const PASSWORD_MAX = 1024;

export function isTerminal(io: Pick<Io, 'stdin'>): boolean {
  const input = io.stdin as TtyInput;
  return input.isTTY === true && typeof input.setRawMode === 'function';
}

/** Why a prompt cannot be shown, and what to do instead. */
export function noTerminal(what: string): CliError {
  return new CliError(`stdin is not a terminal to ask for ${what} on; pipe it in with --password-stdin`);
}

/**
 * Reads one line from a terminal in raw mode, writing `prompt` (and, with `echo`, the
 * characters typed) to `output`. Backspace and Ctrl-U edit; Ctrl-C cancels (exit 130).
 */
export function readLine(input: TtyInput, output: OutStream, prompt: string, echo: boolean): Promise<string> {
  output.write(prompt);
  input.setRawMode?.(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (result: () => void) => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      result();
    };
    const onData = (chunk: string | Buffer) => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(() => resolve(text));
        if (ch === '\u0003') return finish(() => reject(new CliError('cancelled', [], 130)));
        if (ch === '\u007f' || ch === '\b') {
          if (text.length > 0 && echo) output.write('\b \b');
          text = [...text].slice(0, -1).join('');
        } else if (ch === '\u0015') {
          if (echo) output.write('\b \b'.repeat([...text].length));
          text = '';
        } else if (ch >= ' ') {
          text += ch;
          if (echo) output.write(ch);
        }
      }
    };
    input.on('data', onData);
  });
}

/** Asks on the terminal (prompts go to stderr, so stdout stays the command's result). */
export function ask(io: Io, prompt: string, opts: { echo: boolean }): Promise<string> {
  return readLine(io.stdin as TtyInput, io.stderr, prompt, opts.echo);
}

/** --password-stdin: exactly `names.length` lines on stdin, one per password named. */
export async function stdinPasswords(io: Io, names: string[]): Promise<string[]> {
  const lines = (await readSource('-', io.stdin)).split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length !== names.length || lines.some((l) => l === '')) {
    const want = names.length === 1 ? `the ${names[0]}` : `${names.map((n) => `the ${n}`).join(', then ')}, one per line`;
    throw new CliError(`--password-stdin expects ${want} on stdin; it had ${plural(lines.filter((l) => l !== '').length, 'non-empty line')}`);
  }
  return lines;
}

/** The server's rules for a new password, checked before anything is sent. */
export function checkNewPassword(password: string): void {
  if ([...password].length < PASSWORD_MIN) throw new CliError(`the new password is too short: it needs at least ${PASSWORD_MIN} characters`);
  if (password.length > PASSWORD_MAX) throw new CliError(`the new password is too long: at most ${PASSWORD_MAX} characters`);
}

/** A new password typed twice on the terminal: checked after the first, refused when the two differ. */
export async function askNewPassword(io: Io, prompt: string): Promise<string> {
  const first = await ask(io, prompt, { echo: false });
  checkNewPassword(first);
  const again = await ask(io, 'Retype it: ', { echo: false });
  if (again !== first) throw new CliError('the passwords typed do not match; nothing was changed');
  return first;
}
