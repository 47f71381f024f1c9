/**
 * spinlock_t and rwlock_t with every variant's irq/bh/preempt effect
 * (include/linux/spinlock_api_smp.h `__raw_spin_lock*`, rwlock_api_smp.h;
 * shared/kernel-semantics.md §4.1–4.2).
 *
 * A lock operation runs in phases (X_PHASE):
 *  0  the prologue: irqs off (_irq/_irqsave), bh off (_bh), preempt_count++.
 *     For _irq/_irqsave and plain forms the first acquisition attempt is in
 *     the same step: nothing on this CPU can come between them (irqs are off,
 *     or the gap is invisible). For _bh it is a step of its own, because an
 *     interrupt arriving between local_bh_disable and the acquisition sees
 *     bh disabled and must not run softirqs at its irq_exit.
 *  1  spinning: the instruction is ready only when the acquisition can
 *     progress. A spinner keeps the irq state of its prologue, so with irqs
 *     on it can be interrupted, and the handler may spin too.
 *  2  (rwlock readers) counted in the reader count, waiting for the writer to
 *     unlock: queued_read_lock_slowpath after taking the wait lock, or
 *     directly in interrupt context.
 *
 * Queued rwlocks (kernel/locking/qrwlock.c): a writer that cannot take the
 * lock takes the internal wait lock and sets _QW_WAITING; a reader in task
 * context then queues behind it (B17: recursive read_lock deadlocks), while a
 * reader with in_interrupt() waits only while a writer holds the lock.
 * With `rwlock: 'reader-biased'` (before ≈3.16) readers never wait for a
 * waiting writer.
 *
 * raw_spinlock_t (lock kind `raw_spinlock`, the raw_spin_* ops) is the same
 * spinning lock on every profile, PREEMPT_RT included.
 *
 * PREEMPT_RT (flag `preemptRT`; kernel/locking/spinlock_rt.c, rwbase_rt.c,
 * include/linux/spinlock_rt.h): spinlock_t and rwlock_t are rt_mutex based
 * sleeping locks. `rt_spin_lock`: rtlock_might_resched() first, so with a
 * preempt count (a raw spinlock held, preempt_disable, hardirq or NMI) or
 * irqs disabled it is "BUG: sleeping function called from invalid
 * context" whether or not it would block; then the lock is taken, or the
 * task sleeps until the owner unlocks (rtlock_slowlock) and tries again.
 * The holder stays preemptible (migrate_disable, no preempt_count), and
 * the _irq/_irqsave forms leave irqs alone (spin_lock_irqsave gives flags
 * 0). rwlock_t: a reader waits only while a writer holds the lock, a writer
 * until it is free (rwbase_read_lock / rwbase_write_lock); readers are not
 * queued behind a waiting writer (rwbase_rt has no reader queueing).
 * Over-approximations and what is not modelled on RT: priority inheritance
 * is ordering only (a woken waiter may run in any order with the others: no
 * priorities, no PI chains, so no latency or starvation verdict, B55); the
 * rt_mutex handoff to the top waiter is a re-attempt by every woken waiter
 * (any of them may win); migrate_disable is not enforced (a preempted holder
 * of a task with `allowed` CPUs may be moved by load balancing); a softirq
 * or interrupt frame that would sleep on a held rt lock (a softirq on RT is
 * a preemptible task context) ends its path bounded-out naming it
 * (ModelBound.RtFrameSleep), since kdefer runs softirqs as frames on the
 * CPU, not as tasks that can sleep.
 *
 * Read recursion: one context may hold an rwlock for read several times
 * (the lock word only counts readers, _QR_BIAS per read_lock). X_HELD has
 * one bit per lock, so the extra references live in a word per rwlock and
 * context (readNestOff) and the bit is cleared only by the last read_unlock.
 */
import {
  C_BH, C_HARDIRQ, C_IRQS_OFF, C_NMI, C_PREEMPT, ContextStatus, L_OWNER, L_QHOLDER, L_QWRITER, L_READERS,
  ModelBound, X_HELD, X_PC, X_PHASE, X_STATUS,
} from './layout.ts';
import type { Machine } from './machine.ts';
import { INSN_WIDTH } from './program.ts';
import type { Mechanism, OpSemantics, OperandSpec, WaitEdge } from './semantics.ts';
import { block, Chan, channel, preemptDec, wakeAll, whereOf } from './scheduler.ts';
import { bhEnable, heldNames } from './softirq.ts';

