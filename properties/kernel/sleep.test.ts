/**
 * model/kernel/sleep.ts: sleeping primitives (shared/kernel-semantics.md
 * §4.3): struct mutex (kernel/locking/mutex.c), struct semaphore
 * (kernel/locking/semaphore.c), struct completion
 * (kernel/sched/completion.c) and wait queues (kernel/sched/wait.c,
 * include/linux/wait.h); with the hung-task detector
 * (check_hung_uninterruptible_tasks) for sleepers nobody wakes.
 */
import { describe, expect, it } from 'vitest';
import {
  assign, BUG_ON, check, complete, complete_all, dec, defineDesign, down, eq, gt, if_, inc, local_bh_disable,
  local_bh_enable, local_irq_disable, local_irq_enable, msleep, cond_resched, mutex_lock, mutex_trylock, mutex_unlock, ne,
  preempt_disable, preempt_enable, reinit_completion, sleep_on, spin_lock, spin_unlock, try_wait_for_completion, up, v,
  wait_event, wait_for_completion, wake_up, type Design, type Stmt,
} from '../../model/index.ts';
import { C_CURTASK, ContextStatus, L_OWNER, T_CHANNEL, X_STATUS } from '../../model/kernel/layout.ts';
import { forEachReachable, reachesInOrder } from '../helpers/reachable.ts';
import { Schedule } from '../helpers/schedule.ts';

// Wait channels: tag << 16 | object id (Chan in model/kernel/scheduler.ts).
const MUTEX_CHAN = (id: number) => (1 << 16) | id;
const SEM_CHAN = (id: number) => (2 << 16) | id;
const COMPLETION_CHAN = (id: number) => (3 << 16) | id;
const WAITQUEUE_CHAN = (id: number) => (4 << 16) | id;
/** complete_all's "UINT_MAX" done count in the model. */
const COMPLETE_ALL = 0x7fffffff;

const status = (s: Schedule, task: number): number => s.s[s.m.ctxOff(task) + X_STATUS]!;
const chan = (s: Schedule, task: number): number => s.s[s.m.ctxOff(task) + T_CHANNEL]!;
/** The first word of the object `id` of `kind` (semaphore count, completion done). */
const obj = (s: Schedule, kind: 'semaphore' | 'completion', id = 0): number => s.s[s.m.objOff(kind, id, 1)]!;

/** Tasks named from `bodies`, task i on cpu i (or all on cpu0 with `oneCpu`). */
const tasks = (bodies: Record<string, readonly Stmt[]>, extra: Partial<Design> = {}, oneCpu = false): Design =>
  defineDesign({
    name: 'sleepers', cpus: oneCpu ? 1 : Object.keys(bodies).length,
    locks: { M: 'mutex', N: 'mutex', L: 'spinlock' }, vars: { inside: 0, x: 0, ok: 0, flag: 0 },
    tasks: Object.entries(bodies).map(([name, body], i) => ({ name, cpu: oneCpu ? 0 : i, body })),
    ...extra,
  });

