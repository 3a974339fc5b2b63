import multipart from '@fastify/multipart';
import { errorCodes } from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The only route that takes multipart/form-data (evidence uploads). */
export const MULTIPART_ROUTES: ReadonlySet<string> = new Set([
  'POST /v1/complaints/:id/attachments',
]);

const isMultipart = (req: FastifyRequest) =>
  /^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '');

/**
 * @fastify/multipart, for the attachments route only: the plugin's parser does not read the
 * body (the controller streams the parts), and any other route refuses a multipart body with
 * 415 before reading it, as it did before the plugin was registered. Limits: one file of at
 * most `maxFileBytes` (busboy cuts it there and the upload is refused with 413), a few small
 * text fields.
 */
export async function registerMultipart(
  fastify: FastifyInstance,
  maxFileBytes: number,
): Promise<void> {
  await fastify.register(multipart, {
    throwFileSizeLimit: false,
    limits: {
      fileSize: maxFileBytes,
      files: 2, // a second file is refused by the service with 400, not as a parser limit
      fields: 4,
      parts: 6,
      fieldSize: 16 * 1024,
      headerPairs: 50,
    },
  });
  fastify.addHook('preParsing', async (req, _reply, payload) => {
    if (isMultipart(req) && !MULTIPART_ROUTES.has(`${req.method} ${req.routeOptions.url}`)) {
      throw new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(req.headers['content-type']);
    }
    return payload;
  });
}