type Mode = 'spin' | 'read' | 'write';
type Flavour = 'plain' | 'irq' | 'irqsave' | 'bh';

const enum Try {
  Acquired,
  Progress,
  Blocked,
}

const PHASE_SPIN = 1;
const PHASE_COUNTED = 2;

/**
 * The state word counting `ctx`'s extra read references to rwlock `lock`
 * (Layout.readNestSlot: one word per rwlock and context, so recursion is
 * exact for any number of locks and any depth).
 */
function readNestOff(m: Machine, ctx: number, lock: number): number {
  const slot = m.L.readNestSlot[lock]!;
  if (slot < 0) throw new Error(`kdefer internal error: read recursion on &${m.lockName(lock)}, which is not an rwlock`);
  return m.ctxOff(ctx) + m.L.readNestBase + slot;
}

/** `ctx`'s extra read references to `lock` in state `s` (0 for a lock that is not an rwlock). */
export function readNesting(m: Machine, s: Int32Array, ctx: number, lock: number): number {
  const slot = m.L.readNestSlot[lock]!;
  return slot < 0 ? 0 : s[m.ctxOff(ctx) + m.L.readNestBase + slot]!;
}

/** A further read_lock of `lock` by a context that already read-holds it (one more _QR_BIAS). */
function nestRead(m: Machine, ctx: number, lock: number): void {
  const off = readNestOff(m, ctx, lock);
  m.w(off, m.s[off]! + 1);
}

/** Drop one extra read reference of `lock`; false if this was the context's last one. */
function unnestRead(m: Machine, ctx: number, lock: number): boolean {
  const off = readNestOff(m, ctx, lock);
  if (m.s[off] === 0) return false;
  m.w(off, m.s[off]! - 1);
  return true;
}

const writerWaiting = (m: Machine, lo: number): boolean => m.s[lo + L_QHOLDER] !== 0 && m.s[lo + L_QWRITER] !== 0;

/** Take `lock` for `ctx` (attempt's success path); with `commit` false only says so. */
function acquire(m: Machine, ctx: number, mode: Mode, lock: number, phase: number, commit: boolean, lo: number, me: number, readers: number, qholder: number): Try {
  const s = m.s;
  if (commit) {
    const o = m.ctxOff(ctx);
    if (mode === 'read') {
      if (phase !== PHASE_COUNTED) m.w(lo + L_READERS, readers + 1);
      if ((s[o + X_HELD]! & (1 << lock)) !== 0) nestRead(m, ctx, lock);
    } else {
      m.w(lo + L_OWNER, me);
    }
    if (qholder === me) {
      m.w(lo + L_QHOLDER, 0);
      m.w(lo + L_QWRITER, 0);
    }
    m.w(o + X_HELD, s[o + X_HELD]! | (1 << lock));
  }
  return Try.Acquired;
}

/**
 * One acquisition attempt. With `commit` false it only tells what would
 * happen (for `ready` and labels); with `commit` true it changes the state.
 */
function attempt(m: Machine, cpu: number, ctx: number, mode: Mode, lock: number, phase: number, commit: boolean): Try {
  const s = m.s;
  const lo = m.lockOff(lock);
  const me = ctx + 1;
  const owner = s[lo + L_OWNER]!;
  const readers = s[lo + L_READERS]!;
  const qholder = s[lo + L_QHOLDER]!;
  if (mode === 'spin') return owner === 0 ? acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder) : Try.Blocked;
  const queued = m.p.flags.rwlock === 'qrwlock';
  if (mode === 'write') {
    if (!queued) return owner === 0 && readers === 0 ? acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder) : Try.Blocked;
    if (qholder === me) return owner === 0 && readers === 0 ? acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder) : Try.Blocked;
    // queued_write_lock: fast path cmpxchg(0 -> _QW_LOCKED).
    if (owner === 0 && readers === 0 && !writerWaiting(m, lo)) return acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder);
    // queued_write_lock_slowpath: take wait_lock, set _QW_WAITING, wait for readers to drain.
    if (qholder === 0) {
      if (commit) {
        m.w(lo + L_QHOLDER, me);
        m.w(lo + L_QWRITER, 1);
      }
      return Try.Progress;
    }
    return Try.Blocked;
  }
  // read
  if (!queued) return owner === 0 ? acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder) : Try.Blocked;
  if (phase === PHASE_COUNTED) return owner === 0 ? acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder) : Try.Blocked;
  // queued_read_lock fast path: no writer holding or waiting.
  if (owner === 0 && !writerWaiting(m, lo)) return acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder);
  if (m.inInterrupt(cpu)) {
    // queued_read_lock_slowpath, in_interrupt(): keep the reader bias, wait only for _QW_LOCKED.
    if (owner === 0) return acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder);
    if (commit) {
      m.w(lo + L_READERS, readers + 1);
      m.w(m.ctxOff(ctx) + X_PHASE, PHASE_COUNTED);
    }
    return Try.Progress;
  }
  // Task context: queue on the wait lock (FIFO with writers), then add the bias and wait for _QW_LOCKED.
  if (qholder !== 0) return Try.Blocked;
  if (owner === 0) return acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder);
  if (commit) {
    m.w(lo + L_QHOLDER, me);
    m.w(lo + L_QWRITER, 0);
    m.w(lo + L_READERS, readers + 1);
    m.w(m.ctxOff(ctx) + X_PHASE, PHASE_COUNTED);
  }
  return Try.Progress;
}

