/**
 * model/kernel/tasklet.ts: the SCHED/RUN bits and count, scheduling onto the
 * scheduling CPU's list, the action loop with its requeue, disable/enable,
 * kill and the RUN waits (kernel/softirq.c, include/linux/interrupt.h;
 * shared/kernel-semantics.md §3.1–3.2). One test per rule.
 */
import { describe, expect, it } from 'vitest';
import {
  check, compile, defineDesign, DesignError, eq, inc, kfree, local_bh_disable, local_bh_enable, spin_lock, spin_lock_irq,
  spin_unlock, spin_unlock_irq, tasklet_disable, tasklet_disable_in_atomic, tasklet_disable_nosync, tasklet_enable,
  tasklet_hi_schedule, tasklet_kill, tasklet_schedule, tasklet_unlock_spin_wait, tasklet_unlock_wait, v, wait_event,
  wake_up, type Design, type Stmt,
} from '../../model/index.ts';
import {
  C_DEPTH, C_KSOFTIRQD, C_PENDING, ContextStatus, FrameKind, X_STATUS,
} from '../../model/kernel/layout.ts';
import { E_COUNT, E_LIST, E_POS, E_RUN, E_STATE, PARKED, SCHED, TASKLET_SIZE } from '../../model/kernel/tasklet.ts';
import { TASKLET_DESIGNS } from '../../model/designs/tasklet/index.ts';
import { walkReachable } from '../helpers/reachable.ts';
import { Schedule } from '../helpers/schedule.ts';

const HI = 1 << 0;
const TASKLET = 1 << 6;
const SLOTS = ['HI', 'TASKLET', 'HI detached', 'TASKLET detached'];

/** Tasklets t (t_func: n++) and u (u_func: m++); extra fields override. */
const design = (extra: Partial<Design> = {}): Design => defineDesign({
  name: 'tasklet-rule',
  cpus: 1,
  locks: { L: 'spinlock' },
  vars: { n: 0, m: 0, done: 0 },
  waitqueues: { wq: {} },
  functions: { t_func: [inc('n')], u_func: [inc('m')] },
  tasklets: { t: { func: 't_func' }, u: { func: 'u_func' } },
  tasks: [],
  ...extra,
});
const irq = (handler: readonly Stmt[], extra: { cpus?: number[]; budget?: number; name?: string } = {}) =>
  ({ name: extra.name ?? 'eth0', handler, budget: extra.budget ?? 1, ...(extra.cpus ? { cpus: extra.cpus } : {}) });
const task = (body: readonly Stmt[], cpu = 0, name = 'driver') => ({ name, cpu, body });

/** The state of tasklet `name`: its bits, count, and the list it is on (`cpu0 TASKLET`), with its position. */
function tasklet(s: Schedule, name: string) {
  const id = s.p.objects['tasklet']!.findIndex((o) => o.name === name);
  const o = s.m.objOff('tasklet', id, TASKLET_SIZE);
  const w = (k: number) => s.s[o + k]!;
  const code = w(E_LIST);
  s.m.s = s.s;
  return {
    sched: (w(E_STATE) & SCHED) !== 0,
    parked: (w(E_STATE) & PARKED) !== 0,
    runner: w(E_RUN) === 0 ? null : s.m.contextName(w(E_RUN) - 1),
    count: w(E_COUNT),
    list: code === 0 ? null : `cpu${Math.floor((code - 1) / 4)} ${SLOTS[(code - 1) % 4]}`,
    pos: w(E_POS),
  };
}

/** Names of the functions run, in order (`run t: clear SCHED, call t_func()` labels). */
const runs = (labels: readonly string[]): string[] => labels.flatMap((l) => /: run (\w+): clear SCHED/.exec(l)?.[1] ?? []);

