/**
 * model/kernel/bh.ts: 2.4 bottom halves (mark_bh, bh_action and
 * global_bh_lock) and task queues (queue_task, run_task_queue, tq_immediate,
 * tq_timer, schedule_task and keventd, flush_scheduled_tasks); 2.4
 * kernel/softirq.c, include/linux/tqueue.h, kernel/context.c;
 * shared/kernel-semantics.md §3.3–3.4. One test per rule.
 */
import { describe, expect, it } from 'vitest';
import {
  boundsText, check, compile, defineDesign, DesignError, flush_scheduled_tasks, inc, mark_bh, msleep, mutex_lock, mutex_unlock,
  queue_task, r, run_task_queue, schedule_task, spin_lock, tasklet_schedule, BUG_ON, dec, eq, v, ne, type Design, type Stmt,
} from '../../model/index.ts';
import { IMMEDIATE_BH, markBh, TIMER_BH, TQUEUE_BH, tqTimerActive } from '../../model/kernel/bh.ts';
import { BH_NAMES } from '../../model/dsl/bh.ts';
import { C_DEPTH, C_KSOFTIRQD, C_PENDING, ContextStatus, X_STATUS } from '../../model/kernel/layout.ts';
import { BH_DESIGNS } from '../../model/designs/bh/index.ts';
import { walkReachable, reachesInOrder } from '../helpers/reachable.ts';
import { Schedule } from '../helpers/schedule.ts';

const HI = 1 << 0;

/** A 2.4 design: NET_BH runs net_bh (n++), SERIAL_BH runs serial_bh (m++); tq runs job (jobs++). */
const design = (extra: Partial<Design> = {}): Design => defineDesign({
  name: 'bh-rule',
  cpus: 1,
  profile: '2.4',
  locks: { L: 'spinlock', M: 'mutex' },
  vars: { n: 0, m: 0, jobs: 0, busy: 0 },
  functions: { net_bh: [inc('n')], serial_bh: [inc('m')], job: [inc('jobs')] },
  bhs: { NET_BH: 'net_bh', SERIAL_BH: 'serial_bh' },
  tq_structs: { tq: { routine: 'job' }, tq2: { routine: 'job' } },
  tasks: [],
  ...extra,
});
const irq = (handler: readonly Stmt[], extra: { cpus?: number[]; budget?: number; name?: string } = {}) =>
  ({ name: extra.name ?? 'eth0', handler, budget: extra.budget ?? 1, ...(extra.cpus ? { cpus: extra.cpus } : {}) });
const task = (body: readonly Stmt[], cpu = 0, name = 'driver') => ({ name, cpu, body });
const status = (s: Schedule, task: string) => s.s[s.m.ctxOff(s.p.tasks.findIndex((t) => t.name === task)) + X_STATUS];

describe('only in the 2.4 profile: removed in 2.5', () => {
  it('bhs, tq_structs and every BH and task-queue function are design errors on a later kernel', () => {
    const modern = (extra: Partial<Design>) => design({ profile: 'modern', bhs: {}, tq_structs: {}, ...extra });
    expect(() => compile(modern({ bhs: { NET_BH: 'net_bh' } }))).toThrow(/init_bh\(NET_BH\): old-style bottom halves were removed in 2\.5/);
    expect(() => compile(modern({ tq_structs: { tq: { routine: 'job' } } }))).toThrow(/task queues were replaced by work queues in 2\.5\.41/);
    for (const st of [mark_bh('IMMEDIATE_BH'), run_task_queue('tq_disk'), flush_scheduled_tasks()]) {
      expect(() => compile(modern({ tasks: [task([st])] })), st.op).toThrow(/removed in 2\.5/);
    }
    expect(() => compile(design({ bhs: { TIMER_BH: 'net_bh' } }))).toThrow(/shadows a kernel one/);
    expect(() => compile(design({ bhs: { NOPE_BH: 'net_bh' } as never }))).toThrow(DesignError);
  });

  it('the kernel BH slot numbers are those of 2.4 include/linux/interrupt.h', () => {
    expect([BH_NAMES[TIMER_BH], BH_NAMES[TQUEUE_BH], BH_NAMES[IMMEDIATE_BH]]).toEqual(['TIMER_BH', 'TQUEUE_BH', 'IMMEDIATE_BH']);
  });
});

