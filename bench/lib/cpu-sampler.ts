import { readFileSync, readdirSync } from 'node:fs';
import { cpuMs } from './load';

/**
 * CPU time (user + system, ms) spent by the processes whose command line matches, from
 * /proc/<pid>/stat every 250 ms while running: PostgreSQL backends that end during the run
 * (a pool closing idle connections) count with their last sample. Linux only; 0 elsewhere.
 */
export class CpuSampler {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly matches: (pid: number, cmdline: string) => boolean) {}

  private sample(initial: boolean): void {
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    } catch {
      return;
    }
    for (const p of pids) {
      const pid = Number(p);
      let cmd: string;
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        continue;
      }
      if (!this.matches(pid, cmd)) continue;
      const ms = cpuMs(pid);
      if (ms === null) continue;
      // A process first seen after the start began during the run: all of its CPU counts.
      if (!this.first.has(pid)) this.first.set(pid, initial ? ms : 0);
      this.last.set(pid, ms);
    }
  }

  start(): this {
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), 250);
    return this;
  }

  /** CPU ms since start(). */
  stop(): number {
    clearInterval(this.timer);
    this.sample(false);
    let total = 0;
    for (const [pid, ms] of this.last) total += ms - (this.first.get(pid) ?? 0);
    return total;
  }
}
