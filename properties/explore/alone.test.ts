/**
 * The search's cheap forced step (model/explore/por.ts PartialOrder.alone,
 * taken in dfs.ts take()): a CPU's next step is taken at once, without the
 * enabled set or the ample computation, when it is by itself an ample set.
 * It must never say so where ample() would not: on random states of random
 * designs, wherever alone(c) holds, CPU c has exactly one enabled choice
 * (its context's step) and ample() keeps exactly one choice. The verdicts
 * it leads to are compared with the unreduced search by
 * properties/explore/reductions.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUG_ON, check, compile, defineDesign, eq, this_cpu_write, while_, DesignError, enqueue, inc, local_irq_disable, local_irq_enable, Machine, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore,
  type Design, type Program,
} from '../../model/index.ts';
import { PartialOrder, StaticFootprints } from '../../model/explore/por.ts';
import { choiceCpu, choiceKind, CHOICE_RUN } from '../../model/kernel/semantics.ts';
import { randomDesign, sparseDesign } from '../helpers/random-designs.ts';

/** Walk the design by `picks`; at every state, check alone() against ample(). Returns how often alone() held. */
function walk(p: Program, picks: number[]): number {
  const m = new Machine(p);
  m.load(m.initial());
  const por = new PartialOrder(m, new StaticFootprints(p));
  const en: number[] = [];
  let held = 0;
  for (const pick of picks) {
    m.enabledInto(en);
    if (en.length === 0) break;
    for (let c = 0; c < p.ncpu; c++) {
      if (!por.alone(c)) continue;
      held++;
      const mine = en.filter((x) => choiceCpu(x) === c);
      expect(mine.length).toBe(1);
      expect(choiceKind(mine[0]!)).toBe(CHOICE_RUN);
      expect(por.ample([...en])).toBe(1);
    }
    m.s = m.step(m.s, en[pick % en.length]!);
    m.load(m.s);
  }
  return held;
}

function tryCompile(d: Design): Program | null {
  try {
    return compile(d);
  } catch (e) {
    if (e instanceof DesignError) return null;
    throw e;
  }
}

describe('a forced step taken without the ample computation', () => {
  it('on random walks of random designs, alone(c) only where c has one enabled step and ample() keeps exactly one', { timeout: 120_000 }, () => {
    let held = 0;
    const walks = fc.array(fc.nat(), { minLength: 60, maxLength: 60 });
    fc.assert(fc.property(randomDesign, walks, walks, (d, a, b) => {
      const p = tryCompile(d);
      if (p) held += walk(p, a) + walk(p, b);
    }), { seed: 20261205, numRuns: 60 });
    fc.assert(fc.property(sparseDesign, walks, (d, a) => {
      const p = tryCompile(d);
      if (p) held += walk(p, a);
    }), { seed: 20261206, numRuns: 60 });
    // It did hold somewhere: the check above is not vacuous.
    expect(held).toBeGreaterThan(100);
  });

  const handler = (shared: boolean): Design => defineDesign({
    name: shared ? 'handler-shares-count' : 'handler-owns-count', cpus: 2, vars: { count: 0, other: 0 }, locks: { l: 'spinlock' },
    queues: { rxq: { capacity: 2 } },
    irqs: [{ name: 'rx', cpus: [0], budget: 1, handler: [enqueue('rxq', 1), inc('count'), inc('count')] }],
    tasks: [
      { name: 'a', cpu: 0, body: [local_irq_disable(), local_irq_enable()] },
      { name: 'b', cpu: 1, body: [spin_lock_irqsave('l', 'flags'), inc(shared ? 'count' : 'other'), spin_unlock_irqrestore('l', 'flags'), inc('other')] },
    ],
  });

  /** alone(0) at each step of the handler, right after the interrupt arrives on cpu0. */
  function handlerSteps(d: Design): boolean[] {
    const p = compile(d);
    const m = new Machine(p);
    m.load(m.initial());
    const por = new PartialOrder(m, new StaticFootprints(p));
    const en = m.enabled(m.s);
    const arrival = en.find((x) => choiceCpu(x) === 0 && choiceKind(x) !== CHOICE_RUN);
    expect(arrival).toBeDefined();
    m.s = m.step(m.s, arrival!);
    m.load(m.s);
    const out: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      out.push(por.alone(0));
      m.s = m.step(m.s, m.enabled(m.s).find((x) => choiceCpu(x) === 0)!);
      m.load(m.s);
    }
    return out;
  }

  it('a CPU that goes round a cycle of forced steps for ever does not hide another CPU\'s step (the stack proviso)', () => {
    // cpu0 toggles its own per-CPU word for ever: every step of it is alone (fused, MAX_CHAIN at a
    // time), and its run comes back round to a state on the stack; cpu1's only step, pruned in every
    // state of the cycle, is the bug. Without the stack proviso this verifies.
    const d = defineDesign({
      name: 'spinner-hides-bug', cpus: 2, percpu: { x: 0 },
      tasks: [
        { name: 'spinner', cpu: 0, body: [while_(eq(0, 0), [this_cpu_write('x', 1), this_cpu_write('x', 0)], { bound: 'none' })] },
        { name: 'victim', cpu: 1, body: [BUG_ON(eq(0, 0), 'reached')] },
      ],
    });
    const v = check(d, { lockdep: false });
    expect([v.status, v.violation?.kind]).toEqual(['violation', 'assertion']);
  });

  /** alone(0) once task a on cpu0 has taken the lock and stands at its first inc(x). */
  function underLock(opts: { migrates?: boolean; bUnlocked?: boolean }): boolean {
    const p = compile(defineDesign({
      name: 'under-lock', cpus: 2, vars: { x: 0 }, locks: { l: 'spinlock' },
      tasks: [
        { name: 'a', cpu: 0, ...(opts.migrates ? { allowed: [0, 1] } : {}), body: [spin_lock('l'), inc('x'), inc('x'), spin_unlock('l')] },
        { name: 'b', cpu: 1, body: opts.bUnlocked ? [inc('x')] : [spin_lock('l'), inc('x'), spin_unlock('l')] },
      ],
    }));
    const m = new Machine(p);
    m.load(m.initial());
    const por = new PartialOrder(m, new StaticFootprints(p));
    m.s = m.step(m.s, m.enabled(m.s).find((x) => choiceCpu(x) === 0 && choiceKind(x) === CHOICE_RUN)!);
    m.load(m.s);
    return por.alone(0);
  }

  it('a step on data a lock protects is forced while a context only its CPU runs holds the lock; not for a task that may migrate (its CPU\'s migration events are never quiet), nor where the data is touched unlocked', () => {
    expect(underLock({})).toBe(true);
    expect(underLock({ migrates: true })).toBe(false);
    expect(underLock({ bUnlocked: true })).toBe(false);
  });

  it('a hardirq handler on data only its CPU touches is forced step by step; one whose data another CPU touches is not', () => {
    expect(handlerSteps(handler(false))).toEqual([true, true, true]);
    // The queue is still its CPU's alone; the counter is not.
    expect(handlerSteps(handler(true))).toEqual([true, false, false]);
  });
});
