/**
 * model/kernel/workqueue.ts: work items and their PENDING bit, queueing
 * (queue_work, queue_work_on, schedule_work and their return values), the
 * kworkers and their pools, non-reentrancy, max_active and ordered
 * workqueues, flush_work, cancel_work(_sync), delayed work,
 * flush/drain/destroy_workqueue, and the leak check at work exit
 * (kernel/workqueue.c; shared/kernel-semantics.md §6). One test per rule.
 */
import { describe, expect, it } from 'vitest';
import {
  assign, boundsText, BUG_ON, cancel_delayed_work, cancel_delayed_work_sync, cancel_work, cancel_work_sync, check, compile, dec,
  defineDesign, DesignError, destroy_workqueue, drain_workqueue, eq, flush_delayed_work, flush_scheduled_work, flush_work,
  flush_workqueue, gt, if_, inc, kfree, local_bh_disable, local_bh_enable, local_irq_disable, mod_delayed_work,
  msleep, mutex_lock, mutex_unlock, queue_delayed_work, queue_work, queue_work_on, r, schedule_delayed_work, schedule_work,
  schedule_work_on, spin_lock, spin_unlock, v, wait_for_completion, complete_all, while_, type Design, type Stmt,
} from '../../model/index.ts';
import { C_BH, C_IRQS_OFF, C_PREEMPT, ContextStatus, T_CHANNEL, X_STATUS } from '../../model/kernel/layout.ts';
import { Chan, channel } from '../../model/kernel/scheduler.ts';
import { workView, type WorkView } from '../../model/kernel/workqueue.ts';
import { WORKQUEUE_DESIGNS } from '../../model/designs/workqueue/index.ts';
import { walkReachable, reachesInOrder } from '../helpers/reachable.ts';
import { Schedule } from '../helpers/schedule.ts';

const task = (name: string, cpu: number, body: readonly Stmt[]) => ({ name, cpu, body });

/** Work w (w_fn counts runs) on workqueue wq (bound) and the given tasks; extra fields override. */
const design = (tasks: Design['tasks'], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'workqueue-rule',
  cpus: 2,
  vars: { runs: 0, x: 0 },
  workqueues: { wq: {} },
  works: { w: { func: 'w_fn' } },
  functions: { w_fn: [inc('runs')] },
  tasks,
  ...extra,
});

const view = (s: Schedule, name = 'w'): WorkView => {
  s.m.s = s.s;
  return workView(s.m, name);
};
const taskIndex = (s: Schedule, name: string): number => s.p.tasks.findIndex((t) => t.name === name);
const status = (s: Schedule, name: string): number => s.s[s.m.ctxOff(taskIndex(s, name)) + X_STATUS]!;
/** Asleep idle in worker_thread. */
const idle = (s: Schedule, name: string): boolean =>
  status(s, name) === ContextStatus.Blocked && s.s[s.m.ctxOff(taskIndex(s, name)) + T_CHANNEL] === channel(Chan.Worker, taskIndex(s, name));


describe('kworkers and pools', () => {
  it('a design with works gets two kworkers per CPU pool and two unbound ones, all asleep idle at the start', () => {
    const p = compile(design([task('a', 0, [])]));
    expect(p.tasks.map((t) => `${t.name}@${t.cpu}`)).toEqual([
      'a@0', 'kworker/0:0@0', 'kworker/0:1@0', 'kworker/1:0@1', 'kworker/1:1@1', 'kworker/u4:0@0', 'kworker/u4:1@1',
    ]);
    const s = new Schedule(design([task('a', 0, [])]));
    for (const k of ['kworker/0:0', 'kworker/0:1', 'kworker/1:0', 'kworker/1:1', 'kworker/u4:0', 'kworker/u4:1']) expect(idle(s, k)).toBe(true);
    // cpu0's only runnable task starts at once, as without kworkers.
    expect(s.topName(0)).toBe('task a');
  });

  it('a pool gets a kworker for each work item that may be queued to it, two at least (kick_pool finds one whenever its running ones all sleep)', () => {
    const three = design([task('a', 0, [schedule_work('w'), schedule_work('w2'), queue_work_on(1, 'wq', 'w3'), queue_work('uwq', 'w3')])], {
      workqueues: { wq: {}, uwq: { flags: ['UNBOUND'] } },
      works: { w: { func: 'w_fn' }, w2: { func: 'w_fn' }, w3: { func: 'w_fn' } },
    });
    // cpu0's pool may get w and w2; cpu1's w, w2 and w3 (queue_work_on(1)); the unbound pool w3.
    expect(compile(three).tasks.map((t) => t.name)).toEqual([
      'a', 'kworker/0:0', 'kworker/0:1', 'kworker/1:0', 'kworker/1:1', 'kworker/1:2', 'kworker/u4:0', 'kworker/u4:1',
    ]);
  });

  it('three items that each wait for the last one all run: the pool grows to a third kworker (wq-third-worker)', () => {
    const d = design([task('probe', 0, [schedule_work('w'), schedule_work('w2'), schedule_work('w3')])], {
      cpus: 1, completions: { go: {} },
      works: { w: { func: 'waits' }, w2: { func: 'waits' }, w3: { func: 'frees' } },
      functions: { waits: [wait_for_completion('go'), inc('runs')], frees: [complete_all('go')] },
      invariants: [{ name: 'both waiters ran', holds: eq(v('runs'), 2), when: 'at-end' }],
    });
    const s = new Schedule(d).run('schedule_work(&w)', 'schedule_work(&w2)', 'schedule_work(&w3)', '[task probe]: return');
    s.run('schedule() → task kworker/0:0', 'process_one_work(&w)', '[task kworker/0:0]: wait_for_completion(&go)');
    s.take('wq_worker_sleeping: kworker/0:0 off the CPU with work pending on cpu0\'s pool: kick_pool wakes kworker/0:1');
    s.run('schedule() → task kworker/0:1', 'process_one_work(&w2)', '[task kworker/0:1]: wait_for_completion(&go)');
    s.take('wq_worker_sleeping: kworker/0:0, kworker/0:1 off the CPU with work pending on cpu0\'s pool: kick_pool wakes kworker/0:2');
    s.run('schedule() → task kworker/0:2', '[task kworker/0:2]: worker_thread: process_one_work(&w3): frees()');
    expect(check(d).status).toBe('verified');
  });

  it('a design without works has no kworker, so its state space is unchanged', () => {
    const withoutWorks = design([task('a', 0, [inc('x')])], { works: {}, workqueues: {}, functions: {} });
    expect(compile(withoutWorks).tasks.map((t) => t.name)).toEqual(['a']);
    expect(check(withoutWorks).stats.states).toBe(check(defineDesign({ name: 'plain', cpus: 2, vars: { x: 0 }, tasks: [task('a', 0, [inc('x')])] })).stats.states);
  });

  it('idle kworkers keep nothing from ending: a design that queues nothing is verified', () => {
    const v = check(design([task('a', 0, [inc('x')])]));
    expect(v.status).toBe('verified');
  });

  it('the system workqueues exist without a declaration; redeclaring one is a design error', () => {
    expect(compile(design([task('a', 0, [schedule_work('w')])])).objects['workqueue']!.map((o) => o.name))
      .toEqual(['system_wq', 'system_long_wq', 'system_unbound_wq', 'wq']);
    expect(() => compile(design([task('a', 0, [])], { workqueues: { system_wq: {} } }))).toThrow(/shadows a kernel one/);
  });

  it('declarations are validated: flags, max_active, an ordered queue\'s max_active, a work\'s func', () => {
    const idle = [task('idle', 0, [])];
    expect(() => compile(design(idle, { workqueues: { wq: { flags: ['BH' as never] } } }))).toThrow(/unknown flag "BH"/);
    expect(() => compile(design(idle, { workqueues: { wq: { max_active: 513 } } }))).toThrow(/max_active/);
    expect(() => compile(design(idle, { workqueues: { wq: { flags: ['ORDERED'], max_active: 2 } } }))).toThrow(/ordered workqueue .* max_active 1/);
    expect(() => compile(design(idle, { works: { w: {} as never } }))).toThrow(/declare a work item as/);
    expect(() => compile(design(idle, { works: { w: { func: 'nope' } } }))).toThrow(DesignError);
    expect(() => compile(design(idle, { works: { w: { func: 'w_fn', delay: true } as never } }))).toThrow(/unknown key 'delay' \(did you mean 'delayed'\?\)/);
    expect(compile(design(idle, { workqueues: { wq: { flags: ['HIGHPRI', 'MEM_RECLAIM'] } } })).objects['workqueue']![3]!.attrs['maxActive']).toBe(256);
  });

  it('work queues do not exist in the 2.4 profile (they appeared in 2.5.41)', () => {
    expect(() => compile(design([task('a', 0, [schedule_work('w')])], { profile: '2.4' }))).toThrow(/schedule_work\(\): work queues appeared in 2\.5\.41/);
    expect(() => compile(design([task('a', 0, [flush_workqueue('wq')])], { profile: '2.4' }))).toThrow(DesignError);
  });
});

