/**
 * Where the CLI finds wharf-server, its token and the tenant. Each setting is
 * taken from the first place that has it: flags (--server, --token, --tenant) >
 * environment (WHARF_SERVER, WHARF_TOKEN, WHARF_TENANT) > config file
 * (~/.wharf/config.json, or the path in WHARF_CONFIG) > default
 * (http://127.0.0.1:7070, no token, the server's default tenant).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TENANT_PATTERN } from '@wharf/types';
import { CliError } from './errors.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:7070';

export type ConfigSource = 'flag' | 'env' | 'file' | 'default';

export interface ConfigFile {
  server?: string;
  token?: string;
  tenant?: string;
}

export interface ConfigInputs {
  flags: { server?: string | undefined; token?: string | undefined; tenant?: string | undefined };
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
  /** Absent: the server's default tenant (no `tenant=` is sent). */
  tenant?: string;
  tenantSource?: ConfigSource;
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
    throw new CliError(`config file ${path} must hold a JSON object like {"server": "http://127.0.0.1:7070", "token": "...", "tenant": "..."}`);
  }
  const out: ConfigFile = {};
  for (const key of ['server', 'token', 'tenant'] as const) {
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

  let tenant: string | undefined;
  let tenantSource: ConfigSource | undefined;
  if ((tenant = nonEmpty(inputs.flags.tenant)) !== undefined) tenantSource = 'flag';
  else if ((tenant = nonEmpty(inputs.env.WHARF_TENANT)) !== undefined) tenantSource = 'env';
  else if ((tenant = fromFile().tenant) !== undefined) tenantSource = 'file';
  if (tenant !== undefined && tenantSource !== undefined) checkTenant(tenant, describeSource(tenantSource, path, 'tenant'));

  return {
    server: normalizeServer(server, describeSource(serverSource, path)),
    ...(token !== undefined ? { token } : {}),
    serverSource,
    ...(tokenSource ? { tokenSource } : {}),
    ...(tenant !== undefined ? { tenant } : {}),
    ...(tenantSource ? { tenantSource } : {}),
    configPath: path,
  };
}

/** Tenant names are lowercase letters, digits and "-" (the server's pattern); checked here for a clear message. */
export function checkTenant(tenant: string, from: string): void {
  if (!new RegExp(TENANT_PATTERN).test(tenant)) {
    throw new CliError(`invalid tenant "${tenant}" (from ${from}): use lowercase letters, digits and "-", e.g. team-a`);
  }
}

function describeSource(source: ConfigSource, path: string, setting: 'server' | 'tenant' = 'server'): string {
  switch (source) {
    case 'flag':
      return `--${setting}`;
    case 'env':
      return `WHARF_${setting.toUpperCase()}`;
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
