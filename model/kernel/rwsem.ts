/**
 * struct rw_semaphore (kernel/locking/rwsem.c, include/linux/rwsem.h): a
 * sleeping reader/writer lock. Lock words: L_OWNER the writer (ctx + 1),
 * L_READERS the number of read holds. Waiters sleep on the lock's channel
 * (Chan.Mutex, the lock id), as mutex waiters do, and every release that
 * frees the lock wakes them all to re-check (any one may win: a sound
 * over-approximation of the kernel's hand-off to the first waiter).
 *
 * Writer preference (rwsem_down_read_slowpath): a reader that finds the
 * lock read-owned while a writer waits queues behind that writer instead of
 * sharing the lock (the fast path rwsem_read_trylock fails on
 * RWSEM_FLAG_WAITERS, and the slowpath steals only when no other reader
 * holds it, `rcnt > 1 → queue`). So a task that read-holds an rwsem and
 * reads it again while a writer waits deadlocks with that writer. In the
 * model a writer sleeps only while the lock is held (a release wakes it),
 * so "a writer waits" and "readers hold" go together: a reader acquires
 * iff no writer holds the lock and no writer is asleep on it.
 *
 * Trylocks (__down_read_trylock, __down_write_trylock) never sleep: a read
 * trylock fails on a writer or any waiter (RWSEM_READ_FAILED_MASK), a
 * write trylock unless the count is 0 (no holder, no waiter).
 * downgrade_write turns the writer into a reader and wakes the waiters.
 *
 * lockdep (rwsem_acquire / rwsem_acquire_read): down_write is exclusive,
 * down_read a non-recursive reader (read = 1): unlike read_lock, a second
 * down_read of one class is "possible recursive locking" for lockdep.
 */
import { ContextStatus, L_OWNER, L_READERS, T_CHANNEL, X_HELD, X_PC, X_PHASE, X_STATUS } from './layout.ts';
import { dropHold, initLock, MAX_SUBCLASSES, selfDeadlock, takeHold } from './held-locks.ts';
import type { Machine } from './machine.ts';
import { INSN_WIDTH } from './program.ts';
import { block, Chan, channel, mightSleep, readsSleepersOn, sleeps, wakeAll, wakesOn } from './scheduler.ts';
import type { Mechanism, OpSemantics, OperandSpec, WaitEdge } from './semantics.ts';

const RWSEM: OperandSpec = { kind: 'lock', field: 'lock', lockKind: 'rw_semaphore' };
const SUBCLASS: OperandSpec = { kind: 'int', field: 'subclass', min: 0, max: MAX_SUBCLASSES - 1 };

/** A sleeper's X_PHASE says what it waits for (the rwsem_waiter's type). */
const WAITING_FOR_READ = 1;
const WAITING_FOR_WRITE = 2;

/** Tasks asleep on `lock`, and whether each wants it for write. */
function sleepers(m: Machine, lock: number): { task: number; write: boolean }[] {
  const out: { task: number; write: boolean }[] = [];
  const chan = channel(Chan.Mutex, lock);
  for (let t = 0; t < m.L.ntasks; t++) {
    const o = m.ctxOff(t);
    if (m.s[o + X_STATUS] !== ContextStatus.Blocked || m.s[o + T_CHANNEL] !== chan) continue;
    out.push({ task: t, write: m.s[o + X_PHASE] === WAITING_FOR_WRITE });
  }
  return out;
}

const writerAsleep = (m: Machine, lock: number): number => sleepers(m, lock).find((w) => w.write)?.task ?? -1;

/** Contexts holding `lock` for read (not the writer). */
function readHolders(m: Machine, lock: number): number[] {
  const owner = m.s[m.lockOff(lock) + L_OWNER]! - 1;
  const out: number[] = [];
  for (let ctx = 0; ctx < m.L.nctx; ctx++) {
    if (ctx !== owner && (m.s[m.ctxOff(ctx) + X_HELD]! & (1 << lock)) !== 0) out.push(ctx);
  }
  return out;
}

const textOf = (m: Machine, ctx: number): string => m.p.text[m.s[m.ctxOff(ctx) + X_PC]! / INSN_WIDTH]!;

/** Would a down_read by `ctx` get the lock now? */
function readerMayTake(m: Machine, lock: number): boolean {
  return m.s[m.lockOff(lock) + L_OWNER] === 0 && writerAsleep(m, lock) < 0;
}
function writerMayTake(m: Machine, lock: number): boolean {
  const lo = m.lockOff(lock);
  return m.s[lo + L_OWNER] === 0 && m.s[lo + L_READERS] === 0;
}

