import { applyDecorators, HttpCode, Post, Type } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { SignedBody } from '@app/receipts';
import { DomainError } from '@app/shared';
import type { ErrorCode } from '@app/shared';
import { ApiProblems } from '../http/api-problems';
import { Public } from '../http/auth';
import { BatchResponse } from './receipts.dto';

export function requireContentType(req: FastifyRequest, expected: RegExp, name: string): string {
  const ct = String(req.headers['content-type'] ?? '');
  if (!expected.test(ct)) {
    throw new DomainError(
      'UNSUPPORTED_MEDIA_TYPE',
      `this route takes ${name}, not "${ct || 'nothing'}"`,
    );
  }
  return ct;
}

export function headerMap(req: FastifyRequest): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers))
    out[k.toLowerCase()] = Array.isArray(v) ? v[0] : v;
  return out;
}

/** What a route signed with X-Hejie-Signature reads: body, signature, media type, key id. */
function signed(req: FastifyRequest, expected: RegExp, name: string): SignedBody {
  const contentType = requireContentType(req, expected, name);
  const h = headerMap(req);
  return {
    rawBody: req.rawBodyBytes ?? req.rawBody ?? '',
    signature: h['x-hejie-signature'],
    contentType,
    keyId: h['x-hejie-key-id'],
  };
}

/** A signed JSON body (POST /v1/receipts, POST /v1/refunds). */
export function signedJson(req: FastifyRequest) {
  return signed(req, /^application\/json\b/i, 'application/json');
}

/** A signed NDJSON batch (POST /v1/receipts/batch, POST /v1/refunds/batch). */
export function signedBatch(req: FastifyRequest) {
  return signed(req, /^application\/(x-ndjson|jsonl|jsonlines)\b/i, 'application/x-ndjson');
}

/** The decorators of a signed generic JSON route (receipts and refunds): one contract. */
export function SignedJsonRoute(o: {
  summary: string;
  description: string;
  body: Type;
  response: Type;
  /** "new <noun>" (201), "the same <noun> again" (200). */
  noun: string;
  /** Problems of this route beyond those of every signed intake. */
  moreProblems?: ErrorCode[];
}) {
  return applyDecorators(
    Post(),
    Public(),
    ApiOperation({ summary: o.summary, description: o.description }),
    // applyDecorators applies these in the reverse order of stacked decorators: the document
    // lists the key id first, as before.
    ApiHeader({ name: 'X-Hejie-Key-Id', required: false, example: 'pos-vendor-1' }),
    ApiHeader({ name: 'X-Hejie-Signature', required: true, example: 'sha256=9f86d081…' }),
    ApiBody({ type: o.body }),
    ApiCreatedResponse({ type: o.response, description: `new ${o.noun}` }),
    ApiOkResponse({ type: o.response, description: `the same ${o.noun} again` }),
    ApiProblems(
      'VALIDATION_FAILED',
      'RECEIPT_SIGNATURE_INVALID',
      'RECEIPT_CONFLICT',
      ...(o.moreProblems ?? []),
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'PROVIDER_NOT_CONFIGURED',
      'PROVIDER_RESERVED',
    ),
  );
}

/** The decorators of a signed NDJSON batch route (receipts and refunds): one contract. */
export function NdjsonBatchRoute(summary: string, description: string) {
  return applyDecorators(
    Post('batch'),
    Public(),
    HttpCode(200),
    ApiOperation({ summary, description }),
    ApiConsumes('application/x-ndjson'),
    ApiHeader({ name: 'X-Hejie-Signature', required: true }),
    ApiHeader({ name: 'X-Hejie-Key-Id', required: false }),
    ApiOkResponse({ type: BatchResponse }),
    ApiProblems(
      'RECEIPT_SIGNATURE_INVALID',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'RATE_LIMITED',
      'PROVIDER_NOT_CONFIGURED',
    ),
  );
}
