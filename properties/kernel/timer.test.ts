/**
 * model/kernel/timer.ts: jiffies and the tick, arming (mod_timer, add_timer,
 * add_timer_on), deleting (del_timer, try_to_del_timer_sync,
 * del_timer_sync, timer_shutdown(_sync)) and expiry in TIMER_SOFTIRQ
 * (kernel/time/timer.c; shared/kernel-semantics.md §5). One test per rule.
 */
import { describe, expect, it } from 'vitest';
import {
  add_timer, add_timer_on, BUG_ON, check, compile, DesignError, defineDesign, del_timer, del_timer_sync, eq, inc, kfree,
  local_bh_disable, local_bh_enable, local_irq_disable, local_irq_enable, mod_timer, not, r, spin_lock, spin_lock_bh,
  spin_unlock, spin_unlock_bh, timer_delete, timer_delete_sync, timer_pending, timer_shutdown, timer_shutdown_sync,
  try_to_del_timer_sync, v, type Design, type Stmt, type TimerDecl,
} from '../../model/index.ts';
import { C_BH, C_DEPTH, C_IRQS_OFF, C_PENDING, C_SERVING, FrameKind, H_JIFFIES, X_PC } from '../../model/kernel/layout.ts';
import { INSN_WIDTH } from '../../model/kernel/program.ts';
import { TimerState, timerView, type TimerView } from '../../model/kernel/timer.ts';
import { TIMER_DESIGNS } from '../../model/designs/timer/index.ts';
import { forEachReachable, reachesInOrder } from '../helpers/reachable.ts';
import { Schedule } from '../helpers/schedule.ts';

const TIMER_BIT = 1 << 1; // TIMER_SOFTIRQ
const NET_RX_BIT = 1 << 3;

/** A design with timer `t` (callback `t_fn`, counting into fired) and the given tasks; extra fields override. */
const design = (tasks: Design['tasks'], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'timer-rule',
  cpus: 2,
  vars: { fired: 0, x: 0 },
  timers: { t: { func: 't_fn' } },
  functions: { t_fn: [inc('fired')] },
  tasks,
  ...extra,
});
const task = (name: string, cpu: number, body: readonly Stmt[]) => ({ name, cpu, body });

/** The timer's state now. */
const view = (s: Schedule, name = 't'): TimerView => {
  s.m.s = s.s;
  return timerView(s.m, name);
};
const jiffiesOf = (s: Schedule): number => s.s[H_JIFFIES]!;

describe('jiffies and the tick', () => {
  it('cpu0\'s tick increments jiffies, at most options.ticks times, and the bound is reported', () => {
    const s = new Schedule(design([task('a', 0, [inc('x')])], { options: { ticks: 2 } }));
    s.run('cpu0: timer tick: jiffies 0 → 1', 'cpu0: timer tick: jiffies 1 → 2');
    expect(jiffiesOf(s)).toBe(2);
    expect(s.can('cpu0: timer tick')).toBe(false);
    const verdict = check(design([task('a', 0, [inc('x')])], { options: { ticks: 3 } }));
    expect(verdict.bounds.ticks).toBe(3);
  });

  it('defaults to 2 ticks when the design declares timers and 0 without; options.ticks is validated', () => {
    expect(compile(design([task('a', 0, [])])).ticks).toBe(2);
    expect(compile(design([task('a', 0, [])], { timers: {}, functions: {} })).ticks).toBe(0);
    expect(new Schedule(design([task('a', 0, [inc('x')])], { timers: {}, functions: {} })).can('timer tick')).toBe(false);
    expect(() => compile(design([task('a', 0, [])], { options: { ticks: 17 } }))).toThrow(DesignError);
    expect(() => compile(design([task('a', 0, [])], { options: { ticks: -1 } }))).toThrow(/options\.ticks/);
  });

  it('is an interrupt: no tick where irqs are off', () => {
    const s = new Schedule(design([task('a', 0, [local_irq_disable(), inc('x'), local_irq_enable()])], { cpus: 1 }));
    expect(s.can('timer tick')).toBe(true);
    s.take('local_irq_disable');
    expect(s.can('timer tick')).toBe(false);
    s.run('x++', 'local_irq_enable');
    expect(s.can('timer tick')).toBe(true);
  });

  it('raises TIMER_SOFTIRQ only when a timer on the CPU\'s base is due, and irq_exit runs it', () => {
    const s = new Schedule(design([task('a', 0, [mod_timer('t', 2), inc('x')])], { cpus: 1 }));
    s.run('mod_timer', 'timer tick: jiffies 0 → 1, no timer due');
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_DEPTH)]).toEqual([0, 0]);
    s.take('timer tick: jiffies 1 → 2, run_local_timers raises TIMER_SOFTIRQ');
    // irq_exit → invoke_softirq: the batch runs on top of the task, TIMER taken from pending.
    expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]);
    expect([s.cpu(0, C_SERVING), s.cpu(0, C_PENDING)]).toEqual([1, 0]);
    s.run('run TIMER handler', '__run_timers (jiffies 2): &t expired');
    expect(s.topName(0)).toBe('timer t');
  });

  it('a tick over a bh-disabled task leaves TIMER_SOFTIRQ pending for local_bh_enable', () => {
    const s = new Schedule(design([task('a', 0, [mod_timer('t', 1), local_bh_disable(), inc('x'), local_bh_enable()])], { cpus: 1 }));
    s.run('mod_timer', 'local_bh_disable', 'timer tick: jiffies 0 → 1, run_local_timers raises TIMER_SOFTIRQ');
    expect(s.frames(0)).toEqual([FrameKind.Task]);
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_BH)]).toEqual([TIMER_BIT, 1]);
    s.run('x++', 'local_bh_enable');
    expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]);
  });

  it('another CPU takes at most one local tick per jiffy, only after jiffies moved, and only if it has something to do', () => {
    const s = new Schedule(design([task('a', 1, [mod_timer('t', 0), inc('x'), inc('x')])], { options: { ticks: 2 } }));
    expect(s.can('cpu1: timer tick')).toBe(false); // jiffies 0: no local tick yet
    s.take('cpu0: timer tick: jiffies 0 → 1');
    expect(s.can('cpu1: timer tick')).toBe(false); // nothing due on cpu1, nothing pending
    s.take('cpu1 [task a]: mod_timer');
    s.take('cpu1: timer tick (jiffies 1), run_local_timers raises TIMER_SOFTIRQ');
    s.run('run TIMER handler', '__run_timers', '[timer t]: fired++', 'return', 'returned', 'batch done');
    expect(s.can('cpu1: timer tick')).toBe(false); // its tick for jiffy 1 was taken
    s.take('cpu0: timer tick: jiffies 1 → 2');
    expect(s.can('cpu1: timer tick')).toBe(false); // jiffy 2, but nothing to do
  });

  it('a local tick is a run point for any pending softirq (irq_exit)', () => {
    const d = design([task('a', 1, [local_irq_disable(), { op: '__raise_softirq_irqoff', vec: 'NET_RX' }, local_irq_enable(), inc('x')])], {
      softirqs: { NET_RX: [inc('x')] }, options: { ticks: 1 },
    });
    const s = new Schedule(d).run('local_irq_disable', '__raise_softirq_irqoff', 'local_irq_enable', 'cpu0: timer tick');
    expect(s.cpu(1, C_PENDING)).toBe(NET_RX_BIT);
    s.take('cpu1: timer tick (jiffies 1), no timer due');
    expect(s.frames(1)).toEqual([FrameKind.Task, FrameKind.Softirq]);
  });
});

