/*
 * `npm run bench` — every scenario at a small scale (a few minutes); `npm run bench -- --full`
 * at the sizes; `npm run bench -- escalation stats` for some of them. See
 * docs/PERFORMANCE.md. Each scenario also runs alone: bench/<scenario>.ts.
 */
import { complaints } from './complaints';
import { escalation } from './escalation';
import { intake } from './intake';
import { refunds } from './refunds';
import { stats } from './stats';
import { ScenarioName, parseArgs } from './lib/cli';
import { Scenario, runScenarios } from './lib/standalone';

const ALL: Record<ScenarioName, Scenario> = { intake, complaints, escalation, stats, refunds };

const opts = parseArgs(process.argv.slice(2));
runScenarios(
  opts,
  opts.scenarios.map((n) => [n, ALL[n]]),
)
  .then((reports) => {
    const failedToRun = reports.some((r) => r.title.endsWith('FAILED'));
    process.exit(failedToRun ? 1 : 0);
  })
  .catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
