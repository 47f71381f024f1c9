/**
 * Footprints the partial-order reduction and fusion rely on
 * (model/kernel/semantics.ts FootprintBuilder, model/explore/por.ts):
 * expressions read what they evaluate, a *_init resets its lock under its
 * holder, and the socket, rwsem, local_lock, atomic, RCU, seqcount, NAPI,
 * irq_work, kthread and lifetime operations and PREEMPT_RT's rt: lock
 * operations declare what they touch. Each
 * design below has a violation that only a schedule the reductions would
 * drop with a wrong footprint reaches; the reduced search must find it.
 * (The operations' own footprints are checked by the reductions property,
 * properties/explore/reductions.test.ts, on designs built of them.)
 */
import { describe, expect, it } from 'vitest';
import {
  and, assign, BUG_ON, compile, defineDesign, down_write, eq, exhaustive, inc, init_rwsem, kthread_run, kthread_should_stop,
  kthread_stop, load, mutex_init, mutex_lock, mutex_unlock, not, per_cpu, preempt_disable, preempt_enable, r, read_seqcount_begin,
  read_lock, read_seqcount_retry, read_unlock, smp_processor_id, spin_lock, spin_unlock, this_cpu_inc, up_write, v, while_, write_lock,
  if_, schedule_work, spin_trylock, write_seqcount_begin, write_seqcount_end, write_unlock, type Design,
} from '../../model/index.ts';
import { StaticFootprints } from '../../model/explore/por.ts';
import { rtWaiters } from '../../model/kernel/spinlock.ts';

const UNREDUCED = { por: false, fusion: false, symmetry: false } as const;

/** The reduced and the unreduced search agree, and both find `kind`. */
function bothFind(d: Design, kind: string): void {
  const p = compile(d);
  const full = exhaustive(p, UNREDUCED);
  const reduced = exhaustive(p);
  expect(full.violation?.kind).toBe(kind);
  expect(reduced.status).toBe('violation');
  expect(reduced.violation?.kind).toBe(kind);
}

describe('expressions read what they evaluate', () => {
  it('smp_processor_id() of a task that may migrate is not a private step: it sees the CPU it was moved to', () => {
    // a bumps its CPU's counter, is preempted by b, migrated to cpu1, and then reads smp_processor_id():
    // 1, with cpu1's counter still 0. Fused into this_cpu_inc's step, the read would always see cpu0.
    bothFind(defineDesign({
      name: 'migrated', cpus: 2, percpu: { pc: 0 }, vars: { y: 0 }, options: { preempt: 'full' },
      tasks: [
        { name: 'a', cpu: 0, allowed: [0, 1], body: [this_cpu_inc('pc'), load('c', smp_processor_id()), BUG_ON(and(eq(r('c'), 1), eq(per_cpu('pc', 1), 0)), 'moved')] },
        { name: 'b', cpu: 0, body: [inc('y')] },
      ],
    }), 'assertion');
  });

  it('kthread_should_stop() reads the flag kthread_stop sets from another CPU', () => {
    // main sees k's first step, then stops it before k tests kthread_should_stop(): k leaves its loop at once.
    bothFind(defineDesign({
      name: 'stopped', cpus: 2, vars: { x: 0, y: 0, seen: 0 },
      tasks: [
        { name: 'main', cpu: 0, body: [kthread_run('k'), assign('seen', v('x')), kthread_stop('k')] },
        {
          name: 'k', cpu: 1, start: 'kthread_run',
          body: [inc('x'), while_(not(kthread_should_stop()), [inc('y')], { bound: 2 }), BUG_ON(and(eq(v('seen'), 1), eq(v('y'), 0)), 'stopped before the loop')],
        },
      ],
    }), 'assertion');
  });

  it('the same with every task away from cpu0 (whose footprints decide which steps are private): a preemption comes between', () => {
    bothFind(defineDesign({
      name: 'migrated-away', cpus: 3, percpu: { pc: 0 }, vars: { y: 0 }, options: { preempt: 'full' },
      tasks: [
        { name: 'a', cpu: 1, allowed: [1, 2], body: [this_cpu_inc('pc'), load('c', smp_processor_id()), BUG_ON(and(eq(r('c'), 2), eq(per_cpu('pc', 2), 0)), 'moved')] },
        { name: 'b', cpu: 1, body: [inc('y')] },
      ],
    }), 'assertion');
    bothFind(defineDesign({
      name: 'stopped-away', cpus: 2, vars: { x: 0, y: 0, seen: 0 }, options: { preempt: 'full' },
      tasks: [
        { name: 'main', cpu: 1, body: [kthread_run('k'), assign('seen', v('x')), kthread_stop('k')] },
        {
          name: 'k', cpu: 1, start: 'kthread_run',
          body: [inc('x'), while_(not(kthread_should_stop()), [inc('y')], { bound: 2 }), BUG_ON(and(eq(v('seen'), 1), eq(v('y'), 0)), 'stopped before the loop')],
        },
      ],
    }), 'assertion');
  });

  it('read_seqcount_retry() reads the sequence a writer on another CPU moves', () => {
    // The writer sees z = 1 and writes a whole section before the reader's retry: the retry says 1.
    bothFind(defineDesign({
      name: 'retry', cpus: 2, vars: { z: 0, seenz: 0 }, seqcounts: { s: {} },
      tasks: [
        { name: 'reader', cpu: 0, body: [read_seqcount_begin('s', 'q'), assign('z', 1), load('t', read_seqcount_retry('s', r('q'))), BUG_ON(and(eq(r('t'), 1), eq(v('seenz'), 1)), 'retry after z')] },
        { name: 'writer', cpu: 1, body: [assign('seenz', v('z')), preempt_disable(), write_seqcount_begin('s'), write_seqcount_end('s'), preempt_enable()] },
      ],
    }), 'assertion');
  });
});

