/**
 * Builders and declarations for timers (include/linux/timer.h,
 * kernel/time/timer.c). Declare them in a design's `timers` field, one
 * `timer_setup(&t, func, flags)` each; the semantics are in
 * model/kernel/timer.ts.
 *
 * Expiry times are relative: `mod_timer(t, 2)` is the kernel's
 * `mod_timer(&t, jiffies + 2)`. jiffies starts at 0 and advances with the
 * timer tick, at most `options.ticks` times (default DEFAULT_TICKS when the
 * design declares a timer).
 */
import type { Expr, Stmt } from './design.ts';

/**
 * TIMER_IRQSAFE: the callback runs with irqs off, and del_timer_sync may be
 * called from a hardirq. TIMER_PINNED: always armed on the local CPU (never
 * moved to a NOHZ target). TIMER_DEFERRABLE: may be delayed while its CPU
 * idles; the model treats it as a normal timer, since any tick may come late.
 */
export type TimerFlag = 'IRQSAFE' | 'PINNED' | 'DEFERRABLE';

/** timer_setup(timer, func, flags): the callback, by design function name. */
export interface TimerDecl {
  readonly func: string;
  readonly flags?: readonly TimerFlag[];
}

/** Ticks explored when a design declares timers and sets no `options.ticks`. */
export const DEFAULT_TICKS = 2;

/** Stmt with the optional return register. */
const withRet = (st: Record<string, unknown>, ret: string | undefined): Stmt => (ret === undefined ? st : { ...st, reg: ret }) as Stmt;

/**
 * `t.expires = jiffies + delta; add_timer(&t)`: arm an idle timer on this
 * CPU. Arming a pending timer is an error (WARN_ON_ONCE since 6.2, BUG_ON
 * before, "kernel timer added twice" in 2.4).
 */
export const add_timer = (timer: string, delta: Expr = 1): Stmt => ({ op: 'add_timer', obj: timer, value: delta });

/**
 * `mod_timer(&t, jiffies + delta)`: (re)arm, pending or not. `ret` names a
 * register that receives the return value: 1 if the timer was pending.
 */
export const mod_timer = (timer: string, delta: Expr = 1, ret?: string): Stmt => withRet({ op: 'mod_timer', obj: timer, value: delta }, ret);

/** `t.expires = jiffies + delta; add_timer_on(&t, cpu)`: arm on `cpu`'s base. */
export const add_timer_on = (timer: string, cpu: number, delta: Expr = 1): Stmt =>
  ({ op: 'add_timer_on', obj: timer, count: cpu, value: delta });

/** `del_timer(&t)`: deactivate if pending; does not wait for a running callback. `ret`: 1 if it was pending. */
export const del_timer = (timer: string, ret?: string): Stmt => withRet({ op: 'del_timer', obj: timer }, ret);
/** `timer_delete(&t)`: del_timer's name since 6.2. */
export const timer_delete = (timer: string, ret?: string): Stmt => withRet({ op: 'timer_delete', obj: timer }, ret);

/** `try_to_del_timer_sync(&t)`: -1 if the callback runs on the timer's base now, else del_timer. */
export const try_to_del_timer_sync = (timer: string, ret?: string): Stmt => withRet({ op: 'try_to_del_timer_sync', obj: timer }, ret);

/** `del_timer_sync(&t)`: deactivate and spin until the callback runs nowhere. */
export const del_timer_sync = (timer: string, ret?: string): Stmt => withRet({ op: 'del_timer_sync', obj: timer }, ret);
/** `timer_delete_sync(&t)`: del_timer_sync's name since 6.2. */
export const timer_delete_sync = (timer: string, ret?: string): Stmt => withRet({ op: 'timer_delete_sync', obj: timer }, ret);

/** `timer_shutdown(&t)` (6.2+): timer_delete, and any later arming is silently ignored. */
export const timer_shutdown = (timer: string, ret?: string): Stmt => withRet({ op: 'timer_shutdown', obj: timer }, ret);
/** `timer_shutdown_sync(&t)` (6.2+): timer_delete_sync, and any later arming is silently ignored. */
export const timer_shutdown_sync = (timer: string, ret?: string): Stmt => withRet({ op: 'timer_shutdown_sync', obj: timer }, ret);

/** `reg = timer_pending(&t)`: 1 while the timer is queued (not once its callback has started). */
export const timer_pending = (timer: string, reg: string): Stmt => ({ op: 'timer_pending', obj: timer, reg });
