/** Compact JWS (JWT) signing with ES256, the one algorithm the token service uses. */
import { sign, type KeyObject } from 'node:crypto';

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** `header.claims.signature`; the ECDSA signature in the JOSE form (r ‖ s), not DER. */
export function signJwtEs256(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64url(JSON.stringify({ ...header, alg: 'ES256' }))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}