describe('mutexes', () => {
  const critical = (lock: boolean): Stmt[] => [
    ...(lock ? [mutex_lock('M')] : []),
    inc('inside'), BUG_ON(gt(v('inside'), 1), 'two tasks inside'), dec('inside'),
    ...(lock ? [mutex_unlock('M')] : []),
  ];

  it('mutual exclusion on two CPUs: BUG_ON(inside > 1) holds in every schedule', () => {
    expect(check(tasks({ a: critical(true), b: critical(true) })).status).toBe('verified');
  });

  it('mutual exclusion on one CPU under CONFIG_PREEMPT (the holder may be preempted inside)', () => {
    const d = tasks({ a: critical(true), b: critical(true) }, { options: { preempt: 'full' } }, true);
    expect(check(d).status).toBe('verified');
    // preempted while holding M: b then sleeps on it
    expect(reachesInOrder(d, ['[task a]: mutex_lock', 'preempt: task a → task b', '[task b]: mutex_lock(&M): held by task a, sleeps'])).toBe(true);
  });

  it('without the mutex the same BUG_ON fires (the check can fail)', () => {
    const v2 = check(tasks({ a: critical(false), b: critical(false) }));
    expect(v2.violation?.kind).toBe('assertion');
    expect(v2.violation?.message).toContain('kernel BUG at task ');
    expect(v2.violation?.message).toContain('(BUG_ON(inside > 1) /* two tasks inside */)');
  });

  it('a contended mutex_lock sleeps; the unlock wakes the waiter and it takes the mutex', () => {
    const s = new Schedule(tasks({ a: [mutex_lock('M'), inc('x'), mutex_unlock('M')], b: [mutex_lock('M'), inc('x'), mutex_unlock('M')] }));
    s.run('[task a]: mutex_lock(&M)', '[task b]: mutex_lock(&M): held by task a, sleeps');
    expect([status(s, 1), chan(s, 1), s.cpu(1, C_CURTASK), s.lock('M', L_OWNER)]).toEqual([ContextStatus.Blocked, MUTEX_CHAN(0), -1, 1]);
    expect(s.can('[task b]')).toBe(false);
    s.run('[task a]: x++', '[task a]: mutex_unlock(&M)');
    expect([status(s, 1), chan(s, 1), s.lock('M', L_OWNER)]).toEqual([ContextStatus.Runnable, 0, 0]);
    s.run('cpu1: schedule() → task b', '[task b]: mutex_lock(&M)');
    expect(s.labels.at(-1)).toBe('cpu1 [task b]: mutex_lock(&M)');
    expect([status(s, 1), s.lock('M', L_OWNER)]).toEqual([ContextStatus.Running, 2]);
    s.run('[task b]: x++', '[task b]: mutex_unlock');
    expect(s.variable('x')).toBe(2);
  });

  it('two waiters are both woken; the loser re-checks and sleeps again', () => {
    const body = [mutex_lock('M'), inc('x'), mutex_unlock('M')];
    const s = new Schedule(tasks({ a: body, b: body, c: body }));
    s.run('[task a]: mutex_lock', '[task b]: mutex_lock', '[task c]: mutex_lock', '[task a]: x++', '[task a]: mutex_unlock');
    expect([status(s, 1), status(s, 2)]).toEqual([ContextStatus.Runnable, ContextStatus.Runnable]);
    s.run('cpu2: schedule() → task c', '[task c]: mutex_lock', 'cpu1: schedule() → task b', '[task b]: mutex_lock(&M): held by task c, sleeps');
    expect([status(s, 1), chan(s, 1), s.lock('M')]).toEqual([ContextStatus.Blocked, MUTEX_CHAN(0), 3]);
  });

  it('unlock by a task that is not the owner: lock-misuse naming the owner', () => {
    const d = tasks({ a: [mutex_lock('M'), mutex_unlock('M')], b: [mutex_unlock('M')] });
    const s = new Schedule(d).run('[task a]: mutex_lock', '[task b]: mutex_unlock');
    expect(s.violation()).toBe('lock-misuse');
    expect(s.message).toContain('WARNING: bad unlock balance detected! task b is trying to release lock (&M): owned by task a');
    expect(s.message).toContain('DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current)');
    expect(s.lock('M')).toBe(1); // still a's
    expect(check(d).violation?.kind).toBe('lock-misuse');
  });

  it('unlock of an unlocked mutex: lock-misuse "not locked"', () => {
    const v2 = check(tasks({ t: [mutex_unlock('M')] }));
    expect(v2.violation?.kind).toBe('lock-misuse');
    expect(v2.violation?.message).toContain('(&M): not locked');
  });

  it('an irq handler unlocking a mutex its task holds: lock-misuse', () => {
    const d = tasks({ t: [mutex_lock('M'), inc('x'), mutex_unlock('M')] }, { irqs: [{ name: 'eth0', handler: [mutex_unlock('M')] }] });
    const s = new Schedule(d).run('mutex_lock', 'eth0 interrupt arrives', '[hardirq eth0]: mutex_unlock');
    expect(s.violation()).toBe('lock-misuse');
    expect(s.message).toContain('hardirq eth0 is trying to release lock (&M): owned by task t');
  });

  it('recursive mutex_lock: a deadlock (the owner sleeps on itself), lockdep\'s "possible recursive locking detected"', () => {
    const v2 = check(tasks({ t: [mutex_lock('M'), mutex_lock('M'), mutex_unlock('M'), mutex_unlock('M')] }));
    expect(v2.violation?.kind).toBe('deadlock');
    expect(v2.violation?.message).toBe('WARNING: possible recursive locking detected\n  task t: mutex_lock(&M) while it holds &M: it sleeps on itself forever');
  });

  it('ABBA between two tasks: deadlock whose cycle names both tasks and both mutexes', () => {
    const v2 = check(tasks({
      a: [mutex_lock('M'), mutex_lock('N'), mutex_unlock('N'), mutex_unlock('M')],
      b: [mutex_lock('N'), mutex_lock('M'), mutex_unlock('M'), mutex_unlock('N')],
    }));
    expect(v2.violation?.kind).toBe('deadlock');
    expect(v2.violation?.message).toContain('(circular wait)');
    expect(v2.violation?.cycle?.map((c) => c.context).sort()).toEqual(['task a', 'task b']);
    const whys = v2.violation!.cycle!.map((c) => c.why).sort();
    expect(whys).toEqual(['task a: mutex_lock(&N) sleeps: held by task b', 'task b: mutex_lock(&M) sleeps: held by task a']);
  });

  it('the same order in both tasks never deadlocks', () => {
    const body = [mutex_lock('M'), mutex_lock('N'), mutex_unlock('N'), mutex_unlock('M')];
    expect(check(tasks({ a: body, b: body })).status).toBe('verified');
  });
});

