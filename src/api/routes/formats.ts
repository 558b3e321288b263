import { createRoute } from '@hono/zod-openapi';
import { generationCapacity } from '../../db/generation.js';
import { parseFormat } from '../../domain/format.js';
import { randomCodes } from '../../domain/random.js';
import { type AppDeps, newRouter } from '../router.js';
import { errorResponses, jsonBody, jsonResponse, security } from '../schemas/common.js';
import { FormatCheckBody, FormatCheckSchema } from '../schemas/jobs.js';

export function formatRoutes({ sql }: AppDeps) {
  const app = newRouter();
  app.openapi(
    createRoute({ method: 'post', path: '/formats/check', tags: ['Groups'], security,
      description: 'Checks a generation format: the error and its position, or the code length, exact keyspace, entropy, examples and how many codes can still be generated.',
      request: { body: jsonBody(FormatCheckBody) },
      responses: { 200: jsonResponse('What the format gives', FormatCheckSchema), ...errorResponses } }),
    async (c) => {
      const { format: source, quantity } = c.req.valid('json');
      const parsed = parseFormat(source);
      if (!parsed.ok) {
        return c.json({ valid: false, error: parsed.error, length: 0, keyspace: '0', entropyBits: 0, examples: [], maxQuantity: 0 }, 200);
      }
      const { format } = parsed;
      const maxQuantity = await generationCapacity(sql, format);
      const tooMany = quantity !== undefined && quantity > maxQuantity;
      return c.json(
        {
          valid: !tooMany,
          ...(tooMany && { error: { message: `quantity ${quantity} is more than the ${maxQuantity} new codes this format can still produce` } }),
          length: format.length,
          keyspace: format.keyspace.toString(),
          entropyBits: format.entropyBits,
          examples: randomCodes(format, 5),
          maxQuantity,
        },
        200,
      );
    },
  );
  return app;
}
