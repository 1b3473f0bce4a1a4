/** The -o/--output formats shared by the get commands. */
import { Option } from 'commander';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function outputOption(): Option {
  return new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table');
}

/** Serialises API objects unchanged, for -o json and -o yaml (yaml is loaded only when asked for). */
export async function serialize(data: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return JSON.stringify(data, null, 2);
  const { stringify } = await import('yaml');
  return stringify(data).trimEnd();
}
