/**
 * model/kernel/scheduler.ts: tasks and the scheduler (kernel/sched/core.c;
 * shared/kernel-semantics.md §1.2, §1.3 rule 6, §4.3). The CPU's pick among
 * runnable tasks, preemption only at preemptible points (CONFIG_PREEMPT) or
 * explicit schedule points (PREEMPT_NONE), migration of runnable tasks only,
 * msleep's timeout, the task-exit leak checks, the preempt_count underflow
 * check, `__might_resched` ("sleeping function called from invalid context")
 * and `schedule_debug` ("scheduling while atomic").
 */
import { describe, expect, it } from 'vitest';
import {
  check, cond_resched, defineDesign, inc, local_bh_disable, local_bh_enable, local_irq_disable, local_irq_enable,
  might_sleep, msleep, mutex_lock, mutex_unlock, preempt_disable, preempt_enable, schedule, spin_lock, spin_lock_irq,
  spin_unlock, spin_unlock_irq, down, up, complete, wait_for_completion, type Design, type Stmt,
} from '../../model/index.ts';
import {
  C_BH, C_CURTASK, C_DEPTH, C_HARDIRQ, C_IRQS_OFF, C_PREEMPT, C_SERVING, ContextStatus, T_CHANNEL, X_CPU, X_STATUS,
} from '../../model/kernel/layout.ts';
import type { Machine } from '../../model/index.ts';
import { reachesInOrder, walkReachable } from '../helpers/reachable.ts';
import { Schedule } from '../helpers/schedule.ts';

/** Chan.Timeout << 16 | task id (model/kernel/scheduler.ts). */
const TIMEOUT_CHAN = (task: number): number => (5 << 16) | task;

const status = (s: Schedule, task: number): number => s.s[s.m.ctxOff(task) + X_STATUS]!;
const taskField = (m: Machine, st: Int32Array, task: number, field: number): number => st[m.ctxOff(task) + field]!;
const cpuField = (m: Machine, st: Int32Array, cpu: number, field: number): number => st[m.cpuOff(cpu) + field]!;

/** One task `t` on one CPU running `body`, with a spinlock L and a mutex M. */
const oneTask = (body: readonly Stmt[], extra: Partial<Design> = {}): Design =>
  defineDesign({ name: 'one-task', cpus: 1, locks: { L: 'spinlock', M: 'mutex' }, vars: { x: 0 }, tasks: [{ name: 't', cpu: 0, body }], ...extra });

/** Tasks a (id 0) and b (id 1) sharing cpu0. */
const twoOnOneCpu = (a: readonly Stmt[], b: readonly Stmt[], preempt: 'none' | 'full', extra: Partial<Design> = {}): Design =>
  defineDesign({
    name: 'two-on-cpu0', cpus: 1, options: { preempt }, locks: { L: 'spinlock' }, vars: { x: 0, y: 0 },
    tasks: [{ name: 'a', cpu: 0, body: a }, { name: 'b', cpu: 0, body: b }],
    ...extra,
  });

describe('the CPU picks among its runnable tasks', () => {
  const d = twoOnOneCpu([inc('x')], [inc('y')], 'none');

  it('with several runnable tasks the first pick is a choice, and either task can run first', () => {
    const s = new Schedule(d);
    expect(s.cpu(0, C_CURTASK)).toBe(-1);
    expect(s.enabledLabels()).toEqual(['cpu0: schedule() → task a', 'cpu0: schedule() → task b']);
    expect(reachesInOrder(d, ['[task a]: x++', '[task b]: y++'])).toBe(true);
    expect(reachesInOrder(d, ['[task b]: y++', '[task a]: x++'])).toBe(true);
  });

  it('picking a task makes it the CPU\'s current task and Running; the other stays runnable until the CPU is free', () => {
    const s = new Schedule(d).take('schedule() → task b');
    expect(s.cpu(0, C_CURTASK)).toBe(1);
    expect([status(s, 1), status(s, 0)]).toEqual([ContextStatus.Running, ContextStatus.NotStarted]);
    expect(s.enabledLabels()).toEqual(['cpu0 [task b]: y++']); // no pick while b runs (PREEMPT_NONE)
    s.run('[task b]: y++', '[task b]: return');
    expect([s.cpu(0, C_CURTASK), status(s, 1)]).toEqual([-1, ContextStatus.Done]);
    expect(s.enabledLabels()).toEqual(['cpu0: schedule() → task a']);
    s.take('schedule() → task a');
    expect([s.cpu(0, C_CURTASK), status(s, 0)]).toEqual([0, ContextStatus.Running]);
  });

  it('a CPU with a single task starts running it', () => {
    const s = new Schedule(oneTask([inc('x')]));
    expect([s.cpu(0, C_CURTASK), status(s, 0)]).toEqual([0, ContextStatus.Running]);
  });

  it('a sleeping task is not picked', () => {
    const s = new Schedule(twoOnOneCpu([msleep(1), inc('x')], [inc('y')], 'none')).run('schedule() → task a', '[task a]: msleep');
    expect(status(s, 0)).toBe(ContextStatus.Blocked);
    expect(s.can('schedule() → task a')).toBe(false);
    expect(s.can('schedule() → task b')).toBe(true);
  });
});