describe('wqModel per-wq-threads (before cmwq, 2.6.36)', () => {
  const keventd = (extra: Partial<Design>) => design([], { cpus: 2, flags: { wqModel: 'per-wq-threads' }, ...extra });

  it('every workqueue has its own thread per CPU, keventd\'s events/N for system_wq', () => {
    expect(compile(keventd({ tasks: [task('idle', 0, [])] })).tasks.map((t) => `${t.name}@${t.cpu}`)).toEqual([
      'idle@0', 'events/0@0', 'events/1@1', 'events_long/0@0', 'events_long/1@1', 'events_unbound/0@0', 'events_unbound/1@1', 'wq/0@0', 'wq/1@1',
    ]);
    const s = new Schedule(keventd({ tasks: [task('a', 1, [queue_work('wq', 'w'), schedule_work('w2')])], works: { w: { func: 'w_fn' }, w2: { func: 'w_fn' } } }));
    s.run("queue_work(wq, &w) → true: queued on wq/1's queue, wakes wq/1", "schedule_work(&w2) → true: queued on events/1's queue, wakes events/1");
    expect(view(s).pool).toBe('wq/1');
  });

  it('one thread runs a queue in order: an item that sleeps holds up the next one (no second worker)', () => {
    const d = keventd({
      cpus: 1, tasks: [task('a', 0, [schedule_work('w'), schedule_work('w2')])],
      works: { w: { func: 'sleepy_fn' }, w2: { func: 'w_fn' } }, functions: { sleepy_fn: [msleep(1), inc('x')], w_fn: [BUG_ON(eq(v('x'), 0))] },
    });
    expect(check(d).status).toBe('verified');
    expect(check({ ...d, flags: {} }).violation?.kind).toBe('assertion');
  });

  it('no non-reentrancy: queued on another CPU while it runs, it runs there at once', () => {
    const d = keventd({
      tasks: [task('a', 0, [queue_work_on(0, 'wq', 'w')]), task('b', 1, [queue_work_on(1, 'wq', 'w')])],
      functions: { w_fn: [inc('runs'), BUG_ON(gt(v('runs'), 1)), dec('runs')] },
    });
    const verdict = check(d);
    expect(verdict.violation?.kind).toBe('assertion');
    expect(verdict.violation?.trace.some((l) => l.includes("queue_work_on(1, wq, &w) → true: queued on wq/1's queue"))).toBe(true);
    expect(check({ ...d, flags: {} }).status).toBe('verified');
  });

  it('no max_active: an ordered workqueue is a single thread (cpu0\'s)', () => {
    const s = new Schedule(keventd({ workqueues: { wq: { flags: ['ORDERED'] } }, tasks: [task('a', 1, [queue_work('wq', 'w'), queue_work('wq', 'w2')])], works: { w: { func: 'w_fn' }, w2: { func: 'w_fn' } } }));
    s.run("queue_work(wq, &w) → true: queued on wq/0's queue", "queue_work(wq, &w2) → true: queued on wq/0's queue");
  });
});

describe('queueing: queue_work_on (test_and_set PENDING, then __queue_work)', () => {
  it('queue_work sets PENDING, queues on the local CPU\'s pool, wakes its first idle kworker and returns true', () => {
    const s = new Schedule(design([task('a', 1, [queue_work('wq', 'w', 'ret')])])).take('queue_work(wq, &w) → true');
    expect(view(s)).toMatchObject({ pending: true, queued: 'worklist', pool: 'cpu1', rank: 1, runningOn: [] });
    expect(s.taskReg('a', 'ret')).toBe(1);
    expect(status(s, 'kworker/1:0')).toBe(ContextStatus.Runnable);
    expect(idle(s, 'kworker/1:1')).toBe(true);
    expect(s.labels[0]).toBe("cpu1 [task a]: queue_work(wq, &w) → true: queued on cpu1's pool, wakes kworker/1:0");
  });

  it('queueing a pending work returns false and changes nothing but the caller (W3)', () => {
    const s = new Schedule(design([task('a', 0, [queue_work('wq', 'w'), queue_work('wq', 'w', 'again')])])).take('queue_work');
    const before = view(s);
    s.take("queue_work(wq, &w) → false: already pending (queued on cpu0's pool)");
    expect(s.taskReg('a', 'again')).toBe(0);
    expect(view(s)).toEqual(before);
  });

  it('queue_work_on(cpu) queues on that CPU\'s pool, whatever CPU queues', () => {
    const s = new Schedule(design([task('a', 0, [queue_work_on(1, 'wq', 'w', 'ret')])])).take('queue_work_on(1, wq, &w) → true');
    expect(view(s).pool).toBe('cpu1');
    expect(s.taskReg('a', 'ret')).toBe(1);
    s.run('[task a]: return', 'cpu1: schedule() → task kworker/1:0', 'cpu1 [task kworker/1:0]: worker_thread: process_one_work(&w): w_fn()');
  });

  it('schedule_work and schedule_work_on queue on system_wq', () => {
    const s = new Schedule(design([task('a', 0, [schedule_work('w'), cancel_work('w'), schedule_work_on(1, 'w')])]));
    s.take('schedule_work(&w) → true: queued on cpu0\'s pool');
    s.take('cancel_work(&w) → true');
    s.take('schedule_work_on(1, &w) → true: queued on cpu1\'s pool');
    s.m.s = s.s;
    expect(s.s[s.m.objOff('work', 0, 10) + 1]! - 1).toBe(s.p.objects['workqueue']!.findIndex((o) => o.name === 'system_wq'));
  });

  it('an UNBOUND or ORDERED workqueue queues on the unbound pool, run by kworker/uN:M', () => {
    const s = new Schedule(design([task('a', 1, [queue_work('wq', 'w')])], { workqueues: { wq: { flags: ['UNBOUND'] } } }));
    s.take('queue_work(wq, &w) → true: queued on the unbound pool, wakes kworker/u4:0');
    expect(view(s).pool).toBe('unbound');
    s.run('[task a]: return', 'cpu0: schedule() → task kworker/u4:0', 'process_one_work(&w)');
    // Unbound kworkers are not pinned: the one woken on cpu0 may be moved to cpu1 and run the item there.
    const d = design([task('a', 0, [queue_work('wq', 'w'), msleep(1)])], { workqueues: { wq: { flags: ['UNBOUND'] } } });
    expect(reachesInOrder(d, ['queue_work(wq, &w) → true', 'load balancing moves task kworker/u4:0 to cpu1', 'cpu1 [task kworker/u4:0]: worker_thread: process_one_work(&w)'])).toBe(true);
    expect(reachesInOrder(design([task('a', 0, [schedule_work('w'), msleep(1)])]), ['load balancing moves task kworker/0:0'])).toBe(false);
  });

  it('queueing from a hardirq is allowed', () => {
    const s = new Schedule(design([], { irqs: [{ name: 'eth0', cpus: [0], handler: [schedule_work('w')] }] }));
    s.run('eth0 interrupt arrives', '[hardirq eth0]: schedule_work(&w) → true', '[hardirq eth0]: return', 'cpu0: schedule() → task kworker/0:0', 'process_one_work(&w)');
    expect(s.violation()).toBeNull();
  });
});