describe('tasklet_schedule / tasklet_hi_schedule (__tasklet_schedule_common)', () => {
  it('from a hardirq: SCHED set, queued on this CPU\'s TASKLET list, TASKLET raised, ksoftirqd not woken', () => {
    const s = new Schedule(design({ irqs: [irq([tasklet_schedule('t')])] })).run('eth0 interrupt arrives', 'tasklet_schedule(&t)');
    expect(tasklet(s, 't')).toMatchObject({ sched: true, list: 'cpu0 TASKLET', pos: 0, runner: null });
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_KSOFTIRQD)]).toEqual([TASKLET, 0]);
  });

  it('from a task with bottom halves on: raise_softirq_irqoff wakes ksoftirqd', () => {
    const s = new Schedule(design({ tasks: [task([tasklet_schedule('t')])] })).take('tasklet_schedule(&t)');
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_KSOFTIRQD)]).toEqual([TASKLET, 1]);
    expect(s.labels[0]).toContain('ksoftirqd woken');
  });

  it('from a task with bottom halves off: no wakeup; local_bh_enable runs it in the task\'s context', () => {
    const s = new Schedule(design({ tasks: [task([local_bh_disable(), tasklet_schedule('t'), local_bh_enable()])] }))
      .run('local_bh_disable', 'tasklet_schedule(&t)');
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_KSOFTIRQD)]).toEqual([TASKLET, 0]);
    s.run('local_bh_enable', 'run TASKLET handler', 'detach', 'run t');
    expect(s.topName(0)).toBe('tasklet t');
  });

  it('with SCHED already set it does nothing: the list and the pending bits are unchanged', () => {
    const s = new Schedule(design({ irqs: [irq([tasklet_schedule('t'), tasklet_schedule('t')])] }))
      .run('eth0 interrupt arrives', 'tasklet_schedule(&t): queued');
    const before = tasklet(s, 't');
    s.take('tasklet_schedule(&t): SCHED already set, nothing to do');
    expect(tasklet(s, 't')).toEqual(before);
    expect(s.cpu(0, C_PENDING)).toBe(TASKLET);
  });

  it('tasklet_hi_schedule uses the HI list and HI_SOFTIRQ, which runs before every other vector', () => {
    const s = new Schedule(design({ irqs: [irq([tasklet_schedule('u'), tasklet_hi_schedule('t')])] }))
      .run('eth0 interrupt arrives', 'tasklet_schedule(&u)', 'tasklet_hi_schedule(&t)');
    expect(tasklet(s, 't').list).toBe('cpu0 HI');
    expect(s.cpu(0, C_PENDING)).toBe(HI | TASKLET);
    s.runToEnd();
    expect(runs(s.labels)).toEqual(['t', 'u']);
    expect(s.labels.some((l) => l.includes('tasklet_hi_action: detach this CPU\'s HI list (t)'))).toBe(true);
  });

  it('the tasklet runs on the CPU that scheduled it', () => {
    const s = new Schedule(design({ cpus: 2, irqs: [irq([tasklet_schedule('t')], { cpus: [1] })] })).runToEnd();
    const inT = s.labels.filter((l) => l.includes('[tasklet t]'));
    expect(inT.length).toBeGreaterThan(0);
    for (const l of inT) expect(l).toMatch(/^cpu1 /);
  });

  it('lists are FIFO; with taskletOrder \'lifo\' (2.4, early 2.6) a schedule pushes at the head', () => {
    const both = [tasklet_schedule('t'), tasklet_schedule('u')];
    expect(runs(new Schedule(design({ irqs: [irq(both)] })).runToEnd().labels)).toEqual(['t', 'u']);
    expect(runs(new Schedule(design({ flags: { taskletOrder: 'lifo' }, irqs: [irq(both)] })).runToEnd().labels)).toEqual(['u', 't']);
    expect(runs(new Schedule(design({ profile: '2.4', irqs: [irq(both)] })).runToEnd().labels)).toEqual(['u', 't']);
  });
});

