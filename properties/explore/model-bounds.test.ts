/**
 * No silent bounds: every place where the kernel model itself bounds the
 * kernel is either exact within the design's bounds, or ends the path as
 * bounded-out with a message naming the bound (never a plain `verified`,
 * never an internal error), in every explorer. Here: nested callback calls
 * (bounded-out) and ksoftirqd parking a tasklet (exact while it lasts,
 * bounded-out where it never ends). Elsewhere: read recursion of rwlocks
 * (exact for any lock and depth) in properties/kernel/spinlock.test.ts;
 * kworkers per pool (exact: a pool grows to one per work item) and memory
 * pressure in properties/kernel/workqueue.test.ts; the state cap (exact
 * count, then bounded-out) in explore.test.ts; design loop bounds in
 * explore.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  __raise_softirq_irqoff, boundsText, check, compile, cond_resched, defineDesign, eq, inc, local_irq_disable, local_irq_enable,
  queue_task, raise_softirq, replay, run_task_queue, spin_lock, spin_unlock, tasklet_disable_nosync, tasklet_enable,
  Machine, tasklet_schedule, v, wait_event, wake_up, type Design,
} from '../../model/index.ts';
import { H_BOUND_HIT } from '../../model/kernel/layout.ts';

const hogMessage = (detail: string): string =>
  `kernel model bound (ksoftirqd requeue loop of a disabled tasklet): ${detail}; ` +
  "the kernel's run never ends there (T6, a CPU hog); kdefer parks the tasklet instead of following the loop, so it proves nothing past that point";

describe('nested callback calls (MAX_CALLS): a fifth nested call ends the path bounded-out in every explorer', () => {
  const deep = defineDesign({
    name: 'tq-in-tq-in-tasklet', cpus: 1, profile: '2.4', vars: { ran: 0 },
    tq_structs: { outer: { routine: 'outer_fn' }, inner: { routine: 'inner_fn' } },
    tasklets: { t: { func: 't_fn' } },
    functions: { inner_fn: [inc('ran')], outer_fn: [run_task_queue('tq_immediate')], t_fn: [run_task_queue('tq_disk')] },
    tasks: [{ name: 'x', cpu: 0, body: [queue_task('inner', 'tq_immediate'), queue_task('outer', 'tq_disk'), tasklet_schedule('t')] }],
  });

  it('exhaustive and random: bounded-out, the message naming the bound, distinct from the state cap', () => {
    for (const explorer of ['exhaustive', 'random'] as const) {
      const verdict = check(deep, { explorer, seed: 1, runs: 50 });
      expect(verdict.status).toBe('bounded-out');
      expect(verdict.boundedOut).toMatch(/^kernel model bound \(≤4 nested callback calls\): more than 4 nested callback calls in .*tasklet t: /);
      expect(verdict.boundedOut).not.toContain('state limit');
    }
  });

  it('replay of a schedule reaching it reports the same bound', () => {
    const p = compile(deep);
    const m = new Machine(p);
    let s = m.initial();
    const choices: number[] = [];
    while (s[H_BOUND_HIT] === 0) {
      const en = m.enabled(s);
      expect(en.length).toBeGreaterThan(0);
      choices.push(en[0]!);
      s = m.step(s, en[0]!);
    }
    expect(replay(p, choices).boundedOut).toBe(check(deep).boundedOut);
  });
});

describe('ksoftirqd parking a disabled tasklet (tasklet.ts): exact while it lasts, bounded-out where it never ends', () => {
  /** t is disabled, scheduled, then parked by ksoftirqd; `after` runs once it is parked. */
  const parked = (after: Design['tasks'][number]['body'], extra: Partial<Design> = {}): Design => defineDesign({
    name: 'parked-tasklet', cpus: 1, vars: { ran: 0, rx: 0 },
    functions: { t_fn: [inc('ran')] },
    tasklets: { t: { func: 't_fn' } },
    softirqs: { NET_RX: [inc('rx')] },
    tasks: [{ name: 'driver', cpu: 0, body: [tasklet_disable_nosync('t'), tasklet_schedule('t'), cond_resched(), ...after] }],
    ...extra,
  });

  it('a tasklet left disabled for good: bounded-out naming the tasklet and the CPU hog (T6), never verified', () => {
    for (const explorer of ['exhaustive', 'random'] as const) {
      const verdict = check(parked([]), { explorer, seed: 3, runs: 50 });
      expect(verdict.status).toBe('bounded-out');
      expect(verdict.boundedOut).toBe(hogMessage(
        'tasklet t is scheduled on cpu0 but disabled (count 1) when everything else is done: ksoftirqd/0 requeues it and re-raises TASKLET for ever, and t never runs'));
    }
  });

  it('enabled again later: nothing is bounded, the tasklet runs', () => {
    const verdict = check(parked([tasklet_enable('t')], { invariants: [{ name: 't ran', holds: eq(v('ran'), 1), when: 'at-end' }] }));
    expect(verdict.status).toBe('verified');
  });

  it('the busy ksoftirqd runs what else is raised on its CPU: a wakeup-less raise is not a lost softirq while a tasklet is parked', () => {
    // __raise_softirq_irqoff from a task wakes nobody (B15); here ksoftirqd is spinning on t anyway.
    const body = [local_irq_disable(), __raise_softirq_irqoff('NET_RX'), local_irq_enable()];
    const verdict = check(parked(body, { invariants: [{ name: 'NET_RX ran', holds: eq(v('rx'), 1), when: 'at-end' }] }));
    expect(verdict.status).toBe('bounded-out');
    expect(verdict.boundedOut).toContain('tasklet t is scheduled on cpu0 but disabled (count 1)');
    // Without the parked tasklet it is the lost softirq it is.
    const lost = check(defineDesign({ ...parked([]), name: 'lost-net-rx', tasklets: {}, functions: {}, tasks: [{ name: 'driver', cpu: 0, body }] }));
    expect(lost.violation?.kind).toBe('lost-softirq');
  });

  it('4.9–6.4 deferral (ksoftirqd_running): a parked tasklet keeps TASKLET pending, so irq_exit still runs NET_RX inline (SOFTIRQ_NOW_MASK)', () => {
    // ksoftirqd runs t (disabled: parked) and u, which wakes the driver; the driver wakes ksoftirqd
    // again (raise_softirq from a task) and holds L; eth0's NET_RX takes L.
    const design = (disabled: boolean): Design => defineDesign({
      name: disabled ? 'parked-4x' : 'unparked-4x', cpus: 1, profile: '4.x-prequeue', locks: { L: 'spinlock' },
      vars: { ran: 0, rx: 0, woke: 0 }, waitqueues: { wq: {} },
      functions: { t_fn: [inc('ran')], u_fn: [inc('woke'), wake_up('wq')] },
      tasklets: { t: { func: 't_fn' }, u: { func: 'u_fn' } },
      softirqs: { NET_RX: [spin_lock('L'), inc('rx'), spin_unlock('L')], NET_TX: [] },
      irqs: [{ name: 'eth0', handler: [raise_softirq('NET_RX')] }],
      tasks: [{
        name: 'driver', cpu: 0,
        body: [
          ...(disabled ? [tasklet_disable_nosync('t')] : []), tasklet_schedule('t'), tasklet_schedule('u'), wait_event('wq', eq(v('woke'), 1)),
          raise_softirq('NET_TX'), spin_lock('L'), inc('rx'), spin_unlock('L'), ...(disabled ? [tasklet_enable('t')] : []),
        ],
      }],
    });
    const deadlock = check(design(true));
    expect(deadlock.violation?.kind).toBe('deadlock');
    const trace = deadlock.violation!.trace.join('\n');
    expect(trace).toContain('[ksoftirqd/0 TASKLET]: tasklet_action: t is disabled (count 1): requeue (parked until that changes)');
    expect(trace).toContain('cpu0 [softirq NET_RX]: spin_lock(&L): &L is busy, spins');
    // Without the parked tasklet, ksoftirqd_running() defers NET_RX to ksoftirqd while the driver holds L.
    expect(check(design(false)).status).toBe('verified');
  });

  it('the bounds line of a verdict lists no parking bound: it binds only where a run never ends', () => {
    expect(boundsText(check(parked([tasklet_enable('t')])).bounds)).toBe('1 CPU, profile modern (6.12+), preempt none');
  });
});