describe('mark_bh and bh_action', () => {
  it('mark_bh is tasklet_hi_schedule: this CPU\'s HI list, HI raised; marking again while marked does nothing', () => {
    const s = new Schedule(design({ irqs: [irq([mark_bh('NET_BH'), mark_bh('NET_BH')])] })).run('eth0 interrupt arrives', 'mark_bh(NET_BH): queued on cpu0\'s HI list, HI raised');
    expect(s.cpu(0, C_PENDING)).toBe(HI);
    s.take('mark_bh(NET_BH): already marked');
    s.run('return', 'run HI handler', 'tasklet_hi_action: detach this CPU\'s HI list (NET_BH)');
    s.take('tasklet_hi_action: run NET_BH: clear SCHED, bh_action: spin_trylock(&global_bh_lock), call net_bh()');
    expect(s.topName(0)).toBe('bh NET_BH');
    s.run('[bh NET_BH]: n++', '[bh NET_BH]: return', 'bh_action(NET_BH) returns: spin_unlock(&global_bh_lock), tasklet_unlock');
    expect(s.runToEnd().variable('n')).toBe(1);
  });

  it('global_bh_lock: at most one BH handler runs in the whole system; two tasklets with the same code do run at once', () => {
    const body = [BUG_ON(v('busy')), inc('busy'), dec('busy')];
    const twoBhs = design({
      cpus: 2, functions: { net_bh: body, serial_bh: body, job: [] },
      irqs: [irq([mark_bh('NET_BH')], { cpus: [0] }), irq([mark_bh('SERIAL_BH')], { cpus: [1], name: 'ttyS0' })],
    });
    let both = 0;
    let busyRemark = false;
    walkReachable(twoBhs, {
      state(m, s) {
        let inBh = 0;
        for (let cpu = 0; cpu < 2; cpu++) {
          for (let d = 0; d < s[m.cpuOff(cpu) + C_DEPTH]!; d++) if (m.contextName(m.frameCtx(cpu, d)).startsWith('bh ')) inBh++;
        }
        expect(inBh).toBeLessThanOrEqual(1);
        if (inBh === 1) both++;
      },
      step(m, before, choice) {
        if (m.label(before, choice).includes('global_bh_lock is busy, mark_bh(')) busyRemark = true;
      },
    });
    expect(both).toBeGreaterThan(0);
    expect(busyRemark).toBe(true);
    expect(check(twoBhs).status).toBe('verified');
    // The same handlers as two tasklets (or on the modern kernel's softirqs) overlap.
    const asTasklets = design({
      cpus: 2, profile: 'modern', bhs: {}, tq_structs: {},
      functions: { net_bh: body, serial_bh: body },
      tasklets: { net: { func: 'net_bh' }, serial: { func: 'serial_bh' } },
      irqs: [irq([tasklet_schedule('net')], { cpus: [0] }), irq([tasklet_schedule('serial')], { cpus: [1], name: 'ttyS0' })],
    });
    expect(check(asTasklets).violation?.kind).toBe('assertion');
  });

  it('a BH re-marked in ksoftirqd is parked; releasing global_bh_lock re-raises HI on its CPU and wakes that ksoftirqd', () => {
    const d = design({
      cpus: 2, functions: { net_bh: [inc('n'), inc('n')], serial_bh: [inc('m')], job: [] },
      irqs: [irq([mark_bh('NET_BH')], { cpus: [0] })],
      tasks: [task([mark_bh('SERIAL_BH')], 1, 'tty')],
    });
    const s = new Schedule(d).run('cpu0: eth0 interrupt arrives', 'cpu0 [hardirq eth0]: mark_bh', 'cpu0 [hardirq eth0]: return', 'cpu0 [softirq]: __do_softirq: run HI', 'cpu0 [softirq HI]: tasklet_hi_action: detach', 'cpu0 [softirq HI]: tasklet_hi_action: run NET_BH');
    s.run('cpu1 [task tty]: mark_bh(SERIAL_BH)', 'cpu1 [task tty]: return', 'ksoftirqd/1 runs', 'cpu1 [ksoftirqd/1]: __do_softirq: run HI', 'cpu1 [ksoftirqd/1 HI]: tasklet_hi_action: detach');
    s.take('cpu1 [ksoftirqd/1 HI]: tasklet_hi_action: run SERIAL_BH: clear SCHED, bh_action: global_bh_lock is busy, mark_bh(SERIAL_BH) again');
    s.take('cpu1 [ksoftirqd/1]: __do_softirq: batch done');
    expect([s.cpu(1, C_PENDING), s.cpu(1, C_KSOFTIRQD)]).toEqual([0, 0]);
    s.run('cpu0 [bh NET_BH]: n++', 'cpu0 [bh NET_BH]: n++', 'cpu0 [bh NET_BH]: return', 'cpu0 [bh NET_BH]: tasklet_hi_action: bh_action(NET_BH) returns');
    expect([s.cpu(1, C_PENDING), s.cpu(1, C_KSOFTIRQD)]).toEqual([HI, 1]);
    expect(s.runToEnd().variable('m')).toBe(1);
  });

  it('B21: a BH handler returning with a lock held is a lock-leak', () => {
    const verdict = check(design({ functions: { net_bh: [spin_lock('L')], serial_bh: [], job: [] }, irqs: [irq([mark_bh('NET_BH')])] }));
    expect(verdict.violation?.kind).toBe('lock-leak');
    expect(verdict.violation?.message).toBe('BUG: bottom half NET_BH (net_bh) returned with &L held (lockdep: leaked lock at softirq HI exit)');
  });
});