function waitEdge(m: Machine, ctx: number, write: boolean, lock: number): WaitEdge {
  const owner = m.s[m.lockOff(lock) + L_OWNER]!;
  const name = `&${m.lockName(lock)}`;
  const who = `${m.contextName(ctx)}: ${textOf(m, ctx)}`;
  if (owner !== 0) return { on: [owner - 1], why: `${who} sleeps: ${name} is held for write by ${m.contextName(owner - 1)}` };
  if (write) {
    const readers = readHolders(m, lock).filter((r) => r !== ctx);
    return { on: readers, why: `${who} sleeps: ${name} is held for read by ${readers.map((r) => m.contextName(r)).join(', ')}` };
  }
  const writer = writerAsleep(m, lock);
  if (writer >= 0) return { on: [writer], why: `${who} sleeps: queued behind a waiting writer (${m.contextName(writer)}; rwsem_down_read_slowpath)` };
  return { on: [], why: `${who} sleeps on ${name}` };
}

/** down_read / down_write, and their _nested forms. */
function downOp(write: boolean, nested: boolean): OpSemantics {
  const name = `down_${write ? 'write' : 'read'}${nested ? '_nested' : ''}`;
  return {
    name,
    operands: nested ? [RWSEM, SUBCLASS] : [RWSEM],
    lockdep: { action: 'acquire', read: write ? 0 : 1, ...(nested ? { subclassOperand: 1 as const } : {}) },
    // might_sleep reads this CPU; the lock's words; a reader looks for a writer asleep on the lock
    // (the status, channel and, while it sleeps, the X_PHASE it set as it blocked, of each task that
    // may sleep on it); a sleep leaves the CPU. Only a writer holds the lock exclusively.
    footprint(f, a) {
      sleeps(f);
      f.write(f.lock(a));
      if (write) f.acquire(a);
      else readsSleepersOn(f, Chan.Mutex, a);
    },
    sleepsOn: { chan: Chan.Mutex, operand: 0 },
    exec(m, cpu, ctx, a, b) {
      if (!mightSleep(m, cpu, ctx, `${name}(&${m.lockName(a)})`)) return;
      if (selfDeadlock(m, cpu, ctx, a, !write, name, 'sleeps')) return;
      if (!(write ? writerMayTake(m, a) : readerMayTake(m, a))) {
        m.w(m.ctxOff(ctx) + X_PHASE, write ? WAITING_FOR_WRITE : WAITING_FOR_READ);
        block(m, cpu, ctx, channel(Chan.Mutex, a));
        return;
      }
      const lo = m.lockOff(a);
      if (write) m.w(lo + L_OWNER, ctx + 1);
      else m.w(lo + L_READERS, m.s[lo + L_READERS]! + 1);
      takeHold(m, ctx, a, nested ? b : 0);
      m.advance(ctx);
    },
    label(m, _cpu, ctx, a) {
      const text = textOf(m, ctx);
      if (write ? writerMayTake(m, a) : readerMayTake(m, a)) return text;
      const owner = m.s[m.lockOff(a) + L_OWNER]!;
      if (owner !== 0) return `${text}: held for write by ${m.contextName(owner - 1)}, sleeps`;
      if (write) return `${text}: held for read, sleeps`;
      return `${text}: a writer waits, queues behind it and sleeps`;
    },
    waitsFor(m, _cpu, ctx, a) {
      return waitEdge(m, ctx, write, a);
    },
  };
}

/** up_read / up_write: the holder releases; once the lock is free, every sleeper re-checks. */
function upOp(write: boolean): OpSemantics {
  const name = write ? 'up_write' : 'up_read';
  return {
    name,
    operands: [RWSEM],
    lockdep: { action: 'release', read: write ? 0 : 1 },
    // The lock's words; the release that frees it wakes its sleepers.
    footprint(f, a) {
      f.write(f.lock(a));
      wakesOn(f, Chan.Mutex, a);
      f.release(a);
    },
    exec(m, cpu, ctx, a) {
      const lo = m.lockOff(a);
      const owner = m.s[lo + L_OWNER]!;
      const holds = (m.s[m.ctxOff(ctx) + X_HELD]! & (1 << a)) !== 0;
      const ok = write ? owner === ctx + 1 : holds && owner !== ctx + 1;
      if (!ok) {
        // lockdep print_unlock_imbalance_bug; rwsem debug DEBUG_RWSEMS_WARN_ON(owner != current) for up_write.
        const why = write
          ? owner === 0 ? 'not held for write' : `held for write by ${m.contextName(owner - 1)}`
          : owner === ctx + 1 ? 'held for write, not read' : 'not held for read by this context';
        m.fail('lock-misuse', `WARNING: bad unlock balance detected! ${m.contextName(ctx)} is trying to release lock (&${m.lockName(a)}) on CPU#${cpu}: ${why} (${name})`, cpu, ctx);
        return;
      }
      if (write) m.w(lo + L_OWNER, 0);
      else m.w(lo + L_READERS, m.s[lo + L_READERS]! - 1);
      dropHold(m, ctx, a);
      // rwsem_wake once the lock is free (the last reader, or the writer).
      if (m.s[lo + L_OWNER] === 0 && m.s[lo + L_READERS] === 0) wakeAll(m, channel(Chan.Mutex, a));
      m.advance(ctx);
    },
  };
}