describe('arming (__mod_timer, add_timer, add_timer_on)', () => {
  it('mod_timer sets expires = jiffies + delta on the local CPU\'s base and returns whether it was pending', () => {
    const s = new Schedule(design([task('a', 1, [mod_timer('t', 2, 'r0'), mod_timer('t', 3, 'r1')])]));
    s.take('mod_timer(&t, jiffies + 2): expires 2, on cpu1\'s base → 0');
    expect(view(s)).toMatchObject({ state: TimerState.Queued, expires: 2, base: 1 });
    s.take('cpu0: timer tick');
    s.take('r1 = mod_timer(&t, jiffies + 3): expires 4, on cpu1\'s base → 1');
    expect([s.taskReg('a', 'r0'), s.taskReg('a', 'r1'), view(s).expires]).toEqual([0, 1, 4]);
  });

  it('mod_timer of a pending timer to the same expiry returns 1 and moves nothing, even from another CPU', () => {
    const s = new Schedule(design([task('a', 1, [mod_timer('t', 2)]), task('b', 0, [mod_timer('t', 2, 'r')])]));
    s.run('cpu1 [task a]: mod_timer', 'cpu0 [task b]: r = mod_timer(&t, jiffies + 2): pending with the same expiry 2 → 1');
    expect([view(s).base, s.taskReg('b', 'r')]).toEqual([1, 1]);
  });

  it('mod_timer keeps the old base while that base runs the callback (the rule that serialises a timer with itself)', () => {
    const s = new Schedule(design([task('a', 1, [mod_timer('t', 1)]), task('b', 0, [mod_timer('t', 1)])], { options: { ticks: 1 } }));
    s.run('cpu1 [task a]: mod_timer', 'cpu0: timer tick', 'cpu1: timer tick', 'run TIMER handler', '__run_timers');
    expect(view(s).runningOn).toEqual([1]);
    s.take('cpu0 [task b]: mod_timer(&t, jiffies + 1): expires 2, on cpu1\'s base (stays: cpu1\'s base is running its callback)');
    expect(view(s)).toMatchObject({ state: TimerState.Queued, base: 1 });
  });

  it('before 6.9: a non-pinned timer armed from an interrupt on an idle CPU may go to a busy CPU (NOHZ target); a PINNED one stays', () => {
    const irqs = [{ name: 'eth0', cpus: [1], handler: [mod_timer('t', 1)] }];
    const body = [inc('x'), inc('x')];
    const free = new Schedule(design([task('a', 0, body)], { irqs, profile: '6.6' })).take('cpu1: eth0 interrupt arrives');
    expect(free.enabledLabels().filter((l) => l.includes('[hardirq eth0]: mod_timer'))).toEqual([
      'cpu1 [hardirq eth0]: mod_timer(&t, jiffies + 1): expires 1, on cpu1\'s base → 0',
      'cpu1 [hardirq eth0]: mod_timer(&t, jiffies + 1): expires 1, on cpu0\'s base (NOHZ target: this CPU is idle) → 0',
    ]);
    const pinned = new Schedule(design([task('a', 0, body)], { irqs, profile: '6.6', timers: { t: { func: 't_fn', flags: ['PINNED'] } } }))
      .take('cpu1: eth0 interrupt arrives');
    expect(pinned.enabledLabels().filter((l) => l.includes('mod_timer'))).toHaveLength(1);
    // ≥6.9 (get_timer_this_cpu_base): always the local base; an idle CPU's timer is pulled at expiry instead.
    const pull = new Schedule(design([task('a', 0, body)], { irqs })).take('cpu1: eth0 interrupt arrives');
    expect(pull.enabledLabels().filter((l) => l.includes('[hardirq eth0]: mod_timer'))).toEqual([
      'cpu1 [hardirq eth0]: mod_timer(&t, jiffies + 1): expires 1, on cpu1\'s base → 0',
    ]);
  });

  it('add_timer on a pending timer: WARN_ON_ONCE since 6.2, BUG_ON before, "added twice" in 2.4', () => {
    const body = [add_timer('t', 1), add_timer('t', 2)];
    const modern = check(design([task('a', 0, body)]));
    expect(modern.violation?.kind).toBe('assertion');
    expect(modern.violation?.message).toMatch(/^WARNING: CPU: 0 at kernel\/time\/timer\.c add_timer: WARN_ON_ONCE\(timer_pending\(timer\)\)/);
    const v4 = check(design([task('a', 0, body)], { profile: '4.x-prequeue' }));
    expect(v4.violation?.message).toMatch(/^kernel BUG at kernel\/time\/timer\.c! add_timer: BUG_ON\(timer_pending\(timer\)\)/);
    const v24 = check(design([task('a', 0, body)], { profile: '2.4' }));
    expect(v24.violation?.message).toMatch(/^bug: kernel timer added twice at task a\[1\]\./);
    expect(check(design([task('a', 0, [add_timer('t', 1), del_timer('t'), add_timer('t', 2)])])).status).toBe('verified');
  });

  it('add_timer_on puts the timer on the given CPU\'s base, without the running_timer check', () => {
    const s = new Schedule(design([task('a', 1, [mod_timer('t', 1)]), task('b', 0, [add_timer_on('t', 0, 1)])], { options: { ticks: 1 } }));
    s.run('cpu1 [task a]: mod_timer', 'cpu0: timer tick', 'cpu1: timer tick', 'run TIMER handler', '__run_timers');
    s.take('cpu0 [task b]: add_timer_on(&t, 0) [expires = jiffies + 1]: expires 2, on cpu0\'s base');
    expect(view(s)).toMatchObject({ state: TimerState.Queued, base: 0, runningOn: [1] });
    expect(check(design([task('a', 0, [add_timer_on('t', 3, 1)])])).violation?.message).toContain('the design has no cpu3');
  });

  it('after timer_shutdown every arming is silently ignored and returns 0', () => {
    const s = new Schedule(design([task('a', 0, [mod_timer('t', 1), timer_shutdown('t', 'r0'), mod_timer('t', 2, 'r1'), add_timer('t', 1), timer_pending('t', 'p')])]));
    s.run('mod_timer', 'timer_shutdown(&t) → 1', 'r1 = mod_timer(&t, jiffies + 2): timer is shut down (function == NULL), ignored → 0', 'add_timer', 'timer_pending');
    expect([s.taskReg('a', 'r0'), s.taskReg('a', 'r1'), s.taskReg('a', 'p')]).toEqual([1, 0, 0]);
    expect(view(s)).toMatchObject({ state: TimerState.Idle, shutdown: true });
  });

  it('each name exists only in the kernels that have it', () => {
    const uses = (st: Stmt, profile: Design['profile']) => () => compile(design([task('a', 0, [st])], { profile }));
    expect(uses(timer_shutdown_sync('t'), '4.x-prequeue')).toThrow(/timer_shutdown_sync\(\): timer_shutdown arrived in 6\.2/);
    expect(uses(timer_shutdown('t'), '2.4')).toThrow(DesignError);
    expect(uses(timer_delete_sync('t'), '4.x-prequeue')).toThrow(/this kernel has del_timer_sync/);
    expect(uses(add_timer_on('t', 0), '2.4')).toThrow(/one global timer list/);
    expect(uses(try_to_del_timer_sync('t'), '2.4')).toThrow(DesignError);
    expect(uses(del_timer_sync('t'), '2.4')).not.toThrow();
    expect(uses(timer_delete('t'), 'modern')).not.toThrow();
  });
});

