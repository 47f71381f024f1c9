/**
 * Prefix shards (model/explore/shard.ts) and the worker pool
 * (model/explore/workers.ts): shards 0..N-1 searched one by one and merged
 * give the verdict of one whole search, on a verified and a buggy catalogue
 * design; the partition gives each prefix to exactly one shard; a
 * violation inside the prefix expansion is shard 0's; the pool gives the
 * same verdict as one thread, whatever the timing, from the sources and
 * from the compiled dist/.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catalogueDesign } from '../../model/designs/index.ts';
import { compile } from '../../model/dsl/compile.ts';
import { BUG_ON, DesignError, defineDesign, eq, inc, v, while_ } from '../../model/index.ts';
import { randomDesign } from '../helpers/random-designs.ts';
import { exhaustive } from '../../model/explore/exhaustive.ts';
import type { SearchResult } from '../../model/explore/outcome.ts';
import { replay } from '../../model/explore/replay.ts';
import { partition, PREFIXES_PER_SHARD } from '../../model/explore/shard.ts';
import { ExhaustiveWorkers, mergeResults } from '../../model/explore/workers.ts';
import { checkProgram, checkProgramParallel } from '../../model/index.ts';
import { rearmingCounter } from '../helpers/counter.ts';
import { twoBugs } from '../helpers/two-bugs.ts';
import type { Program } from '../../model/kernel/program.ts';

const VERIFIED = 'bench-irq_lock-fixed-n2-k2';
const BUGGY = 'bench-softirq_bh-buggy-n2-k2';

const program = (name: string): Program => compile(catalogueDesign(name)!);

/** Every shard of an N-way partition, searched in this thread. */
const shards = (p: Program, count: number): SearchResult[] =>
  Array.from({ length: count }, (_, index) => exhaustive(p, { shard: { index, count } }));

describe('prefix shards merge to the verdict of one whole search', () => {
  it.each([2, 3, 5])(`${VERIFIED}: every one of %i shards is verified, as the whole search is`, (count) => {
    const p = program(VERIFIED);
    expect(exhaustive(p).status).toBe('verified');
    const parts = shards(p, count);
    for (const r of parts) expect(r.status).toBe('verified');
    // Every prefix belongs to exactly one shard, and the frontier is as large as promised.
    const frontier = parts[0]!.shard!.frontier;
    expect(parts.reduce((n, r) => n + r.shard!.prefixes, 0)).toBe(frontier);
    expect(frontier).toBeGreaterThanOrEqual(PREFIXES_PER_SHARD * count);
    expect(mergeResults(parts, 0).status).toBe('verified');
  });

  it.each([2, 3, 5])(`${BUGGY}: %i shards merge to the whole search's violation, each schedule replaying from the initial state`, (count) => {
    const p = program(BUGGY);
    const whole = exhaustive(p);
    expect(whole.status).toBe('violation');
    const parts = shards(p, count);
    const violating = parts.filter((r) => r.status === 'violation');
    expect(violating.length).toBeGreaterThan(0);
    for (const r of violating) {
      expect(r.violation!.kind).toBe(whole.violation!.kind);
      expect(replay(p, r.violation!.choices).violation?.kind).toBe(r.violation!.kind);
    }
    const merged = mergeResults(parts, 0);
    expect(merged.status).toBe('violation');
    expect(merged.violation!.kind).toBe(whole.violation!.kind);
  });

  it('the partition is the same on every call, its prefixes sorted and all of one length', () => {
    const p = program(VERIFIED);
    const a = partition(p, { count: 3, symmetry: true });
    const b = partition(p, { count: 3, symmetry: true });
    expect(a.prefixes).toEqual(b.prefixes);
    expect(new Set(a.prefixes.map((x) => x.length))).toEqual(new Set([a.depth]));
    const keys = a.prefixes.map((x) => x.join(','));
    expect(new Set(keys).size).toBe(keys.length);
    for (let k = 1; k < a.prefixes.length; k++) {
      const [x, y] = [a.prefixes[k - 1]!, a.prefixes[k]!];
      const i = x.findIndex((c, j) => c !== y[j]);
      expect(x[i]!).toBeLessThan(y[i]!);
    }
  });

  it('a violation met inside the prefix expansion is shard 0\'s; the other shards own no prefix of an exhausted space', () => {
    // A work item that flushes itself deadlocks in its first steps: the expansion meets it before any frontier exists.
    const p = program('work-flushes-itself');
    const whole = exhaustive(p);
    expect(whole.violation?.kind).toBe('deadlock');
    const parts = shards(p, 3);
    expect(parts[0]!.status).toBe('violation');
    expect(parts[0]!.violation!.kind).toBe('deadlock');
    expect(replay(p, parts[0]!.violation!.choices).violation?.kind).toBe('deadlock');
    for (const r of parts.slice(1)) {
      expect(r.status).toBe('verified');
      expect(r.shard!.prefixes).toBe(0);
    }
  });

  it('a state limit ends a shard bounded-out, naming the limit and the shard', () => {
    const r = exhaustive(program(VERIFIED), { maxStates: 50, shard: { index: 1, count: 2 } });
    expect(r.status).toBe('bounded-out');
    expect(r.boundedOut).toMatch(/more than 50 distinct states stored in shard 1\/2/);
  });

  it('rejects a shard outside its count', () => {
    expect(() => exhaustive(program(VERIFIED), { shard: { index: 2, count: 2 } })).toThrow(/from 0 to 1/);
  });
});