describe('the kworker (worker_thread, process_one_work)', () => {
  it('PENDING is cleared before the function runs, in process context with irqs and bh on and preempt_count 0', () => {
    const s = new Schedule(design([task('a', 0, [schedule_work('w')])]));
    s.run('schedule_work', '[task a]: return', 'schedule() → task kworker/0:0', 'process_one_work(&w): w_fn()');
    expect(view(s)).toMatchObject({ pending: false, queued: null, pool: 'cpu0', runningOn: ['kworker/0:0'] });
    expect([s.cpu(0, C_IRQS_OFF), s.cpu(0, C_BH), s.cpu(0, C_PREEMPT)]).toEqual([0, 0, 0]);
    expect(s.topName(0)).toBe('task kworker/0:0');
  });

  it('a work function may sleep: msleep and a contended mutex in a work item are verified', () => {
    const d = design([task('a', 0, [mutex_lock('M'), schedule_work('w'), msleep(1), mutex_unlock('M')])], {
      locks: { M: 'mutex' }, functions: { w_fn: [msleep(1), mutex_lock('M'), inc('runs'), mutex_unlock('M')] },
    });
    expect(check(d).status).toBe('verified');
    expect(reachesInOrder(d, ['[task kworker/0:0]: mutex_lock(&M): held by task a, sleeps'])).toBe(true);
  });

  it('after the function returns the kworker takes the next item, or sleeps idle when the worklist is empty', () => {
    const d = design([task('a', 0, [schedule_work('w'), schedule_work('w2')])], {
      works: { w: { func: 'w_fn' }, w2: { func: 'w_fn' } },
    });
    const s = new Schedule(d).run('schedule_work(&w)', 'schedule_work(&w2)', '[task a]: return', 'schedule() → task kworker/0:0', 'process_one_work(&w)', 'runs++');
    s.take('[task kworker/0:0]: return');
    s.take('worker_thread: w_fn() returned; process_one_work(&w2): w_fn()');
    s.run('runs++', '[task kworker/0:0]: return', 'worker_thread: w_fn() returned; sleeps idle');
    expect(idle(s, 'kworker/0:0')).toBe(true);
    expect(s.enabledLabels()).toEqual([]);
  });

  it('concurrency management: a second kworker runs the pool\'s pending item only once the running one sleeps (wq_worker_sleeping)', () => {
    const d = design([task('a', 1, [schedule_work_on(0, 'w'), schedule_work_on(0, 'w2')])], {
      works: { w: { func: 'sleepy_fn' }, w2: { func: 'w_fn' } },
      functions: { w_fn: [inc('runs')], sleepy_fn: [inc('x'), msleep(1), inc('x')] },
    });
    expect(check(d).status).toBe('verified');
    expect(reachesInOrder(d, ['[task kworker/0:0]: msleep(1)', 'wq_worker_sleeping: kworker/0:0 off the CPU with work pending on cpu0\'s pool: kick_pool wakes kworker/0:1', '[task kworker/0:1]: worker_thread: process_one_work(&w2)'])).toBe(true);
    // kworker/0:1 starts w2 only while kworker/0:0 is inside sleepy_fn and off the CPU (asleep, or woken
    // and not yet back on it: wq_worker_running counts it again only when it runs).
    let starts = 0;
    walkReachable(d, {
      step(m, before, choice) {
        if (!m.label(before, choice).includes('[task kworker/0:1]: worker_thread: process_one_work(&w2)')) return;
        starts++;
        const k0 = m.p.tasks.findIndex((t) => t.name === 'kworker/0:0');
        expect(before[m.ctxOff(k0) + X_STATUS]).not.toBe(ContextStatus.Running);
        m.s = before;
        expect(workView(m, 'w').runningOn).toEqual(['kworker/0:0']);
      },
    });
    expect(starts).toBeGreaterThan(0);
    // Before 6.5 (no CPU-hog kick) an item that never sleeps keeps the second kworker asleep.
    const noSleep = design([task('a', 1, [schedule_work_on(0, 'w'), schedule_work_on(0, 'w2')])], { profile: '6.1', works: { w: { func: 'w_fn' }, w2: { func: 'w_fn' } } });
    expect(reachesInOrder(noSleep, ['kworker/0:1'])).toBe(false);
  });

  it('an item already running on a kworker of the pool goes to that kworker\'s scheduled list (find_worker_executing_work)', () => {
    const d = design([task('a', 1, [schedule_work_on(0, 'w'), schedule_work_on(0, 'w2'), schedule_work_on(0, 'w')])], {
      works: { w: { func: 'sleepy_fn' }, w2: { func: 'sleepy_fn' } },
      functions: { sleepy_fn: [msleep(1), inc('runs')] },
    });
    expect(reachesInOrder(d, [
      'kworker/0:0]: worker_thread: process_one_work(&w)', 'kworker/0:0]: msleep', 'kick_pool wakes kworker/0:1',
      'kworker/0:1]: worker_thread: process_one_work(&w2)', 'schedule_work_on(0, &w) → true', 'kworker/0:1]: msleep',
      'kick_pool wakes kworker/0:1', // never: kworker/0:1 is busy, nobody is left to wake
    ])).toBe(false);
    expect(reachesInOrder(d, [
      'kworker/0:0]: worker_thread: process_one_work(&w)', 'schedule_work_on(0, &w) → true', 'kworker/0:1]: worker_thread: &w runs on kworker/0:0: moved to its scheduled list',
    ])).toBe(true);
    expect(check(d).status).toBe('verified');
  });
});

describe('non-reentrancy (W1, 3.7+)', () => {
  const twoCpus = (wq2: string) => design([
    task('a', 0, [queue_work_on(0, 'wq', 'w')]),
    task('b', 1, [queue_work_on(1, wq2, 'w', 'ret')]),
  ], { workqueues: { wq: {}, wq2: {} }, functions: { w_fn: [inc('runs'), BUG_ON(gt(v('runs'), 1)), dec('runs')] } });

  it('queued on the same workqueue while it runs elsewhere, it goes to the pool where it runs', () => {
    const s = new Schedule(twoCpus('wq')).run('queue_work_on(0, wq, &w)', '[task a]: return', 'schedule() → task kworker/0:0', 'process_one_work(&w)');
    s.take("queue_work_on(1, wq, &w) → true: queued on cpu0's pool, where kworker/0:0 still runs it (non-reentrancy)");
    expect(view(s)).toMatchObject({ pending: true, pool: 'cpu0', runningOn: ['kworker/0:0'] });
    expect(check(twoCpus('wq')).status).toBe('verified');
  });

  it('queued on another workqueue while it runs, it runs twice in parallel (the W1 counter-example)', () => {
    const s = new Schedule(twoCpus('wq2')).run('queue_work_on(0, wq, &w)', '[task a]: return', 'schedule() → task kworker/0:0', 'process_one_work(&w)');
    s.take("queue_work_on(1, wq2, &w) → true: queued on cpu1's pool, wakes kworker/1:0");
    s.run('[task b]: return', 'schedule() → task kworker/1:0', '[task kworker/1:0]: worker_thread: process_one_work(&w)');
    expect(view(s).runningOn).toEqual(['kworker/0:0', 'kworker/1:0']);
    const verdict = check(twoCpus('wq2'));
    expect(verdict.violation?.kind).toBe('assertion');
    expect(verdict.violation?.message).toContain('BUG_ON(runs > 1)');
  });
});