const phaseOf = (m: Machine, ctx: number): number => m.s[m.ctxOff(ctx) + X_PHASE]!;
const textOf = (m: Machine, ctx: number): string => m.p.text[m.s[m.ctxOff(ctx) + X_PC]! / INSN_WIDTH]!;
/** `hardirq eth0: spin_lock(&L)`, for wait-for edges. */
const whoDoes = (m: Machine, ctx: number): string => `${m.contextName(ctx)}: ${textOf(m, ctx)}`;

/** Names the holder(s) a blocked acquisition waits for. */
function waitEdge(m: Machine, ctx: number, mode: Mode, lock: number): WaitEdge {
  const s = m.s;
  const lo = m.lockOff(lock);
  const owner = s[lo + L_OWNER]!;
  const qholder = s[lo + L_QHOLDER]!;
  const name = `&${m.lockName(lock)}`;
  if (owner !== 0) return { on: [owner - 1], why: `${whoDoes(m, ctx)} spins: ${name} is held by ${m.contextName(owner - 1)}` };
  if (mode === 'write' && (qholder === 0 || qholder === ctx + 1)) {
    // The writer's own read hold counts: read_lock(X); write_lock(X) waits for itself.
    const readers = readerContexts(m, lock);
    const own = readers.includes(ctx) ? ' (itself: it read-holds the lock it waits to write)' : '';
    return { on: readers, why: `${whoDoes(m, ctx)} spins: ${name} is read-held by ${readers.map((r) => m.contextName(r)).join(', ')}${own}` };
  }
  if (qholder !== 0 && qholder !== ctx + 1) {
    const what = s[lo + L_QWRITER] ? 'a writer waiting for readers to drain' : 'a queued reader';
    return { on: [qholder - 1], why: `${whoDoes(m, ctx)} spins: queued behind ${what} (${m.contextName(qholder - 1)})` };
  }
  return { on: [], why: `${whoDoes(m, ctx)} spins on ${name}` };
}

/** Contexts holding `lock` for read, or counted as readers waiting for the writer. */
function readerContexts(m: Machine, lock: number): number[] {
  const out: number[] = [];
  const owner = m.s[m.lockOff(lock) + L_OWNER]! - 1;
  for (let ctx = 0; ctx < m.L.nctx; ctx++) {
    const o = m.ctxOff(ctx);
    if (m.s[o + X_STATUS] !== ContextStatus.Running) continue;
    if ((m.s[o + X_HELD]! & (1 << lock)) !== 0 && ctx !== owner) out.push(ctx);
    else if (m.s[o + X_PHASE] === PHASE_COUNTED && operandLock(m, ctx) === lock) out.push(ctx);
  }
  return out;
}
const operandLock = (m: Machine, ctx: number): number => m.code[m.s[m.ctxOff(ctx) + X_PC]! + 1]!;

function prologue(m: Machine, cpu: number, ctx: number, flavour: Flavour, flagsReg: number): void {
  const s = m.s;
  const co = m.cpuOff(cpu);
  if (flavour === 'irqsave') m.setReg(ctx, flagsReg, s[co + C_IRQS_OFF]!);
  if (flavour === 'irq' || flavour === 'irqsave') m.w(co + C_IRQS_OFF, 1);
  if (flavour === 'bh') m.w(co + C_BH, s[co + C_BH]! + 1);
  m.w(co + C_PREEMPT, s[co + C_PREEMPT]! + 1);
}