describe('deleting (__timer_delete, __try_to_del_timer_sync, __timer_delete_sync)', () => {
  it('del_timer detaches a pending timer and returns 1, else 0; it never waits for a running callback', () => {
    const s = new Schedule(design([task('a', 0, [mod_timer('t', 1), del_timer('t', 'r0'), del_timer('t', 'r1')])], { cpus: 1 }));
    s.run('mod_timer', 'r0 = del_timer(&t) → 1', 'r1 = del_timer(&t) → 0');
    expect([s.taskReg('a', 'r0'), s.taskReg('a', 'r1'), view(s).state]).toEqual([1, 0, TimerState.Idle]);
    const running = new Schedule(design([task('a', 1, [mod_timer('t', 1)]), task('b', 0, [inc('x'), del_timer('t', 'r')])], {
      functions: { t_fn: [inc('fired'), inc('fired')] }, options: { ticks: 1 },
    }));
    running.run('cpu1 [task a]: mod_timer', 'cpu0: timer tick', 'cpu1: timer tick', 'run TIMER handler', '__run_timers', 'x++');
    running.take('cpu0 [task b]: r = del_timer(&t) → 0 (t_fn() is still running)');
    expect(view(running).runningOn).toEqual([1]);
  });

  it('a timer collected for expiry but not started yet is still pending: del_timer removes it and it never runs', () => {
    const d = design([task('a', 0, [mod_timer('t', 1), mod_timer('u', 1)])], {
      cpus: 1,
      timers: { t: { func: 't_fn' }, u: { func: 'u_fn' } },
      functions: { t_fn: [del_timer('u', 'r')], u_fn: [inc('fired')] },
    });
    const s = new Schedule(d).run('mod_timer(&t', 'mod_timer(&u', 'timer tick', 'run TIMER handler', '__run_timers (jiffies 1): &t, &u expired; running_timer = &t');
    expect(view(s, 'u').state).toBe(TimerState.Expiring);
    s.run('[timer t]: r = del_timer(&u) → 1', '[timer t]: return');
    s.take('t_fn() returned, running_timer = NULL; done');
    expect([view(s, 'u').state, s.variable('fired')]).toEqual([TimerState.Idle, 0]);
  });

  it('timers expired together run in any order', () => {
    const d = design([task('a', 0, [mod_timer('t', 1), mod_timer('u', 1)])], {
      cpus: 1, timers: { t: { func: 't_fn' }, u: { func: 't_fn' } },
    });
    const s = new Schedule(d).run('mod_timer(&t', 'mod_timer(&u', 'timer tick', 'run TIMER handler');
    expect(s.enabledLabels().filter((l) => l.includes('__run_timers'))).toEqual([
      'cpu0 [softirq TIMER]: __run_timers (jiffies 1): &t, &u expired; running_timer = &t, call t_fn()',
      'cpu0 [softirq TIMER]: __run_timers (jiffies 1): &t, &u expired; running_timer = &u, call t_fn()',
    ]);
  });

  it('try_to_del_timer_sync returns -1 while the timer\'s base runs its callback, else deletes', () => {
    const s = new Schedule(design([task('a', 1, [mod_timer('t', 1)]), task('b', 0, [try_to_del_timer_sync('t', 'r')])], {
      functions: { t_fn: [inc('fired'), inc('fired')] }, options: { ticks: 1 },
    }));
    s.run('cpu1 [task a]: mod_timer', 'cpu0: timer tick', 'cpu1: timer tick', 'run TIMER handler', '__run_timers');
    s.take('r = try_to_del_timer_sync(&t) → -1');
    expect(s.taskReg('b', 'r')).toBe(-1);
  });

  it('del_timer_sync spins while the callback runs, with a wait-for edge to the softirq running it, then deletes the re-arm', () => {
    const s = new Schedule(design([task('a', 1, [mod_timer('t', 1)]), task('b', 0, [inc('x'), del_timer_sync('t', 'r')])], {
      functions: { t_fn: [inc('fired'), mod_timer('t', 1)] }, options: { ticks: 1 },
    }));
    s.run('cpu1 [task a]: mod_timer', 'cpu0: timer tick', 'cpu1: timer tick', 'run TIMER handler', '__run_timers', 'cpu0 [task b]: x++');
    expect(s.can('del_timer_sync')).toBe(false);
    s.m.s = s.s;
    const edge = s.m.waitsFor(1); // task b
    expect(edge?.on).toEqual([s.m.frameCtx(1, 0)]);
    expect(edge?.why).toBe('task b: del_timer_sync(&t) spins while base->running_timer == &t: t_fn() is running on cpu1 (timer t)');
    s.run('[timer t]: fired++', '[timer t]: mod_timer', '[timer t]: return');
    expect(view(s)).toMatchObject({ state: TimerState.Queued, runningOn: [1] });
    expect(s.can('del_timer_sync')).toBe(false); // still running_timer until __run_timers takes it back
    s.take('t_fn() returned, running_timer = NULL; done');
    s.take('r = del_timer_sync(&t) → 1');
    expect(view(s)).toMatchObject({ state: TimerState.Idle, runningOn: [] });
  });

  it('del_timer_sync from a hardirq warns unless the timer is TIMER_IRQSAFE', () => {
    const d = (flags: TimerDecl['flags']) => design([task('a', 0, [inc('x')])], {
      timers: { t: { func: 't_fn', flags } }, irqs: [{ name: 'eth0', handler: [del_timer_sync('t')] }],
    });
    const warned = check(d([]));
    expect(warned.violation?.kind).toBe('assertion');
    expect(warned.violation?.message).toContain('WARN_ON(in_hardirq() && !(timer->flags & TIMER_IRQSAFE))');
    expect(check(d(['IRQSAFE'])).status).toBe('verified');
  });

  it('timer_shutdown_sync sets function = NULL on its first try, so the running callback\'s re-arm is ignored', () => {
    const s = new Schedule(design([task('a', 1, [mod_timer('t', 1)]), task('b', 0, [inc('x'), timer_shutdown_sync('t', 'r')])], {
      functions: { t_fn: [inc('fired'), mod_timer('t', 1, 'q')] }, options: { ticks: 1 },
    }));
    s.run('cpu1 [task a]: mod_timer', 'cpu0: timer tick', 'cpu1: timer tick', 'run TIMER handler', '__run_timers', 'cpu0 [task b]: x++');
    s.take('timer_shutdown_sync(&t): function = NULL: t_fn() is running, spins');
    expect(view(s).shutdown).toBe(true);
    expect(s.can('timer_shutdown_sync')).toBe(false);
    s.run('fired++', 'q = mod_timer(&t, jiffies + 1): timer is shut down (function == NULL), ignored → 0', '[timer t]: return', 'returned');
    s.take('r = timer_shutdown_sync(&t) → 0');
    expect(view(s)).toMatchObject({ state: TimerState.Idle, runningOn: [], shutdown: true });
  });
});

