/**
 * spinlock_t, raw_spinlock_t and rwlock_t with every variant's
 * irq/bh/preempt effect (include/linux/spinlock_api_smp.h
 * `__raw_spin_lock*`, rwlock_api_smp.h; shared/kernel-semantics.md
 * §4.1–4.2). On !PREEMPT_RT a spinlock_t is a raw_spinlock_t
 * (include/linux/spinlock.h: spin_lock() is raw_spin_lock(&lock->rlock)),
 * so both run the same code here; they differ only in lockdep's wait type
 * (model/kernel/lock-kinds.ts), which makes a spinlock_t taken inside a
 * raw_spinlock_t section lockdep's "Invalid wait context".
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
 * Read recursion: one context may hold an rwlock for read several times
 * (the lock word only counts readers, _QR_BIAS per read_lock). X_HELD has
 * one bit per lock, so the extra references live in a word per rwlock and
 * context (held-locks.ts) and the bit is cleared only by the last
 * read_unlock.
 *
 * NMI: a spinlock_t or rwlock_t taken in NMI context is reported
 * (lock-misuse): the context the NMI interrupted may hold it, and NMI code
 * may take only raw spinlocks, with trylock, or NMI-safe primitives
 * (Documentation/locking/locktypes.rst). A raw_spin_lock in NMI is allowed
 * and deadlocks when the interrupted context holds the lock (B20).
 *
 * PREEMPT_RT (flag `preemptRT`; kernel/locking/spinlock_rt.c, rwbase_rt.c,
 * include/linux/spinlock_rt.h): spinlock_t and rwlock_t are rt_mutex based
 * sleeping locks; the compiler emits the `rt:` form of each of their ops
 * (RT_OP_PREFIX). `rt_spin_lock`: rtlock_might_resched() first, so with a
 * preempt count (a raw spinlock held, preempt_disable, hardirq or NMI) or
 * irqs disabled it is "BUG: sleeping function called from invalid
 * context" whether or not it would block; then the lock is taken, or the
 * task sleeps until the owner unlocks (rtlock_slowlock) and tries again.
 * The holder stays preemptible (migrate_disable, no preempt_count), and
 * the _irq/_irqsave forms leave irqs alone (spin_lock_irqsave gives flags
 * 0). rwlock_t: a reader waits only while a writer holds the lock, a writer
 * until it is free (rwbase_read_lock / rwbase_write_lock); readers are not
 * queued behind a waiting writer (rwbase_rt has no reader queueing).
 * raw_spinlock_t spins on every profile.
 * Over-approximations and what is not modelled on RT: priority inheritance
 * is ordering only (a woken waiter may run in any order with the others: no
 * priorities, no PI chains, so no latency or starvation verdict, B55); the
 * rt_mutex handoff to the top waiter is a re-attempt by every woken waiter
 * (any of them may win); migrate_disable is not enforced (a preempted holder
 * of a task with `allowed` CPUs may be moved by load balancing); a softirq
 * or interrupt frame that would sleep on a held rt lock (a softirq on RT is
 * a preemptible task context) ends its path bounded-out naming it
 * (ModelBound.RtFrameSleep), since kdefer runs softirqs as frames on the
 * CPU, not as tasks that can sleep. The `rt:` ops' partial-order footprint
 * is their spinning form's plus the lock's sleep or the unlock's wakeup
 * (rtForm).
 */
import {
  C_BH, C_HARDIRQ, C_IRQS_OFF, C_NMI, C_PREEMPT, ContextStatus, L_OWNER, L_QHOLDER, L_QWRITER, L_READERS,
  ModelBound, X_HELD, X_PC, X_PHASE, X_STATUS,
} from './layout.ts';
import type { LockKind } from './lock-kinds.ts';
import { dropHold, initLock, MAX_SUBCLASSES, selfDeadlock, takeHold } from './held-locks.ts';
import type { Machine } from './machine.ts';
import { INSN_WIDTH } from './program.ts';
import type { LockdepAction, Mechanism, OpSemantics, OperandSpec, WaitEdge } from './semantics.ts';
import { block, Chan, channel, preemptDec, sleeps, wakeAll, wakesOn, whereOf } from './scheduler.ts';
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

