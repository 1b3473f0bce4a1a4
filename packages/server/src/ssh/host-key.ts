/**
 * The SSH gateway's host key: ed25519, made once in the data directory (mode 0600, its
 * public half beside it) and read on every later start, so clients' known_hosts stay valid.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { fingerprintOf } from './public-key.js';

const { utils } = ssh2;

export const HOST_KEY_FILE = 'ssh_host_ed25519_key';

export interface HostKey {
  /** The private key in OpenSSH format, for ssh2's Server. */
  privateKey: string;
  /** `ssh-ed25519 BASE64`, as a known_hosts line holds it. */
  publicKey: string;
  fingerprint: string;
  path: string;
}

export async function loadOrCreateHostKey(dataDir: string): Promise<HostKey> {
  const path = join(dataDir, HOST_KEY_FILE);
  let privateKey: string;
  try {
    privateKey = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const made = utils.generateKeyPairSync('ed25519');
    try {
      // 'wx': of two servers starting on one data directory, the second reads the first's key.
      await writeFile(path, made.private, { mode: 0o600, flag: 'wx' });
      await writeFile(`${path}.pub`, `${made.public}\n`, { mode: 0o644 });
      privateKey = made.private;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      privateKey = await readFile(path, 'utf8');
    }
  }
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error || !parsed.isPrivateKey()) throw new Error(`${path}: not an SSH private key (${parsed instanceof Error ? parsed.message : 'a public key'}); move it away to have a new one made`);
  // A key copied in by hand may be readable by others: only the server's user reads it.
  await chmod(path, 0o600);
  const blob = parsed.getPublicSSH();
  return { privateKey, publicKey: `${parsed.type} ${blob.toString('base64')}`, fingerprint: fingerprintOf(blob), path };
}