describe('max_active and ordered workqueues', () => {
  const ordered = (flags: Partial<Design>) => design([task('a', 0, [queue_work('owq', 'w'), queue_work('owq', 'w2'), queue_work('owq', 'w3')])], {
    workqueues: { owq: { flags: ['ORDERED'] } },
    works: { w: { func: 'first' }, w2: { func: 'second' }, w3: { func: 'third' } },
    functions: { first: [msleep(1), BUG_ON(v('x'))], second: [BUG_ON(v('x')), inc('x')], third: [BUG_ON(eq(v('x'), 0))] },
    ...flags,
  });

  it('at max_active the item goes to the inactive list, and is activated when an active one returns', () => {
    const s = new Schedule(ordered({})).run('queue_work(owq, &w) → true: queued on the unbound pool');
    s.take('queue_work(owq, &w2) → true: inactive on owq (max_active 1 reached)');
    expect(view(s, 'w2')).toMatchObject({ pending: true, queued: 'inactive', pool: 'unbound', rank: 1 });
    s.take('queue_work(owq, &w3) → true: inactive');
    expect(view(s, 'w3').rank).toBe(2);
    s.run('[task a]: return', 'schedule() → task kworker/u4:0', 'process_one_work(&w): first()', 'msleep', 'timeout of task kworker/u4:0 expires', 'schedule() → task kworker/u4:0', 'msleep', 'BUG_ON(x)', '[task kworker/u4:0]: return');
    s.take('worker_thread: first() returned; process_one_work(&w2): second()');
    expect(view(s, 'w3')).toMatchObject({ queued: 'inactive', rank: 1 });
  });

  it('an ordered workqueue runs one item at a time, in queue order, in every schedule', () => {
    expect(check(ordered({})).status).toBe('verified');
    // With max_active 3 on an unbound queue the second item may overtake the sleeping first one.
    const v = check(ordered({ workqueues: { owq: { flags: ['UNBOUND'], max_active: 3 } } }));
    expect(v.violation?.kind).toBe('assertion');
  });
});

describe('flush_work (start_flush_work, insert_wq_barrier)', () => {
  it('on an idle work it returns false at once', () => {
    const s = new Schedule(design([task('a', 0, [flush_work('w', 'ret')])])).take('flush_work(&w) → false: idle');
    expect(s.taskReg('a', 'ret')).toBe(0);
  });

  it('on a queued work it sleeps until the barrier linked behind it has run, then returns true', () => {
    const s = new Schedule(design([task('a', 0, [schedule_work('w'), flush_work('w', 'ret')])]));
    s.run('schedule_work', "flush_work(&w): sleeps until &w (queued on cpu0's pool) has run", 'schedule() → task kworker/0:0', 'process_one_work(&w)', 'runs++', '[task kworker/0:0]: return');
    expect(status(s, 'a')).toBe(ContextStatus.Blocked);
    s.take('worker_thread: w_fn() returned; wq_barrier_func wakes a; sleeps idle');
    s.run('schedule() → task a', 'flush_work(&w) → true: the barrier ran');
    expect([s.taskReg('a', 'ret'), s.variable('runs')]).toEqual([1, 1]);
  });

  it('on a running work it sleeps until that instance returns', () => {
    const d = design([task('a', 0, [schedule_work_on(1, 'w'), flush_work('w', 'ret')])], { functions: { w_fn: [inc('runs'), inc('x')] } });
    expect(reachesInOrder(d, ['process_one_work(&w)', 'runs++', 'flush_work(&w): sleeps until w_fn() returns on kworker/1:0', 'x++', 'w_fn() returned; wq_barrier_func wakes a', 'flush_work(&w) → true'])).toBe(true);
    expect(reachesInOrder(d, ['flush_work(&w): sleeps until w_fn() returns on kworker/1:0', 'flush_work(&w) → true', 'x++'])).toBe(false);
  });

  it('waits only for the instance queued before the call: a requeue during the flush is not waited for', () => {
    const d = design([task('a', 1, [schedule_work_on(0, 'w'), flush_work('w'), BUG_ON(eq(v('runs'), 0))])], {
      functions: { w_fn: [inc('runs'), if_(eq(v('runs'), 1), [schedule_work('w')])] },
    });
    expect(check(d).status).toBe('verified');
    // The requeued instance starts as the first returns (the same kworker step that runs the barrier), and
    // the flush returns while it runs.
    expect(reachesInOrder(d, ['flush_work(&w): sleeps', 'schedule_work(&w) → true', 'wq_barrier_func wakes a; process_one_work(&w)', 'flush_work(&w) → true', '[task kworker/0:0]: runs++'])).toBe(true);
  });

  it('might_sleep first: in atomic context it is a sleep-in-atomic violation even on an idle work (B13)', () => {
    const v = check(design([task('a', 0, [local_bh_disable(), flush_work('w'), local_bh_enable()])]));
    expect(v.violation?.kind).toBe('sleep-in-atomic');
    expect(v.violation?.message).toMatch(/^BUG: sleeping function called from invalid context/);
  });

  it('a flush under the mutex the work takes deadlocks with the cycle task → kworker → task (B11)', () => {
    const v = check(WORKQUEUE_DESIGNS.find((d) => d.name === 'flush_work-under-mutex')!);
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation?.cycle?.map((c) => c.context)).toEqual(['task reset', 'task kworker/1:0']);
    expect(v.violation?.message).toMatch(/^deadlock across cpu0\/cpu1: task reset → task kworker\/1:0 → task reset \(circular wait\)/);
    expect(v.violation?.message).toContain("flush_work(&priv->link_work) sleeps until &priv->link_work's running instance on kworker/1:0 returns from link_work_fn()");
    expect(v.violation?.message).toContain('kworker/1:0: mutex_lock(&dev->mutex) sleeps: held by task reset');
  });

  it('a work flushing itself waits for itself (B12)', () => {
    const v = check(WORKQUEUE_DESIGNS.find((d) => d.name === 'work-flushes-itself')!);
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation?.cycle?.map((c) => c.context)).toEqual(['task kworker/0:0']);
    expect(v.violation?.message).toMatch(/^deadlock on cpu0: task kworker\/0:0 waits for itself/);
  });

  it('flush_delayed_work queues an armed item at once and waits for it', () => {
    const d = design([task('a', 0, [queue_delayed_work('wq', 'dw', 5), flush_delayed_work('dw', 'ret'), BUG_ON(eq(v('runs'), 0))])], {
      cpus: 1, works: { dw: { func: 'w_fn', delayed: true } },
    });
    const s = new Schedule(d).run('queue_delayed_work(wq, &dw, 5) → true: timer armed on cpu0');
    s.take("flush_delayed_work(&dw) (timer deactivated, queued on cpu0's pool, wakes kworker/0:0): sleeps until &dw");
    expect(check(d).status).toBe('verified');
  });
});