describe('task queues (include/linux/tqueue.h)', () => {
  it('queue_task returns 1, then 0 while the entry is queued: the sync bit keeps it off the list twice', () => {
    const s = new Schedule(design({ tasks: [task([queue_task('tq', 'tq_disk', 'a'), queue_task('tq', 'tq_disk', 'b'), BUG_ON(ne(r('a'), 1)), BUG_ON(ne(r('b'), 0)), run_task_queue('tq_disk')])] }));
    s.run('queue_task(&tq, &tq_disk): queued, returns 1', 'queue_task(&tq, &tq_disk): already queued (sync set), returns 0');
    expect(s.runToEnd().violation()).toBeNull();
    expect(s.variable('jobs')).toBe(1);
  });

  it('run_task_queue runs the entries in queue order (FIFO), in the caller\'s context', () => {
    const d = design({ functions: { net_bh: [], serial_bh: [], job: [inc('jobs')], job2: [{ op: 'assign', var: 'n', value: v('jobs') }] }, tq_structs: { tq: { routine: 'job' }, tq2: { routine: 'job2' } }, tasks: [task([queue_task('tq', 'tq_disk'), queue_task('tq2', 'tq_disk'), run_task_queue('tq_disk')])] });
    const s = new Schedule(d).runToEnd();
    expect(s.labels.filter((l) => l.includes('call '))).toEqual(['cpu0 [task driver]: run_task_queue: tq.sync = 0, call job()', 'cpu0 [task driver]: run_task_queue: tq2.sync = 0, call job2()']);
    expect(s.variable('n')).toBe(1);
  });

  it('sync is cleared before the routine runs: a routine that requeues itself runs at the next run, not this one', () => {
    const d = design({ functions: { net_bh: [], serial_bh: [], job: [inc('jobs'), queue_task('tq', 'tq_disk', 'again')] }, tasks: [task([queue_task('tq', 'tq_disk'), run_task_queue('tq_disk'), { op: 'assign', var: 'n', value: v('jobs') }, run_task_queue('tq_disk')])] });
    const s = new Schedule(d).runToEnd();
    expect(s.labels).toContain('cpu0 [task driver]: queue_task(&tq, &tq_disk): queued, returns 1');
    expect([s.variable('n'), s.variable('jobs')]).toEqual([1, 2]);
  });

  it('tq_immediate runs from IMMEDIATE_BH, in bottom-half context, only once someone marks it', () => {
    const marked = new Schedule(design({ irqs: [irq([queue_task('tq', 'tq_immediate'), mark_bh('IMMEDIATE_BH')])] })).runToEnd();
    expect(marked.labels).toContain('cpu0 [bh IMMEDIATE_BH]: run_task_queue: tq.sync = 0, call job()');
    expect(marked.labels).toContain('cpu0 [bh IMMEDIATE_BH]: jobs++');
    const unmarked = new Schedule(design({ irqs: [irq([queue_task('tq', 'tq_immediate')])] })).runToEnd();
    expect(unmarked.variable('jobs')).toBe(0);
  });

  it('a routine on tq_immediate must not sleep: sleep-in-atomic in bottom-half context', () => {
    const verdict = check(design({ functions: { net_bh: [], serial_bh: [], job: [msleep(1)] }, irqs: [irq([queue_task('tq', 'tq_immediate'), mark_bh('IMMEDIATE_BH')])] }));
    expect(verdict.violation?.kind).toBe('sleep-in-atomic');
    expect(verdict.violation?.message).toContain('name: bh IMMEDIATE_BH');
  });

  it('tq_timer runs from TQUEUE_BH, which the tick marks while TQ_ACTIVE(tq_timer) (markBh, tqTimerActive)', () => {
    const s = new Schedule(design({ tasks: [task([queue_task('tq', 'tq_timer')])] })).take('queue_task(&tq, &tq_timer)');
    s.m.s = s.s;
    expect(tqTimerActive(s.m)).toBe(true);
    markBh(s.m, 0, TQUEUE_BH); // what the 2.4 tick does (do_timer) in a hardirq
    expect(s.cpu(0, C_PENDING)).toBe(HI);
    s.runToEnd();
    expect(s.labels).toContain('cpu0 [ksoftirqd/0 bh TQUEUE_BH]: run_task_queue(&tq_timer): splice out tq');
    s.m.s = s.s;
    expect([tqTimerActive(s.m), s.variable('jobs')]).toEqual([false, 1]);
  });

  it('TIMER_BH runs the timer mechanism\'s run_timer_list_bh under global_bh_lock', () => {
    const s = new Schedule(design({ tasks: [task([inc('n')])] }));
    s.m.s = s.s;
    markBh(s.m, 0, TIMER_BH);
    s.runToEnd();
    expect(s.violation()).toBeNull();
    expect(s.labels.some((l) => l.includes('tasklet_hi_action: run TIMER_BH: clear SCHED, bh_action: '))).toBe(true);
  });
});

