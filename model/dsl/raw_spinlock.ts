/**
 * Builders for raw_spinlock_t (include/linux/spinlock.h,
 * include/linux/spinlock_api_smp.h). Declare the lock as
 * `locks: { 'base->lock': 'raw_spinlock' }`; the semantics are in
 * model/kernel/spinlock.ts.
 *
 * On a kernel without PREEMPT_RT a raw_spinlock_t behaves exactly as a
 * spinlock_t (spin_lock is raw_spin_lock on the embedded raw lock). It
 * stays a spinning lock under PREEMPT_RT, where spinlock_t sleeps, which is
 * why lockdep gives it a stricter wait type (LD_WAIT_SPIN) and reports a
 * spinlock_t taken inside it as "[ BUG: Invalid wait context ]".
 */
import type { Stmt, Trylock } from './design.ts';

export const raw_spin_lock = (lock: string): Stmt => ({ op: 'raw_spin_lock', lock });
export const raw_spin_unlock = (lock: string): Stmt => ({ op: 'raw_spin_unlock', lock });
export const raw_spin_lock_irq = (lock: string): Stmt => ({ op: 'raw_spin_lock_irq', lock });
export const raw_spin_unlock_irq = (lock: string): Stmt => ({ op: 'raw_spin_unlock_irq', lock });
export const raw_spin_lock_irqsave = (lock: string, flags: string): Stmt => ({ op: 'raw_spin_lock_irqsave', lock, flags });
export const raw_spin_unlock_irqrestore = (lock: string, flags: string): Stmt => ({ op: 'raw_spin_unlock_irqrestore', lock, flags });
export const raw_spin_lock_bh = (lock: string): Stmt => ({ op: 'raw_spin_lock_bh', lock });
export const raw_spin_unlock_bh = (lock: string): Stmt => ({ op: 'raw_spin_unlock_bh', lock });
/** `if_(raw_spin_trylock(L), then, else)` */
export const raw_spin_trylock = (lock: string): Trylock => ({ trylock: 'raw_spin_trylock', lock });
export const raw_spin_trylock_bh = (lock: string): Trylock => ({ trylock: 'raw_spin_trylock_bh', lock });
export const raw_spin_trylock_irq = (lock: string): Trylock => ({ trylock: 'raw_spin_trylock_irq', lock });
export const raw_spin_trylock_irqsave = (lock: string, flags: string): Trylock =>
  ({ trylock: 'raw_spin_trylock_irqsave', lock, flags });
/** `raw_spin_lock_nested(&l, subclass)`: raw_spin_lock, lockdep class `l/subclass`. */
export const raw_spin_lock_nested = (lock: string, subclass: number): Stmt => ({ op: 'raw_spin_lock_nested', lock, subclass });
export const raw_spin_lock_irqsave_nested = (lock: string, flags: string, subclass: number): Stmt =>
  ({ op: 'raw_spin_lock_irqsave_nested', lock, flags, subclass });
/** `raw_spin_lock_init(&l)`: unlocked again (held by the current task: lockdep's "held lock freed!"). */
export const raw_spin_lock_init = (lock: string): Stmt => ({ op: 'raw_spin_lock_init', lock });
