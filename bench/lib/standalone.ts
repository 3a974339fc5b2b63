import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { ensureBuilt } from './apps';
import { Options, ROOT, ScenarioName, log, parseArgs } from './cli';
import { ScenarioReport, machine, memoryReport, printReport } from './report';
import { isInterrupted } from './setup';

export type Scenario = (opts: Options) => Promise<ScenarioReport>;

/** Runs scenarios one after another, prints each report, the memory figures (5) and the targets. */
export async function runScenarios(
  opts: Options,
  scenarios: [ScenarioName, Scenario][],
): Promise<ScenarioReport[]> {
  const build = ensureBuilt(opts.noBuild);
  const host = await machine();
  log(
    `scale: ${opts.sizes.scale}; build: ${build.note}${opts.maxOldSpaceMb ? `; apps run with --max-old-space-size=${opts.maxOldSpaceMb}` : ''}${opts.maxSemiSpaceMb ? `; apps run with --max-semi-space-size=${opts.maxSemiSpaceMb}` : ''}`,
  );
  for (const [k, v] of Object.entries(host)) log(`${k}: ${v}`);
  const reports: ScenarioReport[] = [];
  const started = Date.now();
  for (const [name, fn] of scenarios) {
    if (isInterrupted()) break;
    log(`── scenario ${name} ──`);
    const t = Date.now();
    const loadBefore = loadavg()[0];
    try {
      const r = await fn(opts);
      r.raw.seconds = (Date.now() - t) / 1000;
      r.notes.push(
        `Took ${Math.round((Date.now() - t) / 1000)} s; 1-minute load average of the machine ${loadBefore.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end (${cpus().length} CPUs; anything above that means the processes queued for CPU).`,
      );
      reports.push(r);
      printReport(r);
    } catch (e) {
      console.error(`scenario ${name} failed:`, e);
      reports.push({
        name,
        title: `${name}: FAILED`,
        tables: [],
        checks: [{ target: `${name} runs`, measured: String(e).slice(0, 200), pass: false }],
        notes: [],
        memory: [],
        raw: {},
      });
    }
  }
  const memory = memoryReport(reports);
  if (memory) printReport(memory);
  const all = [...reports, ...(memory ? [memory] : [])];
  const checks = all.flatMap((r) => r.checks.map((c) => ({ ...c, scenario: r.name })));
  const failed = checks.filter((c) => c.pass === false);
  console.log(
    `\n${checks.length} targets: ${checks.filter((c) => c.pass).length} met, ${failed.length} missed, ${checks.filter((c) => c.pass === null).length} skipped — ${Math.round((Date.now() - started) / 1000)} s`,
  );
  for (const c of failed) console.log(`  missed: [${c.scenario}] ${c.target}: ${c.measured}`);
  const json = opts.json ?? join(ROOT, 'reports', `bench-${opts.sizes.scale}.json`);
  {
    mkdirSync(dirname(json), { recursive: true });
    writeFileSync(
      json,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          scale: opts.sizes.scale,
          maxOldSpaceMb: opts.maxOldSpaceMb ?? null,
          maxSemiSpaceMb: opts.maxSemiSpaceMb ?? null,
          host,
          reports: all,
        },
        null,
        2,
      ),
    );
    log(`figures written to ${json}`);
  }
  return all;
}

export function runStandalone(name: ScenarioName, fn: Scenario): void {
  runScenarios(parseArgs(process.argv.slice(2), name), [[name, fn]])
    .then((reports) => process.exit(reports.some((r) => r.title.endsWith('FAILED')) ? 1 : 0))
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