const LOCK_NAMES: Record<Mode, Record<Flavour, string>> = {
  spin: { plain: 'spin_lock', irq: 'spin_lock_irq', irqsave: 'spin_lock_irqsave', bh: 'spin_lock_bh' },
  read: { plain: 'read_lock', irq: 'read_lock_irq', irqsave: 'read_lock_irqsave', bh: 'read_lock_bh' },
  write: { plain: 'write_lock', irq: 'write_lock_irq', irqsave: 'write_lock_irqsave', bh: 'write_lock_bh' },
};
const UNLOCK_NAMES: Record<Mode, Record<Flavour, string>> = {
  spin: { plain: 'spin_unlock', irq: 'spin_unlock_irq', irqsave: 'spin_unlock_irqrestore', bh: 'spin_unlock_bh' },
  read: { plain: 'read_unlock', irq: 'read_unlock_irq', irqsave: 'read_unlock_irqrestore', bh: 'read_unlock_bh' },
  write: { plain: 'write_unlock', irq: 'write_unlock_irq', irqsave: 'write_unlock_irqrestore', bh: 'write_unlock_bh' },
};

const lockOperand = (mode: Mode, raw = false): OperandSpec =>
  ({ kind: 'lock', field: 'lock', lockKind: raw ? 'raw_spinlock' : mode === 'spin' ? 'spinlock' : 'rwlock' });

/** raw_spin_lock_irqsave for spin_lock_irqsave, and so on (include/linux/spinlock.h). */
const rawName = (name: string): string => `raw_${name}`;

/** Whether a spinlock_t / rwlock_t operation sleeps here: PREEMPT_RT and not a raw_spinlock_t. */
const rtLock = (m: Machine, raw: boolean): boolean => !raw && m.p.flags.preemptRT;

/**
 * rtlock_might_resched() → __might_resched(): on RT, preempt_count (the
 * preempt, hardirq and NMI parts; bh and softirq-serving are per task on
 * RT, not in preempt_count) must be 0 and irqs on, at every spin_lock,
 * read_lock, write_lock of a spinlock_t/rwlock_t, contended or not. False
 * and a sleep-in-atomic violation otherwise.
 */
function rtMightResched(m: Machine, cpu: number, ctx: number, what: string): boolean {
  const co = m.cpuOff(cpu);
  const count = m.s[co + C_PREEMPT]! + m.s[co + C_HARDIRQ]! * 0x10000 + m.s[co + C_NMI]! * 0x100000;
  const irqsOff = m.irqsOff(cpu);
  if (count === 0 && !irqsOff) return true;
  const held = m.held(ctx);
  const where = m.s[co + C_NMI]! > 0 ? ' in NMI context' : m.inHardirq(cpu) ? ' in hardirq context' : '';
  m.fail('sleep-in-atomic',
    `BUG: sleeping function called from invalid context at ${whereOf(m, ctx)}\n` +
    `in_atomic(): ${count !== 0 ? 1 : 0}, irqs_disabled(): ${irqsOff ? 1 : 0}, non_block: 0, name: ${m.contextName(ctx)}\n` +
    `preempt_count: ${count.toString(16)}, expected: 0\n` +
    `${what} (PREEMPT_RT: a sleeping rt_mutex lock, rtlock_might_resched)${held ? ` with ${heldNames(m, held)} held` : ''}${where}`,
    cpu, ctx);
  return false;
}

/** Would an RT acquisition succeed now? A reader needs no writer, a writer a free lock (rwbase_rt). */
function rtFree(m: Machine, mode: Mode, lock: number): boolean {
  const lo = m.lockOff(lock);
  if (mode === 'read') return m.s[lo + L_OWNER] === 0;
  return m.s[lo + L_OWNER] === 0 && m.s[lo + L_READERS] === 0;
}

/** Take an RT lock that rtFree says is free. */
function rtTake(m: Machine, ctx: number, mode: Mode, lock: number): void {
  const lo = m.lockOff(lock);
  const o = m.ctxOff(ctx);
  if (mode === 'read') {
    m.w(lo + L_READERS, m.s[lo + L_READERS]! + 1);
    if ((m.s[o + X_HELD]! & (1 << lock)) !== 0) nestRead(m, ctx, lock);
  } else {
    m.w(lo + L_OWNER, ctx + 1);
  }
  m.w(o + X_HELD, m.s[o + X_HELD]! | (1 << lock));
}

