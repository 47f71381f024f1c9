/**
 * model/kernel/workqueue.ts, disabling (6.10+, 86898fa6b8cd "workqueue:
 * Implement disable/enable for (delayed) work items"): disable_work(_sync),
 * disable_delayed_work(_sync), enable_work, enable_delayed_work.
 */
import { describe, expect, it } from 'vitest';
import {
  cancel_work_sync, check, defineDesign, disable_delayed_work_sync, disable_work, disable_work_sync, enable_delayed_work, enable_work, free_irq, inc,
  kfree, mutex_lock, mutex_unlock, queue_delayed_work, schedule_work, schedule_work_on, spin_lock, spin_unlock, type Design, type IrqSpec, type Stmt,
} from '../../model/index.ts';
import { Schedule } from '../helpers/schedule.ts';

const design = (body: readonly Stmt[], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'disable-work', cpus: 2, locks: { M: 'mutex', L: 'spinlock' }, vars: { 'p->n': 0 }, structs: { p: { members: ['p->n', 'p->w', 'p->dw'] } },
  works: { 'p->w': { func: 'fn' }, 'p->dw': { func: 'fn', delayed: true } }, functions: { fn: [inc('p->n')] },
  tasks: [{ name: 't', cpu: 1, body }], ...extra,
});
const requeuer: IrqSpec = { name: 'dev', cpus: [0], budget: 1, handler: [schedule_work('p->w')] };

describe('disable_work and enable_work', () => {
  it('a disabled item is never queued: schedule_work returns false until enable_work', () => {
    const s = new Schedule(design([disable_work('p->w', 'was'), schedule_work('p->w', 'q1'), enable_work('p->w', 'on'), schedule_work('p->w', 'q2')]));
    s.take('disable_work(&p->w) → false: disable count 1, was not pending');
    s.take('schedule_work(&p->w) → false: disabled (disable count 1), not queued');
    s.take('enable_work(&p->w) → true: disable count 1 → 0');
    s.take('schedule_work(&p->w) → true');
    expect(['was', 'q1', 'on', 'q2'].map((r) => s.taskReg('t', r))).toEqual([0, 0, 1, 1]);
  });

  it('disable_work cancels a pending item and returns true', () => {
    const s = new Schedule(design([schedule_work('p->w'), disable_work('p->w', 'was')]));
    s.run('schedule_work', 'disable_work(&p->w) → true: disable count 1, no longer pending');
    s.runToEnd();
    expect(s.variable('p->n')).toBe(0);
  });

  it('disables nest: two disables need two enables', () => {
    const s = new Schedule(design([disable_work('p->w'), disable_work('p->w'), enable_work('p->w', 'a'), schedule_work('p->w', 'q'), enable_work('p->w', 'b')]));
    s.runToEnd();
    expect(['a', 'q', 'b'].map((r) => s.taskReg('t', r))).toEqual([0, 0, 1]);
  });

  it('enable_work without a disable: "workqueue: work disable count underflowed"', () => {
    expect(check(design([enable_work('p->w')])).violation?.message).toContain('work disable count underflowed');
  });
});

describe('disable_work_sync', () => {
  it('waits for a running instance, like cancel_work_sync, and may sleep', () => {
    expect(check(design([schedule_work('p->w'), disable_work_sync('p->w'), kfree('p')])).status).toBe('verified');
    expect(check(design([spin_lock('L'), disable_work_sync('p->w'), spin_unlock('L')])).violation?.kind).toBe('sleep-in-atomic');
  });

  it('a requeue from an interrupt after cancel_work_sync runs on freed memory; after disable_work_sync it is refused (B48)', () => {
    const teardown = (stop: Stmt) => design([stop, free_irq('dev'), kfree('p')], { irqs: [requeuer] });
    expect(check(teardown(cancel_work_sync('p->w'))).violation?.kind).toBe('use-after-free');
    expect(check(teardown(disable_work_sync('p->w'))).status).toBe('verified');
  });

  it('a work function that requeues itself is refused once disabled', () => {
    const d = design([schedule_work('p->w'), disable_work_sync('p->w'), kfree('p')], { functions: { fn: [inc('p->n'), schedule_work('p->w')] } });
    expect(check(d).status).toBe('verified');
    expect(check(design([schedule_work('p->w'), cancel_work_sync('p->w'), kfree('p')], { functions: { fn: [inc('p->n'), schedule_work('p->w')] } })).status).toBe('verified');
  });

  it('disable_work_sync under a mutex the work takes deadlocks, as cancel_work_sync does', () => {
    const d = design([schedule_work_on(0, 'p->w'), mutex_lock('M'), disable_work_sync('p->w'), mutex_unlock('M')], { functions: { fn: [mutex_lock('M'), mutex_unlock('M')] } });
    expect(check(d).violation?.kind).toBe('deadlock');
  });
});

describe('delayed work', () => {
  it('disable_delayed_work_sync stops the timer and the item; queue_delayed_work is refused until enable_delayed_work', () => {
    const s = new Schedule(design([queue_delayed_work('system_wq', 'p->dw', 1), disable_delayed_work_sync('p->dw'), queue_delayed_work('system_wq', 'p->dw', 1, 'q1'), enable_delayed_work('p->dw'), queue_delayed_work('system_wq', 'p->dw', 1, 'q2')]));
    s.runToEnd(['[task t]']);
    expect([s.taskReg('t', 'q1'), s.taskReg('t', 'q2')]).toEqual([0, 1]);
    expect(check(design([queue_delayed_work('system_wq', 'p->dw', 1), disable_delayed_work_sync('p->dw'), kfree('p')])).status).toBe('verified');
  });
});