describe('expiry (__run_timers, expire_timers, call_timer_fn)', () => {
  it('the callback runs in softirq context with irqs on, and not pending (TM1, TM4)', () => {
    const s = new Schedule(design([task('a', 0, [mod_timer('t', 1)])], { cpus: 1 }))
      .run('mod_timer', 'timer tick', 'run TIMER handler', '__run_timers');
    expect([s.cpu(0, C_SERVING), s.cpu(0, C_IRQS_OFF)]).toEqual([1, 0]);
    expect(view(s)).toMatchObject({ state: TimerState.Idle, runningOn: [0] });
  });

  it('a TIMER_IRQSAFE callback runs with irqs off, and irqs are on again after it', () => {
    const s = new Schedule(design([task('a', 0, [mod_timer('t', 1)])], { cpus: 1, timers: { t: { func: 't_fn', flags: ['IRQSAFE'] } } }))
      .run('mod_timer', 'timer tick', 'run TIMER handler', '__run_timers (jiffies 1): &t expired; running_timer = &t, call t_fn() with irqs off (TIMER_IRQSAFE)');
    expect(s.cpu(0, C_IRQS_OFF)).toBe(1);
    s.run('fired++', 'return', 'returned');
    expect([s.cpu(0, C_IRQS_OFF), s.violation()]).toEqual([0, null]);
  });

  it('never before jiffies >= expires', () => {
    const s = new Schedule(design([task('a', 0, [mod_timer('t', 2)])], { cpus: 1, options: { ticks: 2 } }));
    s.run('mod_timer', 'timer tick: jiffies 0 → 1, no timer due');
    expect(s.can('run TIMER handler')).toBe(false);
    s.take('timer tick: jiffies 1 → 2, run_local_timers raises TIMER_SOFTIRQ');
    expect(s.can('run TIMER handler')).toBe(true);
  });

  it('a callback may re-arm its timer, which then runs again at a later jiffy', () => {
    const d = design([task('a', 0, [mod_timer('t', 1)])], {
      cpus: 1, options: { ticks: 2 },
      functions: { t_fn: [inc('fired'), timer_pending('t', 'p'), BUG_ON(r('p')), mod_timer('t', 1), timer_pending('t', 'q'), BUG_ON(not(r('q')))] },
    });
    const s = new Schedule(d).runToEnd(['[task a]', 'run TIMER', '__run_timers', '[timer t]', 'timer tick']);
    expect([s.violation(), s.variable('fired'), jiffiesOf(s)]).toEqual([null, 2, 2]);
    expect(view(s)).toMatchObject({ state: TimerState.Queued, expires: 3 });
  });

  it('a callback that returns with a lock held: call_timer_fn\'s preempt leak (B21)', () => {
    const d = design([task('a', 0, [mod_timer('t', 1)])], { cpus: 1, locks: { L: 'spinlock' }, functions: { t_fn: [spin_lock('L')] } });
    const v1 = check(d);
    expect(v1.violation?.kind).toBe('lock-leak');
    expect(v1.violation?.message).toBe('WARNING: CPU: 0 at kernel/time/timer.c call_timer_fn: timer: t_fn+0x0/0x0 preempt leak: 00000100 -> 00000101 (t_fn() returned with &L held)');
  });

  it('a callback that returns with irqs disabled, or an IRQSAFE one that enabled them', () => {
    const off = check(design([task('a', 0, [mod_timer('t', 1)])], { cpus: 1, functions: { t_fn: [local_irq_disable()] } }));
    expect(off.violation?.message).toBe('BUG: timer callback t_fn() returned with irqs disabled');
    const on = check(design([task('a', 0, [mod_timer('t', 1)])], {
      cpus: 1, timers: { t: { func: 't_fn', flags: ['IRQSAFE'] } }, functions: { t_fn: [local_irq_enable()] },
    }));
    expect(on.violation?.message).toBe('BUG: TIMER_IRQSAFE callback t_fn() returned with irqs enabled');
  });

  it('kfree of the struct holding a pending timer is ODEBUG\'s free active', () => {
    const v1 = check(design([task('a', 0, [mod_timer('t', 2), kfree('priv')])], { cpus: 1, structs: { priv: { members: ['t'] } } }));
    expect(v1.violation?.kind).toBe('use-after-free');
    expect(v1.violation?.message).toMatch(/^ODEBUG: free active \(active state 0\) object type: timer_list \(t\) hint: t_fn\+0x0\/0x0/);
    expect(check(design([task('a', 0, [mod_timer('t', 2), del_timer('t'), kfree('priv')])], { cpus: 1, structs: { priv: { members: ['t'] } } })).status).toBe('verified');
  });
});