/**
 * One step of an RT spin_lock/read_lock/write_lock past its prologue: take
 * the lock, or sleep on it (rtlock_slowlock_locked: the task blocks in
 * TASK_RTLOCK_WAIT and retries when the owner unlocks). A frame cannot
 * sleep in kdefer: its path ends bounded-out (see the file header).
 */
function rtAcquire(m: Machine, cpu: number, ctx: number, mode: Mode, lock: number, text: string): void {
  if (rtFree(m, mode, lock)) {
    rtTake(m, ctx, mode, lock);
    m.advance(ctx);
    return;
  }
  if (m.isTask(ctx)) {
    m.w(m.ctxOff(ctx) + X_PHASE, PHASE_SPIN);
    block(m, cpu, ctx, channel(Chan.Mutex, lock));
    return;
  }
  m.modelBound(ModelBound.RtFrameSleep, `${m.contextName(ctx)}: ${text} would sleep on &${m.lockName(lock)} (PREEMPT_RT), held by ${rtHolders(m, lock)}`);
}

function rtHolders(m: Machine, lock: number): string {
  const owner = m.s[m.lockOff(lock) + L_OWNER]!;
  if (owner !== 0) return m.contextName(owner - 1);
  return readerContexts(m, lock).map((c) => m.contextName(c)).join(', ') || 'nobody';
}