describe('the worker pool: every thread searches from the initial state with one shared visited set', () => {
  /** The pool's result for both designs, always on the threads (no first pass in this thread). */
  const onPool = async (pool: { search: ExhaustiveWorkers['search'] }, opts: { por?: boolean } = {}) => {
    const out: SearchResult[] = [];
    for (const name of [VERIFIED, BUGGY]) out.push((await pool.search(program(name), { serialStates: 0, ...opts })).result);
    return out;
  };

  it('2 workers (TypeScript sources): the verdict of one thread; a violation is the one-thread search\'s, on every run', async () => {
    const pool = new ExhaustiveWorkers(2);
    try {
      const [verified, buggy] = await onPool(pool);
      expect(verified!.status).toBe('verified');
      // Each state stored once, by whichever thread came first: about the one-thread count (the stack proviso
      // may expand a state fully that one thread would not: another thread has its successor on its stack).
      const one = exhaustive(program(VERIFIED)).stats.states;
      expect(verified!.stats.states).toBeGreaterThanOrEqual(one);
      expect(verified!.stats.states).toBeLessThan(one * 1.2);
      // Without the partial-order reduction there is no proviso: exactly the one-thread states.
      const [plain] = await onPool(pool, { por: false });
      expect(plain!.stats.states).toBe(exhaustive(program(VERIFIED), { por: false }).stats.states);
      expect(buggy!.status).toBe('violation');
      const oneBuggy = exhaustive(program(BUGGY));
      expect(buggy!.violation!.choices).toEqual(oneBuggy.violation!.choices);
      const [, buggyAgain] = await onPool(pool);
      expect(buggyAgain!.violation!.choices).toEqual(buggy!.violation!.choices);
    } finally {
      await pool.close();
    }
  });

  it('2 workers (compiled dist/): the same results as from the sources', async () => {
    const dist = (await import(new URL('../../dist/model/explore/workers.js', import.meta.url).href)) as { ExhaustiveWorkers: typeof ExhaustiveWorkers };
    const pool = new dist.ExhaustiveWorkers(2);
    try {
      const [verified, buggy] = await onPool(pool, { por: false });
      expect(verified!.status).toBe('verified');
      expect(verified!.stats.states).toBe(exhaustive(program(VERIFIED), { por: false }).stats.states);
      expect(buggy!.violation!.choices).toEqual(exhaustive(program(BUGGY), { por: false }).violation!.choices);
    } finally {
      await pool.close();
    }
  });

  it('the threads split the work, and a design large enough to grow the shared table gets the one-thread verdict', async () => {
    const pool = new ExhaustiveWorkers(2);
    try {
      const p = program('deferred-work-pipeline');
      const one = exhaustive(p, { por: false });
      const both = (await pool.search(p, { serialStates: 0, por: false })).result;
      expect([both.status, both.stats.states]).toEqual([one.status, one.stats.states]);
      // More than the table's first 2^16 slots hold at half full: it grew (twice) while both threads ran.
      expect(one.stats.states).toBeGreaterThan(1 << 16);
      // Neither thread took (nearly) all of it: each stored a part, and their transitions add up to about one search's.
      expect(both.stats.transitions).toBeLessThan(one.stats.transitions * 1.3);
    } finally {
      await pool.close();
    }
  });

  it('the pool honours the memory bound, reports progress from its threads and switches reductions off', async () => {
    const pool = new ExhaustiveWorkers(2);
    try {
      // A bound below what the process already holds: a thread ends bounded-out naming it at its first memory
      // check (every 16,384 of its states), never a crash; the other stops with it.
      const tight = (await pool.search(program('deferred-work-pipeline'), { serialStates: 0, maxMemory: 1 << 20 })).result;
      expect(tight.status).toBe('bounded-out');
      expect(tight.boundedOut).toMatch(/^memory bound reached: .* against the bound of 1 MiB/);
      // Progress: the states of both threads, summed, never more than the total.
      const seen: number[] = [];
      const r = (await pool.search(program(VERIFIED), { serialStates: 0, progress: (states) => seen.push(states) })).result;
      expect(r.status).toBe('verified');
      for (const n of seen) expect(n).toBeLessThanOrEqual(r.stats.states);
      // --no-por, --no-symmetry, --no-fusion reach the workers: more states, the same verdict.
      const off = (await pool.search(program(VERIFIED), { serialStates: 0, por: false, symmetry: false, fusion: false })).result;
      expect(off.status).toBe('verified');
      expect(off.stats.states).toBeGreaterThan(r.stats.states);
      expect(off.stats.reductions).toMatchObject({ por: false, fusion: false });
    } finally {
      await pool.close();
    }
  });

  it('checkProgramParallel on the threads: the verdict of checkProgram, lockdep\'s prediction and the bound\'s likely cause included', async () => {
    const pool = new ExhaustiveWorkers(2);
    try {
      // Verified designs with predictions (settled by more CPUs or within the bounds), and violations with
      // predictions, whose sweep of the rest of the states for lockdep runs on the threads too.
      for (const name of ['timer-remote-expiry-v6_6', 'rwlock-read-recursion-hardirq', 'deferred-work-pipeline-work-spin_lock', 'irq-safe-to-unsafe-spin_lock', 'abba-spin_lock', 'rwlock-read-recursion-task']) {
        const p = program(name);
        const one = checkProgram(p);
        const both = await checkProgramParallel(p, {}, pool, 0);
        expect(one.lockdep!.length, name).toBeGreaterThan(0);
        expect([both.status, both.violation?.kind, both.violation?.choices]).toEqual([one.status, one.violation?.kind, one.violation?.choices]);
        expect(JSON.stringify(both.lockdep), name).toBe(JSON.stringify(one.lockdep));
      }
      // A second bug lockdep predicts, confirmed by a violation the threads' sweep met (fails if their candidates are dropped).
      const two = compile(twoBugs);
      const [one, both] = [checkProgram(two), await checkProgramParallel(two, {}, pool, 0)];
      expect(both.lockdep!.map((e) => e.status)).toEqual(['confirmed', 'confirmed']);
      expect(JSON.stringify(both.lockdep)).toBe(JSON.stringify(one.lockdep));
      // A counter without end: bounded-out at the state limit, naming the counter from every thread's samples.
      // (Each of its states is 256 forced steps from the last: 3,000 states take about 2 s, 12,000 took 9.)
      const counter = compile(rearmingCounter);
      const capped = await checkProgramParallel(counter, { maxStates: 3_000 }, pool, 0);
      expect([capped.status, capped.bound]).toEqual(['bounded-out', 'states']);
      expect(capped.hint?.words[0]).toMatchObject({ name: 'var count', growing: true });
    } finally {
      await pool.close();
    }
  });

  it('a pool warmed by a search that then ends in this thread closes cleanly (no stray rejection)', async () => {
    const pool = new ExhaustiveWorkers(2);
    pool.warm();
    // 532 states: the search ends in this thread; the threads are still starting when the pool closes.
    const r = await pool.search(program(VERIFIED));
    expect([r.sharded, r.result.status]).toEqual([false, 'verified']);
    await pool.close();
    // A rejected start-up nobody awaited would fail this file as an unhandled rejection: give it a turn to surface.
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  it('random small designs: the threads (each in its own order, the shared proviso) find a violation exactly where one thread does', { timeout: 120_000 }, async () => {
    const pool = new ExhaustiveWorkers(2);
    let compared = 0;
    let violations = 0;
    try {
      await fc.assert(fc.asyncProperty(randomDesign, async (d) => {
        let p: Program;
        try {
          p = compile(d);
        } catch (e) {
          if (e instanceof DesignError) return;
          throw e;
        }
        // One thread's search (the reductions on and off agree: reductions.test.ts).
        const full = exhaustive(p, { maxStates: 30_000 });
        // The threads' own result (no search again in this thread): what the shared proviso found.
        const both = (await pool.search(p, { serialStates: 0, violationHere: false, maxStates: 30_000 })).result;
        if (full.status === 'bounded-out' || both.status === 'bounded-out') return;
        compared++;
        expect(both.status, JSON.stringify(d)).toBe(full.status);
        if (both.violation) {
          violations++;
          expect(replay(p, both.violation.choices).violation?.kind).toBe(both.violation.kind);
        }
      }), { seed: 20261206, numRuns: 24 });
    } finally {
      await pool.close();
    }
    // Measured: 20 compared, 9 with a violation.
    expect(compared).toBeGreaterThan(15);
    expect(violations).toBeGreaterThan(6);
  });

  it('the proviso on the threads: a CPU polling for ever in a cycle of states does not hide another CPU\'s bug', async () => {
    // cpu0 polls a flag nobody sets (a cycle of states); cpu1 and cpu2 each touch their own data, and cpu1 then
    // asserts. The reduction prefers the poller alone: only the proviso (a reduced state whose successor is on a
    // stack, any thread's, is expanded fully) lets the others move at all.
    const d = defineDesign({
      name: 'ignored-bug', cpus: 3, vars: { flag: 0, x: 0, y: 0 },
      tasks: [
        { name: 'poller', cpu: 0, body: [while_(eq(v('flag'), 0), [], { bound: 'none' })] },
        { name: 'b', cpu: 1, body: [inc('x'), BUG_ON(eq(v('x'), 1), 'reached')] },
        { name: 'c', cpu: 2, body: [inc('y'), inc('y')] },
      ],
    });
    const pool = new ExhaustiveWorkers(2);
    try {
      const p = compile(d);
      expect(exhaustive(p, { maxStates: 10_000 }).violation?.kind).toBe('assertion');
      const both = (await pool.search(p, { serialStates: 0, violationHere: false, maxStates: 10_000 })).result;
      expect([both.status, both.violation?.kind]).toEqual(['violation', 'assertion']);
    } finally {
      await pool.close();
    }
  });

  it('1 worker is the one-thread search itself', async () => {
    const pool = new ExhaustiveWorkers(1);
    const r = await pool.search(program(VERIFIED));
    expect(r.sharded).toBe(false);
    expect(r.result.stats.states).toBe(exhaustive(program(VERIFIED)).stats.states);
    await pool.close();
  });
});