describe('mutex_trylock', () => {
  const branch: Stmt = if_(mutex_trylock('M'), [assign('ok', 1), mutex_unlock('M')], [assign('ok', 2)]);

  it('free: takes the mutex and returns 1', () => {
    const s = new Schedule(tasks({ t: [branch] })).take('mutex_trylock(&M)');
    expect(s.lock('M')).toBe(1);
    s.run('→ true', 'WRITE_ONCE(ok, 1)', 'mutex_unlock');
    expect([s.variable('ok'), s.lock('M')]).toEqual([1, 0]);
  });

  it('held by another task: returns 0 and never sleeps', () => {
    const s = new Schedule(tasks({ a: [mutex_lock('M'), mutex_unlock('M')], t: [branch] })).run('[task a]: mutex_lock', '[task t]: mutex_trylock(&M)');
    expect([status(s, 1), s.lock('M')]).toEqual([ContextStatus.Running, 1]);
    s.run('[task t]: if (mutex_trylock(&M)) → false', 'WRITE_ONCE(ok, 2)');
    expect(s.variable('ok')).toBe(2);
  });

  it('under a spinlock it is allowed (it does not sleep)', () => {
    expect(check(tasks({ t: [spin_lock('L'), branch, spin_unlock('L')] })).status).toBe('verified');
  });

  for (const [where, extra, body] of [
    ['a hardirq handler', { irqs: [{ name: 'eth0', handler: [branch] }] }, [inc('x')]],
    ['a softirq handler', { irqs: [{ name: 'eth0', handler: [{ op: 'raise_softirq', vec: 'NET_RX' }] }], softirqs: { NET_RX: [branch] } }, [inc('x')]],
    ['a task with bh disabled (in_interrupt() is true)', {}, [local_bh_disable(), branch, local_bh_enable()]],
  ] as [string, Partial<Design>, Stmt[]][]) {
    it(`in ${where}: lock-misuse`, () => {
      const v2 = check(tasks({ t: body }, extra));
      expect(v2.violation?.kind).toBe('lock-misuse');
      expect(v2.violation?.message).toContain('mutex_trylock(&M) in interrupt context (DEBUG_LOCKS_WARN_ON(in_interrupt()))');
    });
  }
});

