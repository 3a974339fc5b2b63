/*
 * Where a --cpu-prof profile spent its time: self time by function and by package.
 *   node -r ts-node/register/transpile-only bench/profile-top.ts reports/bench-profiles/<run>/worker1-….cpuprofile [N]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, n = '25'] = process.argv.slice(2);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((x) => [x.id, x]));
const self = new Map<number, number>();
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (url: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.includes('dist/apps')) return 'hejie (bundle)';
  return url ? url.replace(/^.*\//, '') : '(native/gc)';
};
const fn = new Map<string, number>();
const pkg = new Map<string, number>();
for (const [id, us] of self) {
  const { callFrame: c } = byId.get(id)!;
  const key = `${c.functionName || '(anonymous)'}  ${where(c.url)}:${c.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  pkg.set(where(c.url), (pkg.get(where(c.url)) ?? 0) + us);
}
const show = (m: Map<string, number>, k: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .forEach(([name, us]) =>
      console.log(
        `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`,
      ),
    );
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled\n\nby package:`);
show(pkg, 12);
console.log('\nby function (self time):');
show(fn, Number(n));