describe('the action (tasklet_action_common)', () => {
  it('detaches the whole list: a tasklet scheduled by a running func waits for a later pass', () => {
    const d = design({ functions: { t_func: [tasklet_schedule('u'), inc('n')], u_func: [inc('m')] }, irqs: [irq([tasklet_schedule('t')])] });
    const s = new Schedule(d).run('eth0 interrupt arrives', 'tasklet_schedule(&t)', 'return', 'run TASKLET handler', 'detach this CPU\'s TASKLET list (t)', 'run t');
    expect(tasklet(s, 't')).toMatchObject({ sched: false, runner: 'tasklet t', list: null });
    s.run('[tasklet t]: tasklet_schedule(&u)');
    expect(tasklet(s, 'u').list).toBe('cpu0 TASKLET');
    s.run('[tasklet t]: n++', '[tasklet t]: return', 'tasklet_unlock(&t)');
    // The detached list was empty: back to __do_softirq, which restarts for the new raise.
    expect(s.enabledLabels()).toEqual(expect.arrayContaining([expect.stringContaining('TASKLET raised meanwhile, restart')]));
    s.run('raised meanwhile, restart', 'run TASKLET handler', 'detach this CPU\'s TASKLET list (u)', 'run u');
  });

  it('clears SCHED before calling func: a func that schedules itself runs exactly once more, later (T4)', () => {
    const d = design({ functions: { t_func: [inc('n'), { op: 'if', cond: eq(v('n'), 1), then: [tasklet_schedule('t')], else: [] }], u_func: [] }, irqs: [irq([tasklet_schedule('t')])] });
    const s = new Schedule(d).runToEnd();
    expect(runs(s.labels)).toEqual(['t', 't']);
    expect(s.variable('n')).toBe(2);
  });

  it('a tasklet running on another CPU is requeued and TASKLET raised again (in a softirq frame)', () => {
    const d = design({ cpus: 2, functions: { t_func: [inc('n'), inc('n')], u_func: [] }, irqs: [irq([tasklet_schedule('t')], { cpus: [0] }), irq([tasklet_schedule('t')], { cpus: [1], name: 'eth1' })] });
    const s = new Schedule(d).run('cpu0: eth0 interrupt arrives', 'cpu0 [hardirq eth0]: tasklet_schedule', 'cpu0 [hardirq eth0]: return', 'cpu0 [softirq]: __do_softirq: run TASKLET', 'cpu0 [softirq TASKLET]: tasklet_action: detach', 'cpu0 [softirq TASKLET]: tasklet_action: run t');
    s.run('cpu1: eth1 interrupt arrives', 'cpu1 [hardirq eth1]: tasklet_schedule(&t): queued on cpu1', 'cpu1 [hardirq eth1]: return', 'cpu1 [softirq]: __do_softirq: run TASKLET', 'cpu1 [softirq TASKLET]: tasklet_action: detach');
    s.take('cpu1 [softirq TASKLET]: tasklet_action: t is running in tasklet t (RUN held): requeue and raise TASKLET again');
    expect(tasklet(s, 't')).toMatchObject({ sched: true, list: 'cpu1 TASKLET', parked: false, runner: 'tasklet t' });
    expect(s.cpu(1, C_PENDING)).toBe(TASKLET);
  });

  it('in ksoftirqd the requeued tasklet is parked; releasing RUN re-raises it on its CPU and wakes that ksoftirqd', () => {
    const d = design({ cpus: 2, functions: { t_func: [inc('n'), inc('n')], u_func: [] }, irqs: [irq([tasklet_schedule('t')], { cpus: [0] })], tasks: [task([tasklet_schedule('t')], 1, 'kick')] });
    const s = new Schedule(d).run('cpu0: eth0 interrupt arrives', 'cpu0 [hardirq eth0]: tasklet_schedule', 'cpu0 [hardirq eth0]: return', 'cpu0 [softirq]: __do_softirq: run TASKLET', 'cpu0 [softirq TASKLET]: tasklet_action: detach', 'cpu0 [softirq TASKLET]: tasklet_action: run t');
    s.run('cpu1 [task kick]: tasklet_schedule(&t): queued on cpu1', 'cpu1 [task kick]: return', 'ksoftirqd/1 runs pending', 'cpu1 [ksoftirqd/1]: __do_softirq: run TASKLET', 'cpu1 [ksoftirqd/1 TASKLET]: tasklet_action: detach');
    s.take('cpu1 [ksoftirqd/1 TASKLET]: tasklet_action: t is running in tasklet t (RUN held): requeue (parked until that changes)');
    expect(tasklet(s, 't')).toMatchObject({ sched: true, parked: true, list: 'cpu1 TASKLET' });
    s.take('cpu1 [ksoftirqd/1]: __do_softirq: batch done');
    expect([s.cpu(1, C_PENDING), s.cpu(1, C_KSOFTIRQD)]).toEqual([0, 0]);
    s.run('cpu0 [tasklet t]: n++', 'cpu0 [tasklet t]: n++', 'cpu0 [tasklet t]: return', 'cpu0 [tasklet t]: tasklet_action: t\'s func returned');
    expect(tasklet(s, 't')).toMatchObject({ parked: false, runner: null, list: 'cpu1 TASKLET' });
    expect([s.cpu(1, C_PENDING), s.cpu(1, C_KSOFTIRQD)]).toEqual([TASKLET, 1]);
    s.run('ksoftirqd/1 runs pending', 'cpu1 [ksoftirqd/1]: __do_softirq: run TASKLET', 'cpu1 [ksoftirqd/1 TASKLET]: tasklet_action: detach', 'cpu1 [ksoftirqd/1 TASKLET]: tasklet_action: run t');
    expect(s.topName(1)).toBe('ksoftirqd/1 tasklet t');
  });

  it('a disabled tasklet is requeued and its vector raised again, not run; after tasklet_enable it runs', () => {
    const d = design({ irqs: [irq([tasklet_schedule('t')])], tasks: [task([tasklet_disable_nosync('t'), tasklet_enable('t')])] });
    const s = new Schedule(d).run('tasklet_disable_nosync', 'eth0 interrupt arrives', 'tasklet_schedule', 'return', 'run TASKLET handler', 'detach');
    s.take('t is disabled (count 1): requeue and raise TASKLET again');
    expect(tasklet(s, 't')).toMatchObject({ sched: true, parked: false, list: 'cpu0 TASKLET', count: 1 });
    expect(s.cpu(0, C_PENDING)).toBe(TASKLET);
    s.take('give up');
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_KSOFTIRQD)]).toEqual([TASKLET, 1]);
    s.take('tasklet_enable(&t)');
    expect(runs(s.runToEnd().labels)).toEqual(['t']);
  });

  it('a tasklet left disabled is parked by ksoftirqd with nothing pending, and tasklet_enable raises it again', () => {
    const d = design({ tasks: [task([tasklet_disable_nosync('t'), tasklet_schedule('t'), wait_event('wq', v('done')), tasklet_enable('t')]), task([inc('done'), wake_up('wq')], 0, 'later')] });
    const s = new Schedule(d).run('schedule() → task driver', '[task driver]: tasklet_disable_nosync', '[task driver]: tasklet_schedule', '[task driver]: wait_event', 'ksoftirqd/0 runs', 'run TASKLET handler', 'detach');
    s.take('t is disabled (count 1): requeue (parked until that changes)');
    s.take('batch done');
    expect(tasklet(s, 't')).toMatchObject({ sched: true, parked: true, count: 1 });
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_KSOFTIRQD)]).toEqual([0, 0]);
    s.run('schedule() → task later', '[task later]: done++', '[task later]: wake_up', '[task later]: return', 'schedule() → task driver', '[task driver]: wait_event', '[task driver]: tasklet_enable(&t)');
    expect(tasklet(s, 't')).toMatchObject({ parked: false, count: 0 });
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_KSOFTIRQD)]).toEqual([TASKLET, 1]);
    expect(runs(s.runToEnd().labels)).toEqual(['t']);
  });

  it('DECLARE_TASKLET_DISABLED: count starts at 1', () => {
    const s = new Schedule(design({ tasklets: { t: { func: 't_func', disabled: true } }, irqs: [irq([tasklet_schedule('t')])] })).runToEnd();
    expect(runs(s.labels)).toEqual([]);
    expect(tasklet(s, 't')).toMatchObject({ sched: true, count: 1 });
  });

  it('B21: func returning with a lock held, or with counts changed, is a lock-leak', () => {
    const held = check(design({ functions: { t_func: [spin_lock('L')], u_func: [] }, irqs: [irq([tasklet_schedule('t')])] }));
    expect(held.violation?.kind).toBe('lock-leak');
    expect(held.violation?.message).toBe('BUG: tasklet t (t_func) returned with &L held (lockdep: leaked lock at softirq TASKLET exit)');
    const bh = check(design({ functions: { t_func: [local_bh_disable()], u_func: [] }, irqs: [irq([tasklet_hi_schedule('t')])] }));
    expect(bh.violation?.message).toBe('huh, entered softirq 0 HI tasklet t (t_func) with preempt_count 00000100, exited with 00000300?');
    const irqs = check(design({ functions: { t_func: [{ op: 'local_irq_disable' }], u_func: [] }, irqs: [irq([tasklet_schedule('t')])] }));
    expect(irqs.violation?.message).toBe('BUG: tasklet t (t_func) returned with irqs disabled (softirq TASKLET)');
  });

  it('names the frame after the tasklet while it holds RUN: `tasklet t`, `ksoftirqd/0 tasklet t`', () => {
    const s = new Schedule(design({ irqs: [irq([tasklet_schedule('t')])] })).run('eth0 interrupt arrives', 'tasklet_schedule', 'return', 'run TASKLET handler');
    expect(s.topName(0)).toBe('softirq TASKLET');
    s.run('detach', 'run t');
    expect(s.topName(0)).toBe('tasklet t');
    const k = new Schedule(design({ tasks: [task([tasklet_schedule('t')])] })).run('tasklet_schedule', 'return', 'ksoftirqd/0 runs', 'run TASKLET handler', 'detach', 'run t');
    expect(k.topName(0)).toBe('ksoftirqd/0 tasklet t');
  });
});

