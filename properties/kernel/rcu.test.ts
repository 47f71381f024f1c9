/**
 * model/kernel/rcu.ts: readers, grace periods, synchronize_rcu, call_rcu,
 * kfree_rcu, rcu_barrier and lockdep-RCU's checks (include/linux/rcupdate.h,
 * kernel/rcu/tree.c, Documentation/RCU/whatisRCU.rst).
 */
import { describe, expect, it } from 'vitest';
import {
  call_rcu, check, defineDesign, eq, if_, inc, kfree, kfree_rcu, load, mutex_lock, mutex_unlock, r, rcu_assign_pointer, rcu_barrier, rcu_dereference,
  rcu_dereference_bh, rcu_dereference_protected, rcu_read_lock, rcu_read_lock_bh, rcu_read_unlock, rcu_read_unlock_bh, spin_lock, spin_unlock,
  synchronize_rcu, v, type Design, type IrqSpec, type Stmt,
} from '../../model/index.ts';
import { C_BH, C_PREEMPT } from '../../model/kernel/layout.ts';
import { Schedule } from '../helpers/schedule.ts';

/** A reader that may hold the old object (gbl == 1) and an updater; whatisRCU's foo_get_a / foo_update_a. */
const design = (updater: readonly Stmt[], extra: Partial<Design> = {}, readerBody?: readonly Stmt[]): Design => defineDesign({
  name: 'rcu', cpus: 2, locks: { M: 'mutex', L: 'spinlock' }, vars: { gbl: 1, 'old->a': 1, 'new->a': 2, n: 0 },
  structs: { old: { members: ['old->a', 'old->rcu'] } }, rcu_heads: { 'old->rcu': {} },
  functions: { free_old: [kfree('old')], count: [inc('n')] },
  tasks: [
    { name: 'reader', cpu: 0, body: readerBody ?? [rcu_read_lock(), rcu_dereference('p', 'gbl'), if_(eq(r('p'), 1), [load('a', v('old->a'))]), rcu_read_unlock()] },
    { name: 'updater', cpu: 1, body: [rcu_assign_pointer('gbl', 2), ...updater] },
  ],
  ...extra,
});

describe('readers', () => {
  it('rcu_read_lock is preempt_disable under TREE_RCU (preempt: none), and nests', () => {
    const s = new Schedule(design([], {}, [rcu_read_lock(), rcu_read_lock(), rcu_read_unlock(), rcu_read_unlock()]));
    s.run('[task reader]: rcu_read_lock', '[task reader]: rcu_read_lock');
    expect(s.cpu(0, C_PREEMPT)).toBe(2);
    s.run('[task reader]: rcu_read_unlock', '[task reader]: rcu_read_unlock');
    expect(s.cpu(0, C_PREEMPT)).toBe(0);
  });

  it('under PREEMPT_RCU a task reader leaves preempt_count alone (current->rcu_read_lock_nesting)', () => {
    const s = new Schedule(design([], { options: { preempt: 'full' } }, [rcu_read_lock(), rcu_read_unlock()]));
    s.take('[task reader]: rcu_read_lock');
    expect(s.cpu(0, C_PREEMPT)).toBe(0);
  });

  it('sleeping inside a reader: sleeping function called from invalid context, with the RCU nest depth under PREEMPT_RCU', () => {
    const body = [rcu_read_lock(), mutex_lock('M'), mutex_unlock('M'), rcu_read_unlock()];
    expect(check(design([], {}, body)).violation?.kind).toBe('sleep-in-atomic');
    const full = check(design([], { options: { preempt: 'full' } }, body));
    expect(full.violation?.kind).toBe('sleep-in-atomic');
    expect(full.violation?.message).toContain('RCU nest depth');
  });

  it('rcu_read_lock_bh disables bottom halves; its unlock is a softirq run point', () => {
    const s = new Schedule(design([], {}, [rcu_read_lock_bh(), rcu_dereference_bh('p', 'gbl'), rcu_read_unlock_bh()]));
    s.take('[task reader]: rcu_read_lock_bh');
    expect(s.cpu(0, C_BH)).toBeGreaterThan(0);
    s.runToEnd(['[task reader]']);
    expect(s.violation()).toBeNull();
  });

  it('an unlock without a lock is bad unlock balance', () => {
    expect(check(design([], {}, [rcu_read_unlock()])).violation?.kind).toBe('lock-misuse');
  });

  it('a task that returns inside a reader leaks it', () => {
    expect(check(design([], {}, [rcu_read_lock()])).violation).not.toBeNull();
  });

  it('rcu_dereference outside rcu_read_lock: "suspicious rcu_dereference_check() usage"', () => {
    const v1 = check(design([], {}, [rcu_dereference('p', 'gbl')]));
    expect(v1.violation?.kind).toBe('assertion');
    expect(v1.violation?.message).toContain('suspicious rcu_dereference_check() usage');
  });

  it('rcu_dereference_bh is legitimate in softirq or with irqs off; rcu_dereference_protected is never checked', () => {
    expect(check(design([], {}, [rcu_dereference_bh('p', 'gbl')])).violation?.message).toContain('rcu_dereference_bh_check');
    expect(check(design([], {}, [mutex_lock('M'), rcu_dereference_protected('p', 'gbl'), mutex_unlock('M')])).status).toBe('verified');
  });
});