describe('cancelling (try_to_grab_pending, __cancel_work_timer, __cancel_work)', () => {
  it('cancel_work_sync takes a queued item off its queue: it never runs, and it returns true', () => {
    const s = new Schedule(design([task('a', 0, [schedule_work('w'), cancel_work_sync('w', 'ret')])]));
    s.run('schedule_work', 'cancel_work_sync(&w) → true: neither pending nor running now');
    expect(view(s)).toMatchObject({ pending: false, queued: null, pool: null, canceling: false });
    expect(s.taskReg('a', 'ret')).toBe(1);
    s.runToEnd();
    expect(s.variable('runs')).toBe(0);
  });

  it('cancel_work_sync waits for a running instance, and meanwhile queueing returns false (CANCELING)', () => {
    const d = design([
      task('a', 0, [schedule_work_on(1, 'w')]),
      task('b', 1, [msleep(1), cancel_work_sync('w')]),
      task('c', 0, [msleep(1), schedule_work('w', 'ret'), if_(r('ret'), [inc('x')])]),
    ], { functions: { w_fn: [msleep(1), inc('runs')] } });
    expect(reachesInOrder(d, ['kworker/1:0]: worker_thread: process_one_work(&w)', 'cancel_work_sync(&w): PENDING grabbed, CANCELING; sleeps until w_fn() returns on kworker/1:0',
      'schedule_work(&w) → false: already pending (being cancelled by b)', 'wq_barrier_func wakes b', 'cancel_work_sync(&w) → false'])).toBe(true);
    // c's queueing succeeds only outside the cancel: before it grabbed PENDING, or after it returned.
    expect(reachesInOrder(d, ['cancel_work_sync(&w): PENDING grabbed', '[task c]: schedule_work(&w) → true', 'cancel_work_sync(&w) → '])).toBe(false);
    // When it returns, w is neither pending nor running.
    walkReachable(d, {
      step(m, before, choice, after) {
        if (!m.label(before, choice).includes('cancel_work_sync(&w) → ')) return;
        m.s = after;
        expect(workView(m, 'w')).toMatchObject({ pending: false, canceling: false, runningOn: [] });
      },
    });
  });

  it('a second canceller sleeps until the first is done (-ENOENT, cancel_waitq)', () => {
    const d = design([
      task('a', 0, [schedule_work('w')]),
      task('b', 1, [cancel_work_sync('w')]),
      task('c', 1, [cancel_work_sync('w')]),
    ], { functions: { w_fn: [msleep(1), inc('runs')] } });
    expect(reachesInOrder(d, ['process_one_work(&w)', '[task b]: cancel_work_sync(&w): PENDING grabbed', '[task c]: cancel_work_sync(&w): b is cancelling it (CANCELING), sleeps', '[task c]: cancel_work_sync(&w) → false'])).toBe(true);
    expect(check(d).status).toBe('verified');
  });

  it('cancel_work does not wait for a running instance, and works from a hardirq', () => {
    const d = design([task('a', 0, [schedule_work('w')])], {
      cpus: 1, functions: { w_fn: [msleep(1), inc('runs')] },
      irqs: [{ name: 'eth0', handler: [cancel_work('w', 'ret')] }],
    });
    expect(reachesInOrder(d, ['process_one_work(&w)', 'eth0 interrupt arrives', '[hardirq eth0]: cancel_work(&w) → false: was not pending; w_fn() may still be running'])).toBe(true);
    expect(reachesInOrder(d, ['schedule_work', 'eth0 interrupt arrives', '[hardirq eth0]: cancel_work(&w) → true: no longer pending'])).toBe(true);
    expect(check(d).status).toBe('verified');
  });

  it('a work cancelling itself with cancel_work_sync waits for itself (B12)', () => {
    const v = check(design([task('a', 0, [schedule_work('w')])], { cpus: 1, functions: { w_fn: [cancel_work_sync('w')] } }));
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation?.message).toContain('waits for itself');
  });
});

describe('delayed work', () => {
  const delayed = (tasks: Design['tasks'], extra: Partial<Design> = {}) =>
    design(tasks, { cpus: 1, works: { dw: { func: 'w_fn', delayed: true } }, ...extra });

  it('queue_delayed_work arms the timer: pending, not queued; its expiry queues the item on the arming CPU', () => {
    const s = new Schedule(delayed([task('a', 0, [queue_delayed_work('wq', 'dw', 3, 'ret')])])).take('queue_delayed_work(wq, &dw, 3) → true: timer armed on cpu0 (3 jiffies)');
    expect(view(s, 'dw')).toMatchObject({ pending: true, queued: 'timer' });
    s.take("cpu0: delayed_work_timer_fn(&dw): the delay expires, __queue_work: queued on cpu0's pool, wakes kworker/0:0");
    expect(view(s, 'dw')).toMatchObject({ pending: true, queued: 'worklist', pool: 'cpu0' });
  });

  it('a delay of 0 queues at once; a pending delayed work is not re-armed (false)', () => {
    const s = new Schedule(delayed([task('a', 0, [schedule_delayed_work('dw', 0), schedule_delayed_work('dw', 2, 'ret')])]));
    s.take("schedule_delayed_work(&dw, 0) → true: queued on cpu0's pool");
    s.take('schedule_delayed_work(&dw, 2) → false: already pending');
    expect(s.taskReg('a', 'ret')).toBe(0);
  });

  it('cancel_delayed_work deactivates the timer and returns true; cancel_delayed_work_sync too', () => {
    const s = new Schedule(delayed([task('a', 0, [schedule_delayed_work('dw', 2), cancel_delayed_work('dw', 'ret'), schedule_delayed_work('dw', 2), cancel_delayed_work_sync('dw', 'ret2')])]));
    s.run('schedule_delayed_work', 'cancel_delayed_work(&dw) → true: no longer pending', 'schedule_delayed_work(&dw, 2) → true', 'cancel_delayed_work_sync(&dw) → true');
    expect(view(s, 'dw')).toMatchObject({ pending: false, queued: null });
    expect(s.can('delayed_work_timer_fn')).toBe(false);
  });

  it('mod_delayed_work steals the item (timer or queue) and re-arms it, returning whether it was pending', () => {
    const s = new Schedule(delayed([task('a', 0, [mod_delayed_work('wq', 'dw', 2, 'r1'), mod_delayed_work('wq', 'dw', 0, 'r2'), mod_delayed_work('wq', 'dw', 4, 'r3')])]));
    s.run('mod_delayed_work(wq, &dw, 2) → false: timer armed', "mod_delayed_work(wq, &dw, 0) → true: queued on cpu0's pool", 'mod_delayed_work(wq, &dw, 4) → true: timer armed');
    expect([s.taskReg('a', 'r1'), s.taskReg('a', 'r2'), s.taskReg('a', 'r3')]).toEqual([0, 1, 1]);
    expect(view(s, 'dw').queued).toBe('timer');
  });

  it('the delayed API on a plain work_struct is a design error', () => {
    expect(() => check(design([task('a', 0, [queue_delayed_work('wq', 'w', 1)])]))).toThrow(/not a delayed_work/);
  });
});

