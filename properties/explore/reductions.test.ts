/**
 * The reductions change how much of the state graph is stored, never the
 * verdict: on random small designs (properties/helpers/random-designs.ts:
 * spinlocks, rwlocks, mutexes, rw_semaphores and local_locks, softirqs,
 * tasklets, timers and works, and with them sockets, atomics and
 * refcounts, RCU, seqcounts, NAPI, irq_work, kthreads, kmalloc/kfree and
 * migrating tasks; and the same on PREEMPT_RT, where spinlock_t and
 * rwlock_t are the sleeping rt: operations), the exhaustive search with every reduction on
 * (register liveness, partial-order reduction, fusion and forced chains,
 * symmetry) and with every one off agrees on the status; where both find a
 * violation, each one's schedule replays on the plain semantics to its
 * kind, and a kind the reduced search reports is reachable in the full
 * graph.
 *
 * Where both verify, they also reach the same end states: a persistent set
 * keeps every terminal state of the full graph (Godefroid 1996), fusion
 * only takes private steps early, and symmetry keeps one state of each
 * orbit, so the designs' data at the end (the variables, the multiset of
 * each per-CPU variable's copies, the queues; not registers, which
 * liveness zeroes) must be the same set either way. A footprint that
 * misses a word lets the reduction drop an interleaving, and with it,
 * often, an outcome no check looks at: this compares them all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile, DesignError, exhaustive, replay, type Design, type Machine, type Program } from '../../model/index.ts';
import { randomDesign, randomRtDesign, sparseDesign, sparsePairs } from '../helpers/random-designs.ts';

const LIMIT = 4_000;

/** The design's data in the machine's state, invariant under a renaming of CPUs. */
function dataOf(m: Machine, s: Int32Array): string {
  const p = m.p;
  const L = m.L;
  const out: number[] = [];
  for (let v = 0; v < p.vars.length; v++) out.push(s[L.varBase + v]!);
  for (let v = 0; v < p.percpu.length; v++) {
    const copies = Array.from(s.subarray(L.percpuBase + v * p.ncpu, L.percpuBase + (v + 1) * p.ncpu)).sort((a, b) => a - b);
    out.push(...copies);
  }
  p.queues.forEach((q, i) => out.push(...s.subarray(L.queueBase[i]!, L.queueBase[i]! + 1 + q.capacity)));
  return out.join(',');
}

/** The search's verdict and the data of every end state it reached (a state with no move left). */
function search(p: Program, opts: Parameters<typeof exhaustive>[1]) {
  const ends = new Set<string>();
  const scratch: number[] = [];
  const result = exhaustive(p, {
    ...opts,
    maxStates: LIMIT,
    observe: (m, s) => {
      m.enabledInto(scratch);
      if (scratch.length === 0) ends.add(dataOf(m, s));
    },
  });
  return { result, ends };
}

function both(d: Design) {
  const plain = compile(d, { keepDeadRegisters: true });
  const full = search(plain, { por: false, fusion: false, symmetry: false });
  const reduced = search(compile(d), {});
  return { plain, full, reduced };
}

/** Counts of what a run of the property compared. */
interface Tally {
  compared: number;
  violations: number;
  endsCompared: number;
}

/** One design: the searches agree (see the file comment). */
function agree(d: Design, tally: Tally): void {
  let run;
  try {
    run = both(d);
  } catch (e) {
    if (e instanceof DesignError) return; // a generated design the compiler refuses (e.g. sleeping in a handler it cannot compile)
    throw e;
  }
  const { plain } = run;
  const [full, reduced] = [run.full.result, run.reduced.result];
  if (full.status === 'bounded-out' || reduced.status === 'bounded-out') return;
  tally.compared++;
  expect(reduced.status, JSON.stringify(d)).toBe(full.status);
  if (full.status === 'verified') {
    tally.endsCompared++;
    expect([...run.reduced.ends].sort(), JSON.stringify(d)).toEqual([...run.full.ends].sort());
  }
  if (reduced.violation && full.violation) {
    tally.violations++;
    // The reduced search's schedule (its fused and chained steps included) is a run of the plain
    // semantics, unreduced and with every register kept, to a violation of the same kind: so that
    // kind is reachable in the full graph, also where the reduced search met another kind first
    // (several are reachable).
    const again = replay(plain, reduced.violation.choices);
    expect(again.mismatch, JSON.stringify(d)).toBeNull();
    expect(again.violation?.kind, JSON.stringify(d)).toBe(reduced.violation.kind);
  }
}

/** agree() on `runs` designs drawn from `designs` with `seed`: what was compared. */
function agreeOn(designs: fc.Arbitrary<Design>, seed: number, runs: number): Tally {
  const tally: Tally = { compared: 0, violations: 0, endsCompared: 0 };
  fc.assert(fc.property(designs, (d) => agree(d, tally)), { seed, numRuns: runs });
  return tally;
}

describe('reductions on and off agree', () => {
  it('on random small designs: same status, the same end states where verified; every reduced violation replays and is reachable unreduced', { timeout: 240_000 }, () => {
    const tally = agreeOn(randomDesign, 20261204, 80);
    expect(tally.compared).toBeGreaterThan(40);
    expect(tally.violations).toBeGreaterThan(10);
    expect(tally.endsCompared).toBeGreaterThan(20);
  });

  it('on random small designs on PREEMPT_RT (6.12-rt: spinlock_t and rwlock_t sleep, the rt: operations): the same', { timeout: 240_000 }, () => {
    const tally = agreeOn(randomRtDesign, 20261206, 60);
    expect(tally.compared).toBeGreaterThan(40);
    expect(tally.violations).toBeGreaterThan(25);
    expect(tally.endsCompared).toBeGreaterThan(5);
  });

  it('on random sparse designs of the late mechanisms (each block records what it saw): the same', { timeout: 240_000 }, () => {
    const tally = agreeOn(sparseDesign, 20261205, 200);
    expect(tally.compared).toBeGreaterThan(140);
    expect(tally.violations).toBeGreaterThan(20);
    expect(tally.endsCompared).toBeGreaterThan(100);
  });

  it('on every pair of one mechanism\'s blocks, on two CPUs, a task and an interrupt or its softirq, or two tasks and a preemption: the same', { timeout: 240_000 }, () => {
    const tally: Tally = { compared: 0, violations: 0, endsCompared: 0 };
    const pairs = sparsePairs();
    for (const d of pairs) agree(d, tally);
    expect(pairs.length).toBeGreaterThan(1000);
    expect(tally.compared).toBe(pairs.length);
    expect(tally.endsCompared).toBeGreaterThan(900);
  });
});
