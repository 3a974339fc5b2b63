import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DomainError } from '@app/shared';
import type { EvidenceType } from './evidence-policy';
import { sniffed } from './media';

/** One part of a multipart body, as the HTTP layer hands it over (fields and files in order). */
export type UploadPart =
  | {
      type: 'file';
      fieldname: string;
      filename?: string;
      /** The part's bytes; `truncated` once the size limit cut it. */
      file: AsyncIterable<Buffer> & Readable & { truncated?: boolean };
    }
  | { type: 'field'; fieldname: string; value: unknown; valueTruncated?: boolean };

/** The form as read: the file spooled to `path`, its type from its bytes, its name and note. */
export interface SpooledForm {
  path: string;
  type: EvidenceType;
  rawName: string | undefined;
  note: string | null;
}

const NOTE_MAX = 2000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function badRequest(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${field}: ${message}`, {}, [{ field, message }]);
}

/**
 * A body that is not well-formed multipart (no boundary, cut short, a broken part header) is
 * the client's error: busboy reports it as a plain Error. Domain errors, Fastify's own (FST_*,
 * mapped by the problem filter) and system errors (a full disk: E…) pass through.
 */
function asClientError(e: unknown): unknown {
  if (e instanceof DomainError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('FST_') || /^E[A-Z]+$/.test(code))) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new DomainError('VALIDATION_FAILED', `malformed multipart body: ${message.slice(0, 200)}`);
}

async function* clientErrors<T>(parts: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* parts;
  } catch (e) {
    throw asClientError(e);
  }
}

function readNote(part: Extract<UploadPart, { type: 'field' }>): string | null {
  if (typeof part.value !== 'string' || part.valueTruncated) {
    throw badRequest('note', `text of at most ${NOTE_MAX} characters`);
  }
  if (part.value.length > NOTE_MAX) throw badRequest('note', `at most ${NOTE_MAX} characters`);
  if (part.value.includes('\u0000') || LONE_SURROGATE.test(part.value)) {
    throw badRequest('note', 'contains U+0000 or an unpaired surrogate');
  }
  return part.value.trim() === '' ? null : part.value;
}

/**
 * Reads the form (one `file`, an optional `note`): the file is typed from its first 4 KiB (a
 * refused type stops there) and written to `path` as it arrives, with the socket's
 * backpressure (nothing but the chunk in hand is held in memory), so a slow client never holds
 * a database connection.
 */
export async function spoolForm(
  parts: AsyncIterable<UploadPart>,
  path: string,
  maxBytes: number,
): Promise<SpooledForm> {
  let type: EvidenceType | undefined;
  let spooled = false;
  let rawName: string | undefined;
  let note: string | null = null;
  for await (const part of clientErrors(parts)) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file' || spooled) {
        part.file.resume();
        throw badRequest(part.fieldname, 'exactly one file part, named "file", is expected');
      }
      try {
        await pipeline(
          sniffed(part.file, (t) => (type = t)),
          createWriteStream(path, { flags: 'wx' }),
        );
      } catch (e) {
        part.file.resume(); // discard the rest, so the client reads our answer
        throw asClientError(e);
      }
      if (part.file.truncated) {
        throw new DomainError('PAYLOAD_TOO_LARGE', `the file exceeds ${maxBytes} bytes`, {
          maxBytes,
        });
      }
      spooled = true;
      rawName = part.filename;
    } else if (part.fieldname === 'note') {
      note = readNote(part);
    } else {
      throw badRequest(part.fieldname, 'unknown part (expected "file" and optional "note")');
    }
  }
  if (!spooled || !type) throw badRequest('file', 'a file part is required');
  return { path, type, rawName, note };
}
