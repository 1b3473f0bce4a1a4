/** The -o/--output formats shared by the get commands. */
import { Option } from 'commander';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The formats of a command without a wide table. */
export const TABLE_FORMATS = ['table', 'json', 'yaml'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

/** -o/--output with these choices; the first is the default. */
export function outputOption(formats: readonly [string, ...string[]] = OUTPUT_FORMATS): Option {
  return new Option('-o, --output <format>', 'output format').choices(formats).default(formats[0]);
}

/** Serialises API objects unchanged, for -o json and -o yaml (yaml is loaded only when asked for). */
export async function serialize(data: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return JSON.stringify(data, null, 2);
  const { stringify } = await import('yaml');
  return stringify(data).trimEnd();
}