describe('timer pull (≥6.9, kernel/time/timer_migration.c, flags.timerPull)', () => {
  /** cpu0 arms `t` and goes idle; cpu1 runs `busy`. */
  const idleArmer = (extra: Partial<Design> = {}, busy: readonly Stmt[] = [inc('x'), inc('x')]): Design =>
    design([task('armer', 0, [mod_timer('t', 1)]), task('busy', 1, busy)], { options: { ticks: 1 }, ...extra });

  it('an idle CPU\'s due global timer is expired by a busy CPU from its own TIMER softirq (tmigr_handle_remote → timer_expire_remote)', () => {
    const s = new Schedule(idleArmer()).run('cpu0 [task armer]: mod_timer', 'cpu0 [task armer]: return');
    // The idle timekeeper may wake for its own timer, or stay idle (NOHZ) and leave it to the hierarchy.
    expect(s.enabledLabels().filter((l) => l.startsWith('cpu0: timer tick'))).toEqual([
      'cpu0: timer tick: jiffies 0 → 1, run_local_timers raises TIMER_SOFTIRQ',
      'cpu0: timer tick: jiffies 0 → 1; cpu0 stays idle (NOHZ), its global timers left to the timer migration hierarchy',
    ]);
    s.take('cpu0 stays idle');
    expect(s.cpu(0, C_PENDING)).toBe(0);
    s.take('cpu1: timer tick (jiffies 1), run_local_timers raises TIMER_SOFTIRQ (tmigr_requires_handle_remote: due timers of idle cpu0)');
    s.run('cpu1 [softirq]: __do_softirq: run TIMER handler');
    s.take('cpu1 [softirq TIMER]: __run_timers (jiffies 1): &t (cpu0 is idle: timer_expire_remote(0)) expired; running_timer = &t, call t_fn()');
    expect(s.topName(1)).toBe('timer t');
    // running_timer is cpu0's base's: del_timer_sync and re-arming find it there.
    expect(view(s).runningOn).toEqual([0]);
    expect(view(s).base).toBe(0);
  });

  it('before 6.9 the same timer only ever runs on cpu0, its base\'s CPU', () => {
    expect(reachesInOrder(idleArmer({ profile: '6.6' }), ['cpu1 [softirq TIMER]: __run_timers'])).toBe(false);
    expect(reachesInOrder(idleArmer(), ['cpu1 [softirq TIMER]: __run_timers (jiffies 1): &t (cpu0 is idle'])).toBe(true);
  });

  it('pinned (TIMER_PINNED, or add_timer_on since 6.9) and deferrable timers are never pulled', () => {
    for (const flags of [['PINNED'], ['DEFERRABLE']] as const) {
      expect(reachesInOrder(idleArmer({ timers: { t: { func: 't_fn', flags: [...flags] } } }), ['timer_expire_remote'])).toBe(false);
    }
    const on = design([task('armer', 0, [add_timer_on('t', 1, 0)]), task('busy', 1, [inc('x'), inc('x')])], { options: { ticks: 1 } });
    expect(reachesInOrder(on, ['timer_expire_remote'])).toBe(false);
    const s = new Schedule(on).take('add_timer_on');
    expect(view(s).pinned).toBe(true);
    expect(view(new Schedule({ ...on, profile: '6.6' }).take('add_timer_on')).pinned).toBe(false);
  });

  it('a CPU with a runnable task or a pending ksoftirqd is not idle: nothing is pulled from it', () => {
    // cpu0 still has a task to run after the armer: it is busy, and expires its timer itself.
    const busy0 = design([task('armer', 0, [mod_timer('t', 1)]), task('next', 0, [inc('x')]), task('busy', 1, [inc('x'), inc('x')])], { options: { ticks: 1 } });
    expect(reachesInOrder(busy0, ['cpu0 [task armer]: return', 'cpu1 [softirq TIMER]: __run_timers (jiffies 1): &t (cpu0 is idle', '[task next]'])).toBe(false);
  });

  it('a base is expired by one CPU at a time: while cpu1 runs cpu0\'s global timers, cpu0 collects none of them', () => {
    const two = idleArmer({ timers: { t: { func: 't_fn' }, u: { func: 't_fn' } } });
    const both = { ...two, tasks: [task('armer', 0, [mod_timer('t', 1), mod_timer('u', 1)]), task('busy', 1, [inc('x'), inc('x')])] };
    const s = new Schedule(both).run('cpu0 [task armer]: mod_timer(&t', 'cpu0 [task armer]: mod_timer(&u', 'cpu0 [task armer]: return', 'cpu0 stays idle');
    s.run('cpu1: timer tick', 'cpu1 [softirq]: __do_softirq: run TIMER handler');
    s.take('&t (cpu0 is idle: timer_expire_remote(0)), &u (cpu0 is idle: timer_expire_remote(0)) expired; running_timer = &t');
    expect([view(s, 'u').state, view(s, 'u').collector]).toEqual([TimerState.Expiring, 1]);
  });

  it('the design of issue 12: a timer armed by an idle CPU deadlocks on 6.12 against a plain spin_lock holder elsewhere; verified on 6.6', () => {
    const d = defineDesign({
      name: 'timer-remote-expiry-rule', cpus: 2, options: { ticks: 2 }, locks: { L: 'spinlock' }, vars: { x: 0 }, timers: { t: { func: 'fn' } },
      functions: { fn: [spin_lock('L'), inc('x'), spin_unlock('L')] },
      tasks: [task('armer', 0, [mod_timer('t', 1)]), task('user', 1, [spin_lock('L'), inc('x'), spin_unlock('L')])],
    });
    const v612 = check({ ...d, profile: '6.12' });
    expect(v612.violation?.kind).toBe('deadlock');
    expect(v612.violation?.message).toMatch(/^AA deadlock on cpu1: timer t spins on a lock held by a context it interrupted \(task user ⇄ timer t\)/);
    expect(v612.kernel).toBe('6.12 (6.12+)');
    expect(check({ ...d, profile: '6.6' }).status).toBe('verified');
  });
});

