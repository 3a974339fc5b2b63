/*
 * Each lib owns its tables (table-owners.ts): the SQL in a lib names only its own tables, and the
 * apps name none; the few joins across libs kept for speed are listed there, with why.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { CROSS_LIB_SQL, TABLE_OWNERS } from './table-owners';

const ROOT = join(__dirname, '..', '..', '..');
const TABLES = Object.keys(TABLE_OWNERS);

/** The lib a source file belongs to ('api'/'worker' for apps: they own no table). */
function ownerOf(path: string): string {
  const m = /^(libs|apps)\/([^/]+)\//.exec(path);
  if (!m) throw new Error(`not in apps/ or libs/: ${path}`);
  return m[1] === 'libs' ? m[2] : `app:${m[2]}`;
}

/** Every string and template literal of a source file (a template's parts joined by `?`). */
function literals(source: string): string[] {
  const sf = ts.createSourceFile('x.ts', source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) out.push(n.text);
    else if (ts.isTemplateExpression(n)) {
      out.push([n.head.text, ...n.templateSpans.map((s) => s.literal.text)].join(' ? '));
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/**
 * The SQL a migration runs on the way up, in order: its literals outside `down` (a down drops
 * what its up creates; helpers outside the class are called from up).
 */
function upLiterals(source: string): string[] {
  const sf = ts.createSourceFile('m.ts', source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const downs: ts.Node[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isMethodDeclaration(n) && n.name.getText(sf) === 'down') downs.push(n);
    else ts.forEachChild(n, visit);
  };
  visit(sf);
  let up = source;
  for (const d of downs.sort((a, b) => b.pos - a.pos)) up = up.slice(0, d.pos) + up.slice(d.end);
  return literals(up);
}

/** SQL is written with upper-case keywords here; prose and identifiers are not SQL. */
const SQL = /\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|FROM|JOIN|TRUNCATE|COPY)\b/;

/**
 * A table named where SQL takes a table (after FROM, JOIN, INTO, UPDATE, TABLE, TRUNCATE, USING
 * or a comma of a FROM list), or qualifying a column (`stats_daily.opened`); not as a column or
 * an alias (`AS merchants`), nor inside a path or another word (`/v1/receipts`, `receipt_id`).
 */
function references(text: string, table: string): boolean {
  return (
    new RegExp(
      `(?:\\b(?:FROM|JOIN|INTO|UPDATE|TABLE|TRUNCATE|USING)\\s+(?:ONLY\\s+)?|,\\s*)${table}(?!\\w)`,
    ).test(text) || new RegExp(`(?<![\\w.$/])${table}\\.[a-z_]`).test(text)
  );
}

/** The tables a source file names in its SQL. */
export function tablesNamed(source: string): Set<string> {
  const found = new Set<string>();
  for (const text of literals(source)) {
    if (!SQL.test(text)) continue;
    for (const t of TABLES) if (references(text, t)) found.add(t);
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return /\.tsx?$/.test(name) && !/\.spec\.tsx?$/.test(name) ? [path] : [];
  });
}

const FILES = [
  'apps/api/src',
  'apps/worker/src',
  ...readdirSync(join(ROOT, 'libs')).map((l) => `libs/${l}/src`),
]
  .filter((d) => existsSync(join(ROOT, d)))
  .flatMap((d) => sourceFiles(join(ROOT, d)))
  .map((p) => relative(ROOT, p).split('\\').join('/'));

describe('table ownership', () => {
  it('finds table names in SQL, not in prose, comments or other tables and columns', () => {
    expect([...tablesNamed('const q = `SELECT 1 FROM merchants m WHERE m.id = $1`;')]).toEqual([
      'merchants',
    ]);
    expect(
      [
        ...tablesNamed('db.query(`UPDATE webhook_deliveries d SET x = 1 FROM due, merchants m`)'),
      ].sort(),
    ).toEqual(['merchants', 'webhook_deliveries']);
    expect([...tablesNamed('const s = `SELECT ${cols} FROM receipts r ${where}`;')]).toEqual([
      'receipts',
    ]);
    expect(
      tablesNamed(
        [
          "throw new Error('statistics are for merchants, regulators and admins');",
          '// reads FROM receipts in a comment',
          "const q = 'SELECT receipt_id, stores_count FROM complaints c WHERE c.merchants = 1';",
          'const q = `SELECT count(DISTINCT merchant_id)::int AS merchants FROM complaints`;',
          "const doc = 'Lines are staged by COPY; signed as POST /v1/receipts';",
        ].join('\n'),
      ),
    ).toEqual(new Set(['complaints']));
  });

  it("no lib's SQL names a table of another lib (but the listed joins); the apps name none", () => {
    expect(FILES.length).toBeGreaterThan(50);
    const allowed = new Map(CROSS_LIB_SQL.map((a) => [a.file, new Set(a.tables)]));
    const foreign: string[] = [];
    for (const file of FILES) {
      const owner = ownerOf(file);
      for (const table of tablesNamed(readFileSync(join(ROOT, file), 'utf8'))) {
        if (TABLE_OWNERS[table] === owner || allowed.get(file)?.has(table)) continue;
        foreign.push(`${file}: ${table} (owned by ${TABLE_OWNERS[table]})`);
      }
    }
    expect(foreign).toEqual([]);
  });

  it('every cross-lib join listed is still there (a folded one leaves the list)', () => {
    const stale = CROSS_LIB_SQL.flatMap(({ file, tables }) => {
      if (!existsSync(join(ROOT, file))) return [`${file}: no such file`];
      const named = tablesNamed(readFileSync(join(ROOT, file), 'utf8'));
      return tables.filter((t) => !named.has(t)).map((t) => `${file}: ${t} no longer named`);
    });
    expect(stale).toEqual([]);
  });

  it('migrations leave a drop in up, not in down: the tables after them all', () => {
    expect(
      upLiterals(
        [
          'async function helper(q) { await q.query(`DROP TABLE a`); }',
          'export class M { async up(q) { await q.query(`CREATE TABLE b (x int)`); await helper(q); }',
          '  async down(q) { await q.query(`DROP TABLE b`); } }',
        ].join('\n'),
      ),
    ).toEqual(['DROP TABLE a', 'CREATE TABLE b (x int)']);
  });

  it('every table the migrations leave has an owner, and every owner such a table', () => {
    // In order: a table a later migration drops (stats_region_resolve_hours) is not there.
    const tables = new Set<string>();
    const files = readdirSync(join(ROOT, 'migrations')).filter((n) => /^\d+-.*\.ts$/.test(n));
    for (const f of files.sort()) {
      for (const text of upLiterals(readFileSync(join(ROOT, 'migrations', f), 'utf8'))) {
        const ddl =
          /\b(CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?|DROP TABLE (?:IF EXISTS )?)"?([a-z_]+)"?(?![\w$])/g;
        for (const [, verb, table] of text.matchAll(ddl)) {
          if (verb.startsWith('CREATE')) tables.add(table);
          else tables.delete(table);
        }
      }
    }
    expect(tables.has('complaints')).toBe(true);
    expect([...tables].filter((t) => !TABLE_OWNERS[t])).toEqual([]);
    expect(TABLES.filter((t) => !tables.has(t))).toEqual([]);
  });
});
