import fc from 'fast-check';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonSchema = Record<string, any>;

export interface SchemaArbitraryOptions {
  /** resolves `#/components/schemas/…` */
  components: Record<string, JsonSchema>;
  /** values for strings of a `format` that must be reachable in a test (e.g. `uri` → a local receiver) */
  formats?: Record<string, fc.Arbitrary<string>>;
  /** how deep recursive schemas go before only their non-recursive alternatives are taken */
  maxDepth?: number;
  /** the largest integer drawn where a schema allows more: keeps generated jobs and pages small */
  largestInteger?: number;
  /** values a string property of that name often takes (a group that exists, a template that uses it), so requests get past the lookups */
  knownValues?: Record<string, string[]>;
}

const MAX_ITEMS = 4;
const MAX_STRING = 40;

/**
 * Values valid against an OpenAPI 3.1 (JSON Schema) schema: the subset the service's document
 * uses (types, enums, patterns, lengths, ranges, required and additional properties, oneOf,
 * $ref). Strings carry no NUL character or lone surrogate: the document's global rule.
 */
export function schemaArbitrary(schema: JsonSchema, options: SchemaArbitraryOptions, depth = 0): fc.Arbitrary<unknown> {
  const { components, maxDepth = 3 } = options;
  if (schema.$ref) return schemaArbitrary(resolveRef(schema.$ref, components), options, depth + 1);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const choices = schema.oneOf ?? schema.anyOf;
  if (choices) {
    const usable = depth >= maxDepth ? choices.filter((choice: JsonSchema) => !JSON.stringify(choice).includes('$ref')) : choices;
    const base = withoutKeys(schema, ['oneOf', 'anyOf']);
    return fc.oneof(...(usable.length > 0 ? usable : choices).map((choice: JsonSchema) => schemaArbitrary({ ...base, ...choice }, options, depth)));
  }
  if (Array.isArray(schema.type)) {
    return fc.oneof(...schema.type.map((type: string) => schemaArbitrary({ ...schema, type }, options, depth)));
  }
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number':
      return numberArbitrary(schema, options.largestInteger ?? 1000);
    case 'string':
      return stringArbitrary(schema, options.formats ?? {});
    case 'array': {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(schema.maxItems ?? MAX_ITEMS, MAX_ITEMS));
      const items = depth >= maxDepth && minLength === 0 ? fc.constant([]) : fc.array(schemaArbitrary(schema.items ?? {}, options, depth + 1), { minLength, maxLength });
      return items;
    }
    case 'object':
      return objectArbitrary(schema, options, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function objectArbitrary(schema: JsonSchema, options: SchemaArbitraryOptions, depth: number): fc.Arbitrary<unknown> {
  const properties: Record<string, JsonSchema> = schema.properties ?? {};
  const required: string[] = schema.required ?? [];
  const declared = fc.record(
    Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, propertyArbitrary(key, property, options, depth + 1)])),
    { requiredKeys: required },
  );
  if (schema.additionalProperties === false || schema.additionalProperties === undefined) return declared;
  const extra = fc.dictionary(plainString(1, 12), fc.jsonValue({ maxDepth: 2 }).filter(storable), { maxKeys: 3 });
  return fc.tuple(extra, declared).map(([more, own]) => ({ ...more, ...(own as object) }));
}

function propertyArbitrary(key: string, schema: JsonSchema, options: SchemaArbitraryOptions, depth: number): fc.Arbitrary<unknown> {
  const generated = schemaArbitrary(schema, options, depth);
  const known = options.knownValues?.[key];
  return known ? fc.oneof(fc.constantFrom(...known), generated) : generated;
}

function numberArbitrary(schema: JsonSchema, largest: number): fc.Arbitrary<number> {
  const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -largest);
  const max = Math.min(schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : largest), min + largest);
  return fc.integer({ min, max });
}

function stringArbitrary(schema: JsonSchema, formats: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const minLength: number = schema.minLength ?? 0;
  const maxLength: number = schema.maxLength ?? Number.MAX_SAFE_INTEGER;
  const fits = (value: string) => value.length >= minLength && value.length <= maxLength && storable(value);
  const formatted = schema.format ? formats[schema.format] : undefined;
  if (formatted) return formatted.filter(fits);
  if (schema.format === 'date-time') {
    return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString());
  }
  if (schema.format === 'email') return fc.tuple(plainString(1, 10, 'a-z'), plainString(1, 10, 'a-z')).map(([user, host]) => `${user}@${host}.example`);
  if (typeof schema.pattern === 'string') return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  return fc
    .oneof(fc.string({ minLength, maxLength: Math.max(minLength, Math.min(maxLength, MAX_STRING)), unit: 'grapheme' }), plainString(minLength, Math.min(maxLength, MAX_STRING)))
    .filter(fits);
}

function plainString(minLength: number, maxLength: number, letters: 'a-z' | 'word' = 'word'): fc.Arbitrary<string> {
  const chars = letters === 'a-z' ? 'abcdefghijklmnopqrstuvwxyz' : 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_';
  return fc.string({ unit: fc.constantFrom(...chars), minLength, maxLength: Math.max(minLength, maxLength) });
}

const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** PostgreSQL stores neither a NUL character nor a lone surrogate; the document says so once, for every string. */
function storable(value: unknown): boolean {
  if (typeof value === 'string') return !UNSTORABLE.test(value);
  if (Array.isArray(value)) return value.every(storable);
  if (value !== null && typeof value === 'object') return Object.entries(value).every(([key, item]) => storable(key) && storable(item));
  return true;
}

export function resolveRef(ref: string, components: Record<string, JsonSchema>): JsonSchema {
  const name = ref.replace('#/components/schemas/', '');
  const schema = components[name];
  if (!schema) throw new Error(`unresolved ${ref}`);
  return schema;
}

function withoutKeys(schema: JsonSchema, keys: string[]): JsonSchema {
  return Object.fromEntries(Object.entries(schema).filter(([key]) => !keys.includes(key)));
}