describe('tasklet_disable_nosync / tasklet_disable / tasklet_enable', () => {
  /** t runs two steps on cpu1 (from eth1); a task on cpu0 does `body`. */
  const racing = (body: readonly Stmt[], extra: Partial<Design> = {}) => design({
    cpus: 2,
    functions: { t_func: [inc('n'), inc('n')], u_func: [] },
    irqs: [irq([tasklet_schedule('t')], { cpus: [1], name: 'eth1' })],
    tasks: [task(body)],
    ...extra,
  });
  const startT = ['cpu1: eth1 interrupt arrives', 'tasklet_schedule', 'cpu1 [hardirq eth1]: return', 'cpu1 [softirq]: __do_softirq: run TASKLET', 'cpu1 [softirq TASKLET]: tasklet_action: detach', 'cpu1 [softirq TASKLET]: tasklet_action: run t'];

  it('tasklet_disable_nosync only raises the count, even while func runs', () => {
    const s = new Schedule(racing([tasklet_disable_nosync('t')])).run(...startT, 'tasklet_disable_nosync(&t)');
    expect(tasklet(s, 't')).toMatchObject({ count: 1, runner: 'tasklet t' });
  });

  it('tasklet_disable before 5.13 spins while func runs elsewhere, and returns once RUN clears', () => {
    const s = new Schedule(racing([tasklet_disable('t'), inc('done')], { flags: { taskletWait: 'spin' } })).run(...startT);
    s.take('tasklet_disable(&t): count 1, running in tasklet t: spins until RUN clears');
    expect(tasklet(s, 't').count).toBe(1);
    expect(s.can('cpu0 [task driver]')).toBe(false);
    s.run('cpu1 [tasklet t]: n++', 'cpu1 [tasklet t]: n++', 'cpu1 [tasklet t]: return', 'cpu1 [tasklet t]: tasklet_action');
    s.run('cpu0 [task driver]: tasklet_disable(&t): RUN cleared', 'cpu0 [task driver]: done++');
    expect(s.variable('n')).toBe(2);
  });

  it('tasklet_disable since 5.13 sleeps while func runs elsewhere, and tasklet_unlock wakes it', () => {
    const s = new Schedule(racing([tasklet_disable('t'), inc('done')])).run(...startT);
    s.take('tasklet_disable(&t): count 1, running in tasklet t: sleeps until RUN clears');
    expect(s.s[s.m.ctxOff(0) + X_STATUS]).toBe(ContextStatus.Blocked);
    s.run('cpu1 [tasklet t]: n++', 'cpu1 [tasklet t]: n++', 'cpu1 [tasklet t]: return', 'cpu1 [tasklet t]: tasklet_action');
    expect(s.s[s.m.ctxOff(0) + X_STATUS]).toBe(ContextStatus.Runnable);
    s.run('schedule() → task driver', 'tasklet_disable(&t): RUN cleared', 'done++');
  });

  it('tasklet_disable since 5.13 may sleep: in atomic context it is sleep-in-atomic even when nothing runs', () => {
    const v1 = check(design({ tasks: [task([spin_lock('L'), tasklet_disable('t'), spin_unlock('L')])] }));
    expect(v1.violation?.kind).toBe('sleep-in-atomic');
    expect(v1.violation?.message).toContain('tasklet_disable(&t) with &L held');
    expect(check(design({ tasks: [task([spin_lock('L'), tasklet_disable('t'), spin_unlock('L'), tasklet_enable('t')])], flags: { taskletWait: 'spin' } })).status).toBe('verified');
  });

  it('tasklet_disable_in_atomic spins (no might_sleep) and exists only since 5.13', () => {
    expect(check(design({ irqs: [irq([tasklet_disable_in_atomic('t'), tasklet_enable('t')])] })).status).toBe('verified');
    expect(() => compile(design({ flags: { taskletWait: 'spin' }, irqs: [irq([tasklet_disable_in_atomic('t')])] }))).toThrow(/tasklet_disable_in_atomic\(\) exists since 5\.13/);
  });

  it('a RUN wait is a wait-for edge to the RUN holder: tasklet_disable inside func waits for itself (B14)', () => {
    const verdict = check(design({ flags: { taskletWait: 'spin' }, functions: { t_func: [tasklet_disable('t')], u_func: [] }, irqs: [irq([tasklet_schedule('t')])] }));
    expect(verdict.violation?.kind).toBe('deadlock');
    expect(verdict.violation?.cycle?.map((w) => w.context)).toEqual(['tasklet t']);
    expect(verdict.violation?.message).toContain('tasklet_disable(&t) waits for &t\'s func to finish: it is that func itself');
  });

  it('a hardirq spinning on the RUN of the tasklet it interrupted is an AA cycle (B13)', () => {
    const verdict = check(design({ irqs: [irq([tasklet_schedule('t')]), irq([tasklet_unlock_spin_wait('t')], { name: 'err' })] }));
    expect(verdict.violation?.kind).toBe('deadlock');
    expect(verdict.violation?.cycle?.map((w) => w.context).sort()).toEqual(['hardirq err', 'tasklet t']);
  });

  it('tasklet_enable lowers the count; below zero it is lock-misuse', () => {
    const s = new Schedule(design({ tasks: [task([tasklet_disable_nosync('t'), tasklet_disable_nosync('t'), tasklet_enable('t')])] })).run('disable_nosync', 'disable_nosync', 'tasklet_enable');
    expect(tasklet(s, 't').count).toBe(1);
    const verdict = check(design({ tasks: [task([tasklet_enable('t')])] }));
    expect(verdict.violation?.kind).toBe('lock-misuse');
    expect(verdict.violation?.message).toContain('without a matching tasklet_disable');
  });

  it('tasklet_unlock_wait waits for RUN like tasklet_disable, without touching the count', () => {
    const s = new Schedule(racing([tasklet_unlock_wait('t'), inc('done')], { flags: { taskletWait: 'spin' } })).run(...startT);
    s.take('tasklet_unlock_wait(&t), running in tasklet t: spins until RUN clears');
    expect(tasklet(s, 't').count).toBe(0);
  });
});