function lockOp(mode: Mode, flavour: Flavour, raw = false): OpSemantics {
  const operands: OperandSpec[] = [lockOperand(mode, raw)];
  if (flavour === 'irqsave') operands.push({ kind: 'reg-def', field: 'flags' });
  const name = raw ? rawName(LOCK_NAMES[mode][flavour]) : LOCK_NAMES[mode][flavour];
  return {
    name,
    operands,
    // The prologue (irqs, bh, preempt of this CPU), the lock word; a reader shares the lock.
    footprint(f, a) {
      f.write(f.ownCpu());
      f.write(f.lock(a));
      if (mode !== 'read') f.acquire(a);
    },
    ready(m, cpu, ctx, a) {
      // On RT a task re-attempts when woken (it may sleep again); a frame's attempt ends its path.
      if (rtLock(m, raw)) return true;
      const phase = phaseOf(m, ctx);
      return phase === 0 || attempt(m, cpu, ctx, mode, a, phase, false) !== Try.Blocked;
    },
    exec(m, cpu, ctx, a, b) {
      const o = m.ctxOff(ctx);
      const phase = m.s[o + X_PHASE]!;
      if (phase === 0) {
        // Recursion by the same context: spinlock debug "BUG: spinlock recursion";
        // lockdep "possible recursive locking detected". Read recursion is allowed.
        if (mode !== 'read' && m.s[m.lockOff(a) + L_OWNER] === ctx + 1) {
          m.fail('lock-misuse', `BUG: ${mode === 'spin' ? 'spinlock' : 'rwlock'} recursion on CPU#${cpu}: ${m.contextName(ctx)} already holds &${m.lockName(a)} (${name})`, cpu, ctx);
          return;
        }
        if (!raw && m.inNmi(cpu) && !m.p.flags.preemptRT) {
          // A spinlock_t in NMI: the interrupted context may hold it; NMI code takes only raw
          // spinlocks (with trylock) or NMI-safe primitives (Documentation/locking/locktypes.rst).
          m.fail('lock-misuse', `BUG: ${name}(&${m.lockName(a)}) in NMI context on CPU#${cpu}: a ${mode === 'spin' ? 'spinlock_t' : 'rwlock_t'} is not NMI-safe (the context the NMI interrupted may hold it); NMI code may take only raw spinlocks or NMI-safe primitives`, cpu, ctx);
          return;
        }
        if (rtLock(m, raw)) {
          if (flavour === 'bh') {
            // spin_lock_bh on RT: local_bh_disable(), then rt_spin_lock.
            m.w(m.cpuOff(cpu) + C_BH, m.s[m.cpuOff(cpu) + C_BH]! + 1);
            m.w(o + X_PHASE, PHASE_SPIN);
            return;
          }
          if (!rtMightResched(m, cpu, ctx, `${name}(&${m.lockName(a)})`)) return;
          // spin_lock_irqsave on RT: flags = 0, irqs untouched (include/linux/spinlock_rt.h).
          if (flavour === 'irqsave') m.setReg(ctx, b, 0);
          rtAcquire(m, cpu, ctx, mode, a, name);
          return;
        }
        prologue(m, cpu, ctx, flavour, b);
        m.w(o + X_PHASE, PHASE_SPIN);
        if (flavour === 'bh') return;
      }
      if (rtLock(m, raw)) {
        // After the _bh prologue, or woken from the rt_mutex wait: rtlock_might_resched again, then try.
        if (!rtMightResched(m, cpu, ctx, `${name}(&${m.lockName(a)})`)) return;
        rtAcquire(m, cpu, ctx, mode, a, name);
        return;
      }
      const phaseNow = m.s[o + X_PHASE]!;
      if (attempt(m, cpu, ctx, mode, a, phaseNow, true) === Try.Acquired) m.advance(ctx);
    },
    label(m, cpu, ctx, a) {
      const text = textOf(m, ctx);
      const phase = phaseOf(m, ctx);
      if (phase === 0 && flavour === 'bh') return `${text}: local_bh_disable`;
      if (rtLock(m, raw)) {
        if (rtFree(m, mode, a)) return phase === 0 ? text : `${text}: acquires &${m.lockName(a)}`;
        return `${text}: &${m.lockName(a)} is held by ${rtHolders(m, a)}: ${m.isTask(ctx) ? 'sleeps (rt_mutex, PREEMPT_RT)' : 'would sleep (PREEMPT_RT)'}`;
      }
      const result = attempt(m, cpu, ctx, mode, a, phase === 0 ? PHASE_SPIN : phase, false);
      if (result === Try.Acquired) return phase === 0 ? text : `${text}: acquires &${m.lockName(a)}`;
      if (result === Try.Progress) {
        return m.inInterrupt(cpu) && mode === 'read'
          ? `${text}: writer holds it; counted as reader, spins until it unlocks`
          : `${text}: takes the qrwlock wait lock${mode === 'write' ? ' and sets _QW_WAITING' : ''}, spins`;
      }
      const lo = m.lockOff(a);
      const qholder = m.s[lo + L_QHOLDER]!;
      if (mode !== 'spin' && m.s[lo + L_OWNER] === 0 && qholder !== 0 && qholder !== ctx + 1) {
        // queued_read_lock_slowpath / queued_write_lock_slowpath: arch_spin_lock(&lock->wait_lock).
        return `${text}: queues behind ${m.s[lo + L_QWRITER] ? 'the waiting writer' : 'a queued reader'} on the qrwlock wait lock, spins`;
      }
      return `${text}: &${m.lockName(a)} is busy, spins`;
    },
    waitsFor(m, _cpu, ctx, a) {
      if (rtLock(m, raw)) {
        const lo = m.lockOff(a);
        const owner = m.s[lo + L_OWNER]!;
        const on = owner !== 0 ? [owner - 1] : mode === 'write' ? readerContexts(m, a) : [];
        return { on, why: `${m.contextName(ctx)}: ${textOf(m, ctx)} sleeps (rt_mutex, PREEMPT_RT): &${m.lockName(a)} is held by ${rtHolders(m, a)}` };
      }
      return waitEdge(m, ctx, mode, a);
    },
  };
}

/**
 * Release `lock` held by `ctx` in `mode`; false (and a violation) if it is
 * not: kernel/locking/spinlock_debug.c debug_spin_unlock ("already
 * unlocked", "wrong owner"), and lockdep's print_unlock_imbalance_bug
 * ("bad unlock balance detected!") for a read_unlock without read_lock.
 */
