/**
 * Same-context recursion, one rule for every lock type: a context that
 * acquires a lock it already holds, in a mode its own hold excludes, waits
 * for itself. Nothing on its CPU can release the lock (it is the holder),
 * so this is a deadlock, found at the acquisition, whatever the lock:
 *
 *  - spin_lock/raw_spin_lock twice: kernel/locking/spinlock_debug.c
 *    debug_spin_lock_before, "BUG: spinlock recursion";
 *  - write_lock twice: debug_write_lock_before, "BUG: rwlock recursion";
 *  - read_lock then write_lock, write_lock then read_lock, a mutex or an
 *    rw_semaphore taken twice: no debug check of its own sees it, lockdep's
 *    check_deadlock reports "possible recursive locking detected".
 *
 * A second read of a lock the context holds for read is not recursion of
 * this kind: an rwlock reader is recursive (in interrupt context always;
 * in task context it queues only behind a waiting writer, a wait on
 * another context), and an rw_semaphore reader likewise waits only for a
 * writer. Those waits are found, when they close a cycle, as deadlocks of
 * the wait-for graph (model/check/deadlock.ts).
 */
import { L_OWNER, X_HELD } from './layout.ts';
import type { Machine } from './machine.ts';

/**
 * If `ctx` already holds `lock` in a mode that excludes acquiring it again
 * (`wantRead`: for read), raise the deadlock and return true.
 * `op` is the kernel call (`spin_lock_irqsave`), `how` what the context
 * does forever (`spins`, `sleeps`).
 */
export function selfDeadlock(m: Machine, cpu: number, ctx: number, lock: number, wantRead: boolean, op: string, how: 'spins' | 'sleeps'): boolean {
  if ((m.s[m.ctxOff(ctx) + X_HELD]! & (1 << lock)) === 0) return false;
  const heldExclusive = m.s[m.lockOff(lock) + L_OWNER] === ctx + 1;
  if (!heldExclusive && wantRead) return false;
  const name = `&${m.lockName(lock)}`;
  const who = m.contextName(ctx);
  const kind = m.p.locks[lock]!.kind;
  const what = `${who}: ${op}(${name}) while it holds ${name}${heldExclusive ? '' : ' for read'}: it ${how} on itself forever`;
  let header: string;
  if (heldExclusive && !wantRead && (kind === 'spinlock' || kind === 'raw_spinlock')) header = `BUG: spinlock recursion on CPU#${cpu}, ${who}`;
  else if (heldExclusive && !wantRead && kind === 'rwlock') header = `BUG: rwlock recursion on CPU#${cpu}, ${who}`;
  else header = 'WARNING: possible recursive locking detected';
  m.fail('deadlock', `${header}\n  ${what}`, cpu, ctx);
  return true;
}