describe('sleeping primitives check might_sleep even when they would not block', () => {
  const cases: [string, Stmt, Partial<Design>][] = [
    ['mutex_lock of a free mutex', mutex_lock('M'), {}],
    ['down with count 1', down('s'), { semaphores: { s: 1 } }],
    ['wait_for_completion already completed', wait_for_completion('c'), { completions: { c: { done: 1 } } }],
    ['wait_event with a true condition', wait_event('wq', eq(v('x'), 0)), { waitqueues: { wq: {} } }],
    ['sleep_on', sleep_on('wq'), { waitqueues: { wq: {} } }],
  ];
  for (const [what, call, extra] of cases) {
    for (const [section, open, close, atomic, irqs] of [
      ['spin_lock', spin_lock('L'), spin_unlock('L'), 1, 0],
      ['preempt_disable', preempt_disable(), preempt_enable(), 1, 0],
      ['local_irq_disable', local_irq_disable(), local_irq_enable(), 0, 1],
    ] as const) {
      it(`${what} under ${section}: sleep-in-atomic`, () => {
        const v2 = check(tasks({ t: [open, call, close] }, extra));
        expect(v2.violation?.kind).toBe('sleep-in-atomic');
        expect(v2.violation?.message).toContain('BUG: sleeping function called from invalid context');
        expect(v2.violation?.message).toContain(`in_atomic(): ${atomic}, irqs_disabled(): ${irqs}`);
        expect(v2.violation?.message).toContain(`${call.op}(&`);
      });
    }
  }

  it('mutex_lock in a hardirq handler: sleep-in-atomic in hardirq context', () => {
    const v2 = check(tasks({ t: [inc('x')] }, { irqs: [{ name: 'eth0', handler: [mutex_lock('M'), mutex_unlock('M')] }] }));
    expect(v2.violation?.kind).toBe('sleep-in-atomic');
    expect(v2.violation?.message).toContain('mutex_lock(&M) in hardirq context');
  });
});

describe('semaphores', () => {
  const guarded: Stmt[] = [down('s'), inc('inside'), BUG_ON(gt(v('inside'), 2), 'three inside'), dec('inside'), up('s')];

  it('initial count 2: at most two inside in any schedule, and two at once is reachable', () => {
    const d = tasks({ a: guarded, b: guarded, c: guarded }, { semaphores: { s: 2 } });
    expect(check(d).status).toBe('verified');
    let most = 0;
    forEachReachable(d, (m, st) => { most = Math.max(most, st[m.L.varBase + m.p.vars.indexOf('inside')]!); });
    expect(most).toBe(2);
  });

  it('initial count 1 is a mutex: at most one inside', () => {
    const d = tasks({ a: guarded, b: guarded, c: guarded }, { semaphores: { s: 1 } });
    let most = 0;
    forEachReachable(d, (m, st) => { most = Math.max(most, st[m.L.varBase + m.p.vars.indexOf('inside')]!); });
    expect(most).toBe(1);
  });

  it('two down()s take the count to 0; the third sleeps until an up()', () => {
    const body = [down('s'), inc('x'), up('s')];
    const s = new Schedule(tasks({ a: body, b: body, c: body }, { semaphores: { s: 2 } }));
    s.run('[task a]: down(&s)', '[task b]: down(&s)');
    expect(obj(s, 'semaphore')).toBe(0);
    s.take('[task c]: down(&s)');
    expect([status(s, 2), chan(s, 2), obj(s, 'semaphore')]).toEqual([ContextStatus.Blocked, SEM_CHAN(0), 0]);
    expect(s.can('[task c]')).toBe(false);
    s.run('[task a]: x++', '[task a]: up(&s)');
    expect([status(s, 2), obj(s, 'semaphore')]).toEqual([ContextStatus.Runnable, 1]);
    s.run('cpu2: schedule() → task c', '[task c]: down(&s)');
    expect([status(s, 2), obj(s, 'semaphore')]).toEqual([ContextStatus.Running, 0]);
  });

  it('up() from an irq handler wakes a task sleeping in down()', () => {
    const d = tasks({ t: [down('s'), inc('x')] }, { semaphores: { s: 0 }, irqs: [{ name: 'eth0', handler: [up('s')] }] });
    const s = new Schedule(d).take('[task t]: down(&s)');
    expect([status(s, 0), chan(s, 0)]).toEqual([ContextStatus.Blocked, SEM_CHAN(0)]);
    s.run('eth0 interrupt arrives', '[hardirq eth0]: up(&s)');
    expect(s.violation()).toBeNull();
    expect([status(s, 0), obj(s, 'semaphore')]).toEqual([ContextStatus.Runnable, 1]);
    s.runToEnd();
    expect(s.violation()).toBeNull();
    expect([s.variable('x'), obj(s, 'semaphore'), status(s, 0)]).toEqual([1, 0, ContextStatus.Done]);
    expect(check(d).status).toBe('verified');
  });

  it('a down() nobody ups: hung-task', () => {
    const v2 = check(tasks({ t: [down('s')] }, { semaphores: { s: 0 } }));
    expect(v2.violation?.kind).toBe('hung-task');
    expect(v2.violation?.message).toContain('INFO: task t blocked for more than 120 seconds.');
    expect(v2.violation?.message).toContain('down(&s)');
  });
});

