/**
 * Password hashes: scrypt (N=2^15, r=8, p=1, 16-byte salt, 32-byte key), stored as
 * `scrypt$N$r$p$salt$key` in base64url so the parameters can be raised later and old
 * hashes still verify.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Store } from '@wharf/store';
import { WharfError } from '@wharf/types';
import { getUser, type UserRecord } from '../state/identity.js';
import type { LoginLimiter } from './login-limiter.js';

const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

const limits = (n: number, r: number, p: number): ScryptOptions => ({ N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 });

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_BYTES, limits(N, R, P));
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const got = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, limits(Number(n), Number(r), Number(p)));
  return timingSafeEqual(got, expected);
}

/** A hash no password matches, verified when the user does not exist so both cases take as long. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/**
 * A password login (the API's, or `docker login` with a user's password): the user's
 * record when the password is right; the same 401 for a wrong password and an unknown
 * user; 429 after too many failures (see login-limiter.ts).
 */
export async function checkPassword(store: Store, limiter: LoginLimiter, address: string, user: string, password: string): Promise<UserRecord> {
  limiter.check(address, user);
  const kv = await getUser(store, user);
  const ok = await verifyPassword(password, kv?.value.passwordHash ?? DUMMY_HASH);
  if (!kv || !ok) {
    limiter.failed(address, user);
    throw new WharfError('UNAUTHORIZED', 'wrong user name or password');
  }
  limiter.succeeded(address, user);
  return kv.value;
}
