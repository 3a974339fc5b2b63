import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';

/**
 * @fastify/multipart, for the attachments route only (http/body-policy.ts refuses a multipart
 * body on any other route with 415 before reading it): the plugin's parser does not read the
 * body (the controller streams the parts). Limits: one file of at
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
}
