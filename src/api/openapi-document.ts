import type { OpenAPIHono } from '@hono/zod-openapi';

type Document = ReturnType<OpenAPIHono['getOpenAPI31Document']>;
type Schema = Record<string, unknown> & { properties?: Record<string, unknown> };

/**
 * The schemas the generator cannot write as they are enforced. A segment filter is validated as
 * one strict object (so that an error points into the branch that was meant) whose one rule —
 * exactly one of its keys — becomes, in the document, a `oneOf` of single-key objects.
 */
export function refineDocument(document: Document): Document {
  const schemas = (document.components?.schemas ?? {}) as Record<string, Schema>;
  const filter = schemas.SegmentFilter;
  if (filter?.properties) {
    const { properties, type: _type, additionalProperties: _additional, ...rest } = filter;
    schemas.SegmentFilter = {
      ...rest,
      oneOf: Object.entries(properties).map(([key, schema]) => ({
        type: 'object',
        properties: { [key]: schema },
        required: [key],
        additionalProperties: false,
      })),
    };
  }
  return document;
}
