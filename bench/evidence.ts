/*
 * `npm run bench:evidence` — memory of evidence uploads (issue 14): ten 20 MB files uploaded at
 * once to the BUILT API (as `npm run start:api` runs it), then downloaded at once; reports the
 * API's peak resident set size (VmHWM) against the 250 MB target. Not a timed test.
 * Options: --no-build, --keep-db, --photos N (how many of the ten are photos; default 2).
 * MALLOC_ARENA_MAX=N in the environment overrides the value `start:api` ships with.
 */
import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { signHmac } from '../libs/receipts/src/verifiers/test-signers';
import { ensureBuilt } from './lib/apps';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, log } from './lib/cli';
import type { Options } from './lib/cli';
import { SMALL } from './lib/cli';
import { HMAC_SECRET, createMerchantWithStore, openStage, token } from './lib/setup';

const FILE_BYTES = 20 * 1024 * 1024 - 1024; // just under ATTACHMENT_MAX_BYTES (20 MB)
const FILES = 10;
const TARGET_MB = 250;

/** A PDF of `bytes` (a header and padding: typed from its bytes like any PDF). */
function pdfOf(bytes: number): Buffer {
  const head = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n');
  return Buffer.concat([head, randomBytes(bytes - head.length)]);
}

/** A noisy 18.75 MP JPEG (5000×3750, ~14 MB: noise is the worst case), with EXIF GPS. */
async function photo(): Promise<Buffer> {
  const w = 5000;
  const h = 3750;
  return sharp(randomBytes(w * h * 3), { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 88 })
    .withExif({
      IFD0: { Make: 'BenchPhone' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '30/1 15/1 0/1' },
    })
    .toBuffer();
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const photos = argv.includes('--photos') ? Number(argv[argv.indexOf('--photos') + 1]) : 2;
  const opts: Options = {
    sizes: SMALL,
    scenarios: [],
    cpuProf: false,
    keepDb: argv.includes('--keep-db'),
    noBuild: argv.includes('--no-build'),
  };
  ensureBuilt(opts.noBuild);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const arenas =
    process.env.MALLOC_ARENA_MAX ??
    /MALLOC_ARENA_MAX=(\d+)/.exec(pkg.scripts['start:api'] ?? '')?.[1];
  log(`MALLOC_ARENA_MAX=${arenas ?? '(glibc default)'}`);
  const stage = await openStage('evidence', opts);
  try {
    const api = await stage.startApi({
      ATTACHMENT_MAX_BYTES: String(20 * 1024 * 1024),
      // Profiling: e.g. BENCH_API_NODE_OPTIONS="-r /path/to/memory-sampler.js".
      ...(process.env.BENCH_API_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_API_NODE_OPTIONS }
        : {}),
      // glibc's malloc arenas, as `npm run start:api` sets them (or as given to this command).
      ...(arenas ? { MALLOC_ARENA_MAX: arenas } : {}),
    });
    const store = await createMerchantWithStore(api.url);
    const payer = `bench${randomBytes(4).toString('hex')}`;
    const receiptBody = JSON.stringify({
      provider: 'sunmi-pos',
      tradeNo: `T${randomBytes(8).toString('hex')}`,
      payerId: payer,
      accountId: store.accounts['sunmi-pos'],
      amountMinor: 12800,
      currency: 'CNY',
      paidAt: new Date(Date.now() - 3600_000).toISOString(),
      subject: '电水壶 1.7L',
    });
    const rec = await fetch(`${api.url}/v1/receipts`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hejie-signature': signHmac(receiptBody, HMAC_SECRET),
      },
      body: receiptBody,
    });
    if (rec.status !== 201) throw new Error(`receipt: ${rec.status} ${await rec.text()}`);
    const receipt = (await rec.json()) as { id: string };
    const consumer = `Bearer ${token({ role: 'consumer', sub: `sunmi-pos:${payer}` })}`;
    const created = await fetch(`${api.url}/v1/complaints`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: consumer },
      body: JSON.stringify({
        receiptId: receipt.id,
        category: 'quality',
        demand: { type: 'refund', amountMinor: 12800 },
        description: 'The kettle leaks from the bottom after two uses.',
      }),
    });
    if (created.status !== 201)
      throw new Error(`complaint: ${created.status} ${await created.text()}`);
    const ticket = (await created.json()) as { id: string };

    log(`preparing ${FILES} files (${photos} photos 5000×3750, the rest 20 MB PDFs)…`);
    const files: { name: string; type: string; bytes: Buffer }[] = [];
    for (let i = 0; i < FILES; i++) {
      files.push(
        i < photos
          ? { name: `photo-${i}.jpg`, type: 'image/jpeg', bytes: await photo() }
          : { name: `scan-${i}.pdf`, type: 'application/pdf', bytes: pdfOf(FILE_BYTES) },
      );
    }
    const idle = api.peakRssMb();
    log(`API peak RSS before: ${idle} MB; uploading ${FILES} files at once…`);
    const started = Date.now();
    const results = await Promise.all(
      files.map(async (f) => {
        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(f.bytes)], { type: f.type }), f.name);
        const res = await fetch(`${api.url}/v1/complaints/${ticket.id}/attachments`, {
          method: 'POST',
          headers: { authorization: consumer },
          body: form,
        });
        const body = (await res.json()) as { id?: string; sha256?: string; code?: string };
        const ok =
          res.status === 201 && body.sha256 === createHash('sha256').update(f.bytes).digest('hex');
        return { ...f, status: res.status, ok, body };
      }),
    );
    const uploadMs = Date.now() - started;
    const afterUpload = api.peakRssMb();
    for (const r of results) {
      log(
        `${r.name} (${(r.bytes.length / 1048576).toFixed(1)} MB): ${r.status}${r.ok ? '' : ` ${JSON.stringify(r.body)}`}`,
      );
    }
    log(`uploads: ${uploadMs} ms; API peak RSS ${afterUpload} MB`);
    const downStarted = Date.now();
    await Promise.all(
      results
        .filter((r) => r.body.id)
        .map(async (r) => {
          const res = await fetch(
            `${api.url}/v1/complaints/${ticket.id}/attachments/${r.body.id}?original=true`,
            {
              headers: { authorization: consumer },
            },
          );
          const hash = createHash('sha256');
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
            hash.update(chunk);
          if (hash.digest('hex') !== r.body.sha256)
            throw new Error(`${r.name}: downloaded bytes differ`);
        }),
    );
    const afterDownload = api.peakRssMb();
    log(`downloads: ${Date.now() - downStarted} ms; API peak RSS ${afterDownload} MB`);
    const failed = results.filter((r) => !r.ok).length;
    const verdict =
      afterDownload !== null && afterDownload <= TARGET_MB && !failed ? 'MET' : 'MISSED';
    console.log(
      JSON.stringify(
        {
          files: FILES,
          photos,
          fileMb: 20,
          uploadMs,
          peakRssMb: { idle, afterUpload, afterDownload },
          targetMb: TARGET_MB,
          failed,
          verdict,
        },
        null,
        2,
      ),
    );
  } finally {
    await stage.close();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
