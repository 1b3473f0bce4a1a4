/**
 * A JSON schema, as the OpenAPI document gives it, turned into a fast-check
 * arbitrary of values that mostly satisfy it: the starting point that the
 * mutations (mutations.ts) then break in one place.
 */
import fc from 'fast-check';

export interface JsonSchema {
  type?: string;
  $ref?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  nullable?: boolean;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  default?: unknown;
}

/** Resolves `#/components/schemas/X` references against the document's components. */
export type Resolve = (ref: string) => JsonSchema | undefined;

const MAX_DEPTH = 6;

function stringArbitrary(s: JsonSchema): fc.Arbitrary<string> {
  if (s.format === 'date-time') return fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString());
  if (s.pattern) {
    const fits = (v: string) => v.length <= (s.maxLength ?? Infinity) && v.length >= (s.minLength ?? 0);
    try {
      return fc.stringMatching(new RegExp(s.pattern)).filter(fits);
    } catch {
      // A pattern fast-check cannot generate from (lookahead): any string, mostly not matching.
      return fc.string({ maxLength: 20 });
    }
  }
  return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 12, Math.max(12, s.minLength ?? 0)) });
}

function bound(v: number | boolean | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function numberArbitrary(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const lowEx = bound(s.exclusiveMinimum);
  const highEx = bound(s.exclusiveMaximum);
  const min = s.minimum ?? (lowEx !== undefined ? lowEx + (integer ? 1 : 1e-3) : -1e6);
  const max = s.maximum ?? (highEx !== undefined ? highEx - (integer ? 1 : 1e-3) : 1e6);
  if (integer) return fc.integer({ min: Math.ceil(Math.max(min, -(2 ** 31))), max: Math.floor(Math.min(max, 2 ** 31)) });
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

export function schemaArbitrary(schema: JsonSchema, resolve: Resolve, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) {
    const target = resolve(schema.$ref);
    return target ? schemaArbitrary(target, resolve, depth) : fc.constant({});
  }
  const plain = schemaArbitraryNotNull(schema, resolve, depth);
  return schema.nullable ? fc.oneof({ weight: 4, arbitrary: plain }, { weight: 1, arbitrary: fc.constant(null) }) : plain;
}

function schemaArbitraryNotNull(s: JsonSchema, resolve: Resolve, depth: number): fc.Arbitrary<unknown> {
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((a) => schemaArbitrary(a, resolve, depth)));
  if (s.allOf?.length) return schemaArbitrary(Object.assign({}, ...s.allOf) as JsonSchema, resolve, depth);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'string': return stringArbitrary(s);
    case 'integer': return numberArbitrary(s, true);
    case 'number': return numberArbitrary(s, false);
    case 'boolean': return fc.boolean();
    case 'null': return fc.constant(null);
    case 'array': {
      const item = depth >= MAX_DEPTH ? fc.constant('x') : schemaArbitrary(s.items ?? {}, resolve, depth + 1);
      const minLength = s.minItems ?? 0;
      return fc.array(item, { minLength, maxLength: Math.max(minLength, Math.min(s.maxItems ?? 3, 3)) });
    }
    case 'object':
    case undefined: {
      if (!s.properties && s.type === undefined) return fc.oneof(fc.string(), fc.integer(), fc.boolean());
      if (depth >= MAX_DEPTH) return fc.constant({});
      const props = Object.entries(s.properties ?? {}).map(([k, v]) => [k, schemaArbitrary(v, resolve, depth + 1)] as const);
      const record = fc.record(Object.fromEntries(props), { requiredKeys: (s.required ?? []).filter((k) => s.properties?.[k]) });
      if (typeof s.additionalProperties !== 'object') return record;
      const extra = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9.-]{0,10}$/), schemaArbitrary(s.additionalProperties, resolve, depth + 1), { maxKeys: 2 });
      return fc.tuple(record, extra).map(([r, e]) => ({ ...e, ...r }));
    }
    default:
      return fc.constant(null);
  }
}
