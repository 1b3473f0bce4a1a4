/** Query parameters of the agent's HTTP API. */

/** `true`/`1` or `false`/`0`; `fallback` when absent or empty; undefined for anything else. */
export function parseBool(v: string | null, fallback: boolean): boolean | undefined {
  if (v === null || v === '') return fallback;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return undefined;
}
