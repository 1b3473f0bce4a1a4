/**
 * Changing the config file (`wharf login` and `logout`): the keys it holds are kept,
 * unknown ones too; the file is private (0600, its folder 0700 when made here) and
 * replaced in one rename, so a crash never leaves half a file.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfigFile } from './config.js';
import { CliError } from './errors.js';

export type ConfigData = Record<string, unknown>;

/** The file's object, every key kept; checked as every command reads it (loadConfigFile). */
function readObject(path: string): ConfigData {
  let text: string | undefined;
  loadConfigFile(path, (p) => {
    try {
      return (text = readFileSync(p, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CliError(`cannot read config file ${p}: ${(err as Error).message}`);
    }
  });
  return text === undefined || text.trim() === '' ? {} : (JSON.parse(text) as ConfigData);
}

/** Applies `change` to the file's object and writes it back, mode 0600. */
export function updateConfigFile(path: string, change: (data: ConfigData) => ConfigData): ConfigData {
  const next = change(readObject(path));
  const dir = dirname(path);
  try {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
    }
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(tmp, 0o600);
      renameSync(tmp, path);
    } finally {
      rmSync(tmp, { force: true });
    }
  } catch (err) {
    throw new CliError(`cannot write config file ${path}: ${(err as Error).message}`);
  }
  return next;
}
