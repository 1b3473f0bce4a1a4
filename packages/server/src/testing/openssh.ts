/**
 * The real OpenSSH client for tests of the SSH gateway: keys made by ssh-keygen and
 * `ssh` run as a child process with no user or system config, so only the options
 * given count.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SshKeyFiles {
  /** The private key file (for -i). */
  path: string;
  /** The .pub line. */
  publicKey: string;
  /** What `ssh-keygen -lf` prints for it: `SHA256:…`. */
  fingerprint: string;
}

export function sshKeygen(dir: string, name: string, type = 'ed25519', bits?: number): SshKeyFiles {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', `${name}@test`, '-f', path]);
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
  return { path, publicKey: readFileSync(`${path}.pub`, 'utf8'), fingerprint };
}

export interface SshRun {
  port: number;
  login: string;
  /** Private key files, offered in order. */
  keys: string[];
  knownHosts: string;
  /** `accept-new` (default) or `yes`: refuse a host key that known_hosts does not hold. */
  strict?: 'accept-new' | 'yes';
  /** The remote command; none: a shell. */
  command?: string;
  stdin?: string;
  /** More ssh options before the destination, e.g. ['-tt']. */
  extra?: string[];
}

export interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The ssh argument list (for running it under another program, e.g. script). */
export function sshArgs(r: SshRun): string[] {
  return [
    '-F', '/dev/null',
    '-p', String(r.port),
    ...r.keys.flatMap((k) => ['-i', k]),
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'BatchMode=yes',
    '-o', `StrictHostKeyChecking=${r.strict ?? 'accept-new'}`,
    '-o', `UserKnownHostsFile=${r.knownHosts}`,
    // known_hosts keyed by this name, whatever port the gateway has in a test.
    '-o', 'HostKeyAlias=wharf-test-gateway',
    '-o', 'LogLevel=ERROR',
    ...(r.extra ?? []),
    '-l', r.login,
    '127.0.0.1',
    ...(r.command !== undefined ? [r.command] : []),
  ];
}

export function runSsh(r: SshRun): Promise<SshResult> {
  return new Promise((resolve) => {
    // A non-zero exit is a result here, not an error.
    const child = execFile('ssh', sshArgs(r), (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
    child.stdin?.end(r.stdin ?? '');
  });
}
