/**
 * Live progress of a --wait: an ora spinner on a terminal; otherwise one line per
 * change of the text, so logs of CI jobs stay readable. Both write to stderr so
 * stdout keeps only the command's result.
 */
import type { Ora } from 'ora';

export interface Progress {
  /** The current state; may be called on every poll with the same text. */
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
}

/** Prints a line whenever the text changes (and the final text if it is new). */
export function lineProgress(writeLine: (line: string) => void): Progress {
  let last: string | undefined;
  const show = (text: string): void => {
    if (text !== last) writeLine(text);
    last = text;
  };
  return { update: show, succeed: show, fail: show };
}

/** Loads ora only when a spinner is shown: it is a noticeable part of the start-up time otherwise. */
export async function spinnerProgress(stream: NodeJS.WriteStream): Promise<Progress> {
  const { default: ora } = await import('ora');
  const spinner: Ora = ora({ stream, discardStdin: false });
  return {
    update(text) {
      spinner.text = text;
      if (!spinner.isSpinning) spinner.start();
    },
    succeed(text) {
      spinner.succeed(text);
    },
    fail(text) {
      spinner.fail(text);
    },
  };
}

/** A Progress that remembers everything, for tests. */
export function recordingProgress(): Progress & { lines: string[]; final?: { ok: boolean; text: string } } {
  const rec: Progress & { lines: string[]; final?: { ok: boolean; text: string } } = {
    lines: [],
    update(text) {
      if (rec.lines[rec.lines.length - 1] !== text) rec.lines.push(text);
    },
    succeed(text) {
      rec.final = { ok: true, text };
    },
    fail(text) {
      rec.final = { ok: false, text };
    },
  };
  return rec;
}