describe('PREEMPT_NONE: a running task leaves its CPU only at schedule points', () => {
  const a = [inc('x'), schedule(), inc('x'), cond_resched(), inc('x'), msleep(1), inc('x'), down('s'), inc('x')];
  const b = [inc('y'), inc('y'), up('s'), inc('y')];
  const d = (preempt: 'none' | 'full') => twoOnOneCpu(a, b, preempt, { semaphores: { s: 0 } });

  it('every switch away from a running task is a step of that task: schedule, cond_resched, a sleep or its return', () => {
    let switches = 0;
    const ways = new Set<string>();
    walkReachable(d('none'), {
      step(m, before, choice, after) {
        const label = m.label(before, choice);
        expect(label).not.toContain('preempt:');
        const cur = cpuField(m, before, 0, C_CURTASK);
        if (cur < 0 || cpuField(m, after, 0, C_CURTASK) === cur) return;
        switches++;
        const name = m.p.tasks[cur]!.name;
        expect(label.startsWith(`cpu0 [task ${name}]: `)).toBe(true);
        const way = ['schedule()', 'cond_resched()', 'msleep(1)', 'down(&s)', 'return'].find((w) => label.endsWith(w));
        expect(way, label).toBeDefined();
        ways.add(way!);
        expect(taskField(m, after, cur, X_STATUS)).toBe(
          way === 'return' ? ContextStatus.Done : way === 'schedule()' || way === 'cond_resched()' ? ContextStatus.Runnable : ContextStatus.Blocked,
        );
      },
    });
    expect(switches).toBeGreaterThan(0);
    expect([...ways].sort()).toEqual(['cond_resched()', 'down(&s)', 'msleep(1)', 'return', 'schedule()']);
  });

  it('schedule() and cond_resched() give up the CPU but stay runnable: the other task may run in between', () => {
    expect(reachesInOrder(d('none'), ['[task a]: schedule()', '[task b]: y++', '[task a]: x++'])).toBe(true);
    expect(reachesInOrder(d('none'), ['[task a]: cond_resched()', '[task b]: y++', '[task a]: x++'])).toBe(true);
    const s = new Schedule(d('none')).run('schedule() → task a', '[task a]: x++', '[task a]: schedule()');
    expect([s.cpu(0, C_CURTASK), status(s, 0)]).toEqual([-1, ContextStatus.Runnable]);
    expect(s.enabledLabels()).toEqual(['cpu0: schedule() → task a', 'cpu0: schedule() → task b']);
  });

  it('with preempt full the same design can be preempted (so the check above is not vacuous)', () => {
    expect(reachesInOrder(d('full'), ['[task a]: x++', 'preempt: task a → task b', '[task b]: y++'])).toBe(true);
  });
});