describe('freeing what a reader may hold (B40)', () => {
  it('kfree right after unpublishing: the reader that fetched the old pointer reads freed memory', () => {
    const v1 = check(design([kfree('old')]));
    expect(v1.violation?.kind).toBe('use-after-free');
    expect(v1.violation?.message).toContain('old->a');
  });

  it('synchronize_rcu sleeps until every reader that started before it has ended, then the free is safe', () => {
    expect(check(design([synchronize_rcu(), kfree('old')])).status).toBe('verified');
    expect(check(design([synchronize_rcu(), kfree('old')], { options: { preempt: 'full' } })).status).toBe('verified');
  });

  it('synchronize_rcu waits for a reader that started before it, not for one that starts later', () => {
    const s = new Schedule(design([synchronize_rcu(), kfree('old')]));
    s.run('[task reader]: rcu_read_lock', '[task reader]: p = rcu_dereference(gbl)', '[task updater]: rcu_assign_pointer');
    s.take('[task updater]: synchronize_rcu(): sleeps until the readers on cpu0 have ended');
    s.run('[task reader]: if', '[task reader]: a = old->a', '[task reader]: rcu_read_unlock');
    s.run('schedule() → task updater', 'synchronize_rcu(): grace period over');
    // A reader that began after synchronize_rcu returned sees the new pointer: no wait needed.
    const t = new Schedule(design([synchronize_rcu(), kfree('old')]));
    t.take('[task updater]: rcu_assign_pointer');
    t.take('[task updater]: synchronize_rcu(): no reader to wait for, grace period over');
  });

  it('synchronize_rcu sleeps: inside a reader or under a spinlock it sleeps in atomic context', () => {
    expect(check(design([spin_lock('L'), synchronize_rcu(), spin_unlock('L')])).violation?.kind).toBe('sleep-in-atomic');
  });

  it('a hardirq handler is a reader (consolidated flavours, 4.20+): synchronize_rcu waits for it', () => {
    const irq: IrqSpec = { name: 'dev', cpus: [0], handler: [load('p', v('gbl')), if_(eq(r('p'), 1), [load('a', v('old->a'))])] };
    expect(check(design([synchronize_rcu(), kfree('old')], { irqs: [irq] }, [])).status).toBe('verified');
    expect(check(design([kfree('old')], { irqs: [irq] }, [])).violation?.kind).toBe('use-after-free');
  });

  it('kfree_rcu frees after a grace period, in RCU_SOFTIRQ on the CPU that queued it', () => {
    expect(check(design([kfree_rcu('old', 'old->rcu')])).status).toBe('verified');
    const s = new Schedule(design([kfree_rcu('old', 'old->rcu')], {}, []));
    s.runToEnd(['[task updater]', 'rcu: grace period over', 'rcu_do_batch']);
    expect(s.labels.some((l) => l.includes('rcu: grace period over for &old->rcu; the tick raises RCU_SOFTIRQ'))).toBe(true);
    expect(s.labels.some((l) => l.startsWith('cpu1 [softirq RCU]: rcu_do_batch: invoke &old->rcu: kfree(old)'))).toBe(true);
  });
});

describe('call_rcu and rcu_barrier', () => {
  it('call_rcu runs its callback in softirq context after the grace period', () => {
    const s = new Schedule(design([call_rcu('old->rcu', 'free_old')], {}, []));
    s.runToEnd(['[task updater]', 'rcu: grace period', 'rcu_do_batch', 'kfree']);
    expect(s.labels).toContain('cpu1 [softirq RCU]: rcu_do_batch: invoke &old->rcu: free_old()');
    expect(s.labels).toContain('cpu1 [rcu old->rcu]: kfree(&old)');
    expect(check(design([call_rcu('old->rcu', 'free_old')])).status).toBe('verified');
  });

  it('a second call_rcu of a head still queued: "Double-freed CB"', () => {
    const v1 = check(design([call_rcu('old->rcu', 'count'), call_rcu('old->rcu', 'count')], {}, []));
    expect(v1.violation?.message).toContain('Double-freed CB');
  });

  it('freeing the struct whose rcu_head is queued is ODEBUG "free active"', () => {
    const v1 = check(design([call_rcu('old->rcu', 'count'), kfree('old')], {}, []));
    expect(v1.violation?.kind).toBe('use-after-free');
    expect(v1.violation?.message).toContain('ODEBUG: free active');
  });

  it('rcu_barrier waits for every queued callback, so a free after it is safe', () => {
    const v1 = check(design([call_rcu('old->rcu', 'count'), rcu_barrier(), kfree('old')], { structs: { old: { members: ['old->a', 'old->rcu', 'n'] } } }, []));
    expect(v1.status).toBe('verified');
    // synchronize_rcu does not wait for callbacks: the callback may touch n after the free (B41).
    const v2 = check(design([call_rcu('old->rcu', 'count'), synchronize_rcu(), kfree('old')], { structs: { old: { members: ['old->a', 'n'] } }, rcu_heads: { 'old->rcu': {} } }, []));
    expect(v2.violation?.kind).toBe('use-after-free');
  });
});
