import { createRoute } from '@hono/zod-openapi';
import { estimateGenerationCapacity } from '../../db/generation.js';
import { parseFormat } from '../../domain/format.js';
import { randomCodes } from '../../domain/random.js';
import { type AppDeps, newRouter } from '../router.js';
import { errorResponses, jsonBody, jsonResponse, security } from '../schemas/common.js';
import { FormatCheckBody, FormatCheckSchema } from '../schemas/jobs.js';

export function formatRoutes({ sql }: AppDeps) {
  const app = newRouter();
  app.openapi(
    createRoute({ method: 'post', path: '/formats/check', tags: ['Groups'], security,
      description: 'Checks a generation format: the error and its position, or the code length, exact keyspace, entropy, examples and how many codes can still be generated. That count examines at most 50,000 stored codes, so that the check stays fast whatever the database holds; past that it is a lower bound (`maxQuantityIsEstimate: true`), and `quantity` is refused only when it certainly exceeds what is free. Starting a generation counts exactly.',
      request: { body: jsonBody(FormatCheckBody) },
      responses: { 200: jsonResponse('What the format gives', FormatCheckSchema), ...errorResponses } }),
    async (c) => {
      const { format: source, quantity } = c.req.valid('json');
      const parsed = parseFormat(source);
      if (!parsed.ok) {
        return c.json({ valid: false, error: parsed.error, length: 0, keyspace: '0', entropyBits: 0, examples: [], maxQuantity: 0, maxQuantityIsEstimate: false }, 200);
      }
      const { format } = parsed;
      const { maxQuantity, upperBound, isEstimate } = await estimateGenerationCapacity(sql, format);
      // past an estimate's lower bound the quantity may still fit: the generation's exact check decides
      const tooMany = quantity !== undefined && quantity > upperBound;
      return c.json(
        {
          valid: !tooMany,
          ...(tooMany && { error: { message: `quantity ${quantity} is more than the ${upperBound} new codes this format can still produce` } }),
          length: format.length,
          keyspace: format.keyspace.toString(),
          entropyBits: format.entropyBits,
          examples: randomCodes(format, 5),
          maxQuantity,
          maxQuantityIsEstimate: isEstimate,
        },
        200,
      );
    },
  );
  return app;
}
