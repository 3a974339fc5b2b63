/*
 * The OpenAPI document at /docs-json is what integrators and the dashboards' client read: it must
 * pass Redocly's recommended rules with no error and no warning (`redocly lint`, the same CLI an
 * integrator would run).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp } from './helpers/test-app';
import type { TestApp } from './helpers/test-app';

const REDOCLY = join(__dirname, '..', 'node_modules', '.bin', 'redocly');

interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer: string }[];
}

describe('OpenAPI document', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it("passes Redocly's recommended rules with 0 errors and 0 warnings", async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    const file = join(mkdtempSync(join(tmpdir(), 'hejie-openapi-')), 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    let out: string;
    try {
      out = execFileSync(REDOCLY, ['lint', file, '--extends=recommended', '--format=json'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      out = (e as { stdout: string }).stdout; // exit 1 when there are errors
    }
    const { problems } = JSON.parse(out) as { problems: LintProblem[] };
    const listed = problems.map(
      (p) => `${p.severity} ${p.ruleId}: ${p.message} @ ${p.location[0]?.pointer ?? ''}`,
    );
    expect(listed).toEqual([]);
  });
});
