/**
 * model/kernel/napi.ts: netif_napi_add, napi_enable, napi_schedule,
 * net_rx_action's poll with a budget, napi_complete_done, napi_disable
 * (net/core/dev.c).
 */
import { describe, expect, it } from 'vitest';
import {
  __napi_schedule, add, and, check, defineDesign, dequeue, enqueue, eq, gt, if_, inc, kfree, load, local_bh_disable, local_bh_enable, lt,
  napi_complete_done, napi_disable, napi_enable, napi_schedule, napi_schedule_irqoff, napi_schedule_prep, netif_napi_add, queue_len, r,
  request_irq, free_irq, spin_lock, spin_unlock, while_, type Design, type IrqSpec, type Stmt, type TaskSpec,
} from '../../model/index.ts';
import { Schedule } from '../helpers/schedule.ts';

/** A poll function: take at most `budget` packets off the ring; complete if the budget was not used up. */
const poll: readonly Stmt[] = [
  load('work', 0),
  while_(and(lt(r('work'), r('budget')), gt(queue_len('ring'), 0)), [dequeue('ring', 'skb'), inc('rx'), load('work', add(r('work'), 1))], { bound: 2 }),
  if_(lt(r('work'), r('budget')), [napi_complete_done('n', r('work'))]),
];
const setup: readonly Stmt[] = [netif_napi_add('n'), napi_enable('n')];
/** NAPI first, then the interrupt (a handler may run before request_irq returns). */
const probe: readonly Stmt[] = [netif_napi_add('n'), napi_enable('n'), request_irq('eth')];
const eth = (extra: Partial<IrqSpec> = {}): IrqSpec => ({ name: 'eth', cpus: [0], budget: 1, start: 'request_irq', handler: [enqueue('ring', 1), napi_schedule('n')], ...extra });
const design = (tasks: readonly TaskSpec[], extra: Partial<Design> = {}, pollFn: readonly Stmt[] = poll): Design => defineDesign({
  name: 'napi', cpus: 2, locks: { L: 'spinlock' }, vars: { rx: 0 }, queues: { ring: { capacity: 2 } },
  structs: { priv: { members: ['n', 'rx'] } },
  napis: { n: { poll: 'poll', weight: 2 } }, functions: { poll: pollFn }, tasks, irqs: [eth()],
  invariants: [{ name: 'every packet polled', holds: eq(queue_len('ring'), 0), when: 'at-end' }],
  ...extra,
});

describe('netif_napi_add and napi_enable', () => {
  it('a NAPI starts disabled: napi_schedule_prep fails until napi_enable', () => {
    const s = new Schedule(design([{ name: 'probe', cpu: 0, body: [netif_napi_add('n'), napi_schedule_prep('n', 'a'), napi_enable('n'), napi_schedule_prep('n', 'b')] }], { invariants: [] }));
    s.runToEnd(['[task probe]']);
    expect([s.taskReg('probe', 'a'), s.taskReg('probe', 'b')]).toEqual([0, 1]);
  });

  it('napi_enable of an enabled NAPI: kernel BUG (BUG_ON(!SCHED))', () => {
    expect(check(design([{ name: 'probe', cpu: 0, body: [...probe, napi_enable('n')] }])).violation?.message).toContain('napi_enable: BUG_ON');
  });

  it('netif_napi_add twice warns', () => {
    expect(check(design([{ name: 'probe', cpu: 0, body: [netif_napi_add('n'), netif_napi_add('n')] }])).violation?.message).toContain('added twice');
  });
});