describe('flush_workqueue, drain_workqueue, destroy_workqueue', () => {
  it('flush_workqueue waits for every item queued before the call, not for later ones', () => {
    const d = design([
      task('a', 0, [queue_work('wq', 'w'), queue_work('wq', 'w2'), flush_workqueue('wq'), BUG_ON(gt(2, v('runs')))]),
      task('b', 1, [msleep(1), queue_work('wq', 'w3')]),
    ], { works: { w: { func: 'w_fn' }, w2: { func: 'w_fn' }, w3: { func: 'w_fn' } } });
    expect(check(d).status).toBe('verified');
    expect(reachesInOrder(d, ['flush_workqueue(wq): sleeps until &w, &w2 have run', 'queue_work(wq, &w3) → true', 'flush_workqueue(wq): everything queued before it has run', 'process_one_work(&w3)'])).toBe(true);
  });

  it('a work flushing its own workqueue waits for itself (B12); flush_scheduled_work flushes system_wq', () => {
    const v = check(design([task('a', 0, [queue_work('wq', 'w')])], { cpus: 1, functions: { w_fn: [flush_workqueue('wq')] } }));
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation?.message).toContain('a work flushing its own workqueue');
    const sched = new Schedule(design([task('a', 0, [schedule_work('w'), flush_scheduled_work()])])).run('schedule_work', 'flush_scheduled_work(): sleeps until &w has run');
    expect(status(sched, 'a')).toBe(ContextStatus.Blocked);
  });

  it('while a workqueue drains, only its own items may queue on it (WARN_ON_ONCE(!is_chained_work))', () => {
    const outside = design([task('a', 0, [queue_work('wq', 'w'), drain_workqueue('wq')]), task('b', 1, [msleep(1), queue_work('wq', 'w2')])], {
      works: { w: { func: 'w_fn' }, w2: { func: 'w_fn' } }, functions: { w_fn: [msleep(1), inc('runs')] },
    });
    const verdict = check(outside);
    expect(verdict.violation?.kind).toBe('assertion');
    expect(verdict.violation?.message).toContain('WARN_ON_ONCE(!is_chained_work(wq))');
    const chained = design([task('a', 0, [queue_work('wq', 'w'), drain_workqueue('wq'), BUG_ON(gt(2, v('runs')))])], {
      works: { w: { func: 'chain_fn' }, w2: { func: 'w_fn' } }, functions: { chain_fn: [inc('runs'), queue_work('wq', 'w2')], w_fn: [inc('runs')] },
    });
    expect(check(chained).status).toBe('verified');
  });

  it('destroy_workqueue drains, then frees: queueing on it afterwards is a use-after-free', () => {
    const d = design([task('a', 0, [queue_work('wq', 'w'), destroy_workqueue('wq'), BUG_ON(eq(v('runs'), 0)), queue_work('wq', 'w')])]);
    const verdict = check(d);
    expect(verdict.violation?.kind).toBe('use-after-free');
    expect(verdict.violation?.message).toBe('BUG: KASAN: slab-use-after-free in __queue_work: &w is queued on workqueue wq after destroy_workqueue(wq) freed it');
  });
});

describe('leaks at work exit (B21, process_one_work)', () => {
  const leaky = (fn: readonly Stmt[]) => check(design([task('a', 0, [schedule_work('w')])], { cpus: 1, locks: { M: 'mutex', L: 'spinlock' }, functions: { w_fn: fn } }));

  it('a lock still held: "BUG: workqueue leaked lock or atomic" naming the lock', () => {
    const v = leaky([mutex_lock('M')]);
    expect(v.violation?.kind).toBe('lock-leak');
    expect(v.violation?.message).toBe('BUG: workqueue leaked lock or atomic: kworker/0:0/0x00000000\n     last function: w_fn\n1 lock held by kworker/0:0: &M');
  });

  it('preempt_count raised: the same report with the count', () => {
    const v = leaky([spin_lock('L')]);
    expect(v.violation?.message).toMatch(/^BUG: workqueue leaked lock or atomic: kworker\/0:0\/0x00000001\n/);
    expect(leaky([local_bh_disable()]).violation?.message).toMatch(/^BUG: workqueue leaked lock or atomic: kworker\/0:0\/0x00000200\n/);
  });

  it('irqs left disabled', () => {
    const v = leaky([local_irq_disable()]);
    expect(v.violation?.kind).toBe('lock-leak');
    expect(v.violation?.message).toMatch(/^BUG: workqueue leaked irqs disabled: kworker\/0:0/);
  });

  it('a balanced function is fine', () => {
    expect(leaky([mutex_lock('M'), spin_lock('L'), spin_unlock('L'), mutex_unlock('M')]).status).toBe('verified');
  });
});

describe('object lifetime of work items', () => {
  const withStruct = (body: readonly Stmt[], fn: readonly Stmt[] = [inc('runs')]) => design([task('a', 0, body)], {
    cpus: 1, vars: { runs: 0, x: 0 }, structs: { priv: { members: ['w', 'runs'] } }, functions: { w_fn: fn },
  });

  it('kfree of a struct with its work queued is ODEBUG\'s "free active"', () => {
    const v = check(withStruct([schedule_work('w'), kfree('priv')]));
    expect(v.violation?.kind).toBe('use-after-free');
    expect(v.violation?.message).toContain("ODEBUG: free active (active state 0) object type: work_struct (w) (queued on cpu0's pool)");
  });

  it('a work function may free the struct its work_struct lives in (not active once it runs)', () => {
    const v = check(design([task('a', 0, [schedule_work('w')])], {
      cpus: 1, vars: { runs: 0 }, completions: { done: {} }, structs: { priv: { members: ['w'] } }, functions: { w_fn: [inc('runs'), kfree('priv')] },
    }));
    expect(v.status).toBe('verified');
  });

  it('a freed work\'s function still running is KASAN\'s use-after-free (B10: cancel_work does not wait)', () => {
    const d = withStruct([schedule_work('w'), msleep(1), cancel_work('w'), kfree('priv')], [msleep(1), inc('runs')]);
    const v = check(d);
    expect(v.violation?.kind).toBe('use-after-free');
    expect(v.violation?.message).toMatch(/^BUG: KASAN: slab-use-after-free in function w_fn\[1\]: task kworker\/0:0/);
    const fixed = withStruct([schedule_work('w'), msleep(1), cancel_work_sync('w'), kfree('priv')], [msleep(1), inc('runs')]);
    expect(check(fixed).status).toBe('verified');
  });
});