describe('2.4: one global timer list, run by TIMER_BH (flags.globalBH)', () => {
  const old = (tasks: Design['tasks'], extra: Partial<Design> = {}): Design => design(tasks, { profile: '2.4', ...extra });

  it('only cpu0 ticks; do_timer marks TIMER_BH on every tick, due timer or not, and TIMER_SOFTIRQ is never raised', () => {
    const s = new Schedule(old([task('a', 1, [inc('x'), inc('x')])], { options: { ticks: 2 } }));
    s.take('cpu0: timer tick: jiffies 0 → 1, do_timer: mark_bh(TIMER_BH)');
    expect(s.can('cpu1: timer tick')).toBe(false);
    expect(s.frames(0)).toEqual([FrameKind.Softirq]); // irq_exit on idle cpu0 runs HI, which runs the BHs
    expect(s.cpu(0, C_PENDING) & TIMER_BIT).toBe(0);
    s.run('run HI handler', 'tasklet_hi_action: detach', 'run TIMER_BH', 'run_timer_list (jiffies 1): no timer expired; done');
  });

  it('a timer armed on any CPU runs in TIMER_BH on the CPU that runs the BH, under global_bh_lock', () => {
    const s = new Schedule(old([task('a', 1, [mod_timer('t', 1)])], { options: { ticks: 1 } }));
    s.take('cpu1 [task a]: mod_timer(&t, jiffies + 1): expires 1, on the timer list → 0');
    s.run('cpu0: timer tick', 'run HI handler', 'detach', 'run TIMER_BH', 'run_timer_list (jiffies 1): &t expired; running_timer = &t, call t_fn()');
    expect(s.topName(0)).toBe('bh TIMER_BH');
    expect(view(s).runningOn).toEqual([0]);
    expect(s.cpu(0, C_SERVING)).toBe(1);
  });

  it('del_timer_sync waits for the callback wherever it runs (the one global running_timer)', () => {
    const s = new Schedule(old([task('a', 1, [mod_timer('t', 1), inc('x'), del_timer_sync('t')])], {
      functions: { t_fn: [inc('fired'), inc('fired')] }, options: { ticks: 1 },
    }));
    s.run('cpu1 [task a]: mod_timer', 'cpu0: timer tick', 'run HI handler', 'detach', 'run TIMER_BH', 'run_timer_list', 'cpu1 [task a]: x++');
    expect(s.can('del_timer_sync')).toBe(false);
    s.run('cpu0 [bh TIMER_BH]: fired++', 'cpu0 [bh TIMER_BH]: fired++', 'cpu0 [bh TIMER_BH]: return', 'returned');
    s.take('del_timer_sync(&t) → 0');
  });

  it('the tick marks TQUEUE_BH while tq_timer has entries', () => {
    const d = old([task('a', 0, [{ op: 'queue_task', obj: 'tq', target: 'tq_timer' }])], {
      timers: {}, tq_structs: { tq: { routine: 'tq_fn' } }, functions: { tq_fn: [inc('fired')] }, options: { ticks: 1 }, cpus: 1,
    });
    const s = new Schedule(d).runToEnd(['queue_task', 'timer tick', 'run HI', 'detach', 'run TQUEUE_BH', 'run TIMER_BH']);
    expect([s.violation(), s.variable('fired')]).toEqual([null, 1]);
    expect(s.labels.some((l) => l.includes('TQUEUE_BH'))).toBe(true);
  });
});