describe('a lock some code re-initialises protects nothing', () => {
  const guarded = (init: 'mutex_init' | 'init_rwsem' | null): Design => {
    const [lock, unlock] = init === 'init_rwsem' ? [down_write, up_write] : [mutex_lock, mutex_unlock];
    const reinit = init === 'mutex_init' ? [mutex_init('M')] : init === 'init_rwsem' ? [init_rwsem('M')] : [];
    return defineDesign({
      name: `protected-${init ?? 'plain'}`, cpus: 2, vars: { x: 0 }, locks: { M: init === 'init_rwsem' ? 'rw_semaphore' : 'mutex' },
      tasks: [
        { name: 'a', cpu: 0, body: [lock('M'), load('t', v('x')), BUG_ON({ fn: '!=', args: [v('x'), r('t')] }, 'x moved under M'), unlock('M')] },
        { name: 'b', cpu: 1, body: [...reinit, lock('M'), inc('x'), unlock('M')] },
      ],
    });
  };

  it('x, touched only under M, is protected by M; not where b may re-initialise M under a', () => {
    for (const init of [null, 'mutex_init', 'init_rwsem'] as const) {
      const p = compile(guarded(init));
      const fp = new StaticFootprints(p);
      const x = fp.items.dataFrom + p.vars.indexOf('x');
      const protectedBits = fp.protectedBy[p.locks.findIndex((l) => l.name === 'M')]!;
      expect((protectedBits[x >>> 5]! >>> (x & 31)) & 1, String(init)).toBe(init === null ? 1 : 0);
    }
  });

  it('with M re-initialised, the reduced search agrees with the unreduced one', () => {
    for (const init of ['mutex_init', 'init_rwsem'] as const) {
      const p = compile(guarded(init));
      const full = exhaustive(p, UNREDUCED);
      const reduced = exhaustive(p);
      expect(reduced.status).toBe(full.status);
      expect(reduced.stats.states).toBeLessThanOrEqual(full.stats.states);
    }
  });
});