describe('the catalogue\'s workqueue designs', () => {
  it('every fix works for the reason it gives', () => {
    const named = (n: string) => WORKQUEUE_DESIGNS.find((d) => d.name === n)!;
    // B11 fixed: the work still takes dev->mutex while reset waits for it.
    expect(reachesInOrder(named('flush_work-after-mutex_unlock'), ['[task reset]: flush_work(&priv->link_work): sleeps', '[task kworker/1:0]: mutex_lock(&dev->mutex)', 'wq_barrier_func wakes reset'])).toBe(true);
    // B12 ordered fixed: the configuration item runs while the load item waits for it.
    expect(reachesInOrder(named('unbound-wq-item-waits-for-later-item'), ['flush_work(&config_work): sleeps', '[task kworker/u4:1]: worker_thread: process_one_work(&config_work)'])).toBe(true);
    // W1 fixed: the second queueing lands on cpu0's pool while the item runs there.
    expect(reachesInOrder(named('work-requeued-on-its-workqueue'), ['process_one_work(&rescan_work)', "queue_work_on(1, scan_wq, &rescan_work) → true: queued on cpu0's pool, where kworker/0:0 still runs it (non-reentrancy)"])).toBe(true);
    // B10 fixed: cancel_work_sync waits while rx_fn runs.
    expect(reachesInOrder(named('cancel_work_sync-then-kfree'), ['process_one_work(&priv->rx_work)', 'cancel_work_sync(&priv->rx_work): PENDING grabbed, CANCELING; sleeps until rx_fn() returns'])).toBe(true);
    // The work item version of the tq job sleeps on phy_mutex in the kworker.
    expect(reachesInOrder(named('tq-job-as-work-item'), ['[task ethtool]: mutex_lock(&phy_mutex)', 'eth0 interrupt arrives', '[task kworker/1:0]: mutex_lock(&phy_mutex): held by task ethtool, sleeps'])).toBe(true);
  });

  it('the buggy ones fail where their description says', () => {
    const named = (n: string) => check(WORKQUEUE_DESIGNS.find((d) => d.name === n)!);
    const ordered = named('ordered-wq-item-waits-for-later-item');
    expect(ordered.violation?.message).toContain('flush_work(&config_work) sleeps until &config_work, inactive on fw_wq, has run');
    expect(ordered.violation?.cycle?.map((c) => c.context)).toEqual(['task kworker/u4:0']);
    const destroy = named('destroy_workqueue-with-delayed-work-armed');
    expect(destroy.violation?.trace.at(-1)).toContain('delayed_work_timer_fn(&poll_work)');
    expect(destroy.violation?.trace.findIndex((l) => l.includes('destroy_workqueue(poll_wq): drained and freed'))).toBeGreaterThanOrEqual(0);
    const cancel = named('cancel_work-then-kfree');
    expect(cancel.violation?.message).toMatch(/KASAN: slab-use-after-free in function rx_fn/);
    const leak = named('work-returns-with-mutex-held');
    expect(leak.violation?.message).toContain('1 lock held by kworker/0:0: &stats_mutex');
    const tq = named('tq-job-in-tq_immediate');
    expect(tq.violation?.message).toContain('BUG: sleeping function called from invalid context');
  });

  it('keeps every exhaustive state space small', () => {
    // The max_active pair needs 3 CPUs and two callers (a free CPU for the kworker between a caller's two queue_work calls).
    const larger: Readonly<Record<string, number>> = { 'unbound-wq-second-caller-exhausts-max_active': 2_000, 'dependent-item-on-its-own-workqueue': 12_000 };
    for (const d of WORKQUEUE_DESIGNS) expect(check(d).stats.states, d.name).toBeLessThan(larger[d.name] ?? 1000);
  });
});

describe('waits become wait-for edges', () => {
  it('a flusher waiting behind a busy pool points at the busy kworkers', () => {
    // Both active items of wq (max_active 2) are blocked on the flusher's mutex: the third stays inactive.
    const d = design([
      task('a', 0, [mutex_lock('M'), queue_work('wq', 'w'), queue_work('wq', 'w2'), queue_work('wq', 'w3'), flush_work('w3'), mutex_unlock('M')]),
    ], {
      cpus: 1, locks: { M: 'mutex' }, workqueues: { wq: { max_active: 2 } },
      works: { w: { func: 'locked_fn' }, w2: { func: 'locked_fn' }, w3: { func: 'w_fn' } },
      functions: { locked_fn: [mutex_lock('M'), mutex_unlock('M')], w_fn: [inc('runs')] },
    });
    const v = check(d);
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation?.message).toContain('flush_work(&w3) sleeps until &w3, inactive on wq, has run (a barrier is linked behind it); ahead of it: kworker/0:0, kworker/0:1');
    // On a workqueue without that limit the pool gets a third kworker for w3 (kick_pool): the flush returns.
    const grows = { ...d, name: 'three-items-grow', workqueues: {} };
    const body = [mutex_lock('M'), schedule_work('w'), schedule_work('w2'), schedule_work('w3'), flush_work('w3'), mutex_unlock('M')];
    expect(check({ ...grows, tasks: [task('a', 0, body)] }).status).toBe('verified');
  });
});

