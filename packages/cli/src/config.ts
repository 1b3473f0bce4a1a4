/**
 * Where the CLI finds wharf-server and its token. Each setting is taken from the
 * first place that has it: flags (--server, --token) > environment (WHARF_SERVER,
 * WHARF_TOKEN) > config file (~/.wharf/config.json, or the path in WHARF_CONFIG)
 * > default (http://127.0.0.1:7070, no token).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './errors.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:7070';

export type ConfigSource = 'flag' | 'env' | 'file' | 'default';

export interface ConfigFile {
  server?: string;
  token?: string;
}

export interface ConfigInputs {
  flags: { server?: string | undefined; token?: string | undefined };
  env: Record<string, string | undefined>;
  homedir: string;
  /** Reads a file; returns undefined when it does not exist. Defaults to the file system. */
  readFile?: (path: string) => string | undefined;
}

export interface ResolvedConfig {
  server: string;
  token?: string;
  serverSource: ConfigSource;
  tokenSource?: ConfigSource;
  /** The config file consulted (whether or not it exists). */
  configPath: string;
}

export function configPath(env: Record<string, string | undefined>, homedir: string): string {
  return nonEmpty(env.WHARF_CONFIG) ?? join(homedir, '.wharf', 'config.json');
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
}

/** Parses the config file; a missing file is an empty config, a malformed one an error. */
export function loadConfigFile(path: string, readFile: (path: string) => string | undefined = readIfExists): ConfigFile {
  const text = readFile(path);
  if (text === undefined || text.trim() === '') return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CliError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CliError(`config file ${path} must hold a JSON object like {"server": "http://127.0.0.1:7070", "token": "..."}`);
  }
  const out: ConfigFile = {};
  for (const key of ['server', 'token'] as const) {
    const v = (data as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new CliError(`config file ${path}: "${key}" must be a string`);
    if (v !== '') out[key] = v;
  }
  return out;
}

/** Resolves server and token; the config file is read only when flags and env leave something open. */
export function resolveConfig(inputs: ConfigInputs): ResolvedConfig {
  const path = configPath(inputs.env, inputs.homedir);
  let file: ConfigFile | undefined;
  const fromFile = (): ConfigFile => (file ??= loadConfigFile(path, inputs.readFile));

  let server: string | undefined;
  let serverSource: ConfigSource;
  if ((server = nonEmpty(inputs.flags.server)) !== undefined) serverSource = 'flag';
  else if ((server = nonEmpty(inputs.env.WHARF_SERVER)) !== undefined) serverSource = 'env';
  else if ((server = fromFile().server) !== undefined) serverSource = 'file';
  else {
    server = DEFAULT_SERVER;
    serverSource = 'default';
  }

  let token: string | undefined;
  let tokenSource: ConfigSource | undefined;
  if ((token = nonEmpty(inputs.flags.token)) !== undefined) tokenSource = 'flag';
  else if ((token = nonEmpty(inputs.env.WHARF_TOKEN)) !== undefined) tokenSource = 'env';
  else if ((token = fromFile().token) !== undefined) tokenSource = 'file';

  return {
    server: normalizeServer(server, describeSource(serverSource, path)),
    ...(token !== undefined ? { token } : {}),
    serverSource,
    ...(tokenSource ? { tokenSource } : {}),
    configPath: path,
  };
}

function describeSource(source: ConfigSource, path: string): string {
  switch (source) {
    case 'flag':
      return '--server';
    case 'env':
      return 'WHARF_SERVER';
    case 'file':
      return path;
    case 'default':
      return 'the default';
  }
}

/** `127.0.0.1:7070` → `http://127.0.0.1:7070`; rejects what is not an http(s) URL. */
export function normalizeServer(raw: string, from: string): string {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`invalid server URL "${raw}" (from ${from}); expected e.g. http://127.0.0.1:7070`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`invalid server URL "${raw}" (from ${from}): only http:// and https:// are supported`);
  }
  return text.replace(/\/+$/, '');
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}
