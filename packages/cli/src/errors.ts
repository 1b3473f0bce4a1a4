/**
 * How the CLI reports failures: exit code 1 and one `wharf: <message>` line on
 * stderr, optionally followed by indented detail lines (field errors of a
 * validation failure, the last warning of a failed set). Stack traces only with
 * WHARF_DEBUG=1. Usage errors (unknown command, bad flag value) are commander's
 * business and exit 2; see cli.ts.
 */
import { WharfError, type FieldError } from '@wharf/types';
import { ConnectionError } from '@wharf/client';

/** An expected failure with a message meant for a person. */
export class CliError extends Error {
  constructor(
    message: string,
    /** Lines printed after the message, already indented. */
    readonly lines: string[] = [],
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Ends the CLI with an exit code and nothing to add (`wharf exec`: the remote command's exit code). */
export class CommandExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit code ${exitCode}`);
    this.name = 'CommandExit';
  }
}

/** The field errors a VALIDATION_FAILED error carries in `details.errors`, if any. */
export function fieldErrors(err: WharfError): FieldError[] {
  const errors = err.details?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.filter(
    (e): e is FieldError => typeof e === 'object' && e !== null && typeof (e as FieldError).path === 'string' && typeof (e as FieldError).message === 'string',
  );
}

export function fieldLines(errors: FieldError[]): string[] {
  return errors.map((e) => `  ${e.path}: ${e.message}`);
}

export const START_HINT = "(is it running? start it with 'npm start')";

/** The lines to print on stderr for `err`, and the exit code. */
export function describeError(err: unknown, debug = false): { lines: string[]; exitCode: number } {
  let lines: string[];
  let exitCode = 1;
  if (err instanceof CliError) {
    lines = [`wharf: ${err.message}`, ...err.lines];
    exitCode = err.exitCode;
  } else if (err instanceof ConnectionError) {
    lines = [`wharf: ${err.message} ${START_HINT}`];
  } else if (err instanceof WharfError) {
    const fields = err.code === 'VALIDATION_FAILED' ? fieldErrors(err) : [];
    if (fields.length > 0) {
      lines = [`wharf: the request is invalid (${plural(fields.length, 'error')}):`, ...fieldLines(fields)];
    } else if (err.code === 'UNAUTHORIZED') {
      lines = [`wharf: ${err.message} (log in with wharf login, or pass --token, set WHARF_TOKEN or put "token" in ~/.wharf/config.json)`];
    } else {
      lines = [`wharf: ${err.message}`];
    }
  } else if (err instanceof Error) {
    lines = [`wharf: ${err.message}`];
  } else {
    lines = [`wharf: ${String(err)}`];
  }
  if (debug && err instanceof Error && err.stack) lines.push(...stackLines(err));
  return { lines, exitCode };
}

function stackLines(err: Error): string[] {
  const out = [err.stack ?? String(err)];
  let cause = err.cause;
  while (cause instanceof Error) {
    out.push(`caused by: ${cause.stack ?? cause.message}`);
    cause = cause.cause;
  }
  return out;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
