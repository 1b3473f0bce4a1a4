/** Set references as people type them: `APPKEY/ID`. */
import { InvalidArgumentError } from 'commander';

export interface SetRef {
  appkey: string;
  id: string;
}

/**
 * Splits `APPKEY/ID` on the last slash. Throws InvalidArgumentError (commander
 * turns it into a usage error, exit 2) when either side is missing.
 */
export function parseSetRef(text: string): SetRef {
  const example = 'expected APPKEY/ID, e.g. com.example.web/1';
  const slash = text.lastIndexOf('/');
  if (slash < 0) throw new InvalidArgumentError(`not a set reference; ${example}`);
  const appkey = text.slice(0, slash).trim();
  const id = text.slice(slash + 1).trim();
  if (!appkey) throw new InvalidArgumentError(`the APPKEY before "/" is empty; ${example}`);
  if (!id) throw new InvalidArgumentError(`the ID after "/" is empty; ${example}`);
  if (/\s/.test(appkey) || /\s/.test(id)) throw new InvalidArgumentError(`a set reference has no spaces; ${example}`);
  return { appkey, id };
}

export function formatRef(ref: { appkey: string; id: string | number }): string {
  return `${ref.appkey}/${ref.id}`;
}
