import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AUTHOR,
  DEVICE,
  GPS_XMP,
  LAT_LON,
  mp4WithLocation,
  pdfWithMetadata,
} from '../../../../test/helpers/evidence-samples';
import { copyBinaryValue } from './blob-store';
import { mp4MetadataPatches, stripMp4File } from './mp4-metadata';
import { dictStrings, stripPdfFile } from './pdf-metadata';

/** Top-level boxes: [type, size]. */
function topBoxes(b: Buffer): [string, number][] {
  const out: [string, number][] = [];
  for (let pos = 0; pos + 8 <= b.length;) {
    const size = b.readUInt32BE(pos);
    out.push([b.toString('latin1', pos + 4, pos + 8), size]);
    pos += size;
  }
  return out;
}

describe('metadata of PDFs and MP4s, removed in place', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hejie-meta-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('an MP4: udta/meta become free boxes of the same size, zeroed; chunk offsets still point at the same bytes', async () => {
    const { file, chunkOffset, frame } = mp4WithLocation();
    expect(file.toString('latin1')).toContain(LAT_LON);
    const from = join(dir, 'in.mp4');
    const to = join(dir, 'out.mp4');
    await writeFile(from, file);
    expect(await stripMp4File(from, to)).toBe(true);
    const out = await readFile(to);
    expect(out.length).toBe(file.length);
    expect(out.toString('latin1')).not.toContain(LAT_LON.slice(0, 8));
    expect(out.toString('utf8')).not.toContain(DEVICE);
    expect(out.toString('latin1')).not.toContain('com.apple.quicktime.location');
    expect(out.toString('latin1')).not.toMatch(/udta|meta/);
    expect(topBoxes(out)).toEqual(topBoxes(file));
    expect(out.subarray(chunkOffset, chunkOffset + frame.length)).toEqual(frame);
    // Everything outside the metadata boxes is byte for byte the original.
    const differing = [...out.keys()].filter((i) => out[i] !== file[i]);
    const moovStart = topBoxes(file)[0][1];
    expect(Math.min(...differing)).toBeGreaterThan(moovStart);
    expect(Math.max(...differing)).toBeLessThan(chunkOffset - 8);
    // The input is untouched, and a file without metadata gives no copy.
    expect(await readFile(from)).toEqual(file);
    await writeFile(join(dir, 'clean.mp4'), out);
    expect(await mp4MetadataPatches(join(dir, 'clean.mp4'))).toEqual([]);
    expect(await stripMp4File(join(dir, 'clean.mp4'), join(dir, 'clean-out.mp4'))).toBe(false);
  });

  it('a PDF: Info strings blanked and the XMP packet emptied, same length, still a valid PDF with its text', async () => {
    const pdf = await pdfWithMetadata();
    const from = join(dir, 'in.pdf');
    const to = join(dir, 'out.pdf');
    await writeFile(from, pdf);
    const info = (f: string) => execFileSync('pdfinfo', ['-meta', f], { encoding: 'utf8' });
    expect(info(from)).toContain(AUTHOR);
    expect(info(from)).toContain(GPS_XMP);
    expect(info(from)).toContain(DEVICE);

    expect(await stripPdfFile(from, to)).toEqual({ written: true, complete: true });
    const out = await readFile(to);
    expect(out.length).toBe(pdf.length);
    const text = out.toString('latin1');
    for (const secret of [AUTHOR, GPS_XMP, DEVICE, 'ScanKit', 'GPSLatitude']) {
      expect(text).not.toContain(secret);
    }
    // poppler reads it without complaint (the xref offsets are intact) and finds the text.
    expect(info(to)).not.toContain(AUTHOR);
    const after = execFileSync('pdfinfo', [to], { encoding: 'utf8' });
    expect(after).not.toContain(AUTHOR);
    expect(after).not.toContain(DEVICE);
    expect(after).toMatch(/Pages:\s+1/);
    expect(execFileSync('pdftotext', [to, '-'], { encoding: 'utf8' })).toContain('Invoice 2026-11');
  });

  it('a PDF whose /Info lives in a compressed object stream is reported incomplete; one without metadata gives no copy', async () => {
    const objstm = Buffer.from(
      '%PDF-1.5\n1 0 obj\n<< /Type /Catalog >>\nendobj\n' +
        'trailer\n<< /Root 1 0 R /Info 7 0 R >>\n%%EOF\n',
    );
    await writeFile(join(dir, 'objstm.pdf'), objstm);
    expect(await stripPdfFile(join(dir, 'objstm.pdf'), join(dir, 'objstm-out.pdf'))).toEqual({
      written: false,
      complete: false,
    });
    const bare = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n');
    await writeFile(join(dir, 'bare.pdf'), bare);
    expect(await stripPdfFile(join(dir, 'bare.pdf'), join(dir, 'bare-out.pdf'))).toEqual({
      written: false,
      complete: true,
    });
  });

  it('dictStrings finds literal (nested, escaped) and hex strings, and nothing in a dictionary that does not close', () => {
    const d =
      '<< /Author (a (b) \\) c) /Title <FEFF0041> /N << /X (y) >> /Creator 14 0 R >> trailing (z)';
    const dict = dictStrings(d, 0)!;
    expect(dict.ranges.map(([s, e]) => d.slice(s, e))).toEqual(['a (b) \\) c', 'FEFF0041', 'y']);
    expect(dict.refs).toEqual(['14 0']);
    expect(d.slice(dict.end)).toBe(' trailing (z)');
    expect(dictStrings('<< /Author (open', 0)).toBeNull();
  });

  it('COPY binary output: the value of the one bytea field, or null without a row', () => {
    const header = Buffer.concat([
      Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
      Buffer.alloc(8), // flags, extension length 0
    ]);
    const row = Buffer.alloc(6);
    row.writeInt16BE(1, 0);
    row.writeInt32BE(3, 2);
    const trailer = Buffer.from([0xff, 0xff]);
    expect(copyBinaryValue(Buffer.concat([header, row, Buffer.from('abc'), trailer]))).toEqual(
      Buffer.from('abc'),
    );
    expect(copyBinaryValue(Buffer.concat([header, trailer]))).toBeNull();
    expect(() => copyBinaryValue(Buffer.from('not copy output at all'))).toThrow();
  });
});
