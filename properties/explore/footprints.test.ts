/**
 * Footprints the partial-order reduction and fusion rely on
 * (model/kernel/semantics.ts FootprintBuilder, model/explore/por.ts):
 * expressions read what they evaluate, a *_init resets its lock under its
 * holder, and the socket, rwsem, local_lock, atomic, RCU, seqcount, NAPI,
 * irq_work, kthread and lifetime operations and PREEMPT_RT's rt: lock
 * operations declare what they touch, and a wake-up touches the tasks that
 * may sleep on its channel (every block of the catalogue's designs checked
 * against them; random sleepers and wakers searched with and without the
 * reductions). Each
 * design below has a violation that only a schedule the reductions would
 * drop with a wrong footprint reaches; the reduced search must find it.
 * (The operations' own footprints are checked by the reductions property,
 * properties/explore/reductions.test.ts, on designs built of them.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  and, assign, BUG_ON, compile, complete, complete_all, defineDesign, down, down_write, eq, exhaustive, gt, inc, init_rwsem, kthread_run,
  kthread_should_stop, kthread_stop, load, mutex_init, mutex_lock, mutex_unlock, not, per_cpu, preempt_disable, preempt_enable, r,
  read_seqcount_begin, read_lock, read_seqcount_retry, read_unlock, sleep_on, smp_processor_id, spin_lock, spin_unlock, this_cpu_inc, up,
  up_write, v, wait_event, wait_for_completion, wake_up, while_, write_lock, if_, schedule_work, spin_trylock, write_seqcount_begin,
  write_seqcount_end, write_unlock, lock_sock, release_sock, sk_add_backlog, spin_lock_bh, spin_unlock_bh, type Design, type Stmt,
} from '../../model/index.ts';
import { StaticFootprints } from '../../model/explore/por.ts';
import { INSN_WIDTH, sleepersOf } from '../../model/kernel/program.ts';
import { Chan } from '../../model/kernel/scheduler.ts';
import { ContextStatus, T_CHANNEL, X_PC, X_STATUS } from '../../model/kernel/layout.ts';
import { OPS } from '../../model/kernel/registry.ts';
import { CATALOGUE } from '../../model/designs/index.ts';
import { sweep } from '../helpers/full-sweep.ts';
import type { Machine } from '../../model/kernel/machine.ts';

/** The rt lock `lock`'s possible waiters (they sleep on its Mutex channel). */
const rtWaiters = (p: ReturnType<typeof compile>, lock: number) => sleepersOf(p, Chan.Mutex, lock);

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
    // Each unlock writes its own task's block only (wakesOn); waking any task, they would conflict (17 states, as with POR off).
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

