/*
 * Test files in an order drawn from Jest's seed, to find order dependencies between suites that
 * share a Jest worker's database (--randomize only shuffles the tests inside each file):
 *   node_modules/.bin/jest --runInBand --randomize --testSequencer ./test/random-sequencer.js <files>
 * Jest prints the seed; --seed=N replays the same file order and the same order inside each file.
 */
const Sequencer = require('@jest/test-sequencer').default;

/** mulberry32: a small deterministic generator from a 32-bit seed. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class RandomSequencer extends Sequencer {
  constructor(options) {
    super(options);
    this.seed = options.globalConfig.seed;
  }

  sort(tests) {
    const next = generator(this.seed);
    const order = [...tests].sort((a, b) => a.path.localeCompare(b.path));
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    console.log(`file order (seed ${this.seed}):\n${order.map((t) => `  ${t.path}`).join('\n')}`);
    return order;
  }
}

module.exports = RandomSequencer;