const writerWaiting = (m: Machine, lo: number): boolean => m.s[lo + L_QHOLDER] !== 0 && m.s[lo + L_QWRITER] !== 0;

/** Take `lock` for `ctx` (attempt's success path); with `commit` false only says so. */
function acquire(m: Machine, ctx: number, mode: Mode, lock: number, phase: number, commit: boolean, lo: number, me: number, readers: number, qholder: number, subclass: number): Try {
  if (commit) {
    if (mode === 'read') {
      if (phase !== PHASE_COUNTED) m.w(lo + L_READERS, readers + 1);
    } else {
      m.w(lo + L_OWNER, me);
    }
    if (qholder === me) {
      m.w(lo + L_QHOLDER, 0);
      m.w(lo + L_QWRITER, 0);
    }
    // A further read_lock by a reader counts one more _QR_BIAS (held-locks.ts).
    takeHold(m, ctx, lock, subclass);
  }
  return Try.Acquired;
}

/**
 * One acquisition attempt. With `commit` false it only tells what would
 * happen (for `ready` and labels); with `commit` true it changes the state.
 */
function attempt(m: Machine, cpu: number, ctx: number, mode: Mode, lock: number, phase: number, commit: boolean, subclass = 0): Try {
  const s = m.s;
  const lo = m.lockOff(lock);
  const me = ctx + 1;
  const owner = s[lo + L_OWNER]!;
  const readers = s[lo + L_READERS]!;
  const qholder = s[lo + L_QHOLDER]!;
  if (mode === 'spin') return owner === 0 ? acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder, subclass) : Try.Blocked;
  const queued = m.p.flags.rwlock === 'qrwlock';
  if (mode === 'write') {
    if (!queued) return owner === 0 && readers === 0 ? acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder, subclass) : Try.Blocked;
    if (qholder === me) return owner === 0 && readers === 0 ? acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder, subclass) : Try.Blocked;
    // queued_write_lock: fast path cmpxchg(0 -> _QW_LOCKED).
    if (owner === 0 && readers === 0 && !writerWaiting(m, lo)) return acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder, subclass);
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
  if (!queued) return owner === 0 ? acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder, subclass) : Try.Blocked;
  if (phase === PHASE_COUNTED) return owner === 0 ? acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder, subclass) : Try.Blocked;
  // queued_read_lock fast path: no writer holding or waiting.
  if (owner === 0 && !writerWaiting(m, lo)) return acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder, subclass);
  if (m.inInterrupt(cpu)) {
    // queued_read_lock_slowpath, in_interrupt(): keep the reader bias, wait only for _QW_LOCKED.
    if (owner === 0) return acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder, subclass);
    if (commit) {
      m.w(lo + L_READERS, readers + 1);
      m.w(m.ctxOff(ctx) + X_PHASE, PHASE_COUNTED);
    }
    return Try.Progress;
  }
  // Task context: queue on the wait lock (FIFO with writers), then add the bias and wait for _QW_LOCKED.
  if (qholder !== 0) return Try.Blocked;
  if (owner === 0) return acquire(m, ctx, mode, lock, phase, commit, lo, me, readers, qholder, subclass);
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

/**
 * A wait-for edge whose text is built only when read: check/deadlock.ts
 * looks for a closed cycle after every step that starts a spin, and reads
 * the text only of the edges of a cycle it found, in the same state.
 */
function edge(on: readonly number[], why: () => string, permanent: boolean): WaitEdge {
  let text: string | null = null;
  return {
    on,
    get why(): string {
      text ??= why();
      return text;
    },
    ...(permanent ? { permanent: true } : {}),
  };
}

/**
 * The common edge, a spin on a lock held by one owner, without closures:
 * it runs after every step that starts a spin.
 */
