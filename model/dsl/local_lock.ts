/**
 * Builders for local_lock_t (include/linux/local_lock.h). Declare the lock
 * as `locks: { 'stats.lock': 'local_lock' }`: a per-CPU lock, one instance
 * per CPU and one lockdep class for all of them; the semantics are in
 * model/kernel/local_lock.ts. Without PREEMPT_RT it only disables
 * preemption (or irqs) and never waits.
 */
import type { Stmt } from './design.ts';

/** `local_lock(&l)`: preempt_disable(), then this CPU's instance is held. */
export const local_lock = (lock: string): Stmt => ({ op: 'local_lock', lock });
export const local_unlock = (lock: string): Stmt => ({ op: 'local_unlock', lock });
/** `local_lock_irq(&l)`: local_irq_disable(), then held. */
export const local_lock_irq = (lock: string): Stmt => ({ op: 'local_lock_irq', lock });
export const local_unlock_irq = (lock: string): Stmt => ({ op: 'local_unlock_irq', lock });
/** `local_lock_irqsave(&l, flags)`: local_irq_save(flags), then held. */
export const local_lock_irqsave = (lock: string, flags: string): Stmt => ({ op: 'local_lock_irqsave', lock, flags });
export const local_unlock_irqrestore = (lock: string, flags: string): Stmt => ({ op: 'local_unlock_irqrestore', lock, flags });
/** `local_lock_init(&l)`: held by the current task, lockdep's "held lock freed!". */
export const local_lock_init = (lock: string): Stmt => ({ op: 'local_lock_init', lock });