describe('CONFIG_PREEMPT: preemption only when preempt_count is 0 and irqs are on', () => {
  // a: preemptible, spinlock, preemptible, preempt_disable, …, irqs off, …, bh off, …, preemptible.
  const a: Stmt[] = [
    inc('x'), spin_lock('L'), inc('x'), spin_unlock('L'), inc('x'),
    preempt_disable(), inc('x'), preempt_enable(),
    local_irq_disable(), inc('x'), local_irq_enable(),
    local_bh_disable(), inc('x'), local_bh_enable(), inc('x'),
  ];
  const d = twoOnOneCpu(a, [inc('y')], 'full', { irqs: [{ name: 'eth0', handler: [inc('y')] }] });

  it('stepping through a: preemption by b is possible exactly at the preemptible points', () => {
    const s = new Schedule(d).take('schedule() → task a');
    const expectations: [string, boolean][] = [
      ['x++', true], // after it: preempt_count 0
      ['spin_lock', false], ['x++', false], ['spin_unlock', true], ['x++', true],
      ['preempt_disable', false], ['x++', false], ['preempt_enable', true],
      ['local_irq_disable', false], ['x++', false], ['local_irq_enable', true],
      ['local_bh_disable', false], ['x++', false], ['local_bh_enable', true],
    ];
    expect(s.can('preempt: task a → task b')).toBe(true); // before any step
    for (const [step, preemptible] of expectations) {
      s.take(`[task a]: ${step}`);
      expect(s.can('preempt: task a → task b'), `after ${step}`).toBe(preemptible);
    }
    s.take('preempt: task a → task b');
    expect([s.cpu(0, C_CURTASK), status(s, 0), status(s, 1)]).toEqual([1, ContextStatus.Runnable, ContextStatus.Running]);
  });

  it('no preemption while an interrupt handler runs on top of the task', () => {
    const s = new Schedule(d).run('schedule() → task a', 'eth0 interrupt arrives');
    expect(s.cpu(0, C_DEPTH)).toBe(1);
    expect(s.can('preempt:')).toBe(false);
  });

  it('over every reachable transition, a preemption starts from preempt_count 0, irqs on and no interrupt frame', () => {
    let preemptions = 0;
    walkReachable(d, {
      step(m, before, choice) {
        if (!m.label(before, choice).includes('preempt: ')) return;
        preemptions++;
        expect([C_PREEMPT, C_BH, C_SERVING, C_HARDIRQ, C_IRQS_OFF, C_DEPTH].map((f) => cpuField(m, before, 0, f))).toEqual([0, 0, 0, 0, 0, 0]);
      },
    });
    expect(preemptions).toBeGreaterThan(0);
  });
});

describe('migration: only tasks allowed on several CPUs, only while runnable', () => {
  const d = (preempt: 'none' | 'full') => defineDesign({
    name: 'migrate', cpus: 2, options: { preempt }, vars: { x: 0, y: 0 },
    tasks: [
      { name: 'p', cpu: 0, body: [inc('y'), inc('y')] },
      { name: 'm', cpu: 0, allowed: [0, 1], body: [inc('x'), inc('x')] },
    ],
  });

  it('a runnable task with two allowed CPUs may be moved, then runs on its new CPU; a pinned task never is', () => {
    const s = new Schedule(d('none'));
    expect(s.enabledLabels()).toContain('cpu0: load balancing moves task m to cpu1');
    expect(s.can('moves task p')).toBe(false);
    s.take('moves task m to cpu1');
    expect(s.s[s.m.ctxOff(1) + X_CPU]).toBe(1);
    expect(status(s, 1)).toBe(ContextStatus.NotStarted);
    s.take('cpu1: schedule() → task m');
    expect([s.cpu(1, C_CURTASK), s.cpu(0, C_CURTASK)]).toEqual([1, -1]);
    s.take('cpu1 [task m]: x++');
  });

  it('a running task is never moved; once preempted it may be', () => {
    const s = new Schedule(d('full')).take('schedule() → task m');
    expect(s.can('moves task m')).toBe(false);
    s.take('preempt: task m → task p');
    expect(status(s, 1)).toBe(ContextStatus.Runnable);
    s.take('moves task m to cpu1');
    expect(s.s[s.m.ctxOff(1) + X_CPU]).toBe(1);
  });

  it('over every reachable transition, only m migrates and only from a runnable (not running) state', () => {
    let moves = 0;
    walkReachable(d('full'), {
      step(m, before, choice, after) {
        const label = m.label(before, choice);
        if (!label.includes('load balancing moves')) {
          for (const t of [0, 1]) expect(taskField(m, after, t, X_CPU)).toBe(taskField(m, before, t, X_CPU));
          return;
        }
        moves++;
        expect(label).toContain('task m');
        expect([ContextStatus.Runnable, ContextStatus.NotStarted]).toContain(taskField(m, before, 1, X_STATUS));
        expect(taskField(m, after, 1, X_CPU)).toBe(1 - taskField(m, before, 1, X_CPU));
        expect(taskField(m, after, 0, X_CPU)).toBe(0);
      },
    });
    expect(moves).toBeGreaterThan(0);
  });
});