describe('napi_schedule and the poll in NET_RX', () => {
  it('from the hardirq: SCHED taken, on this CPU\'s poll list, NET_RX raised and run at irq_exit', () => {
    const s = new Schedule(design([{ name: 'probe', cpu: 0, body: probe }], {}, poll));
    s.runToEnd(['[task probe]', 'eth interrupt', '[hardirq eth]']);
    expect(s.labels.some((l) => l.includes('napi_schedule(&n)') && l.includes('NET_RX'))).toBe(true);
    expect(s.labels.some((l) => l.includes('[softirq NET_RX]') || l.includes('softirq NET_RX'))).toBe(true);
    expect([s.variable('rx'), s.violation()]).toEqual([1, null]);
  });

  it('every packet queued before a schedule is polled, in every interleaving', () => {
    expect(check(design([{ name: 'probe', cpu: 0, body: probe }])).status).toBe('verified');
  });

  it('the poll gets the weight as its budget', () => {
    const s = new Schedule(design([{ name: 'probe', cpu: 0, body: probe }], { invariants: [] }, [load('b', r('budget')), napi_complete_done('n', 0)]));
    s.runToEnd(['[task probe]', 'eth interrupt', '[hardirq eth]']);
    expect(s.labels.some((l) => l.includes('b = budget'))).toBe(true);
  });

  it('a second napi_schedule while scheduled sets MISSED, and napi_complete_done then reschedules instead of completing', () => {
    const s = new Schedule(design([{ name: 'probe', cpu: 0, body: [...setup, local_bh_disable(), napi_schedule('n', 'a'), napi_schedule('n', 'b'), local_bh_enable()] }], { irqs: [], invariants: [] }, [napi_complete_done('n', 0, 'done')]));
    s.runToEnd(['[task probe]']);
    expect([s.taskReg('probe', 'a'), s.taskReg('probe', 'b')]).toEqual([1, 0]);
    expect(s.labels.some((l) => l.includes('already scheduled') && l.includes('MISSED set'))).toBe(true);
    expect(s.labels.some((l) => l.includes('→ false: MISSED: rescheduled on cpu0'))).toBe(true);
  });

  it('__napi_schedule from a task with BH on raises NET_RX and wakes nobody: a lost softirq (B15)', () => {
    const v1 = check(design([{ name: 'probe', cpu: 0, body: [...setup, enqueue('ring', 1), napi_schedule('n')] }], { irqs: [] }));
    expect(v1.violation?.kind).toBe('lost-softirq');
    expect(check(design([{ name: 'probe', cpu: 0, body: [...setup, enqueue('ring', 1), local_bh_disable(), napi_schedule('n'), local_bh_enable()] }], { irqs: [] })).status).toBe('verified');
  });

  it('napi_schedule_irqoff with irqs on: lockdep_assert_irqs_disabled', () => {
    expect(check(design([{ name: 'probe', cpu: 0, body: [...setup, local_bh_disable(), napi_schedule_irqoff('n'), local_bh_enable()] }], { irqs: [] })).violation?.message).toContain('lockdep_assert_irqs_disabled()');
  });

  it('__napi_schedule without owning SCHED is not napi_schedule: the design must call napi_schedule_prep first', () => {
    const body = [...setup, local_bh_disable(), if_(napi_schedule_prep('n'), [__napi_schedule('n')]), local_bh_enable()];
    expect(check(design([{ name: 'probe', cpu: 0, body: [...body] }], { irqs: [], invariants: [] }, [napi_complete_done('n', 0)])).status).toBe('verified');
  });

  it('a poll that returns more than its budget: "exceeding its budget"', () => {
    const v1 = check(design([{ name: 'probe', cpu: 0, body: probe }], { invariants: [] }, [load('work', 3)]));
    expect(v1.violation?.message).toContain('exceeding its budget of 2');
  });

  it('a poll that completes, is rescheduled, and returns its whole budget: "Budget exhausted after napi rescheduled" (B30)', () => {
    const v1 = check(design([{ name: 'probe', cpu: 0, body: probe }], { invariants: [] }, [napi_complete_done('n', 0), napi_schedule('n'), load('work', r('budget'))]));
    expect(v1.violation?.message).toContain('Budget exhausted after napi rescheduled');
  });

  it('napi_complete_done on a NAPI not scheduled warns', () => {
    expect(check(design([{ name: 'probe', cpu: 0, body: [...setup, napi_complete_done('n', 0)] }], { irqs: [] })).violation?.message).toContain('WARN_ON_ONCE(!(val & NAPIF_STATE_SCHED))');
  });

  it('the poll runs in softirq context: sleeping there is sleep-in-atomic; a spinlock the task holds with BH on deadlocks', () => {
    const v1 = check(design([{ name: 'probe', cpu: 0, body: [...probe, spin_lock('L'), spin_unlock('L')] }], { irqs: [eth()], invariants: [] }, [spin_lock('L'), spin_unlock('L'), napi_complete_done('n', 0)]));
    expect(v1.violation?.kind).toBe('deadlock');
  });
});

describe('napi_disable', () => {
  it('sleeps until a running poll has completed, then owns SCHED: no poll runs after it', () => {
    const d = design([{ name: 'probe', cpu: 0, body: probe }, { name: 'remove', cpu: 1, after: 'probe', body: [free_irq('eth'), napi_disable('n'), kfree('priv')] }], { invariants: [] });
    expect(check(d).status).toBe('verified');
  });

  it('freeing the NAPI without napi_disable: net_rx_action polls freed memory (B29)', () => {
    const d = design([{ name: 'probe', cpu: 0, body: probe }, { name: 'remove', cpu: 1, after: 'probe', body: [free_irq('eth'), kfree('priv')] }], { invariants: [] });
    expect(check(d).violation?.kind).toBe('use-after-free');
  });

  it('napi_disable sleeps: under a spinlock it sleeps in atomic context', () => {
    expect(check(design([{ name: 'probe', cpu: 0, body: [...setup, spin_lock('L'), napi_disable('n'), spin_unlock('L')] }], { irqs: [] })).violation?.kind).toBe('sleep-in-atomic');
  });

  it('a second napi_disable waits for ever (B31)', () => {
    const v1 = check(design([{ name: 'probe', cpu: 0, body: [...setup, napi_disable('n'), napi_disable('n')] }], { irqs: [] }));
    expect(v1.violation?.kind).toBe('hung-task');
  });

  it('after napi_disable a napi_schedule_prep fails (DISABLE/NPSVC held)', () => {
    const s = new Schedule(design([{ name: 'probe', cpu: 0, body: [...setup, napi_disable('n'), napi_schedule_prep('n', 'a')] }], { irqs: [] }));
    s.runToEnd();
    expect(s.taskReg('probe', 'a')).toBe(0);
  });
});
