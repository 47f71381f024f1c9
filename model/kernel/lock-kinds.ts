/**
 * The lock types a design can declare, with what the rest of the model
 * needs to know of each: its C type (for messages), whether a holder may
 * sleep, and lockdep's wait types (include/linux/lockdep_types.h
 * `enum lockdep_wait_type`; the values of a kernel with
 * CONFIG_PROVE_RAW_LOCK_NESTING, which PROVE_LOCKING selects on every
 * architecture that supports PREEMPT_RT since 6.13, lib/Kconfig.debug).
 *
 * The vocabulary lives in the kernel model; the design language
 * (model/dsl/design.ts) imports it.
 */

/** `locks: { name: kind }` in a design. */
export type LockKind = 'spinlock' | 'raw_spinlock' | 'rwlock' | 'mutex' | 'rw_semaphore' | 'local_lock';

/** lockdep_wait_type with PROVE_RAW_LOCK_NESTING: LD_WAIT_INV 0, FREE 1, SPIN 2, CONFIG 3, SLEEP 4, MAX 5. */
export const LD_WAIT_INV = 0;
export const LD_WAIT_SPIN = 2;
export const LD_WAIT_CONFIG = 3;
export const LD_WAIT_SLEEP = 4;
export const LD_WAIT_MAX = 5;

export interface LockKindInfo {
  /** The C type, as messages name it. */
  readonly ctype: string;
  /** The holder may sleep (mutex, rw_semaphore): acquiring it is a sleeping call. */
  readonly sleeps: boolean;
  /** Readers and writers (rwlock_t, rw_semaphore). */
  readonly shared: boolean;
  /** lockdep_map.wait_type_inner of the lock (its wait_type_outer is 0, i.e. the same). */
  readonly waitInner: number;
  /** LD_LOCK_PERCPU (local_lock_t): skipped by lockdep's irq-inversion searches (usage_skip). */
  readonly percpu: boolean;
}

export const LOCK_KINDS: Readonly<Record<LockKind, LockKindInfo>> = {
  // include/linux/spinlock_types.h SPIN_DEP_MAP_INIT: LD_WAIT_CONFIG
  spinlock: { ctype: 'spinlock_t', sleeps: false, shared: false, waitInner: LD_WAIT_CONFIG, percpu: false },
  // include/linux/spinlock_types_raw.h RAW_SPIN_DEP_MAP_INIT: LD_WAIT_SPIN
  raw_spinlock: { ctype: 'raw_spinlock_t', sleeps: false, shared: false, waitInner: LD_WAIT_SPIN, percpu: false },
  // include/linux/rwlock_types.h RW_DEP_MAP_INIT: LD_WAIT_CONFIG
  rwlock: { ctype: 'rwlock_t', sleeps: false, shared: true, waitInner: LD_WAIT_CONFIG, percpu: false },
  // include/linux/mutex.h __DEP_MAP_MUTEX_INITIALIZER: LD_WAIT_SLEEP
  mutex: { ctype: 'struct mutex', sleeps: true, shared: false, waitInner: LD_WAIT_SLEEP, percpu: false },
  // include/linux/rwsem.h __RWSEM_DEP_MAP_INIT: LD_WAIT_SLEEP
  rw_semaphore: { ctype: 'struct rw_semaphore', sleeps: true, shared: true, waitInner: LD_WAIT_SLEEP, percpu: false },
  // include/linux/local_lock_internal.h LOCAL_LOCK_DEBUG_INIT: LD_WAIT_CONFIG, LD_LOCK_PERCPU
  local_lock: { ctype: 'local_lock_t', sleeps: false, shared: false, waitInner: LD_WAIT_CONFIG, percpu: true },
};

export const LOCK_KIND_NAMES = Object.keys(LOCK_KINDS) as readonly LockKind[];

export function isLockKind(x: unknown): x is LockKind {
  return typeof x === 'string' && Object.hasOwn(LOCK_KINDS, x);
}