describe('msleep: the timeout is a choice and the task continues after it', () => {
  it('msleep blocks on the task\'s timeout channel; the expiry makes it runnable and it goes on', () => {
    const s = new Schedule(oneTask([msleep(10), inc('x')])).take('[task t]: msleep(10)');
    expect([status(s, 0), s.s[s.m.ctxOff(0) + T_CHANNEL], s.cpu(0, C_CURTASK)]).toEqual([ContextStatus.Blocked, TIMEOUT_CHAN(0), -1]);
    expect(s.enabledLabels()).toEqual(['cpu0: timeout of task t expires']);
    s.take('timeout of task t expires');
    expect([status(s, 0), s.s[s.m.ctxOff(0) + T_CHANNEL]]).toEqual([ContextStatus.Runnable, 0]);
    s.run('schedule() → task t', '[task t]: msleep(10)', '[task t]: x++');
    expect(s.variable('x')).toBe(1);
    expect(check(oneTask([msleep(10), inc('x')])).status).toBe('verified');
  });

  it('the timeout may expire before or after another task\'s step', () => {
    const d = twoOnOneCpu([msleep(5), inc('x')], [inc('y'), inc('y')], 'none');
    expect(reachesInOrder(d, ['[task a]: msleep', 'timeout of task a expires', '[task b]: y++'])).toBe(true);
    expect(reachesInOrder(d, ['[task a]: msleep', '[task b]: y++', '[task b]: y++', 'timeout of task a expires'])).toBe(true);
  });
});

describe('task exit: locks, preemption, bh and irqs must be as the task found them', () => {
  it('a spinlock held at return: lock-leak "lock held when returning to user space"', () => {
    const v = check(oneTask([spin_lock('L')]));
    expect(v.violation?.kind).toBe('lock-leak');
    expect(v.violation?.message).toContain('lock held when returning to user space!');
    expect(v.violation?.message).toContain('task t is leaving the kernel with locks still held: &L');
  });

  it('a mutex held at return: lock-leak', () => {
    const v = check(oneTask([mutex_lock('M')]));
    expect(v.violation?.kind).toBe('lock-leak');
    expect(v.violation?.message).toContain('lock held when returning to user space!');
    expect(v.violation?.message).toContain('&M');
  });

  it('preempt_disable without enable: lock-leak with the preempt_count', () => {
    const v = check(oneTask([preempt_disable()]));
    expect(v.violation?.kind).toBe('lock-leak');
    expect(v.violation?.message).toContain('task t returned with preempt_count 0x00000001');
  });

  it('local_bh_disable without enable: lock-leak, SOFTIRQ_DISABLE_OFFSET in the count', () => {
    const v = check(oneTask([local_bh_disable()]));
    expect(v.violation?.kind).toBe('lock-leak');
    expect(v.violation?.message).toContain('preempt_count 0x00000200');
  });

  it('local_irq_disable without enable: lock-leak, irqs disabled', () => {
    const v = check(oneTask([local_irq_disable()]));
    expect(v.violation?.kind).toBe('lock-leak');
    expect(v.violation?.message).toContain('preempt_count 0x00000000 and irqs disabled');
  });

  it('the violation is raised at the return step and the task is not marked done', () => {
    const s = new Schedule(oneTask([preempt_disable()])).run('preempt_disable', '[task t]: return');
    expect(s.violation()).toBe('lock-leak');
    expect(status(s, 0)).toBe(ContextStatus.Running);
  });

  it('balanced sections return cleanly', () => {
    const body = [spin_lock('L'), spin_unlock('L'), preempt_disable(), preempt_enable(), local_bh_disable(), local_bh_enable(),
      local_irq_disable(), local_irq_enable(), mutex_lock('M'), mutex_unlock('M')];
    expect(check(oneTask(body)).status).toBe('verified');
  });
});

