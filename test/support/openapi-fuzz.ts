import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { type JsonSchema, resolveRef, schemaArbitrary, type SchemaArbitraryOptions } from './schema-arbitrary.js';

// ajv-formats is CommonJS: its default export arrives wrapped
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

export interface Operation {
  method: string;
  path: string;
  spec: JsonSchema;
}

export interface FuzzRequest {
  method: string;
  url: string;
  contentType?: string;
  body?: string;
  /** whether the request is valid against the document: what the server may refuse it for is then limited */
  valid: boolean;
  /** what was broken, for a failure's message */
  mutation?: string;
  /** sent without credentials: refused before anything else */
  anonymous?: boolean;
}

export function operationsOf(document: JsonSchema): Operation[] {
  return Object.entries(document.paths as Record<string, Record<string, JsonSchema>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, spec]) => ({ method: method.toUpperCase(), path, spec })),
  );
}

/** Validators for the document's schemas, its component references resolved. */
export function documentValidator(document: JsonSchema) {
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true, coerceTypes: false }));
  ajv.addSchema({ $id: 'doc', components: document.components });
  const cache = new Map<JsonSchema, ValidateFunction>();
  const validator = (schema: JsonSchema) => {
    let validate = cache.get(schema);
    if (!validate) {
      validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')));
      cache.set(schema, validate);
    }
    return validate;
  };
  return {
    validate(schema: JsonSchema, value: unknown): string | undefined {
      const validate = validator(schema);
      return validate(value) ? undefined : ajv.errorsText(validate.errors);
    },
  };
}

type Validator = ReturnType<typeof documentValidator>;

interface Part {
  value: unknown;
  /** sent as it is instead of the value's JSON */
  raw?: string;
  unstorable?: boolean;
  mutation?: string;
}

/**
 * Requests for one operation: mostly valid against the document, path ids drawn from rows that
 * exist as well as from the id pattern, and about a third broken in one place (a required field
 * dropped, an unknown one added, a wrong type, a NUL character, a number out of range).
 */
export function requestArbitrary(
  operation: Operation,
  options: SchemaArbitraryOptions & { pathIds: (path: string) => string[] },
  validator: Validator,
): fc.Arbitrary<FuzzRequest> {
  const { spec } = operation;
  const parameters: JsonSchema[] = spec.parameters ?? [];
  const pathParameters = parameters.filter((p) => p.in === 'path');
  const queryParameters = parameters.filter((p) => p.in === 'query');
  const known = options.pathIds(operation.path);

  const pathPart: fc.Arbitrary<Record<string, unknown>> = fc.record(
    Object.fromEntries<fc.Arbitrary<unknown>>(
      pathParameters.map((p) => [p.name, known.length > 0 ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: schemaArbitrary(p.schema, options) }) : schemaArbitrary(p.schema, options)]),
    ),
  );
  const queryPart: fc.Arbitrary<Record<string, unknown>> = fc.record(Object.fromEntries<fc.Arbitrary<unknown>>(queryParameters.map((p) => [p.name, schemaArbitrary(p.schema, options)])), {
    requiredKeys: queryParameters.filter((p) => p.required).map((p) => p.name),
  });
  const [contentType, media] = Object.entries((spec.requestBody?.content ?? {}) as Record<string, JsonSchema>)[0] ?? [];
  const bodySchema: JsonSchema | undefined = media?.schema;
  // a text body is any text: what it holds is the operation's to judge (a line-by-line report)
  const bodyPart: fc.Arbitrary<Part | undefined> = !bodySchema
    ? fc.constant(undefined)
    : contentType?.startsWith('text/')
      ? fc.oneof(schemaArbitrary(bodySchema, options), fc.constant('line one\n\u0000two')).map((value) => ({ value, unstorable: String(value).includes('\u0000') }))
      : schemaArbitrary(bodySchema, options).chain((value) =>
          fc.oneof({ weight: 2, arbitrary: fc.constant<Part>({ value }) }, { weight: 1, arbitrary: mutated(value, bodySchema, options.components) }),
        );
  const brokenQuery = queryParameters.length > 0 ? fc.option(fc.constantFrom(...queryParameters.map((p) => p.name)), { freq: 6 }) : fc.constant(null);

  return fc.tuple(pathPart, queryPart, bodyPart, brokenQuery, fc.nat(9)).map(([path, query, body, broken, dice]) => {
    const url = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(path[name])));
    const search = new URLSearchParams(Object.entries(query).map(([key, value]): [string, string] => [key, String(value)]));
    let valid = pathParameters.every((p) => validator.validate(p.schema, path[p.name]) === undefined);
    let mutation: string | undefined;
    if (broken) {
      search.set(broken, 'not a value: \u0000');
      mutation = `query ${broken}`;
      valid = false;
    }
    const request: FuzzRequest = { method: operation.method, url: search.size > 0 ? `${url}?${search}` : url, valid, ...(mutation && { mutation }), ...(dice === 0 && { anonymous: true }) };
    if (body && contentType) {
      request.contentType = contentType;
      request.body = body.raw ?? encodeBody(contentType, body.value);
      // a NUL character breaks the document's one global rule; anything else, the schema decides
      request.valid &&= body.raw === undefined && !body.unstorable && validator.validate(bodySchema!, body.value) === undefined;
      if (body.mutation) request.mutation = body.mutation;
    }
    return request;
  });
}

