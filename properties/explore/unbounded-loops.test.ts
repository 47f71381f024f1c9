/**
 * `while_(cond, body, { bound: 'none' })` (design.ts WhileStmt): a loop the
 * kernel's progress ends has no counter in the state, so iterations that
 * leave the same state are one state, and every iteration is explored: past
 * any numeric bound, through cycles of states, and into the state limit
 * when the loop changes data for ever (bounded-out, never verified).
 */
import { describe, expect, it } from 'vitest';
import {
  BUG_ON, check, compile, defineDesign, enqueue, eq, gt, inc, lt, queue_len, dequeue, r, spin_lock, spin_unlock, v, while_, type Stmt,
} from '../../model/index.ts';
import { Symmetry } from '../../model/explore/symmetry.ts';
import { Machine } from '../../model/kernel/machine.ts';

const counting = (limit: number, bound: number | 'none', extra: readonly Stmt[] = []) => defineDesign({
  name: `count-to-${limit}`, cpus: 1, vars: { x: 0 },
  tasks: [{ name: 't', cpu: 0, body: [while_(lt(v('x'), limit), [inc('x'), ...extra], { bound })] }],
});

describe("a loop with bound: 'none'", () => {
  it('has no counter register and no loop bound; the verdict lists none', () => {
    const p = compile(counting(3, 'none'));
    expect(p.loops).toEqual([]);
    expect(p.regs.filter((x) => x.startsWith('#loop'))).toEqual([]);
    const bounded = compile(counting(3, 3));
    expect(bounded.loops.length).toBe(1);
    expect(check(counting(3, 'none')).bounds.loops).toEqual({});
  });

  it('runs past any numeric bound: 100 iterations are verified, where the largest bound (64) is bounded-out', () => {
    const unbounded = check(counting(100, 'none'));
    expect(unbounded.status).toBe('verified');
    const capped = check(counting(100, 64));
    expect([capped.status, capped.bound]).toEqual(['bounded-out', 'loop']);
  });

  it('finds a bug at any iteration', () => {
    const found = check(counting(100, 'none', [BUG_ON(eq(v('x'), 80), 'eighty')]));
    expect(found.status).toBe('violation');
    expect(found.violation?.kind).toBe('assertion');
  });

  it('a loop that changes data for ever runs into the state limit: bounded-out, with the growing variable named', () => {
    const forever = defineDesign({
      name: 'count-for-ever', cpus: 1, vars: { x: 0 },
      tasks: [{ name: 't', cpu: 0, body: [while_(eq(0, 0), [inc('x')], { bound: 'none' })] }],
    });
    const out = check(forever, { maxStates: 300 });
    expect([out.status, out.bound]).toEqual(['bounded-out', 'states']);
    expect(out.hint?.words[0]).toMatchObject({ name: 'var x', growing: true });
  });

  it('a spin that repeats its state is a cycle: explored once, and a bug behind it is found', () => {
    // cpu1 polls a flag cpu0 sets (while (!READ_ONCE(flag)) cpu_relax()): every poll leaves the same state.
    const poll = (bug: boolean) => defineDesign({
      name: `poll-${bug}`, cpus: 2, vars: { flag: 0, data: 0 },
      tasks: [
        { name: 'setter', cpu: 0, body: bug ? [inc('flag'), inc('data')] : [inc('data'), inc('flag')] },
        { name: 'poller', cpu: 1, body: [while_(eq(v('flag'), 0), [], { bound: 'none' }), BUG_ON(eq(v('data'), 0), 'data before flag')] },
      ],
    });
    const fixed = check(poll(false));
    expect(fixed.status).toBe('verified');
    expect(fixed.stats.states).toBeLessThan(50);
    const buggy = check(poll(true));
    expect([buggy.status, buggy.violation?.kind]).toEqual(['violation', 'assertion']);
  });

  it('a drain under a lock until the queue is empty (the backlog bench scenario\'s loops): verified for any number of items', () => {
    const drain = defineDesign({
      name: 'drain', cpus: 2, locks: { L: 'spinlock' }, vars: { got: 0 }, queues: { q: { capacity: 3 } },
      tasks: [
        { name: 'producer', cpu: 0, body: [spin_lock('L'), enqueue('q', 1), enqueue('q', 2), enqueue('q', 3), spin_unlock('L')] },
        {
          name: 'consumer', cpu: 1,
          body: [while_(lt(v('got'), 3), [spin_lock('L'), while_(gt(queue_len('q'), 0), [dequeue('q', 'item'), BUG_ON(eq(r('item'), 0), 'zero'), inc('got')], { bound: 'none' }), spin_unlock('L')], { bound: 'none' })],
        },
      ],
    });
    expect(check(drain).status).toBe('verified');
  });

  it('identical CPUs running unbounded loops stay symmetric', () => {
    const d = defineDesign({
      name: 'twins', cpus: 3, locks: { L: 'spinlock' }, vars: { x: 0 },
      tasks: [0, 1, 2].map((c) => ({ name: `t${c}`, cpu: c, body: [while_(lt(v('x'), 4), [spin_lock('L'), inc('x'), spin_unlock('L')], { bound: 'none' })] })),
    });
    const p = compile(d);
    const sym = Symmetry.of(p, new Machine(p));
    expect(typeof sym).not.toBe('string');
    const on = check(d);
    const off = check(d, { symmetry: false });
    expect([on.status, off.status]).toEqual(['verified', 'verified']);
    expect(on.stats.states).toBeLessThan(off.stats.states);
  });
});
