/*
 * `npm run bench:evidence` — memory of evidence uploads (issue 14): ten 20 MB files uploaded at
 * once to the BUILT API (as `npm run start:api` runs it: its V8 flags and MALLOC_ARENA_MAX),
 * then downloaded at once. Reports the API's peak resident set size (VmHWM) of each phase — the
 * peak is reset between phases (/proc/<pid>/clear_refs) — against the 250 MB target and
 * against the baseline of the same process in the same run: its peak from boot through a
 * the setup requests, before any upload. Not a timed test.
 * Options: --no-build, --keep-db, --photos N (how many of the ten are photos; default 2).
 * MALLOC_ARENA_MAX=N in the environment overrides the value `start:api` ships with;
 * BENCH_API_NODE_OPTIONS adds NODE_OPTIONS to the API (e.g. `-r <a memory sampler>`).
 */
import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { signHmac } from '../libs/receipts/src/verifiers/test-signers';
import { ensureBuilt } from './lib/apps';
import { readFileSync, writeFileSync } from 'node:fs';
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

/** V8 flags of `npm run start:api` other than the heap limit (the stage passes that one). */
function shippedV8Flags(startApi: string): string[] {
  return (startApi.match(/--[\w-]+=\S+/g) ?? []).filter(
    (f) => !f.startsWith('--max-old-space-size='),
  );
}

/** Resets the peak RSS (VmHWM) of a process to its current RSS (Linux, own processes). */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
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
    const v8Flags = shippedV8Flags(pkg.scripts['start:api'] ?? '');
    const nodeOptions = [...v8Flags, process.env.BENCH_API_NODE_OPTIONS ?? ''].join(' ').trim();
    log(`API flags as shipped: ${v8Flags.join(' ') || '(none besides the heap limit)'}`);
    const api = await stage.startApi({
      ATTACHMENT_MAX_BYTES: String(20 * 1024 * 1024),
      // start:api's V8 flags (e.g. --max-semi-space-size), through NODE_OPTIONS.
      ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
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
    const baseline = api.peakRssMb();
    log(
      `API peak RSS from boot to now (baseline): ${baseline} MB; uploading ${FILES} files at once…`,
    );
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
    const uploadPeak = api.peakRssMb();
    for (const r of results) {
      log(
        `${r.name} (${(r.bytes.length / 1048576).toFixed(1)} MB): ${r.status}${r.ok ? '' : ` ${JSON.stringify(r.body)}`}`,
      );
    }
    log(`uploads: ${uploadMs} ms; API peak RSS ${uploadPeak} MB`);
    const reset = resetPeak(api.pid);
    const beforeDownload = api.peakRssMb();
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
    const downloadPeak = api.peakRssMb();
    const downloadMs = Date.now() - downStarted;
    log(
      `downloads: ${downloadMs} ms; API peak RSS ${downloadPeak} MB` +
        (reset ? ` (peak reset to ${beforeDownload} MB before them)` : ' (peak not resettable)'),
    );
    const failed = results.filter((r) => !r.ok).length;
    const over = (mb: number | null) => (mb === null || baseline === null ? null : mb - baseline);
    const meets = (mb: number | null) => mb !== null && mb <= TARGET_MB;
    const verdict = meets(uploadPeak) && meets(downloadPeak) && !failed ? 'MET' : 'MISSED';
    console.log(
      [
        '',
        `| phase (${FILES} × 20 MB, ${photos} photos) | peak RSS MB | over baseline | target ≤ ${TARGET_MB} MB |`,
        '|---|---:|---:|---|',
        `| baseline: boot + setup requests, no upload | ${baseline} | – | ${meets(baseline) ? 'met' : 'MISSED'} |`,
        `| ten uploads at once (${uploadMs} ms) | ${uploadPeak} | +${over(uploadPeak)} | ${meets(uploadPeak) ? 'met' : 'MISSED'} |`,
        `| ten downloads at once (${downloadMs} ms) | ${downloadPeak} | +${over(downloadPeak)} | ${meets(downloadPeak) ? 'met' : 'MISSED'} |`,
        '',
      ].join('\n'),
    );
    console.log(
      JSON.stringify(
        {
          files: FILES,
          photos,
          fileMb: 20,
          uploadMs,
          downloadMs,
          apiFlags: v8Flags,
          peakRssMb: { baseline, uploads: uploadPeak, downloads: downloadPeak },
          peakResetBetweenPhases: reset,
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
