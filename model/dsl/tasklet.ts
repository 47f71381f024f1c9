/**
 * Builders and declarations for tasklets (include/linux/interrupt.h,
 * kernel/softirq.c). Declare them in a design's `tasklets` field; the
 * semantics are in model/kernel/tasklet.ts.
 *
 *   tasklets: { rx: { func: 'rx_action' } }     // DECLARE_TASKLET(rx, rx_action)
 */
import type { Stmt } from './design.ts';

/** DECLARE_TASKLET / tasklet_setup: the function it runs, by design function name. */
export interface TaskletDecl {
  readonly func: string;
  /** DECLARE_TASKLET_DISABLED: starts with count 1. */
  readonly disabled?: boolean;
}

/** `tasklet_schedule(&t)`: queue on this CPU's TASKLET list unless already scheduled (SCHED set). */
export const tasklet_schedule = (t: string): Stmt => ({ op: 'tasklet_schedule', obj: t });
/** `tasklet_hi_schedule(&t)`: the same on the HI list (HI_SOFTIRQ, runs before every other vector). */
export const tasklet_hi_schedule = (t: string): Stmt => ({ op: 'tasklet_hi_schedule', obj: t });
/** `tasklet_disable_nosync(&t)`: count++; a running func may still be running. */
export const tasklet_disable_nosync = (t: string): Stmt => ({ op: 'tasklet_disable_nosync', obj: t });
/**
 * `tasklet_disable(&t)`: count++, then wait until func is not running:
 * sleeping since 5.13 (taskletWait 'sleep', might_sleep), spinning before.
 */
export const tasklet_disable = (t: string): Stmt => ({ op: 'tasklet_disable', obj: t });
/** `tasklet_disable_in_atomic(&t)` (5.13+): count++, then spin until func is not running. */
export const tasklet_disable_in_atomic = (t: string): Stmt => ({ op: 'tasklet_disable_in_atomic', obj: t });
/** `tasklet_enable(&t)`: count--. A scheduled tasklet runs at the next pass. */
export const tasklet_enable = (t: string): Stmt => ({ op: 'tasklet_enable', obj: t });
/**
 * `tasklet_kill(&t)` (process context): wait until t is neither scheduled
 * nor running, then leave it unscheduled. Waits sleep since 5.13, yield
 * before.
 */
export const tasklet_kill = (t: string): Stmt => ({ op: 'tasklet_kill', obj: t });
/** `tasklet_unlock_wait(&t)`: wait until func is not running (sleeps since 5.13, spins before). */
export const tasklet_unlock_wait = (t: string): Stmt => ({ op: 'tasklet_unlock_wait', obj: t });
/** `tasklet_unlock_spin_wait(&t)` (5.13+): spin until func is not running. */
export const tasklet_unlock_spin_wait = (t: string): Stmt => ({ op: 'tasklet_unlock_spin_wait', obj: t });
