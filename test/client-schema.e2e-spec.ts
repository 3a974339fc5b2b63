/*
 * The dashboards' typed client (apps/web/src/api/schema.d.ts) is generated from the API's own
 * OpenAPI document by `npm run gen:client`. Regenerated here (in a child process, as the npm
 * script runs it: openapi-typescript loads ESM that Jest's CommonJS runtime cannot): a DTO
 * changed without regenerating fails, so the dashboards never compile against an old contract.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const SCHEMA_FILE = join(ROOT, 'apps', 'web', 'src', 'api', 'schema.d.ts');

describe('generated client schema', () => {
  it('apps/web/src/api/schema.d.ts matches the API (else: run npm run gen:client)', () => {
    const fresh = execFileSync(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'scripts/gen-client.ts',
        '--stdout',
      ],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env } },
    );
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    if (committed !== fresh) {
      const a = committed.split('\n');
      const b = fresh.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      throw new Error(
        `stale: run npm run gen:client (first difference at line ${line + 1}: ` +
          `committed ${JSON.stringify(a[line])}, generated ${JSON.stringify(b[line])})`,
      );
    }
    // The ticket's actions are typed from the document (quotes as the project's prettier config says).
    expect(fresh).toMatch(/actions: components\[["']schemas["']\]\[["']TicketAction["']\]\[\]/);
  }, 240_000);
});
