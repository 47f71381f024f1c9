/**
 * What every lock type shares: the record of the locks a context holds,
 * and the rules about holding that do not depend on the lock's type.
 *
 * The record (per context, see layout.ts): X_HELD has a bit per lock id;
 * a context that read-holds an rwlock or rw_semaphore several times keeps
 * the extra references in a word of its own per such lock (after its
 * registers: Layout.readNestBase + readNestSlot[lock]), so read recursion
 * is exact for any number of locks and any depth; X_SUBCLASS keeps the
 * lockdep subclass of a lock taken with a *_nested form (lockdep's class
 * is the lock's class and that subclass, kernel/locking/lockdep.c
 * register_lock_class), 4 bits per lock id for the first NIBBLE_LOCKS
 * locks a design declares (compile.ts refuses a *_nested form past them).
 *
 * Same-context recursion: a context that acquires a lock it already holds,
 * in a mode its own hold excludes, waits for itself. Nothing on its CPU
 * can release the lock (it is the holder), so this is a deadlock, found at
 * the acquisition, whatever the lock:
 *  - spin_lock/raw_spin_lock twice: kernel/locking/spinlock_debug.c
 *    debug_spin_lock_before, "BUG: spinlock recursion";
 *  - write_lock twice: debug_write_lock_before, "BUG: rwlock recursion";
 *  - read_lock then write_lock, write_lock then read_lock, a mutex or an
 *    rw_semaphore taken twice: no debug check of the lock itself sees it,
 *    lockdep's check_deadlock reports "possible recursive locking
 *    detected".
 * A second read of a lock the context holds for read is not recursion of
 * this kind: an rwlock reader is recursive (in interrupt context always;
 * in task context it queues only behind a waiting writer, a wait on
 * another context), and an rw_semaphore reader likewise waits only for a
 * writer. Those waits are found, when they close a cycle, as deadlocks of
 * the wait-for graph (model/check/deadlock.ts).
 *
 * Initialising a held lock (spin_lock_init, mutex_init…): every *_init
 * calls debug_check_no_locks_freed on the lock (lockdep.c), which reports
 * "WARNING: held lock freed!" when the current task holds it.
 */
import { C_CURTASK, FrameKind, L_OWNER, LOCK_SIZE, X_HELD, X_KIND, X_SUBCLASS, type Layout } from './layout.ts';
import type { Machine } from './machine.ts';

/** Lock ids whose lockdep subclass the per-context nibbles record. */
export const NIBBLE_LOCKS = 8;
/** MAX_LOCKDEP_SUBCLASSES (include/linux/lockdep_types.h). */
export const MAX_SUBCLASSES = 8;

/**
 * `ctx` takes `lock` (any mode): sets its held bit, or, if it already
 * read-holds it, counts one more read reference; records a nonzero lockdep
 * subclass.
 */
export function takeHold(m: Machine, ctx: number, lock: number, subclass: number): void {
  const o = m.ctxOff(ctx);
  const held = m.s[o + X_HELD]!;
  if ((held & (1 << lock)) !== 0) {
    const off = o + readNestOff(m.L, lock, m.lockName(lock));
    m.w(off, m.s[off]! + 1);
    return;
  }
  m.w(o + X_HELD, held | (1 << lock));
  if (subclass !== 0) {
    // compile.ts refuses a *_nested form on a lock beyond NIBBLE_LOCKS.
    const sub = m.s[o + X_SUBCLASS]!;
    m.w(o + X_SUBCLASS, (sub & ~(0xf << (4 * lock))) | (subclass << (4 * lock)));
  }
}

/**
 * `ctx` drops one reference of `lock`; true if it still holds it (a nested
 * read), false if this was its last and the lock is no longer in its record.
 */