describe('PREEMPT_RT: the rt: operations (a sleeping spinlock_t) declare what they touch', () => {
  const rt = (name: string, tasks: Design['tasks'], locks: Design['locks'] = { A: 'spinlock', B: 'spinlock' }): Design =>
    defineDesign({ name, cpus: 2, profile: '6.12-rt', locks, vars: { x: 0, y: 0 }, tasks });

  it('spin_lock A-B against B-A on two CPUs: the reduced search finds the deadlock', () => {
    const d = rt('rt-abba', [
      { name: 'ab', cpu: 0, body: [spin_lock('A'), spin_lock('B'), inc('x'), spin_unlock('B'), spin_unlock('A')] },
      { name: 'ba', cpu: 1, body: [spin_lock('B'), spin_lock('A'), inc('x'), spin_unlock('A'), spin_unlock('B')] },
    ]);
    bothFind(d, 'deadlock');
  });

  it('read_lock A then spin_lock B against spin_lock B then write_lock A: the reduced search finds the deadlock', () => {
    bothFind(rt('rt-rw-abba', [
      { name: 'reader', cpu: 0, body: [read_lock('A'), spin_lock('B'), inc('x'), spin_unlock('B'), read_unlock('A')] },
      { name: 'writer', cpu: 1, body: [spin_lock('B'), write_lock('A'), inc('x'), write_unlock('A'), spin_unlock('B')] },
    ], { A: 'rwlock', B: 'spinlock' }), 'deadlock');
  });

  it('an rt lock step is independent of another CPU\'s step on other data: the reduction prunes around it', () => {
    // CPU 1 only counts y. With no footprint the rt: steps would conflict with everything (17 states);
    // with theirs, CPU 1's steps go first without the interleavings (10 states; 29 with POR off).
    const p = compile(rt('rt-apart', [
      { name: 'a', cpu: 0, body: [spin_lock('A'), inc('x'), spin_unlock('A'), spin_lock('A'), inc('x'), spin_unlock('A')] },
      { name: 'b', cpu: 1, body: [inc('y'), inc('y'), inc('y')] },
    ]));
    const reduced = exhaustive(p);
    const noPor = exhaustive(p, { por: false });
    expect([reduced.status, noPor.status]).toEqual(['verified', 'verified']);
    expect(reduced.stats.states * 2).toBeLessThan(noPor.stats.states);
  });

  it('an rt unlock wakes only the tasks that may sleep on that lock: two CPUs on a lock each need not interleave', () => {
    // Each unlock writes its own task's block only (rtWaiters); waking any task, they would conflict (17 states, as with POR off).
    const d = rt('rt-two-locks', [
      { name: 'a', cpu: 0, body: [spin_lock('A'), inc('x'), spin_unlock('A')] },
      { name: 'b', cpu: 1, body: [spin_lock('B'), inc('y'), spin_unlock('B')] },
    ]);
    const p = compile(d);
    expect([rtWaiters(p, 0), rtWaiters(p, 1)]).toEqual([[0], [1]]);
    const reduced = exhaustive(p);
    const noPor = exhaustive(p, { por: false });
    expect([reduced.status, noPor.status]).toEqual(['verified', 'verified']);
    expect(reduced.stats.states * 4).toBeLessThan(noPor.stats.states);
  });

  it('a lock some shared code sleeps on (a work function, run by a kworker) may have any task as waiter', () => {
    const p = compile(defineDesign({
      name: 'rt-shared', cpus: 2, profile: '6.12-rt', locks: { A: 'spinlock', B: 'spinlock' }, vars: { x: 0 },
      works: { w: { func: 'wf' } }, functions: { wf: [spin_lock('A'), inc('x'), spin_unlock('A')] },
      tasks: [{ name: 'a', cpu: 0, body: [spin_lock('B'), if_(spin_trylock('A'), [inc('x'), spin_unlock('A')]), spin_unlock('B'), schedule_work('w')] }],
    }));
    expect(rtWaiters(p, 0)).toBeNull();
    // B: task a's body only; its trylock of A never sleeps.
    expect(rtWaiters(p, 1)).toEqual([p.tasks.findIndex((t) => t.name === 'a')]);
  });
});
