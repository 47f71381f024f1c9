/**
 * Builders and declarations for work queues (include/linux/workqueue.h).
 * Declare work items in `works` and work queues in `workqueues`; the kernel's
 * system_wq (and system_long_wq, system_unbound_wq) exist without a
 * declaration. The semantics are in model/kernel/workqueue.ts.
 *
 * Every builder that returns a value in C takes an optional `ret`: the name
 * of a register that receives it (1 for true, 0 for false), e.g.
 * `queue_work('system_wq', 'w', 'queued')` then `if_(r('queued'), …)`.
 * Delays are in jiffies and only their being 0 or not matters: a delayed
 * item's timer may expire at any later point (see the kernel file).
 */
import type { Stmt } from './design.ts';

export type WorkqueueFlag = 'UNBOUND' | 'ORDERED' | 'HIGHPRI' | 'MEM_RECLAIM' | 'FREEZABLE';

/** alloc_workqueue(name, flags, max_active) / alloc_ordered_workqueue: `{ flags: ['ORDERED'] }`. */
export interface WorkqueueDecl {
  readonly flags?: readonly WorkqueueFlag[];
  /** 0 or absent: WQ_DFL_ACTIVE (256); an ordered workqueue has 1. */
  readonly max_active?: number;
}

/** INIT_WORK / INIT_DELAYED_WORK: the work function, by design function name. */
export interface WorkDecl {
  readonly func: string;
  readonly delayed?: boolean;
}

const withRet = (st: Record<string, unknown>, ret: string | undefined): Stmt => (ret === undefined ? st : { ...st, reg: ret }) as Stmt;

/** `queue_work(wq, &work)`: queue on this CPU's pool (bound wq); false if already pending. */
export const queue_work = (wq: string, work: string, ret?: string): Stmt => withRet({ op: 'queue_work', target: wq, obj: work }, ret);
/** `queue_work_on(cpu, wq, &work)`: queue on `cpu`'s pool; false if already pending. */
export const queue_work_on = (cpu: number, wq: string, work: string, ret?: string): Stmt =>
  withRet({ op: 'queue_work_on', cpu, target: wq, obj: work }, ret);
/** `schedule_work(&work)` = queue_work(system_wq, &work). */
export const schedule_work = (work: string, ret?: string): Stmt => withRet({ op: 'schedule_work', obj: work }, ret);
/** `schedule_work_on(cpu, &work)` = queue_work_on(cpu, system_wq, &work). */
export const schedule_work_on = (cpu: number, work: string, ret?: string): Stmt => withRet({ op: 'schedule_work_on', cpu, obj: work }, ret);

/** `queue_delayed_work(wq, &dwork, delay)`: arm dwork's timer (delay 0: queue now); false if already pending. */
export const queue_delayed_work = (wq: string, dwork: string, delay: number, ret?: string): Stmt =>
  withRet({ op: 'queue_delayed_work', target: wq, obj: dwork, count: delay }, ret);
/** `schedule_delayed_work(&dwork, delay)` = queue_delayed_work(system_wq, …). */
export const schedule_delayed_work = (dwork: string, delay: number, ret?: string): Stmt =>
  withRet({ op: 'schedule_delayed_work', obj: dwork, count: delay }, ret);
/** `mod_delayed_work(wq, &dwork, delay)`: steal it (timer or queue) and re-arm; true if it was pending. */
export const mod_delayed_work = (wq: string, dwork: string, delay: number, ret?: string): Stmt =>
  withRet({ op: 'mod_delayed_work', target: wq, obj: dwork, count: delay }, ret);

/** `flush_work(&work)`: sleep until the last queued instance has run; false if it was idle. */
export const flush_work = (work: string, ret?: string): Stmt => withRet({ op: 'flush_work', obj: work }, ret);
/** `flush_delayed_work(&dwork)`: queue it now if its timer is armed, then flush_work. */
export const flush_delayed_work = (dwork: string, ret?: string): Stmt => withRet({ op: 'flush_delayed_work', obj: dwork }, ret);
/** `cancel_work_sync(&work)`: not pending and not running anywhere afterwards (sleeps); true if it was pending. */
export const cancel_work_sync = (work: string, ret?: string): Stmt => withRet({ op: 'cancel_work_sync', obj: work }, ret);
/** `cancel_delayed_work_sync(&dwork)`: cancel_work_sync that also deactivates the timer. */
export const cancel_delayed_work_sync = (dwork: string, ret?: string): Stmt => withRet({ op: 'cancel_delayed_work_sync', obj: dwork }, ret);
/** `cancel_work(&work)`: take it off its queue if pending; does not wait for a running instance. */
export const cancel_work = (work: string, ret?: string): Stmt => withRet({ op: 'cancel_work', obj: work }, ret);
/** `cancel_delayed_work(&dwork)`: deactivate the timer or dequeue; does not wait. */
export const cancel_delayed_work = (dwork: string, ret?: string): Stmt => withRet({ op: 'cancel_delayed_work', obj: dwork }, ret);

/** `flush_workqueue(wq)`: sleep until everything queued on wq before the call has run. */
export const flush_workqueue = (wq: string): Stmt => ({ op: 'flush_workqueue', target: wq });
/** `flush_scheduled_work()` = flush_workqueue(system_wq). */
export const flush_scheduled_work = (): Stmt => ({ op: 'flush_scheduled_work' });
/** `drain_workqueue(wq)`: flush until empty; meanwhile only its own items may queue on it. */
export const drain_workqueue = (wq: string): Stmt => ({ op: 'drain_workqueue', target: wq });
/** `destroy_workqueue(wq)`: drain it, then free it; using it afterwards is a use-after-free. */
export const destroy_workqueue = (wq: string): Stmt => ({ op: 'destroy_workqueue', target: wq });

// 6.10+ (kernel/workqueue.c, 86898fa6b8cd): a disabled work item cannot be queued until enabled again.
/** `disable_work(&work)`: cancel_work, and every later queueing fails until enable_work; true if it was pending. */
export const disable_work = (work: string, ret?: string): Stmt => withRet({ op: 'disable_work', obj: work }, ret);
/** `disable_work_sync(&work)`: cancel_work_sync (sleeps), and every later queueing fails until enable_work. */
export const disable_work_sync = (work: string, ret?: string): Stmt => withRet({ op: 'disable_work_sync', obj: work }, ret);
/** `disable_delayed_work(&dwork)`: cancel_delayed_work and disable. */
export const disable_delayed_work = (dwork: string, ret?: string): Stmt => withRet({ op: 'disable_delayed_work', obj: dwork }, ret);
/** `disable_delayed_work_sync(&dwork)`: cancel_delayed_work_sync and disable. */
export const disable_delayed_work_sync = (dwork: string, ret?: string): Stmt => withRet({ op: 'disable_delayed_work_sync', obj: dwork }, ret);
/** `enable_work(&work)`: one disable less; true when the count reaches 0. It queues nothing. */
export const enable_work = (work: string, ret?: string): Stmt => withRet({ op: 'enable_work', obj: work }, ret);
/** `enable_delayed_work(&dwork)`. */
export const enable_delayed_work = (dwork: string, ret?: string): Stmt => withRet({ op: 'enable_delayed_work', obj: dwork }, ret);