describe('completions', () => {
  it('wait_for_completion after complete returns at once and consumes one done', () => {
    const s = new Schedule(tasks({ t: [complete('c'), wait_for_completion('c'), inc('x')] }, { completions: { c: {} } }));
    s.take('complete(&c)');
    expect(obj(s, 'completion')).toBe(1);
    s.take('wait_for_completion(&c)');
    expect([status(s, 0), obj(s, 'completion')]).toEqual([ContextStatus.Running, 0]);
    s.take('x++');
  });

  it('a waiter sleeps until complete() from another CPU wakes it', () => {
    const s = new Schedule(tasks({ w: [wait_for_completion('c'), inc('x')], k: [complete('c')] }, { completions: { c: {} } }));
    s.take('[task w]: wait_for_completion(&c)');
    expect([status(s, 0), chan(s, 0)]).toEqual([ContextStatus.Blocked, COMPLETION_CHAN(0)]);
    s.take('[task k]: complete(&c)');
    expect([status(s, 0), obj(s, 'completion')]).toEqual([ContextStatus.Runnable, 1]);
    s.run('schedule() → task w', '[task w]: wait_for_completion(&c)', '[task w]: x++');
    expect(obj(s, 'completion')).toBe(0);
  });

  it('complete before or after the wait: both orders reachable, never hung', () => {
    const d = tasks({ w: [wait_for_completion('c'), inc('x')], k: [complete('c')] }, { completions: { c: {} } });
    expect(check(d).status).toBe('verified');
    expect(reachesInOrder(d, ['[task k]: complete(&c)', '[task w]: wait_for_completion(&c)'])).toBe(true);
    expect(reachesInOrder(d, ['[task w]: wait_for_completion(&c)', '[task k]: complete(&c)', '[task w]: wait_for_completion(&c)'])).toBe(true);
  });

  it('complete() from an irq handler wakes the waiter', () => {
    const d = tasks({ w: [wait_for_completion('c'), inc('x')] }, { completions: { c: {} }, irqs: [{ name: 'eth0', handler: [complete('c')] }] });
    expect(check(d).status).toBe('verified');
  });

  it('complete_all releases every waiter and every later wait', () => {
    const d = tasks({
      w1: [wait_for_completion('c')], w2: [wait_for_completion('c')],
      w3: [wait_for_completion('c'), wait_for_completion('c')], k: [complete_all('c')],
    }, { completions: { c: {} } });
    expect(check(d).status).toBe('verified');
    const s = new Schedule(d).run('[task w1]: wait', '[task w2]: wait', '[task k]: complete_all(&c)');
    expect([status(s, 0), status(s, 1), obj(s, 'completion')]).toEqual([ContextStatus.Runnable, ContextStatus.Runnable, COMPLETE_ALL]);
    s.runToEnd();
    expect(s.violation()).toBeNull();
    expect(obj(s, 'completion')).toBe(COMPLETE_ALL); // waits do not consume it
  });

  it('one complete() releases one waiter: the other hangs (control for complete_all)', () => {
    const v2 = check(tasks({ w1: [wait_for_completion('c')], w2: [wait_for_completion('c')], k: [complete('c')] }, { completions: { c: {} } }));
    expect(v2.violation?.kind).toBe('hung-task');
  });

  it('reinit_completion resets done to 0: a later wait sleeps again', () => {
    const d = tasks({ t: [complete_all('c'), reinit_completion('c'), wait_for_completion('c')] }, { completions: { c: {} } });
    const s = new Schedule(d).run('complete_all', 'reinit_completion');
    expect(obj(s, 'completion')).toBe(0);
    s.take('wait_for_completion');
    expect(status(s, 0)).toBe(ContextStatus.Blocked);
    const v2 = check(d);
    expect(v2.violation?.kind).toBe('hung-task');
    expect(v2.violation?.message).toContain('wait_for_completion(&c)');
  });

  it('try_wait_for_completion never sleeps: 0 when not done, 1 (consuming) when done', () => {
    const body = [if_(try_wait_for_completion('c'), [assign('ok', 1)], [assign('ok', 2)])];
    const none = new Schedule(tasks({ t: body }, { completions: { c: {} } })).runToEnd();
    expect([none.variable('ok'), none.violation()]).toEqual([2, null]);
    expect(none.labels.some((l) => l.includes('sleeps'))).toBe(false);
    const one = new Schedule(tasks({ t: body }, { completions: { c: { done: 1 } } })).runToEnd();
    expect([one.variable('ok'), obj(one, 'completion')]).toEqual([1, 0]);
    forEachReachable(tasks({ t: body, k: [complete('c')] }, { completions: { c: {} } }), (m, st) => {
      expect(st[m.ctxOff(0) + X_STATUS]).not.toBe(ContextStatus.Blocked);
    });
  });

  it('try_wait_for_completion after complete_all keeps returning 1 and does not consume', () => {
    const t = (): Stmt => if_(try_wait_for_completion('c'), [inc('x')], [assign('ok', 9)]);
    const s = new Schedule(tasks({ t: [complete_all('c'), t(), t()] }, { completions: { c: {} } })).runToEnd();
    expect([s.variable('x'), s.variable('ok'), obj(s, 'completion')]).toEqual([2, 0, COMPLETE_ALL]);
  });

  it('try_wait_for_completion is allowed in a hardirq handler', () => {
    const d = tasks({ t: [complete('c')] }, { completions: { c: {} }, irqs: [{ name: 'eth0', handler: [if_(try_wait_for_completion('c'), [inc('x')])] }] });
    expect(check(d).status).toBe('verified');
  });

  it('a wait nobody completes: hung-task naming the task and the completion', () => {
    const v2 = check(tasks({ waiter: [wait_for_completion('done_c')], other: [inc('x')] }, { completions: { done_c: {} } }));
    expect(v2.violation?.kind).toBe('hung-task');
    expect(v2.violation?.context).toBe('task waiter');
    expect(v2.violation?.message).toContain('INFO: task waiter blocked for more than 120 seconds.');
    expect(v2.violation?.message).toContain('task waiter: wait_for_completion(&done_c) sleeps until a complete()');
  });
});