describe('memory pressure: kworker creation may fail, rescuers (maybe_create_worker, send_mayday, rescuer_thread)', () => {
  /** a and b sleep until c completes go; a, b on `wq`, c on `wqc`; one CPU, memory pressure. */
  const pressure = (wq: string, wqc: string, extra: Partial<Design> = {}): Design => design([task('probe', 0, [queue_work(wq, 'a'), queue_work(wq, 'b'), queue_work(wqc, 'c')])], {
    cpus: 1, options: { memoryPressure: true }, completions: { go: {} },
    workqueues: { io_wq: { flags: ['MEM_RECLAIM'] }, io2_wq: { flags: ['MEM_RECLAIM'] } },
    works: { a: { func: 'waits' }, b: { func: 'waits' }, c: { func: 'frees' } },
    functions: { waits: [wait_for_completion('go'), inc('runs')], frees: [complete_all('go')] },
    ...extra,
  });

  it('a pool in use keeps two idle kworkers; the rest are slots create_worker may fill; each WQ_MEM_RECLAIM workqueue has a rescuer named after it', () => {
    const p = compile(pressure('system_wq', 'system_wq'));
    expect(p.tasks.map((t) => `${t.name}${t.uncreated ? ' (not created)' : ''}`)).toEqual([
      'probe', 'kworker/0:0', 'kworker/0:1', 'kworker/0:2 (not created)', 'kworker/0:3 (not created)', 'kworker/u2:0', 'kworker/u2:1', 'io_wq', 'io2_wq',
    ]);
    // Without memory pressure no creation can fail and no mayday is ever sent: no slots, no rescuers.
    expect(compile({ ...pressure('system_wq', 'system_wq'), options: {} }).tasks.map((t) => t.name)).toEqual([
      'probe', 'kworker/0:0', 'kworker/0:1', 'kworker/0:2', 'kworker/u2:0', 'kworker/u2:1',
    ]);
    expect(boundsText(check(pressure('io_wq', 'io2_wq')).bounds)).toBe('1 CPU, profile modern (6.12+), preempt none, memory pressure');
    expect(() => compile({ ...pressure('io_wq', 'io2_wq'), options: { memoryPressure: 'yes' as never } })).toThrow(/options\.memoryPressure: must be true or false/);
  });

  it('a kworker that would leave no idle one creates one first; if that fails the pool stalls, and items without a rescuer never run', () => {
    const s = new Schedule(pressure('system_wq', 'system_wq')).run('queue_work(system_wq, &a)', 'queue_work(system_wq, &b)', 'queue_work(system_wq, &c)', '[task probe]: return');
    s.run('schedule() → task kworker/0:0', 'process_one_work(&a)', '[task kworker/0:0]: wait_for_completion(&go)', 'kick_pool wakes kworker/0:1', 'schedule() → task kworker/0:1');
    expect(s.enabledLabels()).toEqual([
      'cpu0 [task kworker/0:1]: worker_thread: manage_workers: create_worker() makes kworker/0:2; process_one_work(&b): waits()',
      'cpu0 [task kworker/0:1]: worker_thread: manage_workers: create_worker() fails (memory pressure); kworker/0:1 retries in maybe_create_worker, the mayday timer armed',
      'cpu0 [task kworker/0:1]: worker_thread: manage_workers: create_worker() fails for now (memory pressure; a retry may succeed); kworker/0:1 retries in maybe_create_worker, the mayday timer armed',
    ]);
    const v = check(pressure('system_wq', 'system_wq'));
    expect(v.violation?.kind).toBe('hung-task');
    expect(v.violation?.message).toContain("task kworker/0:1: BUG: workqueue lockup: maybe_create_worker() cannot create a kworker (memory pressure) while cpu0's pool has work pending (&b (system_wq), &c (system_wq)) that no rescuer takes");
  });

  it('a failure may be for now: a later retry succeeds (memory was freed), also after the rescuer has run, and the item it left runs', () => {
    const d = pressure('io_wq', 'system_wq');
    const s = new Schedule(d).run('queue_work(io_wq, &a)', 'queue_work(io_wq, &b)', 'queue_work(system_wq, &c)', '[task probe]: return');
    s.run('schedule() → task kworker/0:0', 'process_one_work(&a)', '[task kworker/0:0]: wait_for_completion(&go)', 'kick_pool wakes kworker/0:1', 'schedule() → task kworker/0:1');
    expect(s.enabledLabels()).toEqual([
      'cpu0 [task kworker/0:1]: worker_thread: manage_workers: create_worker() makes kworker/0:2; process_one_work(&b): waits()',
      'cpu0 [task kworker/0:1]: worker_thread: manage_workers: create_worker() fails (memory pressure); kworker/0:1 retries in maybe_create_worker, the mayday timer armed',
      'cpu0 [task kworker/0:1]: worker_thread: manage_workers: create_worker() fails for now (memory pressure; a retry may succeed); kworker/0:1 retries in maybe_create_worker, the mayday timer armed',
    ]);
    // Only a failure for good leaves c, on a workqueue with no rescuer, for ever: a workqueue lockup.
    expect(check(d).violation?.kind).toBe('hung-task');
    // Failing a while, the rescuer running b meanwhile, then succeeding: c runs and frees everyone.
    expect(reachesInOrder(d, [
      'create_worker() fails for now',
      "[task io_wq]: rescuer_thread: mayday from cpu0's pool: takes &b",
      'maybe_create_worker: kworker/0:1 retries and create_worker() makes kworker/0:2 (memory was freed); it returns',
      'process_one_work(&c)',
      '[task kworker/0:0]: runs++',
    ])).toBe(true);
    // A rescuer woken by a mayday that finds none of its items on the worklist (they all run)
    // detaches at once: it re-maydays only after running rescued items (rescuer_thread).
    expect(reachesInOrder(pressure('io_wq', 'io2_wq'), ['create_worker() fails for now', 'schedule() → task io_wq', "rescuer_thread: mayday from cpu0's pool: takes nothing; detaches"])).toBe(true);
    expect(check(pressure('io_wq', 'io2_wq')).status).toBe('verified');
    // After a success later creations may fail again.
    expect(reachesInOrder(d, ['create_worker() fails for now', 'retries and create_worker() makes kworker/0:2', 'create_worker() fails'])).toBe(true);
  });

  it('when creation succeeds every time the pool grows as without pressure: some schedule runs all three items', () => {
    expect(reachesInOrder(pressure('system_wq', 'system_wq'), ['create_worker() makes kworker/0:2; process_one_work(&b)', 'create_worker() makes kworker/0:3; process_one_work(&c)', '[task kworker/0:2]: return'])).toBe(true);
  });

  it('the mayday wakes the rescuer, which takes its workqueue\'s items and runs them one after another: c behind b is never reached (rescuer serialisation)', () => {
    const v = check(pressure('io_wq', 'io_wq'));
    expect(v.violation?.kind).toBe('hung-task');
    expect(v.violation?.trace).toContain("cpu0: pool_mayday_timeout: cpu0's pool still cannot create a kworker: send_mayday wakes the rescuer of io_wq");
    expect(v.violation?.trace).toContain("cpu0 [task io_wq]: rescuer_thread: mayday from cpu0's pool: takes &b, &c; process_one_work(&b): waits()");
    // Once the rescuer has taken them, need_to_create_worker() is false: the manager returns.
    expect(v.violation?.trace).toContain("cpu0: maybe_create_worker: kworker/0:1 finds no more need to create a kworker on cpu0's pool and returns");
  });

  it('c on a second WQ_MEM_RECLAIM workqueue has its own rescuer: verified within every outcome of create_worker', () => {
    const d = pressure('io_wq', 'io2_wq', { invariants: [{ name: 'a and b ran', holds: eq(v('runs'), 2), when: 'at-end' }] });
    expect(check(d).status).toBe('verified');
    expect(reachesInOrder(d, ['create_worker() fails', 'send_mayday wakes the rescuer of io2_wq', '[task io2_wq]: rescuer_thread: mayday from cpu0\'s pool: takes &c'])).toBe(true);
  });

  it('a rescuer of a bound pool moves to the pool\'s CPU to run its items (worker_attach_to_pool)', () => {
    const d = pressure('io_wq', 'io2_wq', { cpus: 2, tasks: [task('probe', 1, [queue_work('io_wq', 'a'), queue_work('io_wq', 'b'), queue_work('io2_wq', 'c')])] });
    expect(reachesInOrder(d, ['[task io2_wq]: rescuer_thread: mayday from cpu1\'s pool: takes &c; moves to cpu1', 'cpu1 [task io2_wq]: rescuer_thread: process_one_work(&c)'])).toBe(true);
    expect(check(d).status).toBe('verified');
  });
});

describe('wq_worker_tick (≥6.5, flags.wqCpuHog): a kworker hogging the CPU is marked CPU_INTENSIVE and its pool kicked', () => {
  // a busy-waits for flag, which b sets; both on cpu0's pool; CONFIG_PREEMPT lets b's kworker get the CPU.
  // The probe queues both from cpu1, so only kworkers run on cpu0 (none is preempted by another task and left out of nr_running).
  const hog = (profile: '6.6' | '6.1'): Design => design([task('probe', 1, [schedule_work_on(0, 'w'), schedule_work_on(0, 'w2')])], {
    profile, options: { preempt: 'full' }, vars: { flag: 0, spins: 0, runs: 0 },
    works: { w: { func: 'spin' }, w2: { func: 'setter' } },
    functions: { spin: [while_(eq(v('flag'), 0), [inc('spins')], { bound: 2 }), inc('runs')], setter: [assign('flag', 1)] },
  });

  it('since 6.5 the second item runs beside the spinning one, which then sees the flag', () => {
    expect(reachesInOrder(hog('6.6'), [
      'wq_worker_tick: kworker/0:0 has run spin() past wq_cpu_intensive_thresh_us without sleeping: CPU_INTENSIVE, kick_pool wakes kworker/0:1',
      '[task kworker/0:1]: worker_thread: process_one_work(&w2): setter()',
      '[task kworker/0:0]: runs++',
    ])).toBe(true);
  });

  it('before 6.5 nothing kicks the pool while the first item runs: the second starts only after it', () => {
    expect(reachesInOrder(hog('6.1'), ['process_one_work(&w2)', '[task kworker/0:0]: runs++'])).toBe(false);
    expect(reachesInOrder(hog('6.1'), ['wq_worker_tick'])).toBe(false);
  });
});

describe('HIGHPRI workqueues use each CPU\'s highpri pool (cpu_worker_pools[1], `kworker/N:iH`)', () => {
  const d = design([task('probe', 1, [queue_work_on(0, 'wq', 'w'), queue_work_on(0, 'hp', 'w2')])], {
    profile: '6.1', options: { preempt: 'full' },
    workqueues: { wq: {}, hp: { flags: ['HIGHPRI'] } },
    works: { w: { func: 'busy' }, w2: { func: 'w_fn' } },
    functions: { busy: [inc('x'), inc('x'), inc('x')], w_fn: [inc('runs')] },
  });

  it('its items run on the highpri pool\'s kworkers, counted apart: one starts while a normal item runs and never sleeps', () => {
    expect(compile(d).tasks.map((t) => t.name)).toContain('kworker/0:0H');
    expect(reachesInOrder(d, ['[task kworker/0:0]: worker_thread: process_one_work(&w)', '[task kworker/0:0H]: worker_thread: process_one_work(&w2)', '[task kworker/0:0]: x++'])).toBe(true);
    const s = new Schedule(d).take("queue_work_on(0, wq, &w) → true: queued on cpu0's pool, wakes kworker/0:0");
    s.take("queue_work_on(0, hp, &w2) → true: queued on cpu0's highpri pool, wakes kworker/0:0H");
    expect(view(s, 'w2').pool).toBe('cpu0H');
  });
});
