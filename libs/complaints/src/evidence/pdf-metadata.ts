import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { Patch, copyWithPatches } from './patched-copy';

/**
 * A PDF's document metadata, removed without changing the length of anything (ISO 32000-1):
 * every string of the document information dictionary (the trailer's `/Info`: Author,
 * Creator, Producer, Title, dates, custom keys) is overwritten with spaces inside its
 * delimiters (an empty-looking string of the same length), and every metadata stream
 * (`/Type /Metadata`: the XMP packet, which may carry a location, the device and the author) is
 * overwritten with an empty XMP packet padded with spaces. Offsets — the cross-reference table
 * — stay valid, so the document renders as before. Streamed: one scan for where things are,
 * a few bounded reads, one patched copy.
 *
 * Not covered (reported as `complete: false`): an information dictionary stored inside a
 * compressed object stream (PDF 1.5 `/ObjStm`), which cannot be rewritten in place.
 */
export interface PdfMetadataScan {
  patches: Patch[];
  /** false when some metadata could not be reached (see above). */
  complete: boolean;
}

const SCAN_OVERLAP = 256;
const DICT_WINDOW = 64 * 1024;
const EMPTY_XMP =
  '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>';

interface Found {
  objects: Map<string, number[]>;
  infoRefs: Set<string>;
  metadata: number[];
}

/** Where objects start, which objects are `/Info`, where `/Type /Metadata` appears. */
async function locate(path: string): Promise<Found> {
  const found: Found = { objects: new Map(), infoRefs: new Set(), metadata: [] };
  let carry = '';
  let pos = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
    const text = carry + (chunk as Buffer).toString('latin1');
    const base = pos - carry.length;
    const fresh = (m: RegExpExecArray) => m.index + m[0].length > carry.length;
    for (const m of text.matchAll(/(?<![\d])(\d+)\s+(\d+)\s+obj\b/g)) {
      if (!fresh(m)) continue;
      const key = `${m[1]} ${m[2]}`;
      found.objects.set(key, [...(found.objects.get(key) ?? []), base + m.index]);
    }
    for (const m of text.matchAll(/\/Info\s*(\d+)\s+(\d+)\s+R/g)) {
      if (fresh(m)) found.infoRefs.add(`${m[1]} ${m[2]}`);
    }
    for (const m of text.matchAll(/\/Type\s*\/Metadata(?![A-Za-z0-9])/g)) {
      if (fresh(m)) found.metadata.push(base + m.index);
    }
    pos += (chunk as Buffer).length;
    carry = text.slice(-SCAN_OVERLAP);
  }
  return found;
}

async function read(fh: FileHandle, at: number, length: number): Promise<string> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, at);
  return buf.toString('latin1', 0, bytesRead);
}

/**
 * The content of the string (literal, with nesting and escapes, or hex) that starts at
 * `text[i]`, as [start, end) plus the index after it; null when it does not close in the text.
 */
function stringAt(text: string, i: number): { range: [number, number]; next: number } | null {
  if (text[i] === '<') {
    const end = text.indexOf('>', i + 1);
    return end < 0 ? null : { range: [i + 1, end], next: end + 1 };
  }
  let nest = 1;
  let j = i + 1;
  for (; j < text.length && nest > 0; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '(') nest++;
    else if (text[j] === ')') nest--;
  }
  return nest > 0 ? null : { range: [i + 1, j - 1], next: j };
}

/**
 * The dictionary that starts at `text[from]` (`<<`): its string contents as [start, end)
 * ranges, the indirect references among its values (`N G R`, e.g. an Author kept in an object
 * of its own) and where it ends; null when it does not close within the text.
 */