describe('tasklet_kill', () => {
  it('on an idle tasklet: owns SCHED, finds it not running, clears SCHED and returns', () => {
    const s = new Schedule(design({ tasks: [task([tasklet_kill('t')])] })).take('tasklet_kill(&t): owns SCHED, not running: clear SCHED');
    expect(tasklet(s, 't')).toMatchObject({ sched: false, runner: null, list: null });
  });

  it('on a scheduled tasklet: sleeps until the action clears SCHED (it runs first), then returns', () => {
    const s = new Schedule(design({ tasks: [task([tasklet_schedule('t'), tasklet_kill('t'), inc('done')])] }))
      .run('tasklet_schedule', 'tasklet_kill(&t): SCHED set (queued on cpu0\'s TASKLET list): sleeps until it clears');
    expect(s.s[s.m.ctxOff(0) + X_STATUS]).toBe(ContextStatus.Blocked);
    s.run('ksoftirqd/0 runs', 'run TASKLET handler', 'detach', 'run t');
    expect(s.s[s.m.ctxOff(0) + X_STATUS]).toBe(ContextStatus.Runnable);
    s.runToEnd(['schedule() → task driver']);
    expect(s.labels.filter((l) => l.includes('[task driver]'))).toEqual([
      'cpu0 [task driver]: tasklet_schedule(&t): queued on cpu0\'s TASKLET list, TASKLET raised, ksoftirqd woken',
      'cpu0 [task driver]: tasklet_kill(&t): SCHED set (queued on cpu0\'s TASKLET list): sleeps until it clears',
      'cpu0 [task driver]: tasklet_kill(&t): owns SCHED, not running: clear SCHED',
      'cpu0 [task driver]: done++',
      'cpu0 [task driver]: return',
    ]);
    expect(s.variable('n')).toBe(1);
  });

  it('while it owns SCHED, schedules are no-ops; after it returns the tasklet can be scheduled again', () => {
    const d = design({
      cpus: 2, functions: { t_func: [inc('n'), inc('n')], u_func: [] },
      irqs: [irq([tasklet_schedule('t')], { cpus: [1], name: 'eth1' }), irq([tasklet_schedule('t')], { cpus: [1], name: 'eth2' })],
      tasks: [task([tasklet_kill('t'), inc('done')])],
    });
    const s = new Schedule(d).run('cpu1: eth1 interrupt arrives', 'tasklet_schedule', 'cpu1 [hardirq eth1]: return', 'cpu1 [softirq]: __do_softirq: run TASKLET', 'detach', 'run t');
    s.take('tasklet_kill(&t): owns SCHED; running in tasklet t: sleeps until RUN clears');
    s.run('cpu1 [tasklet t]: n++', 'cpu1: eth2 interrupt arrives', 'cpu1 [hardirq eth2]: tasklet_schedule(&t): SCHED already set, nothing to do', 'cpu1 [hardirq eth2]: return');
    s.run('cpu1 [tasklet t]: n++', 'cpu1 [tasklet t]: return', 'cpu1 [tasklet t]: tasklet_action', 'schedule() → task driver', 'tasklet_kill(&t): RUN cleared, clear SCHED');
    expect(tasklet(s, 't')).toMatchObject({ sched: false, runner: null, list: null });
  });

  it('before 5.13 it yields while SCHED is set (modelled as sleeping until SCHED clears)', () => {
    const s = new Schedule(design({ flags: { taskletWait: 'spin' }, tasks: [task([tasklet_schedule('t'), tasklet_kill('t')])] }))
      .run('tasklet_schedule', 'tasklet_kill(&t): SCHED set (queued on cpu0\'s TASKLET list): yields until it clears');
    expect(s.s[s.m.ctxOff(0) + X_STATUS]).toBe(ContextStatus.Blocked);
    expect(check(design({ flags: { taskletWait: 'spin' }, tasks: [task([tasklet_schedule('t'), tasklet_kill('t')])] })).status).toBe('verified');
  });

  it('from interrupt since 5.13: "Attempt to kill tasklet from interrupt" and might_sleep fires (B14)', () => {
    const verdict = check(design({ irqs: [irq([tasklet_kill('t')])] }));
    expect(verdict.violation?.kind).toBe('sleep-in-atomic');
    expect(verdict.violation?.message).toContain('tasklet_kill(&t) [Attempt to kill tasklet from interrupt]');
    expect(verdict.violation?.message).toMatch(/^BUG: sleeping function called from invalid context/);
  });

  it('from interrupt before 5.13: only a notice if nothing to wait for, "scheduling while atomic" if it must yield', () => {
    expect(check(design({ flags: { taskletWait: 'spin' }, irqs: [irq([tasklet_kill('t')])] })).status).toBe('verified');
    const verdict = check(design({ flags: { taskletWait: 'spin' }, irqs: [irq([tasklet_schedule('t'), tasklet_kill('t')])] }));
    expect(verdict.violation?.kind).toBe('sleep-in-atomic');
    expect(verdict.violation?.message).toMatch(/^BUG: scheduling while atomic: hardirq eth0\/0x00010000/);
    expect(verdict.violation?.message).toContain('[Attempt to kill tasklet from interrupt] yields the CPU');
  });

  it('a kill whose tasklet never runs (disabled) sleeps forever: hung-task naming why (B14)', () => {
    const verdict = check(design({ tasks: [task([tasklet_disable('t'), tasklet_schedule('t'), tasklet_kill('t'), tasklet_enable('t')])] }));
    expect(verdict.violation?.kind).toBe('hung-task');
    expect(verdict.violation?.message).toContain('tasklet_kill(&t) waits for SCHED to clear; &t is queued on cpu0\'s TASKLET list, disabled (count 1), so it never runs');
  });
});