describe('schedule_task and keventd (kernel/context.c)', () => {
  it('schedule_task hands the routine to keventd, which runs it in process context where it may sleep', () => {
    const d = design({ functions: { net_bh: [], serial_bh: [], job: [msleep(1), mutex_lock('M'), inc('jobs'), mutex_unlock('M')] }, irqs: [irq([schedule_task('tq', 'q')])] });
    expect(check(d).status).toBe('verified');
    const s = new Schedule(d);
    expect(status(s, 'keventd')).toBe(ContextStatus.Blocked); // idle from the start
    s.run('eth0 interrupt arrives', 'schedule_task(&tq): queued for keventd, returns 1');
    expect(status(s, 'keventd')).toBe(ContextStatus.Runnable);
    s.runToEnd();
    expect(s.labels).toContain('cpu0 [task keventd]: run_task_queue: tq.sync = 0, call job()');
    expect(s.labels.at(-1)).toBe('cpu0 [task keventd]: keventd: tq_context empty, sleeps');
  });

  it('flush_scheduled_tasks sleeps until keventd has run what was scheduled before it', () => {
    const d = design({ cpus: 2, tasks: [task([schedule_task('tq'), flush_scheduled_tasks(), BUG_ON(ne(v('jobs'), 1))], 1, 'closer')] });
    expect(check(d).status).toBe('verified');
    const s = new Schedule(d).run('schedule_task', 'flush_scheduled_tasks(): keventd has work: sleeps until it is done');
    expect(status(s, 'closer')).toBe(ContextStatus.Blocked);
    // Without the flush the check fails: the test can tell.
    expect(check(design({ cpus: 2, tasks: [task([schedule_task('tq'), BUG_ON(ne(v('jobs'), 1))], 1, 'closer')] })).violation?.kind).toBe('assertion');
  });

  it('flush_scheduled_tasks from a keventd routine waits for itself: deadlock', () => {
    const verdict = check(design({ functions: { net_bh: [], serial_bh: [], job: [flush_scheduled_tasks()] }, tasks: [task([schedule_task('tq')])] }));
    expect(verdict.violation?.kind).toBe('deadlock');
    expect(verdict.violation?.message).toMatch(/^deadlock on cpu0: task keventd waits for itself/);
  });

  it('a routine that leaves a lock held in keventd is a lock-leak', () => {
    const verdict = check(design({ functions: { net_bh: [], serial_bh: [], job: [mutex_lock('M')] }, tasks: [task([schedule_task('tq')])] }));
    expect(verdict.violation?.kind).toBe('lock-leak');
    expect(verdict.violation?.message).toContain('BUG: keventd: a task queue routine returned with a lock held');
  });

  it('ODEBUG: freeing a struct with a queued tq_struct is a use-after-free', () => {
    const verdict = check(design({ structs: { priv: { members: ['tq'] } }, tasks: [task([queue_task('tq', 'tq_disk'), { op: 'kfree', obj: 'priv' }])] }));
    expect(verdict.violation?.kind).toBe('use-after-free');
    expect(verdict.violation?.message).toContain('object type: tq_struct (tq) queued on tq_disk (sync 1)');
  });
});