export function dictStrings(
  text: string,
  from: number,
): { ranges: [number, number][]; refs: string[]; end: number } | null {
  const ranges: [number, number][] = [];
  let depth = 0;
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === '%') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
    } else if (c === '<' && text[i + 1] === '<') {
      depth++;
      i += 2;
      continue;
    } else if (c === '>' && text[i + 1] === '>') {
      depth--;
      i += 2;
      if (depth === 0) {
        const refs = [...text.slice(from, i).matchAll(/(?<![\d.])(\d+)\s+(\d+)\s+R\b/g)];
        return { ranges, refs: refs.map((m) => `${m[1]} ${m[2]}`), end: i };
      }
      continue;
    } else if (c === '<' || c === '(') {
      const str = stringAt(text, i);
      if (!str) return null;
      ranges.push(str.range);
      i = str.next;
      continue;
    }
    i++;
  }
  return null;
}

export async function pdfMetadataPatches(path: string): Promise<PdfMetadataScan> {
  const found = await locate(path);
  const fh = await open(path, 'r');
  const patches: Patch[] = [];
  const blank = (at: number, length: number) => {
    if (length > 0) patches.push({ at, length, fill: 0x20 });
  };
  let complete = true;
  try {
    for (const ref of found.infoRefs) {
      const offsets = found.objects.get(ref);
      if (!offsets?.length) {
        complete = false; // in an object stream
        continue;
      }
      for (const at of offsets) {
        const text = await read(fh, at, DICT_WINDOW);
        const head = /^\d+\s+\d+\s+obj\s*<</.exec(text);
        const dict = head ? dictStrings(text, head[0].length - 2) : null;
        if (!dict) {
          complete = false;
          continue;
        }
        for (const [s, e] of dict.ranges) blank(at + s, e - s);
        // Values kept as objects of their own (pdfkit, many producers): `/Author 14 0 R`.
        for (const ref of dict.refs) {
          for (const valueAt of found.objects.get(ref) ?? []) {
            const value = await read(fh, valueAt, DICT_WINDOW);
            const m = /^\d+\s+\d+\s+obj\s*(?=\(|<(?!<))/.exec(value);
            const str = m ? stringAt(value, m[0].length) : null;
            if (str) blank(valueAt + str.range[0], str.range[1] - str.range[0]);
          }
        }
      }
    }
    for (const at of found.metadata) {
      const text = await read(fh, at, DICT_WINDOW);
      const stream = /\bstream(\r\n|\n|\r)/.exec(text);
      if (!stream) continue; // a /Type /Metadata that is not a stream's (a plain dictionary)
      const start = at + stream.index + stream[0].length;
      const end = await indexOf(fh, 'endstream', start);
      if (end < 0) {
        complete = false;
        continue;
      }
      const length = end - start;
      const plain = !/\/Filter/.test(text.slice(0, stream.index));
      const body =
        plain && length >= EMPTY_XMP.length
          ? Buffer.from(EMPTY_XMP.padEnd(length, ' '), 'latin1')
          : Buffer.alloc(length, 0x20);
      patches.push({ at: start, bytes: body });
    }
  } finally {
    await fh.close();
  }
  return { patches, complete };
}

/** The position of `needle` at or after `from`, reading 64 KiB at a time; -1 if absent. */
async function indexOf(fh: FileHandle, needle: string, from: number): Promise<number> {
  let at = from;
  for (;;) {
    const text = await read(fh, at, DICT_WINDOW);
    if (!text.length) return -1;
    const i = text.indexOf(needle);
    if (i >= 0) return at + i;
    if (text.length < DICT_WINDOW) return -1;
    at += text.length - needle.length;
  }
}

/**
 * Writes `to` as `from` without its document metadata. Returns whether a copy was written
 * (false: nothing to remove) and whether every piece of metadata could be reached.
 */
export async function stripPdfFile(
  from: string,
  to: string,
): Promise<{ written: boolean; complete: boolean }> {
  const { patches, complete } = await pdfMetadataPatches(from);
  if (!patches.length) return { written: false, complete };
  await copyWithPatches(from, to, patches);
  return { written: true, complete };
}