describe('lifetime: a scheduled or running tasklet is an active object', () => {
  it('kfree of a struct whose tasklet is scheduled is ODEBUG free-active; after tasklet_kill it is fine', () => {
    const base = { structs: { priv: { members: ['t'] } } };
    const verdict = check(design({ ...base, tasks: [task([tasklet_schedule('t'), kfree('priv')])] }));
    expect(verdict.violation?.kind).toBe('use-after-free');
    expect(verdict.violation?.message).toContain('object type: tasklet_struct (t) scheduled (TASKLET_STATE_SCHED)');
    expect(check(design({ ...base, tasks: [task([tasklet_schedule('t'), tasklet_kill('t'), kfree('priv')])] })).status).toBe('verified');
  });
});

describe('declarations', () => {
  it('a tasklet needs a design function', () => {
    expect(() => compile(design({ tasklets: { t: { func: 'nope' } } }))).toThrow(DesignError);
    expect(() => compile(design({ tasklets: { t: {} as never } }))).toThrow(/declare a tasklet as \{ func/);
  });

  it('with tasklets, HI and TASKLET run the kernel\'s action: a design handler there is refused', () => {
    expect(() => compile(design({ softirqs: { TASKLET: [inc('n')] } }))).toThrow(/runs the kernel's tasklet_action/);
  });
});

describe('on one CPU everything is serialised; the state stays canonical', () => {
  it('no CPU ever has two frames inside tasklets, and equal lists hash equal (no stray list words)', () => {
    const d = design({
      cpus: 2,
      functions: { t_func: [inc('n'), tasklet_schedule('u')], u_func: [inc('m')] },
      irqs: [irq([tasklet_schedule('t'), tasklet_schedule('u')]), irq([tasklet_hi_schedule('u')], { name: 'eth1', cpus: [1] })],
    });
    const walk = walkReachable(d, {
      state(m, s) {
        for (let cpu = 0; cpu < 2; cpu++) {
          let inTasklets = 0;
          for (let depth = 0; depth < s[m.cpuOff(cpu) + C_DEPTH]!; depth++) if (m.contextName(m.frameCtx(cpu, depth)).startsWith('tasklet')) inTasklets++;
          expect(inTasklets).toBeLessThanOrEqual(1);
        }
        for (const [i] of m.p.objects['tasklet']!.entries()) {
          const o = m.objOff('tasklet', i, TASKLET_SIZE);
          if (s[o + E_LIST] === 0) expect(s[o + E_POS]).toBe(0);
          if ((s[o + E_STATE]! & SCHED) === 0) expect(s[o + E_LIST]).toBe(0);
        }
      },
    });
    expect(walk.states).toBeGreaterThan(100);
  });

  it('frames: the action runs inside the softirq frame, on the task it interrupted', () => {
    const s = new Schedule(design({ irqs: [irq([tasklet_schedule('t')])], tasks: [task([spin_lock_irq('L'), spin_unlock_irq('L')])] }))
      .run('eth0 interrupt arrives', 'tasklet_schedule', 'return', 'run TASKLET handler', 'detach', 'run t');
    expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]);
  });
});