class OwnerEdge implements WaitEdge {
  readonly on: readonly number[];
  readonly permanent = true;
  constructor(private readonly m: Machine, private readonly ctx: number, private readonly lock: number, owner: number) {
    this.on = [owner];
  }
  get why(): string {
    const m = this.m;
    return `${whoDoes(m, this.ctx)} spins: &${m.lockName(this.lock)} is held by ${m.contextName(this.on[0]!)}`;
  }
}

/** Names the holder(s) a blocked acquisition waits for. */
function waitEdge(m: Machine, ctx: number, mode: Mode, lock: number): WaitEdge {
  const s = m.s;
  const lo = m.lockOff(lock);
  const owner = s[lo + L_OWNER]!;
  const qholder = s[lo + L_QHOLDER]!;
  const name = (): string => `&${m.lockName(lock)}`;
  // Only the owner releases a spinlock or rwlock (debug_spin_unlock's "wrong owner" otherwise): permanent edges.
  if (owner !== 0) return new OwnerEdge(m, ctx, lock, owner - 1);
  if (mode === 'write' && (qholder === 0 || qholder === ctx + 1)) {
    // The writer's own read hold counts: read_lock(X); write_lock(X) waits for itself.
    const readers = readerContexts(m, lock);
    const own = readers.includes(ctx) ? ' (itself: it read-holds the lock it waits to write)' : '';
    return edge(readers, () => `${whoDoes(m, ctx)} spins: ${name()} is read-held by ${readers.map((r) => m.contextName(r)).join(', ')}${own}`, true);
  }
  if (qholder !== 0 && qholder !== ctx + 1) {
    const writer = s[lo + L_QWRITER] !== 0;
    return edge([qholder - 1], () => `${whoDoes(m, ctx)} spins: queued behind ${writer ? 'a writer waiting for readers to drain' : 'a queued reader'} (${m.contextName(qholder - 1)})`, true);
  }
  return edge([], () => `${whoDoes(m, ctx)} spins on ${name()}`, false);
}

/**
 * Contexts holding `lock` for read, or counted as readers waiting for the
 * writer. A holder is any live context: on PREEMPT_RT a reader of an
 * rwlock_t is a count in rwb->readers from __rwbase_read_lock to
 * __rwbase_read_unlock (kernel/locking/rwbase_rt.c), kept while the task is
 * preempted (Runnable) or asleep on another lock (Blocked), and
 * rwbase_write_lock waits for that count to drain; elsewhere a holder never
 * leaves its CPU (preemption off), so it is Running.
 */
