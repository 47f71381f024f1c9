/**
 * Builders for struct rw_semaphore (include/linux/rwsem.h). Declare the lock
 * as `locks: { 'mm->mmap_lock': 'rw_semaphore' }`; the semantics are in
 * model/kernel/rwsem.ts. A sleeping lock: task context only, might_sleep.
 */
import type { Stmt, Trylock } from './design.ts';

/** `down_read(&sem)`: a shared hold; queues behind a waiting writer if readers hold it. */
export const down_read = (sem: string): Stmt => ({ op: 'down_read', lock: sem });
export const up_read = (sem: string): Stmt => ({ op: 'up_read', lock: sem });
/** `down_write(&sem)`: the exclusive hold. */
export const down_write = (sem: string): Stmt => ({ op: 'down_write', lock: sem });
export const up_write = (sem: string): Stmt => ({ op: 'up_write', lock: sem });
/** `if_(down_read_trylock(sem), then, else)`: fails on a writer or any waiter. */
export const down_read_trylock = (sem: string): Trylock => ({ trylock: 'down_read_trylock', lock: sem });
/** `if_(down_write_trylock(sem), then, else)`: succeeds only on an unused rwsem. */
export const down_write_trylock = (sem: string): Trylock => ({ trylock: 'down_write_trylock', lock: sem });
/** `downgrade_write(&sem)`: the writer keeps it for read; waiting readers may join. */
export const downgrade_write = (sem: string): Stmt => ({ op: 'downgrade_write', lock: sem });
/** `down_read_nested(&sem, subclass)`, `down_write_nested(&sem, subclass)`: lockdep class `sem/subclass`. */
export const down_read_nested = (sem: string, subclass: number): Stmt => ({ op: 'down_read_nested', lock: sem, subclass });
export const down_write_nested = (sem: string, subclass: number): Stmt => ({ op: 'down_write_nested', lock: sem, subclass });
/** `init_rwsem(&sem)`: unlocked again (held by the current task: lockdep's "held lock freed!"). */
export const init_rwsem = (sem: string): Stmt => ({ op: 'init_rwsem', lock: sem });