export function dropHold(m: Machine, ctx: number, lock: number): boolean {
  const o = m.ctxOff(ctx);
  const slot = m.L.readNestSlot[lock]!;
  if (slot >= 0) {
    const off = o + m.L.readNestBase + slot;
    if (m.s[off]! !== 0) {
      m.w(off, m.s[off]! - 1);
      return true;
    }
  }
  if (lock < NIBBLE_LOCKS) {
    const sub = m.s[o + X_SUBCLASS]!;
    if (((sub >>> (4 * lock)) & 0xf) !== 0) m.w(o + X_SUBCLASS, sub & ~(0xf << (4 * lock)));
  }
  m.w(o + X_HELD, m.s[o + X_HELD]! & ~(1 << lock));
  return false;
}

/** The lockdep subclass `ctx` holds `lock` with (0 if taken plainly). */
export function subclassOf(s: Int32Array, ctxOff: number, lock: number): number {
  return lock < NIBBLE_LOCKS ? (s[ctxOff + X_SUBCLASS]! >>> (4 * lock)) & 0xf : 0;
}

/** The offset, from a context's first word, of its read-recursion count of `lock`. */
function readNestOff(L: Layout, lock: number, name: string): number {
  const slot = L.readNestSlot[lock]!;
  if (slot < 0) throw new Error(`kdefer internal error: a second hold of &${name}, which has no read mode`);
  return L.readNestBase + slot;
}

/** `ctx`'s extra read references to `lock` (at context offset `ctxOff`) in state `s`: 0 for a lock with no read mode. */
export function readNesting(L: Layout, s: Int32Array, ctxOff: number, lock: number): number {
  const slot = L.readNestSlot[lock]!;
  return slot < 0 ? 0 : s[ctxOff + L.readNestBase + slot]!;
}

/** How many references `ctx` (at `ctxOff`) holds on `lock` in state `s` (each nested read counts). */
export function holdCount(L: Layout, s: Int32Array, ctxOff: number, lock: number): number {
  if ((s[ctxOff + X_HELD]! & (1 << lock)) === 0) return 0;
  return 1 + readNesting(L, s, ctxOff, lock);
}

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

/**
 * The contexts lockdep counts as `curr` when `ctx` runs on `cpu`: lockdep
 * keeps one held-lock stack per task, interrupt frames included, so curr's
 * held locks are those of every frame from the nearest task below `ctx`
 * (its CPU's current task, or a ksoftirqd frame, which is a task of its
 * own) up to `ctx`. Bottom first.
 */
export function currFrames(m: Machine, cpu: number, ctx: number): number[] {
  const stack: number[] = [];
  const task = m.s[m.cpuOff(cpu) + C_CURTASK]!;
  if (task >= 0) stack.push(task);
  for (let d = 0; d < m.frameDepth(cpu); d++) stack.push(m.frameCtx(cpu, d));
  const i = stack.indexOf(ctx);
  if (i < 0) return [ctx];
  let base = i;
  while (base > 0 && !m.isTask(stack[base]!) && m.s[m.ctxOff(stack[base]!) + X_KIND] !== FrameKind.Ksoftirqd) base--;
  return stack.slice(base, i + 1);
}

/**
 * `op(&lock)`, a *_init, by `ctx` on `cpu`: debug_check_no_locks_freed
 * reports a lock the current task holds ("WARNING: held lock freed!",
 * lock-misuse); otherwise the lock is reset to unlocked, whoever else
 * thought they held it (the kernel checks only the current task's locks;
 * another holder finds its lock gone at its unlock).
 */
export function initLock(m: Machine, cpu: number, ctx: number, lock: number, op: string): boolean {
  for (const c of currFrames(m, cpu, ctx)) {
    if ((m.s[m.ctxOff(c) + X_HELD]! & (1 << lock)) === 0) continue;
    const name = `&${m.lockName(lock)}`;
    m.fail('lock-misuse', `WARNING: held lock freed!\n  ${m.contextName(ctx)}: ${op}(${name}) re-initialises ${name}, with the lock still held there by ${m.contextName(c)} (debug_check_no_locks_freed)`, cpu, ctx);
    return false;
  }
  const lo = m.lockOff(lock);
  m.zero(lo, lo + LOCK_SIZE);
  return true;
}