function release(m: Machine, cpu: number, ctx: number, mode: Mode, lock: number): boolean {
  const s = m.s;
  const lo = m.lockOff(lock);
  const o = m.ctxOff(ctx);
  const owner = s[lo + L_OWNER]!;
  const bit = 1 << lock;
  const name = `&${m.lockName(lock)}`;
  if (mode === 'read') {
    const readHeld = (s[o + X_HELD]! & bit) !== 0 && owner !== ctx + 1;
    if (!readHeld) {
      m.fail('lock-misuse', `WARNING: bad unlock balance detected! ${m.contextName(ctx)} is trying to release lock (${name}) on CPU#${cpu}: not read-held by this context${s[lo + L_READERS]! > 0 ? ' (held by another context)' : ''}`, cpu, ctx);
      return false;
    }
    m.w(lo + L_READERS, s[lo + L_READERS]! - 1);
    // queued_read_unlock drops one _QR_BIAS; the context still read-holds the lock if it nested.
    if (unnestRead(m, ctx, lock)) return true;
  } else {
    if (owner !== ctx + 1) {
      const why = owner === 0 ? 'already unlocked' : `wrong owner: held by ${m.contextName(owner - 1)}`;
      const what = mode === 'spin' ? 'spinlock' : 'rwlock';
      m.fail('lock-misuse', `BUG: ${what} ${why} on CPU#${cpu}, ${m.contextName(ctx)} releasing ${name}`, cpu, ctx);
      return false;
    }
    m.w(lo + L_OWNER, 0);
  }
  m.w(o + X_HELD, s[o + X_HELD]! & ~bit);
  return true;
}

function unlockOp(mode: Mode, flavour: Flavour, raw = false): OpSemantics {
  const operands: OperandSpec[] = [lockOperand(mode, raw)];
  if (flavour === 'irqsave') operands.push({ kind: 'reg-use', field: 'flags' });
  const name = raw ? rawName(UNLOCK_NAMES[mode][flavour]) : UNLOCK_NAMES[mode][flavour];
  return {
    name,
    operands,
    // The lock word, this CPU's counts; the _bh form is a softirq run point (a frame on this CPU).
    footprint(f, a) {
      f.write(f.ownCpu());
      f.write(f.lock(a));
      f.release(a);
    },
    exec(m, cpu, ctx, a, b) {
      if (!release(m, cpu, ctx, mode, a)) return;
      if (rtLock(m, raw)) {
        // rt_spin_unlock: migrate_enable, rcu_read_unlock, release; the slow path wakes the waiters
        // (every one re-attempts: PI as ordering only). _irq/_irqrestore leave irqs alone.
        wakeAll(m, channel(Chan.Mutex, a));
        m.advance(ctx);
        if (flavour === 'bh') bhEnable(m, cpu, ctx, `${name}(&${m.lockName(a)})`);
        return;
      }
      const co = m.cpuOff(cpu);
      if (flavour === 'irq') m.w(co + C_IRQS_OFF, 0);
      if (flavour === 'irqsave') m.w(co + C_IRQS_OFF, m.reg(ctx, b) !== 0 ? 1 : 0);
      if (!preemptDec(m, cpu, ctx)) return;
      m.advance(ctx);
      if (flavour === 'bh') bhEnable(m, cpu, ctx, `${name}(&${m.lockName(a)})`);
    },
  };
}

const TRYLOCKS: readonly { name: string; mode: Mode; flavour: Flavour; raw?: boolean }[] = [
  { name: 'raw_spin_trylock', mode: 'spin', flavour: 'plain', raw: true },
  { name: 'raw_spin_trylock_irqsave', mode: 'spin', flavour: 'irqsave', raw: true },
  { name: 'spin_trylock', mode: 'spin', flavour: 'plain' },
  { name: 'spin_trylock_bh', mode: 'spin', flavour: 'bh' },
  { name: 'spin_trylock_irq', mode: 'spin', flavour: 'irq' },
  { name: 'spin_trylock_irqsave', mode: 'spin', flavour: 'irqsave' },
  { name: 'read_trylock', mode: 'read', flavour: 'plain' },
  { name: 'write_trylock', mode: 'write', flavour: 'plain' },
];

/** Would a trylock succeed now? (queued_read_trylock / queued_write_trylock) */
function trylockSucceeds(m: Machine, mode: Mode, lock: number): boolean {
  const lo = m.lockOff(lock);
  const owner = m.s[lo + L_OWNER]!;
  if (mode === 'spin') return owner === 0;
  const waiting = m.p.flags.rwlock === 'qrwlock' && writerWaiting(m, lo);
  if (mode === 'read') return owner === 0 && !waiting;
  return owner === 0 && m.s[lo + L_READERS] === 0 && !waiting;
}

/**
 * A trylock: the same prologue; acquire and return 1, or undo the prologue
 * and return 0 (never spins). Only the _bh failure path is a softirq run
 * point (__raw_spin_trylock_bh undoes with __local_bh_enable_ip). Operands:
 * lock, result register, flags register (irqsave only).
 */