function readerContexts(m: Machine, lock: number): number[] {
  const out: number[] = [];
  const owner = m.s[m.lockOff(lock) + L_OWNER]! - 1;
  for (let ctx = 0; ctx < m.L.nctx; ctx++) {
    const o = m.ctxOff(ctx);
    const status = m.s[o + X_STATUS];
    if (status !== ContextStatus.Running && status !== ContextStatus.Runnable && status !== ContextStatus.Blocked) continue;
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

/**
 * The API families: spin_lock on a spinlock_t, raw_spin_lock on a
 * raw_spinlock_t (the same lock on !PREEMPT_RT, include/linux/spinlock.h:
 * spin_lock() is raw_spin_lock(&lock->rlock); only lockdep's wait type
 * differs), read_lock and write_lock on an rwlock_t.
 */
type Api = 'spin' | 'raw' | 'read' | 'write';
const modeOf = (api: Api): Mode => (api === 'raw' ? 'spin' : api);

const LOCK_NAMES: Record<Api, Record<Flavour, string>> = {
  spin: { plain: 'spin_lock', irq: 'spin_lock_irq', irqsave: 'spin_lock_irqsave', bh: 'spin_lock_bh' },
  raw: { plain: 'raw_spin_lock', irq: 'raw_spin_lock_irq', irqsave: 'raw_spin_lock_irqsave', bh: 'raw_spin_lock_bh' },
  read: { plain: 'read_lock', irq: 'read_lock_irq', irqsave: 'read_lock_irqsave', bh: 'read_lock_bh' },
  write: { plain: 'write_lock', irq: 'write_lock_irq', irqsave: 'write_lock_irqsave', bh: 'write_lock_bh' },
};
const UNLOCK_NAMES: Record<Api, Record<Flavour, string>> = {
  spin: { plain: 'spin_unlock', irq: 'spin_unlock_irq', irqsave: 'spin_unlock_irqrestore', bh: 'spin_unlock_bh' },
  raw: { plain: 'raw_spin_unlock', irq: 'raw_spin_unlock_irq', irqsave: 'raw_spin_unlock_irqrestore', bh: 'raw_spin_unlock_bh' },
  read: { plain: 'read_unlock', irq: 'read_unlock_irq', irqsave: 'read_unlock_irqrestore', bh: 'read_unlock_bh' },
  write: { plain: 'write_unlock', irq: 'write_unlock_irq', irqsave: 'write_unlock_irqrestore', bh: 'write_unlock_bh' },
};

const LOCK_KIND_OF: Record<Api, LockKind> = { spin: 'spinlock', raw: 'raw_spinlock', read: 'rwlock', write: 'rwlock' };
const lockOperand = (api: Api): OperandSpec => ({ kind: 'lock', field: 'lock', lockKind: LOCK_KIND_OF[api] });

/** lockdep's read argument of an acquisition by `mode` (lock_acquire's `read`). */
const lockdepRead = (mode: Mode): LockdepAction['read'] => (mode === 'read' ? 'read_lock' : 0);

/** A subclass operand of a *_nested form (lockdep's subclass, 0..MAX_LOCKDEP_SUBCLASSES-1). */
const SUBCLASS_OPERAND: OperandSpec = { kind: 'int', field: 'subclass', min: 0, max: MAX_SUBCLASSES - 1 };

/** Whether a spinlock_t / rwlock_t operation sleeps here: PREEMPT_RT and not a raw_spinlock_t. */
const rtLock = (m: Machine, api: Api): boolean => api !== 'raw' && m.p.flags.preemptRT;

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
function rtTake(m: Machine, ctx: number, mode: Mode, lock: number, subclass: number): void {
  const lo = m.lockOff(lock);
  if (mode === 'read') m.w(lo + L_READERS, m.s[lo + L_READERS]! + 1);
  else m.w(lo + L_OWNER, ctx + 1);
  takeHold(m, ctx, lock, subclass);
}

/**
 * One step of an RT spin_lock/read_lock/write_lock past its prologue: take
 * the lock, or sleep on it (rtlock_slowlock_locked: the task blocks in
 * TASK_RTLOCK_WAIT and retries when the owner unlocks). A frame cannot
 * sleep in kdefer: its path ends bounded-out (see the file header).
 */
function rtAcquire(m: Machine, cpu: number, ctx: number, mode: Mode, lock: number, subclass: number, text: string): void {
  if (rtFree(m, mode, lock)) {
    rtTake(m, ctx, mode, lock, subclass);
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

/**
 * spin_lock and its variants; `nested`: the *_nested form (spin_lock_nested,
 * spin_lock_irqsave_nested, raw_spin_lock_nested, raw_spin_lock_irqsave_nested,
 * write_lock_nested), the same lock with a lockdep subclass as last operand.
 */
function lockOp(api: Api, flavour: Flavour, nested = false): OpSemantics {
  const mode = modeOf(api);
  const operands: OperandSpec[] = [lockOperand(api)];
  if (flavour === 'irqsave') operands.push({ kind: 'reg-def', field: 'flags' });
  if (nested) operands.push(SUBCLASS_OPERAND);
  const subclassOperand = nested ? (flavour === 'irqsave' ? 2 : 1) : undefined;
  const name = `${LOCK_NAMES[api][flavour]}${nested ? '_nested' : ''}`;
  const lockdep: LockdepAction = {
    action: 'acquire', read: lockdepRead(mode),
    ...(flavour === 'irq' || flavour === 'irqsave' ? { irqsOff: true as const } : {}),
    ...(flavour === 'bh' ? { prologueStep: true as const } : {}),
    ...(subclassOperand ? { subclassOperand } : {}),
  };
  return {
    name,
    operands,
    lockdep,
    // The prologue (irqs, bh, preempt of this CPU), the lock word; a reader shares the lock.
    // raw_spin_lock* and the *_nested forms touch the same words (a subclass
    // lives in the context's own held-lock record).
    footprint(f, a) {
      f.write(f.ownCpu());
      f.write(f.lock(a));
      if (mode !== 'read') f.acquire(a);
    },
    ready(m, cpu, ctx, a) {
      // On RT a task re-attempts when woken (it may sleep again); a frame's attempt ends its path.
      if (rtLock(m, api)) return true;
      const phase = phaseOf(m, ctx);
      return phase === 0 || attempt(m, cpu, ctx, mode, a, phase, false) !== Try.Blocked;
    },
    exec(m, cpu, ctx, a, b, c) {
      const o = m.ctxOff(ctx);
      const phase = m.s[o + X_PHASE]!;
      const subclass = subclassOperand === 1 ? b : subclassOperand === 2 ? c : 0;
      const rt = rtLock(m, api);
      if (phase === 0) {
        // Recursion by the same context (held-locks.ts): a deadlock, with
        // spinlock debug's "BUG: spinlock recursion" / "BUG: rwlock recursion".
        if (selfDeadlock(m, cpu, ctx, a, mode === 'read', name, rt ? 'sleeps' : 'spins')) return;
        if (api !== 'raw' && m.inNmi(cpu) && !rt) {
          m.fail('lock-misuse', `BUG: ${name}(&${m.lockName(a)}) in NMI context on CPU#${cpu}: a ${LOCK_KIND_OF[api] === 'spinlock' ? 'spinlock_t' : 'rwlock_t'} is not NMI-safe (the context the NMI interrupted may hold it); NMI code may take only raw spinlocks or NMI-safe primitives`, cpu, ctx);
          return;
        }
        if (rt) {
          if (flavour === 'bh') {
            // spin_lock_bh on RT: local_bh_disable(), then rt_spin_lock.
            m.w(m.cpuOff(cpu) + C_BH, m.s[m.cpuOff(cpu) + C_BH]! + 1);
            m.w(o + X_PHASE, PHASE_SPIN);
            return;
          }
          if (!rtMightResched(m, cpu, ctx, `${name}(&${m.lockName(a)})`)) return;
          // spin_lock_irqsave on RT: flags = 0, irqs untouched (include/linux/spinlock_rt.h).
          if (flavour === 'irqsave') m.setReg(ctx, b, 0);
          rtAcquire(m, cpu, ctx, mode, a, subclass, name);
          return;
        }
        prologue(m, cpu, ctx, flavour, b);
        m.w(o + X_PHASE, PHASE_SPIN);
        if (flavour === 'bh') return;
      }
      if (rt) {
        // After the _bh prologue, or woken from the rt_mutex wait: rtlock_might_resched again, then try.
        if (!rtMightResched(m, cpu, ctx, `${name}(&${m.lockName(a)})`)) return;
        rtAcquire(m, cpu, ctx, mode, a, subclass, name);
        return;
      }
      const phaseNow = m.s[o + X_PHASE]!;
      if (attempt(m, cpu, ctx, mode, a, phaseNow, true, subclass) === Try.Acquired) m.advance(ctx);
    },
    label(m, cpu, ctx, a) {
      const text = textOf(m, ctx);
      const phase = phaseOf(m, ctx);
      if (phase === 0 && flavour === 'bh') return `${text}: local_bh_disable`;
      if (rtLock(m, api)) {
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
      if (rtLock(m, api)) {
        // An rt_mutex is released only by its owner (or its readers): permanent, as a spinlock's.
        const lo = m.lockOff(a);
        const owner = m.s[lo + L_OWNER]!;
        const on = owner !== 0 ? [owner - 1] : mode === 'write' ? readerContexts(m, a) : [];
        return edge(on, () => `${m.contextName(ctx)}: ${textOf(m, ctx)} sleeps (rt_mutex, PREEMPT_RT): &${m.lockName(a)} is held by ${rtHolders(m, a)}`, true);
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
    // queued_read_unlock drops one _QR_BIAS; the context still read-holds the lock if it nested.
    m.w(lo + L_READERS, s[lo + L_READERS]! - 1);
  } else {
    if (owner !== ctx + 1) {
      const why = owner === 0 ? 'already unlocked' : `wrong owner: held by ${m.contextName(owner - 1)}`;
      const what = mode === 'spin' ? 'spinlock' : 'rwlock';
      m.fail('lock-misuse', `BUG: ${what} ${why} on CPU#${cpu}, ${m.contextName(ctx)} releasing ${name}`, cpu, ctx);
      return false;
    }
    m.w(lo + L_OWNER, 0);
  }
  dropHold(m, ctx, lock);
  return true;
}

function unlockOp(api: Api, flavour: Flavour): OpSemantics {
  const mode = modeOf(api);
  const operands: OperandSpec[] = [lockOperand(api)];
  if (flavour === 'irqsave') operands.push({ kind: 'reg-use', field: 'flags' });
  const name = UNLOCK_NAMES[api][flavour];
  return {
    name,
    operands,
    lockdep: { action: 'release', read: lockdepRead(mode) },
    // The lock word, this CPU's counts; the _bh form is a softirq run point (a frame on this CPU).
    footprint(f, a) {
      f.write(f.ownCpu());
      f.write(f.lock(a));
      f.release(a);
    },
    exec(m, cpu, ctx, a, b) {
      if (!release(m, cpu, ctx, mode, a)) return;
      if (rtLock(m, api)) {
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

const TRYLOCKS: readonly { name: string; api: Api; flavour: Flavour }[] = [
  { name: 'spin_trylock', api: 'spin', flavour: 'plain' },
  { name: 'spin_trylock_bh', api: 'spin', flavour: 'bh' },
  { name: 'spin_trylock_irq', api: 'spin', flavour: 'irq' },
  { name: 'spin_trylock_irqsave', api: 'spin', flavour: 'irqsave' },
  { name: 'raw_spin_trylock', api: 'raw', flavour: 'plain' },
  { name: 'raw_spin_trylock_bh', api: 'raw', flavour: 'bh' },
  { name: 'raw_spin_trylock_irq', api: 'raw', flavour: 'irq' },
  { name: 'raw_spin_trylock_irqsave', api: 'raw', flavour: 'irqsave' },
  { name: 'read_trylock', api: 'read', flavour: 'plain' },
  { name: 'write_trylock', api: 'write', flavour: 'plain' },
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
function trylockOp(name: string, api: Api, flavour: Flavour): OpSemantics {
  const mode = modeOf(api);
  const operands: OperandSpec[] = [lockOperand(api), { kind: 'reg-def', field: 'reg' }];
  if (flavour === 'irqsave') operands.push({ kind: 'reg-def', field: 'flags' });
  return {
    name,
    operands,
    footprint(f, a) {
      f.write(f.ownCpu());
      f.write(f.lock(a));
    },
    // lockdep sees only a successful trylock (spin_acquire(…, 1, …) after do_raw_spin_trylock).
    lockdep: {
      action: 'acquire', read: lockdepRead(mode), trylock: true,
      ...(flavour === 'irq' || flavour === 'irqsave' ? { irqsOff: true as const } : {}),
      ...(flavour === 'bh' ? { bhOff: true as const } : {}),
    },
    exec(m, cpu, ctx, a, b, c) {
      if (rtLock(m, api)) {
        // rt_spin_trylock / rwbase trylock: no might_resched, never sleeps; irqs untouched on RT.
        if (flavour === 'irqsave') m.setReg(ctx, c, 0);
        if (flavour === 'bh') m.w(m.cpuOff(cpu) + C_BH, m.s[m.cpuOff(cpu) + C_BH]! + 1);
        const ok = rtFree(m, mode, a);
        if (ok) rtTake(m, ctx, mode, a, 0);
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
      const ok = rtLock(m, api) ? rtFree(m, mode, a) : trylockSucceeds(m, mode, a);
      return `${textOf(m, ctx)} → ${ok ? '1 (acquired)' : '0 (busy)'}`;
    },
  };
}

const APIS: readonly Api[] = ['spin', 'raw', 'read', 'write'];
const FLAVOURS: readonly Flavour[] = ['plain', 'irq', 'irqsave', 'bh'];

/** The *_nested forms the kernel has (include/linux/spinlock.h, rwlock.h). */
const NESTED: readonly { api: Api; flavour: Flavour }[] = [
  { api: 'spin', flavour: 'plain' }, { api: 'spin', flavour: 'irqsave' },
  { api: 'raw', flavour: 'plain' }, { api: 'raw', flavour: 'irqsave' },
  { api: 'write', flavour: 'plain' },
];

/**
 * spin_lock_init, raw_spin_lock_init, rwlock_init: the lock unlocked again
 * (__raw_spin_lock_init, __rwlock_init), after debug_check_no_locks_freed
 * (held-locks.ts initLock).
 */
function initOp(name: string, api: Api): OpSemantics {
  return {
    name,
    operands: [lockOperand(api)],
    lockdep: { action: 'init', read: 0 },
    exec(m, cpu, ctx, a) {
      if (initLock(m, cpu, ctx, a, name)) m.advance(ctx);
    },
  };
}

const LOCK_OPS: readonly OpSemantics[] = [
  ...APIS.flatMap((api) => FLAVOURS.flatMap((fl) => [lockOp(api, fl), unlockOp(api, fl)])),
  ...NESTED.map((n) => lockOp(n.api, n.flavour, true)),
  ...TRYLOCKS.map((t) => trylockOp(t.name, t.api, t.flavour)),
];

/** The prefix of the op the compiler emits for a spinlock_t/rwlock_t op on PREEMPT_RT (`rt:spin_lock`). */
export const RT_OP_PREFIX = 'rt:';

/**
 * PREEMPT_RT: the spinlock_t/rwlock_t operations as sleeping locks, emitted
 * by the compiler in place of the design's op. Their footprint is the
 * op's own (this CPU's block, the lock word, the lock taken or released)
 * and what the sleeping lock adds: a lock may block the calling task
 * (rtAcquire → block, rtlock_slowlock_locked: this CPU, the task's status
 * and wait channel, as mutex_lock's `sleeps`, on the lock's Mutex
 * channel); an unlock wakes the lock's waiters (rt_spin_unlock →
 * rt_mutex_slowunlock, rwbase_write_unlock and __rwbase_read_unlock; here
 * wakeAll: the status and wait channel of the tasks that may sleep on it,
 * wakesOn); a trylock never sleeps nor wakes, and the _bh forms'
 * local_bh_disable/enable touch this CPU's block only (as
 * local_bh_enable's footprint).
 */
function rtForm(op: OpSemantics): OpSemantics {
  const own = op.footprint;
  if (!own || !op.lockdep) throw new Error(`kdefer internal error: ${op.name} has no footprint or lockdep action to extend for PREEMPT_RT`);
  const action = op.lockdep.trylock ? null : op.lockdep.action;
  return {
    ...op,
    name: `${RT_OP_PREFIX}${op.name}`,
    internal: true,
    ...(action === 'acquire' ? { sleepsOn: { chan: Chan.Mutex, operand: 0 } } : {}),
    footprint(f, a, b, c) {
      own(f, a, b, c);
      if (action === 'acquire') sleeps(f);
      if (action === 'release') wakesOn(f, Chan.Mutex, a);
    },
  };
}

export const SPINLOCK_OPS: readonly OpSemantics[] = [
  ...LOCK_OPS,
  initOp('spin_lock_init', 'spin'), initOp('raw_spin_lock_init', 'raw'), initOp('rwlock_init', 'read'),
  ...LOCK_OPS.filter((op) => !op.name.startsWith('raw_')).map(rtForm),
];

export const SPINLOCK: Mechanism = { name: 'spinlock', ops: SPINLOCK_OPS };
