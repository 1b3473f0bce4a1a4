/** Values are stored as JSON text; both backends encode them the same way. */

/** JSON text of `value`; throws a TypeError for what JSON cannot hold (undefined, functions, bigint). */
export function encodeValue(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new TypeError(`store value must be JSON-serialisable: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (json === undefined) throw new TypeError('store value must be JSON-serialisable');
  return json;
}