describe('preempt_enable underflow', () => {
  it('preempt_enable with preempt_count 0: lock-misuse (DEBUG_PREEMPT preempt_count_sub)', () => {
    const v = check(oneTask([preempt_enable()]));
    expect(v.violation?.kind).toBe('lock-misuse');
    expect(v.violation?.message).toContain('preempt_count_sub: DEBUG_LOCKS_WARN_ON(val > preempt_count())');
    expect(v.violation?.message).toContain('task t');
  });

  it('one enable too many after a balanced pair', () => {
    const s = new Schedule(oneTask([preempt_disable(), preempt_enable(), preempt_enable()])).run('preempt_disable', 'preempt_enable');
    expect(s.cpu(0, C_PREEMPT)).toBe(0);
    s.take('preempt_enable');
    expect(s.violation()).toBe('lock-misuse');
    expect(s.cpu(0, C_PREEMPT)).toBe(0); // never negative
  });
});

describe('might_sleep (__might_resched): "sleeping function called from invalid context"', () => {
  interface Case {
    readonly name: string;
    readonly design: Design;
    readonly inAtomic: 0 | 1;
    readonly irqsDisabled: 0 | 1;
    readonly preemptCount: string;
    readonly extra?: string;
    readonly who: string;
  }
  const cases: Case[] = [
    { name: 'spinlock held', design: oneTask([spin_lock('L'), might_sleep(), spin_unlock('L')]), inAtomic: 1, irqsDisabled: 0, preemptCount: '1', extra: 'might_sleep() with &L held', who: 'task t' },
    { name: 'spin_lock_irq held', design: oneTask([spin_lock_irq('L'), might_sleep(), spin_unlock_irq('L')]), inAtomic: 1, irqsDisabled: 1, preemptCount: '1', extra: 'with &L held', who: 'task t' },
    { name: 'bh disabled', design: oneTask([local_bh_disable(), might_sleep(), local_bh_enable()]), inAtomic: 1, irqsDisabled: 0, preemptCount: '200', who: 'task t' },
    { name: 'irqs disabled', design: oneTask([local_irq_disable(), might_sleep(), local_irq_enable()]), inAtomic: 0, irqsDisabled: 1, preemptCount: '0', who: 'task t' },
    { name: 'preemption disabled', design: oneTask([preempt_disable(), might_sleep(), preempt_enable()]), inAtomic: 1, irqsDisabled: 0, preemptCount: '1', who: 'task t' },
    {
      name: 'in hardirq', design: oneTask([inc('x')], { irqs: [{ name: 'eth0', handler: [might_sleep()] }] }),
      inAtomic: 1, irqsDisabled: 1, preemptCount: '10000', extra: 'might_sleep() in hardirq context', who: 'hardirq eth0',
    },
    {
      name: 'in softirq', design: oneTask([inc('x')], { irqs: [{ name: 'eth0', handler: [{ op: 'raise_softirq', vec: 'NET_RX' }] }], softirqs: { NET_RX: [might_sleep()] } }),
      inAtomic: 1, irqsDisabled: 0, preemptCount: '100', extra: 'might_sleep() in softirq context', who: 'softirq NET_RX',
    },
  ];
  for (const c of cases) {
    it(`${c.name}: sleep-in-atomic, in_atomic(): ${c.inAtomic}, irqs_disabled(): ${c.irqsDisabled}`, () => {
      const v = check(c.design);
      expect(v.violation?.kind).toBe('sleep-in-atomic');
      const msg = v.violation!.message;
      expect(msg).toContain('BUG: sleeping function called from invalid context at ');
      expect(msg).toContain(`in_atomic(): ${c.inAtomic}, irqs_disabled(): ${c.irqsDisabled}, non_block: 0, name: ${c.who}`);
      expect(msg).toContain(`preempt_count: ${c.preemptCount}, expected: 0`);
      if (c.extra) expect(msg).toContain(c.extra);
      expect(v.violation?.context).toBe(c.who);
      expect(v.violation?.trace.at(-1)).toContain('might_sleep()');
    });
  }

  it('the check happens at the might_sleep step and the context does not get past it', () => {
    const s = new Schedule(oneTask([preempt_disable(), might_sleep(), inc('x')])).run('preempt_disable', 'might_sleep');
    expect(s.violation()).toBe('sleep-in-atomic');
    expect(s.cpu(0, C_PREEMPT)).toBe(1);
    expect(s.enabledLabels()).toEqual([]);
  });

  it('cond_resched and msleep have the same check', () => {
    for (const call of [cond_resched(), msleep(1)]) {
      const v = check(oneTask([spin_lock('L'), call, spin_unlock('L')]));
      expect(v.violation?.kind).toBe('sleep-in-atomic');
      expect(v.violation?.message).toContain(`${call.op}() with &L held`);
    }
  });

  it('a task with nothing held may call every sleeping function', () => {
    const d = defineDesign({
      name: 'sleepy', cpus: 1, locks: { M: 'mutex' }, semaphores: { s: 1 }, completions: { c: {} }, vars: { x: 0 },
      tasks: [{ name: 't', cpu: 0, body: [might_sleep(), cond_resched(), schedule(), msleep(1), mutex_lock('M'), mutex_unlock('M'), down('s'), up('s'), complete('c'), wait_for_completion('c'), inc('x')] }],
    });
    const v = check(d);
    expect(v.status).toBe('verified');
    const s = new Schedule(d).runToEnd();
    expect(s.violation()).toBeNull();
    expect(s.variable('x')).toBe(1);
  });

  it('a balanced atomic section before the sleep is fine', () => {
    expect(check(oneTask([spin_lock('L'), spin_unlock('L'), local_bh_disable(), local_bh_enable(), might_sleep(), msleep(1)])).status).toBe('verified');
  });
});

