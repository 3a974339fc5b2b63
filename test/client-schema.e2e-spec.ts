/*
 * The API's contract as a file: docs/openapi.json, written by `npm run gen:client` from the API's
 * own OpenAPI document, and the dashboards' typed client (apps/web/src/api/schema.d.ts, not
 * committed) generated from it by `npm run gen:types` before lint, typecheck and build:web.
 * Regenerated here (in child processes, as the npm scripts run them: openapi-typescript loads ESM
 * that Jest's CommonJS runtime cannot): a DTO changed without regenerating fails, so neither the
 * published contract nor the dashboards ever lag behind the API.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const DOCUMENT_FILE = join(ROOT, 'docs', 'openapi.json');

function script(name: string): string {
  return execFileSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', name, '--stdout'],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env } },
  );
}

describe('the API contract file and the generated client', () => {
  it('docs/openapi.json matches the API (else: run npm run gen:client)', () => {
    const fresh = script('scripts/gen-client.ts');
    const committed = readFileSync(DOCUMENT_FILE, 'utf8');
    if (committed !== fresh) {
      const a = committed.split('\n');
      const b = fresh.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      throw new Error(
        `stale: run npm run gen:client (first difference at line ${line + 1}: ` +
          `committed ${JSON.stringify(a[line])}, generated ${JSON.stringify(b[line])})`,
      );
    }
    expect(JSON.parse(fresh)).toMatchObject({ openapi: expect.stringMatching(/^3\./) });
  }, 240_000);

  it('the client types are generated from that file', () => {
    const types = script('scripts/gen-types.ts');
    // The ticket's actions are typed from the document (quotes as the project's prettier config says).
    expect(types).toMatch(/actions: components\[["']schemas["']\]\[["']TicketAction["']\]\[\]/);
    expect(types).toContain("'/v1/complaints/{id}/appeal'");
  }, 240_000);
});
