/** Key checks and prefix ranges shared by backends that keep keys in sorted storage. */

// In a `u` regex \p{Cs} only matches unpaired surrogates; paired ones form one code point.
const LONE_SURROGATE = /\p{Cs}/u;

/** Throws unless `key` is a non-empty, well-formed string (it must survive UTF-8 encoding unchanged). */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new TypeError('store key must be a non-empty string');
  }
  if (LONE_SURROGATE.test(key)) {
    throw new TypeError('store key must be well-formed UTF-16 (no lone surrogates)');
  }
}

/**
 * The smallest string greater than every string that starts with `prefix`, in
 * code point order (= UTF-8 byte order, SQLite's BINARY collation), or undefined
 * when no such bound exists. `prefix + '\uffff'` is not enough: astral
 * characters such as emoji sort after U+FFFF in UTF-8.
 */
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix, (ch) => ch.codePointAt(0) ?? 0);
  for (let i = cps.length - 1; i >= 0; i--) {
    const cp = cps[i] ?? 0;
    if (cp < 0x10ffff) {
      const next = cp + 1 === 0xd800 ? 0xe000 : cp + 1; // skip the surrogate block
      return String.fromCodePoint(...cps.slice(0, i), next);
    }
  }
  return undefined;
}