describe('schedule() while atomic (schedule_debug): "BUG: scheduling while atomic"', () => {
  it('schedule() under a spinlock', () => {
    const v = check(oneTask([spin_lock('L'), schedule(), spin_unlock('L')]));
    expect(v.violation?.kind).toBe('sleep-in-atomic');
    expect(v.violation?.message).toContain('BUG: scheduling while atomic: task t/0x00000001');
  });

  it('schedule() under preempt_disable and local_bh_disable shows the whole preempt_count', () => {
    const v = check(oneTask([preempt_disable(), local_bh_disable(), schedule(), local_bh_enable(), preempt_enable()]));
    expect(v.violation?.kind).toBe('sleep-in-atomic');
    expect(v.violation?.message).toContain('BUG: scheduling while atomic: task t/0x00000201');
  });

  it('the task keeps its CPU: schedule() did not switch', () => {
    const s = new Schedule(oneTask([preempt_disable(), schedule(), preempt_enable()])).run('preempt_disable', 'schedule()');
    expect(s.violation()).toBe('sleep-in-atomic');
    expect(s.message).toContain('scheduling while atomic');
    expect([s.cpu(0, C_CURTASK), status(s, 0)]).toEqual([0, ContextStatus.Running]);
  });

  it('schedule() from a hardirq handler: scheduling while atomic with the HARDIRQ_OFFSET count', () => {
    const v = check(oneTask([inc('x')], { irqs: [{ name: 'eth0', handler: [schedule()] }] }));
    expect(v.violation?.kind).toBe('sleep-in-atomic');
    expect(v.violation?.message).toContain('BUG: scheduling while atomic: hardirq eth0/0x00010000');
  });

  it('schedule() with irqs off but preempt_count 0 is not "scheduling while atomic" (schedule_debug tests in_atomic_preempt_off() only)', () => {
    // kernel/sched/core.c schedule_debug(): `if (unlikely(in_atomic_preempt_off())) __schedule_bug(prev);`,
    // and __schedule_bug prints preempt_count(): the kernel never prints "scheduling while atomic: …/0x00000000".
    // irqs_disabled() is might_sleep's business (__might_resched), not schedule_debug's.
    const v = check(oneTask([local_irq_disable(), schedule(), local_irq_enable()]));
    expect(v.violation?.message ?? '').not.toContain('scheduling while atomic');
  });

  it('schedule() with nothing held is fine', () => {
    expect(check(oneTask([inc('x'), schedule(), inc('x')])).status).toBe('verified');
  });
});

// Keep C_IRQS_OFF and C_BH used directly in at least one state assertion for readers of the layout.
describe('the preempt_count parts a section sets', () => {
  it('spin_lock_irq: preempt 1, irqs off; local_bh_disable: bh 1', () => {
    const s = new Schedule(oneTask([spin_lock_irq('L'), spin_unlock_irq('L'), local_bh_disable(), local_bh_enable()])).take('spin_lock_irq');
    expect([s.cpu(0, C_PREEMPT), s.cpu(0, C_IRQS_OFF), s.cpu(0, C_BH)]).toEqual([1, 1, 0]);
    s.run('spin_unlock_irq', 'local_bh_disable');
    expect([s.cpu(0, C_PREEMPT), s.cpu(0, C_IRQS_OFF), s.cpu(0, C_BH)]).toEqual([0, 0, 1]);
  });
});
