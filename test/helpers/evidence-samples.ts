/*
 * Evidence files as phones and apps write them, with a location and the device in their
 * metadata: a PDF (pdfkit, document information + an XMP packet with EXIF GPS) and an MP4
 * (QuickTime `udta` with `©xyz`/`©mak`/`©mod`, an Apple `meta` location key, a chunk offset
 * table pointing into `mdat`).
 */
import PDFDocument from 'pdfkit';

export const LAT_LON = '+30.2500+120.1667/';
export const DEVICE = 'iPhone 15 Pro';
export const AUTHOR = 'Zhang San';
export const GPS_XMP = '30,15.0000N';

/** A PDF 1.4 with Author/Creator/Producer and an XMP packet carrying EXIF GPS. */
export function pdfWithMetadata(text = 'Invoice 2026-11 kettle 128.00 CNY'): Promise<Buffer> {
  const doc = new PDFDocument({
    pdfVersion: '1.4',
    info: {
      Title: 'Invoice',
      Author: AUTHOR,
      Creator: `Scanner on ${DEVICE}`,
      Producer: 'ScanKit 3.1 (GPS tagging on)',
    },
  });
  doc.appendXML(`
        <rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/">
            <exif:GPSLatitude>${GPS_XMP}</exif:GPSLatitude>
            <exif:GPSLongitude>120,10.0000E</exif:GPSLongitude>
        </rdf:Description>`);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve) =>
    doc.on('end', () => resolve(Buffer.concat(chunks))),
  );
  doc.fontSize(14).text(text);
  doc.end();
  return done;
}

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}
const fullBox = (type: string, ...payload: Buffer[]) => box(type, Buffer.alloc(4), ...payload);
/** A QuickTime user-data text item: 16-bit length, 16-bit language, the text. */
function qtText(type: string, text: string): Buffer {
  const t = Buffer.from(text, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt16BE(t.length, 0);
  return box(type, head, t);
}

/**
 * An MP4 whose `moov` comes first and whose one chunk offset (`stco`) points at FRAME inside
 * `mdat`. Returns the file and that offset.
 */
export function mp4WithLocation(): { file: Buffer; chunkOffset: number; frame: Buffer } {
  const frame = Buffer.from('FRAME-0001-not-really-h264-but-bytes-a-player-would-read');
  const build = (offset: number) => {
    const stco = Buffer.alloc(8);
    stco.writeUInt32BE(1, 0);
    stco.writeUInt32BE(offset, 4);
    const trak = box(
      'trak',
      fullBox('tkhd', Buffer.alloc(80)),
      box(
        'mdia',
        fullBox('mdhd', Buffer.alloc(20)),
        fullBox('hdlr', Buffer.alloc(4), Buffer.from('vide'), Buffer.alloc(13)),
        box('minf', box('stbl', fullBox('stco', stco))),
      ),
      box('udta', qtText('\xa9mod', DEVICE)),
    );
    const udta = box(
      'udta',
      qtText('\xa9xyz', LAT_LON),
      qtText('\xa9mak', 'Apple'),
      qtText('\xa9mod', DEVICE),
    );
    const key = Buffer.from('com.apple.quicktime.location.ISO6709');
    const keys = fullBox(
      'keys',
      Buffer.from([0, 0, 0, 1]),
      (() => {
        const h = Buffer.alloc(8);
        h.writeUInt32BE(8 + key.length, 0);
        h.write('mdta', 4, 'latin1');
        return Buffer.concat([h, key]);
      })(),
    );
    const ilst = box(
      'ilst',
      box(
        '\x00\x00\x00\x01',
        box('data', Buffer.from([0, 0, 0, 1, 0, 0, 0, 0]), Buffer.from(LAT_LON)),
      ),
    );
    const meta = box(
      'meta',
      fullBox('hdlr', Buffer.alloc(4), Buffer.from('mdta'), Buffer.alloc(13)),
      keys,
      ilst,
    );
    const ftyp = box(
      'ftyp',
      Buffer.from('isom'),
      Buffer.from([0, 0, 2, 0]),
      Buffer.from('isomiso2mp41'),
    );
    const moov = box('moov', fullBox('mvhd', Buffer.alloc(96)), trak, udta, meta);
    const mdat = box('mdat', frame, Buffer.alloc(4096, 0x11));
    return { ftyp, moov, mdat };
  };
  const first = build(0);
  const chunkOffset = first.ftyp.length + first.moov.length + 8;
  const { ftyp, moov, mdat } = build(chunkOffset);
  return { file: Buffer.concat([ftyp, moov, mdat]), chunkOffset, frame };
}