describe('a wake wakes the tasks that may sleep on its channel (scheduler.ts wakesOn, program.ts sleepersOf)', () => {
  it('two CPUs each taking a mutex of their own need not interleave; with one mutex they must', () => {
    const d = (shared: boolean) => defineDesign({
      name: 'two-mutexes', cpus: 2, locks: { A: 'mutex', B: 'mutex' }, vars: { x: 0, y: 0 },
      tasks: [
        { name: 'a', cpu: 0, body: [mutex_lock('A'), inc('x'), mutex_unlock('A')] },
        { name: 'b', cpu: 1, body: [mutex_lock(shared ? 'A' : 'B'), inc('y'), mutex_unlock(shared ? 'A' : 'B')] },
      ],
    });
    const apart = compile(d(false));
    expect([sleepersOf(apart, Chan.Mutex, 0), sleepersOf(apart, Chan.Mutex, 1)]).toEqual([[0], [1]]);
    const reduced = exhaustive(apart);
    const noPor = exhaustive(apart, { por: false });
    expect([reduced.status, noPor.status]).toEqual(['verified', 'verified']);
    // Fails with mutex_unlock waking any task: a's unlock then conflicts with b's mutex_lock.
    expect(reduced.stats.states * 4).toBeLessThan(noPor.stats.states);
    const one = compile(d(true));
    expect(sleepersOf(one, Chan.Mutex, 0)).toEqual([0, 1]);
  });

  it('release_sock wakes its socket\'s waiters and looks at its own CPU\'s tasks only: another CPU\'s wait queue traffic need not interleave with it', () => {
    const p = compile(defineDesign({
      name: 'sock-apart', cpus: 2, vars: { x: 0, y: 0 }, waitqueues: { q: {} },
      socks: { sk: { backlog: 3, backlog_rcv: 'rcv' } }, functions: { rcv: [inc('x')] },
      tasks: [
        { name: 'owner', cpu: 0, body: [lock_sock('sk'), inc('x'), release_sock('sk'), lock_sock('sk'), release_sock('sk')] },
        { name: 'waker', cpu: 1, body: [inc('y'), wake_up('q'), inc('y'), wake_up('q')] },
        { name: 'sleeper', cpu: 1, body: [wait_event('q', gt(v('y'), 0))] },
      ],
    }));
    const reduced = exhaustive(p);
    const noPor = exhaustive(p, { por: false });
    expect([reduced.status, noPor.status]).toEqual(['verified', 'verified']);
    // 47 states against 274; 197 while release_sock's footprint wrote every task.
    expect(reduced.stats.states * 4).toBeLessThan(noPor.stats.states);
  });

  it('every task the catalogue\'s designs block on a mutex, semaphore, completion or wait queue is one sleepersOf names', () => {
    // Over the first 20,000 states of each design (every reachable one of most): a task that blocks does
    // so at an instruction declaring sleepsOn for that channel, and sleepersOf(channel) holds the task
    // (or any task). It finds lock_sock's sleep undeclared (on the TCP designs) within that bound.
    const REFINED: readonly number[] = [Chan.Mutex, Chan.Semaphore, Chan.Completion, Chan.WaitQueue];
    let blocks = 0;
    for (const d of CATALOGUE.filter((x) => x.cpus <= 2)) {
      const p = compile(d);
      let pc = -1;
      let status = -1;
      let task = -1;
      const observer = {
        before(m: Machine, choice: number) {
          const cpu = (choice >>> 24) & 0xf;
          task = m.top(cpu);
          if (task < 0 || task >= m.L.ntasks) return;
          pc = m.s[m.ctxOff(task) + X_PC]!;
          status = m.s[m.ctxOff(task) + X_STATUS]!;
        },
        after(m: Machine) {
          if (task < 0 || task >= m.L.ntasks) return;
          const o = m.ctxOff(task);
          if (status === ContextStatus.Blocked || m.s[o + X_STATUS] !== ContextStatus.Blocked) return;
          const chan = m.s[o + T_CHANNEL]!;
          const tag = chan >>> 16;
          if (!REFINED.includes(tag)) return;
          blocks++;
          const on = OPS[p.code[pc]!]!.sleepsOn;
          const where = `${d.name}: ${p.text[pc / INSN_WIDTH]} (${p.where[pc / INSN_WIDTH]})`;
          expect(on?.chan, where).toBe(tag);
          // The program's sleep sites hold this one: its channel's id (an operand, or an object's attribute) and its owner.
          expect(p.sleepSites.some((site) => site.tag === tag && site.id === (chan & 0xffff) && (site.task === task || site.task < 0)), where).toBe(true);
          const tasks = sleepersOf(p, tag, chan & 0xffff);
          if (tasks !== null) expect(tasks, where).toContain(task);
        },
      };
      sweep(p, observer, 20_000);
    }
    expect(blocks).toBeGreaterThan(1000);
  }, 120_000);

  it('on random designs of tasks sleeping and waking on semaphores, completions, wait queues, mutexes and a socket: the same verdict with the reductions on and off', () => {
    // Two of each object; each task's steps pick one. A task waking a channel no task sleeps on, or
    // several tasks on one channel, or a sleep in one task and its wake in another: every case of sleepersOf.
    // And a socket: lock_sock sleeps on its sk_lock.wq, release_sock wakes it and, draining a backlog one
    // segment at a time, may yield to another task of its CPU.
    const step: fc.Arbitrary<Stmt[]> = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.constantFrom('0', '1')).map(([k, i]) => [
      [down(`s${i}`), inc('x'), up(`s${i}`)], [up(`s${i}`)], [wait_for_completion(`c${i}`)], [complete(`c${i}`)], [complete_all(`c${i}`)],
      [wait_event(`q${i}`, gt(v('y'), 0))], [inc('y'), wake_up(`q${i}`)], [mutex_lock(`M${i}`), inc('x'), mutex_unlock(`M${i}`)],
      [lock_sock('sk'), inc('x'), release_sock('sk')],
      [spin_lock_bh('sk->sk_lock.slock'), sk_add_backlog('sk', 1, 2), spin_unlock_bh('sk->sk_lock.slock')],
    ][k]!);
    const design = fc.tuple(fc.integer({ min: 2, max: 3 }), fc.array(fc.array(step, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 }), fc.boolean())
      .map(([cpus, bodies, sleepOn]) => defineDesign({
        name: 'random-sleepers', cpus, vars: { x: 0, y: 0 }, semaphores: { s0: 1, s1: 0 }, completions: { c0: {}, c1: {} },
        waitqueues: { q0: {}, q1: {} }, locks: { M0: 'mutex', M1: 'mutex' }, socks: { sk: { backlog: 3, backlog_rcv: 'rcv' } }, functions: { rcv: [inc('x')] },
        tasks: bodies.map((b, t) => ({ name: `t${t}`, cpu: t % cpus, body: sleepOn && t === 0 ? [...b.flat(), sleep_on('q1')] : b.flat() })),
      }));
    let compared = 0;
    fc.assert(fc.property(design, (d) => {
      const p = compile(d);
      const full = exhaustive(p, { ...UNREDUCED, maxStates: 100_000 });
      const reduced = exhaustive(p, { maxStates: 100_000 });
      if (full.status === 'bounded-out' || reduced.status === 'bounded-out') return;
      compared++;
      expect([reduced.status, reduced.violation?.kind]).toEqual([full.status, full.violation?.kind]);
    }), { seed: 20261205, numRuns: 80 });
    expect(compared).toBeGreaterThan(60);
  });
});
