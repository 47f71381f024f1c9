/**
 * Parallelism: the largest number of CPUs that run the same handler at once
 * in any explored state (issue 5's figure: 1 for bottom halves and
 * tasklets, which the kernel serialises, N for a softirq on N CPUs).
 *
 * A handler is a region of code: an irq handler, a softirq vector's
 * handler, or a design function run as a callback (tasklet, timer, work,
 * bottom half). A CPU runs a handler while any context on it (the running
 * one or one it interrupted) has its pc inside the region.
 *
 * Over the states the search explores, so a lower bound under the
 * partial-order reduction: steps on disjoint data are explored in one
 * order, and two CPUs in a handler that touches only their own per-CPU data
 * may never be seen inside it at once (1 with the reduction, 2 without).
 */
import { C_CURTASK, C_DEPTH, X_PC } from '../kernel/layout.ts';
import type { Machine } from '../kernel/machine.ts';
import type { Program } from '../kernel/program.ts';
import { SOFTIRQS } from '../dsl/design.ts';

export interface HandlerRegion {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/** The handler regions of a program, by entry pc; each ends where the next entry starts. */
export function handlerRegions(p: Program): HandlerRegion[] {
  const starts = new Map<number, string | null>(); // null: not a handler (a task body, builtin code)
  for (const t of p.tasks) starts.set(t.entry, null);
  for (const pc of Object.values(p.builtins)) starts.set(pc, null);
  for (const line of p.irqs) starts.set(line.entry, `irq ${line.name}`);
  p.softirqEntry.forEach((pc, v) => {
    if (pc >= 0 && !starts.has(pc)) starts.set(pc, `softirq ${SOFTIRQS[v]}`);
  });
  for (const list of Object.values(p.objects)) {
    for (const obj of list) {
      for (const [attr, pc] of Object.entries(obj.attrs)) {
        if (/entry|func|fn|routine/i.test(attr) && !starts.has(pc)) starts.set(pc, `${obj.kind} ${obj.name}`);
      }
    }
  }
  const sorted = [...starts.entries()].sort((a, b) => a[0] - b[0]);
  const regions: HandlerRegion[] = [];
  sorted.forEach(([start, name], i) => {
    if (name === null) return;
    regions.push({ name, start, end: sorted[i + 1]?.[0] ?? p.code.length });
  });
  return regions;
}

/** Tracks the most CPUs found inside one handler at once. */
export class ParallelismMeter {
  readonly regions: readonly HandlerRegion[];
  /** Per region, the largest count seen. */
  readonly most: Int32Array;
  private readonly cpus: Int32Array;

  constructor(p: Program) {
    this.regions = handlerRegions(p);
    this.most = new Int32Array(this.regions.length);
    this.cpus = new Int32Array(this.regions.length);
  }

  observe(m: Machine, s: Int32Array): void {
    if (this.regions.length === 0) return;
    m.s = s;
    this.cpus.fill(0);
    for (let cpu = 0; cpu < m.p.ncpu; cpu++) {
      const co = m.cpuOff(cpu);
      let inside = 0; // bitmask of regions this CPU is in (≤ 31 tracked per CPU)
      const task = s[co + C_CURTASK]!;
      if (task >= 0) inside |= this.regionMask(s[m.ctxOff(task) + X_PC]!);
      for (let d = 0; d < s[co + C_DEPTH]!; d++) inside |= this.regionMask(s[m.ctxOff(m.frameCtx(cpu, d)) + X_PC]!);
      for (let r = 0; inside !== 0; r++, inside >>>= 1) if (inside & 1) this.cpus[r] = this.cpus[r]! + 1;
    }
    for (let r = 0; r < this.regions.length; r++) if (this.cpus[r]! > this.most[r]!) this.most[r] = this.cpus[r]!;
  }

  private regionMask(pc: number): number {
    const regions = this.regions;
    for (let r = 0; r < regions.length && r < 31; r++) {
      if (pc >= regions[r]!.start && pc < regions[r]!.end) return 1 << r;
    }
    return 0;
  }

  /** The design's figure: the most CPUs in any one handler (0 if it has none). */
  get value(): number {
    let best = 0;
    for (const n of this.most) if (n > best) best = n;
    return best;
  }

  /** Per handler, for reports: `softirq NET_RX: 2`. */
  byHandler(): Record<string, number> {
    return Object.fromEntries(this.regions.map((r, i) => [r.name, this.most[i]!]));
  }
}