describe('the bh catalogue: each fix holds for the reason it gives, not vacuously', () => {
  const named = (name: string): Design => BH_DESIGNS.find((d) => d.name === name)!;

  it('Wilcox: both CPUs mark NET_BH, the second finds it running and requeues it; parallelism 1 against NET_RX\'s 2', () => {
    const d = named('net_bh-unguarded-linux-2_4');
    expect(reachesInOrder(d, ['cpu0 [bh NET_BH]: BUG_ON', 'cpu1: eth0 interrupt arrives', 'NET_BH is running in bh NET_BH (RUN held): requeue'])).toBe(true);
    expect(check(d).stats.parallelism).toBe(1);
    expect(check(named('net_rx-softirq-unguarded')).stats.parallelism).toBe(2);
  });

  it('B8 fixed: keventd runs the routine and may really sleep in it', () => {
    expect(reachesInOrder(named('schedule_task-routine-sleeps'), ['[task keventd]: mutex_lock(&phy_mutex): held by task ethtool, sleeps'])).toBe(true);
  });

  it('B12 fixed: the flush really waits for the link-watch job', () => {
    expect(reachesInOrder(named('flush_scheduled_tasks-after-rtnl'), ['flush_scheduled_tasks(): keventd has work: sleeps', '[task keventd]: link_events++'])).toBe(true);
  });
});

describe('run_task_queue from bottom-half code', () => {
  it('runs the routines inside a tasklet function: four levels of calls (softirq → tasklet_action → func → routine)', () => {
    const d = defineDesign({
      name: 'tq-in-tasklet', cpus: 1, profile: '2.4', vars: { ran: 0 },
      tq_structs: { job: { routine: 'job_fn' } },
      tasklets: { t: { func: 't_fn' } },
      functions: { job_fn: [inc('ran')], t_fn: [run_task_queue('tq_disk')] },
      tasks: [{ name: 'x', cpu: 0, body: [queue_task('job', 'tq_disk'), tasklet_schedule('t')] }],
      invariants: [{ name: 'the routine ran', holds: eq(v('ran'), 1), when: 'at-end' }],
    });
    const verdict = check(d);
    expect(verdict.status).toBe('verified');
    expect(verdict.bounds.calls).toBe(4);
    expect(boundsText(verdict.bounds)).toBe('1 CPU, ≤4 nested callback calls, profile 2.4, preempt none');
  });

  it('a fifth level (a routine running a task queue inside a tasklet) ends its path bounded-out, naming the bound', () => {
    const d = defineDesign({
      name: 'tq-in-tq-in-tasklet', cpus: 1, profile: '2.4', vars: { ran: 0 },
      tq_structs: { outer: { routine: 'outer_fn' }, inner: { routine: 'inner_fn' } },
      tasklets: { t: { func: 't_fn' } },
      functions: { inner_fn: [inc('ran')], outer_fn: [run_task_queue('tq_immediate')], t_fn: [run_task_queue('tq_disk')] },
      tasks: [{ name: 'x', cpu: 0, body: [queue_task('inner', 'tq_immediate'), queue_task('outer', 'tq_disk'), tasklet_schedule('t')] }],
    });
    const verdict = check(d);
    expect(verdict.status).toBe('bounded-out');
    expect(verdict.boundedOut).toBe(
      'kernel model bound (≤4 nested callback calls): more than 4 nested callback calls in ksoftirqd/0 tasklet t: calls from ' +
      'kernel/softirq.c: __do_softirq → kernel: tasklet_action → function t_fn: end → kernel: tq_run → function outer_fn: end would enter kernel: tq_run; ' +
      'kdefer keeps 4 return slots per context (softirq → tasklet_action → func → a task-queue routine)');
    expect(boundsText(verdict.bounds)).toContain('≤4 nested callback calls');
    // The same outer routine run from the task itself nests only 4 deep: verified.
    const fromTask = defineDesign({ ...d, name: 'tq-in-tq-from-task', tasklets: {}, functions: { inner_fn: [inc('ran')], outer_fn: [run_task_queue('tq_immediate')] },
      tasks: [{ name: 'x', cpu: 0, body: [queue_task('inner', 'tq_immediate'), queue_task('outer', 'tq_disk'), run_task_queue('tq_disk')] }],
      invariants: [{ name: 'inner ran', holds: eq(v('ran'), 1), when: 'at-end' }] });
    expect(check(fromTask).status).toBe('verified');
    // A design without run_task_queue cannot nest that deep: its bounds do not name the bound.
    expect(check(defineDesign({ name: 'no-tq', cpus: 1, vars: { x: 0 }, tasks: [{ name: 't', cpu: 0, body: [inc('x')] }] })).bounds.calls).toBeUndefined();
  });
});