/**
 * Whether some schedule of `d` takes, in this order (not necessarily
 * adjacent), steps whose labels contain each of `steps`.
 */
function reachable(d: Design, steps: readonly string[]): boolean {
  let found = false;
  const seen = new Set<string>();
  const m = new Schedule(d).m;
  const stack: { s: Int32Array; k: number }[] = [{ s: m.initial(), k: 0 }];
  while (stack.length > 0 && !found) {
    const { s, k } = stack.pop()!;
    if (k === steps.length) found = true;
    const key = `${k}|${s.join(',')}`;
    if (found || seen.has(key)) continue;
    seen.add(key);
    for (const c of m.enabled(s)) {
      const label = m.label(s, c);
      stack.push({ s: m.step(s, c), k: label.includes(steps[k]!) ? k + 1 : k });
    }
  }
  return found;
}

describe('the tasklet catalogue: each fix holds for the reason it gives, not vacuously', () => {
  const named = (name: string): Design => TASKLET_DESIGNS.find((d) => d.name === name)!;

  it('T1: the second CPU finds the tasklet running and requeues it; parallelism 1 against the softirq\'s 2', () => {
    const d = named('completion-tasklet-unguarded');
    expect(reachable(d, ['ahci_tasklet is running in tasklet ahci_tasklet (RUN held): requeue'])).toBe(true);
    expect(check(d).stats.parallelism).toBe(1);
    expect(check(named('completion-softirq-unguarded')).stats.parallelism).toBe(2);
  });

  it('B13 fixed: the error interrupt still lands on the running tasklet', () => {
    expect(reachable(named('tasklet_disable_nosync-in-hardirq'), ['call rx_action()', 'eth0-err interrupt arrives', '[hardirq eth0-err]: tasklet_disable_nosync', '[tasklet rx_tasklet]: rx_packets++'])).toBe(true);
  });

  it('B14 (a) fixed: the task\'s kill waits for the scheduled tasklet', () => {
    expect(reachable(named('tasklet_kill-from-task'), ['tasklet_kill(&rx_tasklet): SCHED set', 'run rx_tasklet', 'tasklet_kill(&rx_tasklet): owns SCHED'])).toBe(true);
  });

  it('B14 (b) fixed: a tasklet scheduled while disabled is requeued, then runs once enabled, and the kill waits for it', () => {
    expect(reachable(named('tasklet_kill-after-enable'), ['rx_tasklet is disabled (count 1): requeue', 'tasklet_enable(&rx_tasklet)', 'tasklet_kill(&rx_tasklet): SCHED set', 'run rx_tasklet'])).toBe(true);
  });

  it('B14 (c) fixed: the interrupt still comes after the free, but no longer touches the tasklet', () => {
    const d = named('tasklet_kill-after-irq-disabled-then-kfree');
    expect(reachable(d, ['kfree(&priv)', 'cpu1: eth0 interrupt arrives', 'if (dev->up) → false'])).toBe(true);
    expect(reachable(d, ['kfree(&priv)', 'tasklet_schedule'])).toBe(false);
  });

  it('B14 (d) fixed: the tasklet stops itself and the reset task re-enables it', () => {
    expect(reachable(named('tasklet_disable_nosync-in-own-func'), ['[tasklet rx_tasklet]: tasklet_disable_nosync', '[task reset]: tasklet_enable(&rx_tasklet)'])).toBe(true);
  });

  it('B21 fixed: the interrupt lands inside the xmit section, and the tasklet runs at its spin_unlock_bh', () => {
    expect(reachable(named('tasklet-returns-balanced'), ['[task xmit]: spin_lock_bh(&ring->lock): acquires', 'eth0 interrupt arrives', '[task xmit]: spin_unlock_bh', 'run tx_tasklet'])).toBe(true);
  });
});