describe('wait queues: wait_event re-checks, sleep_on loses wakeups', () => {
  const waiter: Stmt[] = [wait_event('wq', ne(v('flag'), 0)), BUG_ON(eq(v('flag'), 0), 'woke with flag 0'), inc('x')];
  const waker: Stmt[] = [assign('flag', 1), wake_up('wq')];

  it('wait_event: no lost wakeup in any schedule, on two CPUs', () => {
    expect(check(tasks({ waiter, waker }, { waitqueues: { wq: {} } })).status).toBe('verified');
  });

  it('wait_event: no lost wakeup in any schedule, one CPU with CONFIG_PREEMPT', () => {
    expect(check(tasks({ waiter, waker }, { waitqueues: { wq: {} }, options: { preempt: 'full' } }, true)).status).toBe('verified');
  });

  it('wait_event sleeps on the queue, and a wake_up without the condition puts it back to sleep', () => {
    const d = tasks({ waiter, waker: [wake_up('wq'), assign('flag', 1), wake_up('wq')] }, { waitqueues: { wq: {} } });
    const s = new Schedule(d).take('[task waiter]: wait_event');
    expect([status(s, 0), chan(s, 0)]).toEqual([ContextStatus.Blocked, WAITQUEUE_CHAN(0)]);
    s.take('[task waker]: wake_up(&wq)');
    expect(status(s, 0)).toBe(ContextStatus.Runnable);
    s.run('schedule() → task waiter', '[task waiter]: wait_event');
    expect([status(s, 0), chan(s, 0)]).toEqual([ContextStatus.Blocked, WAITQUEUE_CHAN(0)]); // flag still 0
    s.run('[task waker]: WRITE_ONCE(flag, 1)', '[task waker]: wake_up', 'schedule() → task waiter', '[task waiter]: wait_event');
    expect(status(s, 0)).toBe(ContextStatus.Running);
    s.runToEnd();
    expect([s.violation(), s.variable('x')]).toEqual([null, 1]);
    expect(check(d).status).toBe('verified');
  });

  it('wait_event with the condition already true does not sleep', () => {
    const s = new Schedule(tasks({ t: [assign('flag', 1), ...waiter] }, { waitqueues: { wq: {} } })).run('WRITE_ONCE(flag, 1)', 'wait_event');
    expect(status(s, 0)).toBe(ContextStatus.Running);
  });

  const sleeper: Stmt[] = [if_(eq(v('flag'), 0), [sleep_on('wq')]), inc('x')];

  it('sleep_on: the wake_up between the check and the sleep is lost: hung-task', () => {
    const d = tasks({ sleeper, waker }, { waitqueues: { wq: {} } });
    const v2 = check(d);
    expect(v2.violation?.kind).toBe('hung-task');
    expect(v2.violation?.message).toContain('INFO: task sleeper blocked for more than 120 seconds.');
    expect(v2.violation?.message).toContain('sleep_on(&wq) sleeps until the next wake_up()');
    // The lost-wakeup interleaving, step by step.
    const s = new Schedule(d).run('[task sleeper]: if', '[task waker]: WRITE_ONCE(flag, 1)', '[task waker]: wake_up(&wq)', '[task sleeper]: sleep_on(&wq)');
    expect([status(s, 0), chan(s, 0), s.variable('flag')]).toEqual([ContextStatus.Blocked, WAITQUEUE_CHAN(0), 1]);
    s.take('[task waker]: return');
    expect(s.enabledLabels()).toEqual([]); // nobody is left to wake the sleeper
  });

  it('sleep_on woken after it sleeps goes on, without re-checking anything', () => {
    const d = tasks({ sleeper, waker }, { waitqueues: { wq: {} } });
    const s = new Schedule(d).run('[task sleeper]: if', '[task sleeper]: sleep_on', '[task waker]: WRITE_ONCE', '[task waker]: wake_up');
    expect(status(s, 0)).toBe(ContextStatus.Runnable);
    s.runToEnd();
    expect([s.violation(), s.variable('x')]).toEqual([null, 1]);
  });

  it('wake_up with no sleepers is harmless', () => {
    const d = tasks({ t: [wake_up('wq'), inc('x')], u: [inc('x'), msleep(1)] }, { waitqueues: { wq: {} } });
    expect(check(d).status).toBe('verified');
    const s = new Schedule(d).take('[task u]: x++').take('[task u]: msleep').take('[task t]: wake_up');
    expect([s.violation(), status(s, 1), chan(s, 1)]).toEqual([null, ContextStatus.Blocked, (5 << 16) | 1]); // msleep's timeout is not the queue
  });

  it('wake_up from an irq handler wakes wait_event sleepers', () => {
    const d = tasks({ waiter }, { waitqueues: { wq: {} }, irqs: [{ name: 'eth0', handler: waker }] });
    expect(check(d).status).toBe('verified');
  });
});

describe('blocked sleepers give up the CPU', () => {
  it('a task sleeping on a mutex lets another task on its CPU run', () => {
    const d = tasks({
      a: [mutex_lock('M'), msleep(1), mutex_unlock('M')],
      b: [mutex_lock('M'), inc('x'), mutex_unlock('M')],
      c: [inc('x'), cond_resched(), inc('x')],
    }, {}, true);
    expect(reachesInOrder(d, ['[task b]: mutex_lock(&M): held by task a, sleeps', '[task c]: x++'])).toBe(true);
    expect(check(d).status).toBe('verified');
  });
});