/** down_read_trylock / down_write_trylock: 1 and held, or 0; never sleeps. */
function trylockOp(write: boolean): OpSemantics {
  const name = `down_${write ? 'write' : 'read'}_trylock`;
  const succeeds = (m: Machine, lock: number): boolean => {
    const lo = m.lockOff(lock);
    // RWSEM_READ_FAILED_MASK: a writer or any waiter; a write trylock needs count == 0.
    const free = m.s[lo + L_OWNER] === 0 && sleepers(m, lock).length === 0;
    return write ? free && m.s[lo + L_READERS] === 0 : free;
  };
  return {
    name,
    operands: [RWSEM, { kind: 'reg-def', field: 'reg' }],
    lockdep: { action: 'acquire', read: write ? 0 : 1, trylock: true },
    // The lock's words, and whether anyone sleeps on it (the status and channel of each task that may). It may fail: no acquire.
    footprint(f, a) {
      f.write(f.lock(a));
      readsSleepersOn(f, Chan.Mutex, a);
    },
    exec(m, _cpu, ctx, a, b) {
      const ok = succeeds(m, a);
      if (ok) {
        const lo = m.lockOff(a);
        if (write) m.w(lo + L_OWNER, ctx + 1);
        else m.w(lo + L_READERS, m.s[lo + L_READERS]! + 1);
        takeHold(m, ctx, a, 0);
      }
      m.setReg(ctx, b, ok ? 1 : 0);
      m.advance(ctx);
    },
    label(m, _cpu, ctx, a) {
      return `${textOf(m, ctx)} → ${succeeds(m, a) ? '1 (acquired)' : '0 (busy)'}`;
    },
  };
}

export const RWSEM_OPS: readonly OpSemantics[] = [
  downOp(false, false), downOp(true, false), downOp(false, true), downOp(true, true),
  upOp(false), upOp(true),
  trylockOp(false), trylockOp(true),
  {
    // downgrade_write(): the writer becomes a reader, and the waiting readers may join (__downgrade_write, rwsem_downgrade_wake).
    name: 'downgrade_write',
    operands: [RWSEM],
    lockdep: { action: 'downgrade', read: 1 },
    // The lock's words; the waiting readers are woken. The context keeps it for read only: no longer exclusive.
    footprint(f, a) {
      f.write(f.lock(a));
      wakesOn(f, Chan.Mutex, a);
      f.release(a);
    },
    exec(m, cpu, ctx, a) {
      const lo = m.lockOff(a);
      if (m.s[lo + L_OWNER] !== ctx + 1) {
        m.fail('lock-misuse', `WARNING: downgrade_write(&${m.lockName(a)}) by ${m.contextName(ctx)}, which does not hold it for write (DEBUG_RWSEMS_WARN_ON(rwsem_owner(sem) != current))`, cpu, ctx);
        return;
      }
      m.w(lo + L_OWNER, 0);
      m.w(lo + L_READERS, m.s[lo + L_READERS]! + 1);
      wakeAll(m, channel(Chan.Mutex, a));
      m.advance(ctx);
    },
  },
  {
    // init_rwsem(): __init_rwsem, after debug_check_no_locks_freed (held-locks.ts initLock).
    name: 'init_rwsem',
    operands: [RWSEM],
    lockdep: { action: 'init', read: 0 },
    // As mutex_init (sleep.ts): this CPU's contexts' held locks, the lock zeroed under whoever holds it.
    footprint(f, a) {
      f.read(f.ownCpu());
      f.write(f.lock(a));
      f.release(a);
      f.resets(a);
    },
    exec(m, cpu, ctx, a) {
      if (initLock(m, cpu, ctx, a, 'init_rwsem')) m.advance(ctx);
    },
  },
];

export const RWSEM_MECHANISM: Mechanism = { name: 'rwsem', ops: RWSEM_OPS };