describe('wait-for edges and terminal states', () => {
  it('B9 in miniature: the waiter and the callback are the cycle, across cpu0 and cpu1', () => {
    const v1 = check(defineDesign({
      name: 'b9', cpus: 2, options: { ticks: 1 }, locks: { L: 'spinlock' }, vars: { x: 0 },
      timers: { t: { func: 't_fn' } }, functions: { t_fn: [spin_lock('L'), inc('x'), spin_unlock('L')] },
      tasks: [task('arm', 1, [mod_timer('t', 1)]), task('close', 0, [spin_lock_bh('L'), del_timer_sync('t'), spin_unlock_bh('L')])],
    }));
    expect(v1.violation?.kind).toBe('deadlock');
    expect(v1.violation?.cycle?.map((w) => `cpu${w.cpu} ${w.context}`).sort()).toEqual(['cpu0 task close', 'cpu1 timer t']);
    expect(v1.violation?.message).toContain('task close: del_timer_sync(&t) spins while base->running_timer == &t: t_fn() is running on cpu1 (timer t)');
  });

  it('del_timer_sync from the callback waits for itself', () => {
    const v1 = check(design([task('a', 0, [mod_timer('t', 1)])], { cpus: 1, functions: { t_fn: [del_timer_sync('t')] } }));
    expect(v1.violation?.kind).toBe('deadlock');
    expect(v1.violation?.cycle?.map((w) => w.context)).toEqual(['timer t']);
  });

  it('a timer that never expires within the ticks does not hold up the end: the state is terminal and clean', () => {
    expect(check(design([task('a', 0, [mod_timer('t', 5)])], { cpus: 1, options: { ticks: 2 } })).status).toBe('verified');
    expect(check(design([task('a', 0, [mod_timer('t', 1), BUG_ON(eq(v('fired'), 1))])], { cpus: 1, options: { ticks: 1 } })).violation?.kind).toBe('assertion');
  });
});


const catalogue = (name: string): Design => {
  const d = TIMER_DESIGNS.find((x) => x.name === name);
  if (!d) throw new Error(`no timer design ${name}`);
  return d;
};
const cycleOf = (d: Design) => (check(d).violation?.cycle ?? []).map((w) => `cpu${w.cpu} ${w.context}`).sort();