function encodeBody(contentType: string, value: unknown): string {
  if (contentType === 'application/x-ndjson') return `${JSON.stringify(value)}\n`;
  if (contentType.startsWith('text/')) return String(value);
  return JSON.stringify(value);
}

/** The value changed in one place, mostly in ways the schema refuses. */
function mutated(value: unknown, schema: JsonSchema, components: Record<string, JsonSchema>): fc.Arbitrary<Part> {
  const resolved = schema.$ref ? resolveRef(schema.$ref, components) : schema;
  const mutations: fc.Arbitrary<Part>[] = [
    fc.constant({ value: 42, mutation: 'a number for the body' }),
    fc.constant({ value: undefined, raw: '{"unfinished": ', mutation: 'malformed JSON' }),
  ];
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    mutations.push(fc.constant({ value: { ...record, unexpectedField: 1 }, mutation: 'an unknown field' }));
    for (const key of (resolved.required ?? []) as string[]) {
      const { [key]: _, ...rest } = record;
      mutations.push(fc.constant({ value: rest, mutation: `without ${key}` }));
    }
    for (const [key, field] of Object.entries(record)) {
      if (typeof field === 'string') mutations.push(fc.constant({ value: { ...record, [key]: `${field}\u0000` }, unstorable: true, mutation: `a NUL in ${key}` }));
      if (typeof field === 'number') mutations.push(fc.constant({ value: { ...record, [key]: -1e12 - 0.5 }, mutation: `a fraction out of range in ${key}` }));
      mutations.push(fc.constant({ value: { ...record, [key]: [[{ nested: true }]] }, mutation: `a list of lists in ${key}` }));
    }
  }
  return fc.oneof(...mutations);
}

/** Every way the answer to a request could contradict the document; empty when it keeps to it. */
export function contradictions(
  operation: Operation,
  request: FuzzRequest,
  answer: { status: number; contentType: string; body: unknown },
  validator: Validator,
  components: Record<string, JsonSchema>,
): string[] {
  const found: string[] = [];
  const responses = operation.spec.responses as Record<string, JsonSchema>;
  const declared = responses[String(answer.status)];
  if (answer.status >= 500) found.push(`a ${answer.status}`);
  if (request.anonymous && answer.status !== 401 && answer.status !== 429) found.push(`a request without credentials was answered ${answer.status}`);
  if (!declared) found.push(`status ${answer.status} is not in the document`);
  if (!request.valid && answer.status < 400 && !reportedAsInvalidLine(request, answer.body)) {
    found.push(`an invalid request (${request.mutation ?? 'a path or query value'}) was accepted`);
  }
  const mediaType = answer.contentType.split(';')[0]!.trim();
  const schema = declared?.content?.[mediaType]?.schema;
  if (declared?.content && !schema) found.push(`content type ${mediaType} is not declared for ${answer.status}`);
  if (schema && /json/.test(mediaType)) {
    const error = validator.validate(schema, answer.body);
    if (error) found.push(`the ${answer.status} body contradicts its schema: ${error}`);
  }
  if (request.valid && answer.status === 400) {
    const documented = documentedChecks(operation, components);
    const errors = (answer.body as { errors?: { path: string }[] }).errors ?? [{ path: '(none)' }];
    for (const { path } of errors) {
      const leaf = path.replace(/\[\d+\]/g, '').split('.').at(-1)!;
      if (!documented.includes(`\`${path}\``) && !documented.includes(`\`${leaf}\``)) found.push(`a schema-valid request was refused at ${path}, a rule the operation does not document`);
    }
  }
  return found;
}

/** An upload of lines (NDJSON, text) answers a report: a bad line is refused in it, by line number, rather than by the request's status. */
function reportedAsInvalidLine(request: FuzzRequest, body: unknown): boolean {
  const lineBased = request.contentType === 'application/x-ndjson' || request.contentType?.startsWith('text/');
  const report = body as { invalid?: unknown[] | number };
  return Boolean(lineBased && (Array.isArray(report.invalid) ? report.invalid.length > 0 : report.invalid !== undefined));
}

/** The text where an operation documents the rules the schema cannot state: its description, and those of its parameters and body. */
function documentedChecks(operation: Operation, components: Record<string, JsonSchema>): string {
  const texts: string[] = [operation.spec.description ?? ''];
  const seen = new Set<string>();
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(collect);
    if (node === null || typeof node !== 'object') return;
    const { $ref, description, ...rest } = node as JsonSchema;
    if (typeof description === 'string') texts.push(description);
    if (typeof $ref === 'string' && !seen.has($ref)) {
      seen.add($ref);
      collect(resolveRef($ref, components));
    }
    Object.values(rest).forEach(collect);
  };
  collect(operation.spec.parameters);
  collect(operation.spec.requestBody);
  return texts.join('\n');
}