function trylockOp(name: string, mode: Mode, flavour: Flavour, raw = false): OpSemantics {
  const operands: OperandSpec[] = [lockOperand(mode, raw), { kind: 'reg-def', field: 'reg' }];
  if (flavour === 'irqsave') operands.push({ kind: 'reg-def', field: 'flags' });
  return {
    name,
    operands,
    footprint(f, a) {
      f.write(f.ownCpu());
      f.write(f.lock(a));
    },
    exec(m, cpu, ctx, a, b, c) {
      if (rtLock(m, raw)) {
        // rt_spin_trylock / rwbase trylock: no might_resched, never sleeps; irqs untouched on RT.
        if (flavour === 'irqsave') m.setReg(ctx, c, 0);
        if (flavour === 'bh') m.w(m.cpuOff(cpu) + C_BH, m.s[m.cpuOff(cpu) + C_BH]! + 1);
        const ok = rtFree(m, mode, a);
        if (ok) rtTake(m, ctx, mode, a);
        m.setReg(ctx, b, ok ? 1 : 0);
        m.advance(ctx);
        if (!ok && flavour === 'bh') bhEnable(m, cpu, ctx, `${name}(&${m.lockName(a)}) failure path`);
        return;
      }
      prologue(m, cpu, ctx, flavour, c);
      if (trylockSucceeds(m, mode, a)) {
        attempt(m, cpu, ctx, mode, a, 0, true);
        m.setReg(ctx, b, 1);
        m.advance(ctx);
        return;
      }
      m.setReg(ctx, b, 0);
      const co = m.cpuOff(cpu);
      if (flavour === 'irq') m.w(co + C_IRQS_OFF, 0);
      if (flavour === 'irqsave') m.w(co + C_IRQS_OFF, m.reg(ctx, c) !== 0 ? 1 : 0);
      m.w(co + C_PREEMPT, m.s[co + C_PREEMPT]! - 1);
      m.advance(ctx);
      if (flavour === 'bh') bhEnable(m, cpu, ctx, `${name}(&${m.lockName(a)}) failure path`);
    },
    label(m, _cpu, ctx, a) {
      const ok = rtLock(m, raw) ? rtFree(m, mode, a) : trylockSucceeds(m, mode, a);
      return `${textOf(m, ctx)} → ${ok ? '1 (acquired)' : '0 (busy)'}`;
    },
  };
}

/** A new op's footprint is the lead's to declare (undeclared: dependent on everything, sound). */
function withoutFootprint(op: OpSemantics): OpSemantics {
  const { footprint: _dropped, ...rest } = op;
  return rest;
}

const MODES: readonly Mode[] = ['spin', 'read', 'write'];
const FLAVOURS: readonly Flavour[] = ['plain', 'irq', 'irqsave', 'bh'];

const SLEEPING_LOCK_OPS: readonly OpSemantics[] = [
  ...MODES.flatMap((mode) => FLAVOURS.flatMap((fl) => [lockOp(mode, fl), unlockOp(mode, fl)])),
  ...TRYLOCKS.filter((t) => !t.raw).map((t) => trylockOp(t.name, t.mode, t.flavour)),
];

/** The prefix of the op the compiler emits for a spinlock_t/rwlock_t op on PREEMPT_RT (`rt:spin_lock`). */
export const RT_OP_PREFIX = 'rt:';

export const SPINLOCK_OPS: readonly OpSemantics[] = [
  ...SLEEPING_LOCK_OPS,
  // raw_spinlock_t: the spinning lock on every kernel (no footprint declared yet: conflicts with everything).
  ...FLAVOURS.flatMap((fl) => [withoutFootprint(lockOp('spin', fl, true)), withoutFootprint(unlockOp('spin', fl, true))]),
  ...TRYLOCKS.filter((t) => t.raw).map((t) => withoutFootprint(trylockOp(t.name, t.mode, t.flavour, true))),
  // PREEMPT_RT: the same operations as sleeping locks (they block and wake tasks), emitted by the
  // compiler in place of the design's op; no footprint declared yet: they conflict with everything.
  ...SLEEPING_LOCK_OPS.map((op): OpSemantics => ({ ...withoutFootprint(op), name: `${RT_OP_PREFIX}${op.name}`, internal: true })),
];

export const SPINLOCK: Mechanism = { name: 'spinlock', ops: SPINLOCK_OPS };
