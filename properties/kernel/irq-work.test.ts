/**
 * model/kernel/irq_work.ts: irq_work_queue and irq_work_sync
 * (kernel/irq_work.c): the callback runs in hardirq context on the queueing
 * CPU, from the self-IPI.
 */
import { describe, expect, it } from 'vitest';
import {
  check, compile, defineDesign, in_hardirq, inc, irq_work_queue, irq_work_sync, kfree, load, local_irq_disable, local_irq_enable, mutex_lock,
  mutex_unlock, spin_lock, spin_unlock, type Design, type Stmt, type TaskSpec,
} from '../../model/index.ts';
import { Schedule } from '../helpers/schedule.ts';

const design = (tasks: readonly TaskSpec[], cb: readonly Stmt[] = [inc('p->n')], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'irq_work', cpus: 2, locks: { M: 'mutex' }, vars: { 'p->n': 0, hard: 0 }, structs: { p: { members: ['p->n', 'p->iw'] } },
  irq_works: { 'p->iw': { func: 'cb' } }, functions: { cb }, tasks, ...extra,
});

describe('irq_work_queue', () => {
  it('claims the item (PENDING|BUSY) on this CPU and sends the self-IPI; a second queue while pending returns false', () => {
    const s = new Schedule(design([{ name: 'a', cpu: 0, body: [irq_work_queue('p->iw', 'q1'), irq_work_queue('p->iw', 'q2')] }]));
    s.take('irq_work_queue(&p->iw) → true: on cpu0\'s raised list, self-IPI sent');
    s.take('irq_work_queue(&p->iw) → false: already pending on cpu0');
    expect([s.taskReg('a', 'q1'), s.taskReg('a', 'q2')]).toEqual([1, 0]);
  });

  it('the callback runs in hardirq context on the queueing CPU', () => {
    const s = new Schedule(design([{ name: 'a', cpu: 1, body: [irq_work_queue('p->iw')] }], [load('h', in_hardirq()), inc('p->n')]));
    s.take('irq_work_queue');
    s.take('cpu1: irq_work interrupt arrives (self-IPI for &p->iw)');
    expect(s.can('cpu0: irq_work interrupt')).toBe(false);
    s.take('irq_work_run: &p->iw: clear PENDING, call cb()');
    s.take('[hardirq irq_work]: h = in_hardirq()');
    expect(s.topName(1)).toBe('hardirq irq_work');
  });

  it('the IPI waits while the CPU has irqs off', () => {
    const s = new Schedule(design([{ name: 'a', cpu: 0, body: [local_irq_disable(), irq_work_queue('p->iw'), local_irq_enable()] }]));
    s.run('local_irq_disable', 'irq_work_queue');
    expect(s.can('irq_work interrupt arrives')).toBe(false);
    s.take('local_irq_enable');
    expect(s.can('irq_work interrupt arrives')).toBe(true);
  });

  it('a callback that sleeps sleeps in atomic context (hardirq)', () => {
    expect(check(design([{ name: 'a', cpu: 0, body: [irq_work_queue('p->iw')] }], [mutex_lock('M'), mutex_unlock('M')])).violation?.kind).toBe('sleep-in-atomic');
  });

  it('requeued from its own callback, it runs once more', () => {
    const s = new Schedule(design([{ name: 'a', cpu: 0, body: [irq_work_queue('p->iw')] }], [inc('p->n'), { op: 'if', cond: { fn: '<', args: [{ var: 'p->n' }, 2] }, then: [irq_work_queue('p->iw')], else: [] } as Stmt]));
    s.runToEnd(['irq_work']);
    expect(s.variable('p->n')).toBe(2);
  });

  it('2.4 has no irq_work', () => {
    expect(() => compile(design([{ name: 'a', cpu: 0, body: [irq_work_queue('p->iw')] }], undefined, { profile: '2.4' }))).toThrow(/2.6.37/);
  });
});

describe('irq_work_sync and lifetime (B36)', () => {
  it('freeing the struct while its irq_work is queued: the IPI finds freed memory', () => {
    const v = check(design([{ name: 'a', cpu: 0, body: [irq_work_queue('p->iw'), kfree('p')] }]));
    expect(v.violation?.kind).toBe('use-after-free');
  });

  it('irq_work_sync spins until the callback has run; then the free is safe', () => {
    expect(check(design([{ name: 'a', cpu: 1, body: [irq_work_queue('p->iw'), irq_work_sync('p->iw'), kfree('p')] }])).status).toBe('verified');
    const s = new Schedule(design([{ name: 'a', cpu: 1, body: [irq_work_queue('p->iw'), irq_work_sync('p->iw'), kfree('p')] }]));
    s.take('irq_work_queue');
    expect(s.can('[task a]: irq_work_sync')).toBe(false);
  });

  it('irq_work_sync with irqs off: lockdep_assert_irqs_enabled', () => {
    const v = check(design([{ name: 'a', cpu: 0, body: [local_irq_disable(), irq_work_sync('p->iw'), local_irq_enable()] }]));
    expect(v.violation?.message).toContain('lockdep_assert_irqs_enabled()');
  });

  it('irq_work_sync from its own callback (hardirq, irqs off) warns before it would spin on itself', () => {
    const v = check(design([{ name: 'a', cpu: 0, body: [irq_work_queue('p->iw')] }], [irq_work_sync('p->iw')]));
    expect(v.violation?.message).toContain('lockdep_assert_irqs_enabled()');
  });

  it('irq_work_sync waiting for a callback that waits for the syncing context deadlocks', () => {
    const d = defineDesign({
      name: 'irq_work-sync-cycle', cpus: 2, locks: { L: 'spinlock' }, vars: { n: 0 }, irq_works: { iw: { func: 'cb' } },
      functions: { cb: [spin_lock('L'), inc('n'), spin_unlock('L')] },
      tasks: [{ name: 'a', cpu: 0, body: [irq_work_queue('iw')] }, { name: 'b', cpu: 1, body: [spin_lock('L'), irq_work_sync('iw'), spin_unlock('L')] }],
    });
    const v = check(d);
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation?.message).toContain('irq_work_sync(&iw) spins while it is busy');
  });
});