describe('the catalogue\'s timer designs fail for the reason they are about, and their fixes are not vacuous', () => {
  it('B9: close() waits under priv->lock for the watchdog callback spinning on priv->lock; fixed, it still waits for a running callback', () => {
    expect(cycleOf(catalogue('del_timer_sync-under-spin_lock_bh'))).toEqual(['cpu0 task close', 'cpu1 timer priv->watchdog']);
    // close() does wait at del_timer_sync while the callback runs, and gets past it.
    let waited = false;
    forEachReachable(catalogue('del_timer_sync-before-spin_lock_bh'), (m, st) => {
      const pc = st[m.ctxOff(1) + X_PC]!; // task close
      if (timerView(m, 'priv->watchdog').runningOn.length > 0 && m.p.text[pc / INSN_WIDTH] === 'del_timer_sync(&priv->watchdog)') waited = true;
    });
    expect(waited).toBe(true);
    expect(reachesInOrder(catalogue('del_timer_sync-before-spin_lock_bh'), ['call watchdog_fn()', 'watchdog_fn() returned', '[task close]: del_timer_sync', '[task close]: priv->stopped++'])).toBe(true);
  });

  it('B9 case a: the callback\'s softirq waits for itself; fixed, the callback\'s del_timer returns at once', () => {
    expect(cycleOf(catalogue('del_timer_sync-in-own-callback'))).toEqual(['cpu0 timer priv->watchdog']);
    expect(reachesInOrder(catalogue('del_timer-in-own-callback'), ['[timer priv->watchdog]: del_timer(&priv->watchdog) → 0', 'priv->stopped++'])).toBe(true);
  });

  it('B9 case b: the warning, and with TIMER_IRQSAFE the interrupt still calls del_timer_sync, never over the callback', () => {
    expect(check(catalogue('del_timer_sync-in-hardirq')).violation?.message).toContain('WARN_ON(in_hardirq() && !(timer->flags & TIMER_IRQSAFE))');
    const fixed = catalogue('del_timer_sync-in-hardirq-irqsafe');
    expect(reachesInOrder(fixed, ['call poll_fn() with irqs off', 'link interrupt arrives', 'returned'])).toBe(false);
    expect(reachesInOrder(fixed, ['link interrupt arrives', '[hardirq link]: del_timer_sync(&poll_timer) → 1'])).toBe(true);
  });

  it('B9 case c: the cycle runs through the device interrupt stacked on the callback; with TIMER_IRQSAFE it cannot stack there', () => {
    expect(cycleOf(catalogue('del_timer_sync-under-spin_lock_irq'))).toEqual(['cpu0 task remove', 'cpu1 hardirq dev', 'cpu1 timer dev->timer']);
    const fixed = catalogue('del_timer_sync-under-spin_lock_irq-irqsafe');
    // Where the callback runs on cpu1 (always before 6.9), the interrupt cannot come on top of it.
    expect(reachesInOrder({ ...fixed, profile: '6.6' }, ['call timer_fn() with irqs off', 'cpu1: dev interrupt arrives', 'timer_fn() returned'])).toBe(false);
    expect(reachesInOrder(fixed, ['[task remove]: spin_lock_irq(&dev->lock)', 'call timer_fn()', '[task remove]: del_timer_sync(&dev->timer)'])).toBe(true);
    // Since 6.9 cpu0 may pull it from an idle cpu1, where the interrupt then comes harmlessly, beside it.
    expect(reachesInOrder(fixed, ['cpu0 [softirq TIMER]: __run_timers (jiffies 1): &dev->timer (cpu1 is idle', 'cpu1: dev interrupt arrives', 'timer_fn() returned'])).toBe(true);
  });

  it('B10: KASAN or ODEBUG for each teardown that does not wait or does not stop re-arming; the fixes still race with the callback', () => {
    expect(check(catalogue('del_timer-then-kfree')).violation?.message).toMatch(/^BUG: KASAN: slab-use-after-free in function stats_fn/);
    expect(check(catalogue('self-rearming-timer-del_timer')).violation?.message).toMatch(/poll_fn|ODEBUG: free active/);
    expect(check(catalogue('del_timer_sync-rearmed-by-rx')).violation?.message).toMatch(/^ODEBUG: free active \(active state 0\) object type: timer_list \(priv->watchdog\)/);
    expect(reachesInOrder(catalogue('del_timer_sync-then-kfree'), ['call stats_fn()', '[task driver]: del_timer_sync', 'kfree'])).toBe(true);
    expect(reachesInOrder(catalogue('self-rearming-timer-del_timer_sync'), ['call poll_fn()', '[timer priv->poll_timer]: mod_timer', 'returned', 'del_timer_sync(&priv->poll_timer) → 1', 'kfree'])).toBe(true);
    expect(reachesInOrder(catalogue('timer_shutdown_sync-vs-rx-rearm'), ['timer_shutdown_sync(&priv->watchdog)', '[task rx]: mod_timer(&priv->watchdog, jiffies + 1): timer is shut down', 'kfree'])).toBe(true);
  });

  it('B21: the preempt leak names the callback and the lock', () => {
    expect(check(catalogue('timer-callback-leaks-spin_lock')).violation?.message).toContain('timer: link_check_fn+0x0/0x0 preempt leak: 00000100 -> 00000101 (link_check_fn() returned with &priv->lock held)');
  });

  it('Wilcox: modern, the timer and the tasklet overlap on two CPUs; in 2.4 the timer runs in TIMER_BH and both BHs still run, never together', () => {
    expect(check(catalogue('timer-vs-tasklet-unguarded')).violation?.message).toContain('BUG_ON(port->busy != 0)');
    const old = catalogue('timer-vs-bh-unguarded-linux-2_4');
    expect(reachesInOrder(old, ['[bh TIMER_BH]: run_timer_list (jiffies 1): &port->poll_timer expired', '[bh TIMER_BH]: port->events++'])).toBe(true);
    expect(reachesInOrder(old, ['[bh SERIAL_BH]: port->events++'])).toBe(true);
  });
});
