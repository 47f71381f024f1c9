/**
 * The socket lock and socket references (net/core/sock.c, include/net/sock.h;
 * shared/kernel-semantics.md §7.1, shared/kernel-semantics-drivers.md D1.4, D2).
 *
 * A socket (design field `socks`, `{ backlog, backlog_rcv, skb?, release_cb?,
 * refcnt? }`) embeds, under its own name `sk`:
 *  - the spinlock `sk->sk_lock.slock`,
 *  - the wait queue `sk->sk_lock.wq` lock_sock sleeps on,
 *  - the queue `sk->sk_backlog` (its capacity is `backlog`),
 *  - the variable `sk->sk_refcnt` (refcount_t, `refcnt`, default 1),
 * and has the owner (sk_lock.owned, kept as the owning task), the backlog's
 * length sk_backlog.len (in segments, the detached ones included until a
 * whole drain ends), how many segments at the head of the backlog
 * release_sock has detached, and where the owner's release_sock is.
 *
 *  - lock_sock (lock_sock_nested; might_sleep): spin_lock_bh(slock) (the
 *    bh prologue and the acquisition are two steps, as for any _bh lock);
 *    not owned: owned, spin_unlock_bh (a softirq run point); owned:
 *    __lock_sock: prepare_to_wait_exclusive, spin_unlock_bh, schedule(),
 *    spin_lock_bh, and again (the wake-up is not lost: the sleep re-checks
 *    the owner; every sleeper is woken, any may win: an
 *    over-approximation of the exclusive wake-up). A second lock_sock by the
 *    owner waits for itself: lockdep's "possible recursive locking
 *    detected", a deadlock as every same-context recursion (S2).
 *  - release_sock (the owner only): spin_lock_bh(slock); while the backlog
 *    is not empty, __release_sock detaches the whole list, drops slock
 *    (spin_unlock_bh ≥4.9, 5413d1babe8f; with backlogBH 'bh-off', <4.9,
 *    spin_unlock: BH stays off), runs sk_backlog_rcv (the socket's
 *    `backlog_rcv` function, the segment in register `skb`) on each in the
 *    owner's context with cond_resched between them, and retakes slock; then
 *    sk_backlog.len = 0, release_cb (N6), sock_release_ownership, wake the
 *    lock_sock sleepers, spin_unlock_bh.
 *  - __release_sock: that drain alone, by the owner holding slock (it
 *    returns holding slock); sock_release_ownership: owned = 0, nothing
 *    else. With these a design can write a release_sock of its own.
 *  - bh_lock_sock / bh_unlock_sock: spin_lock / spin_unlock of slock (BH is
 *    already off in the softirq that calls them).
 *  - sock_owned_by_user: the owner flag, after sock_owned_by_me's lockdep
 *    check (WARN_ON_ONCE unless this context holds slock or owns the
 *    socket: the value is only meaningful under slock, B26);
 *    sock_owned_by_user_nocheck skips it.
 *  - sk_add_backlog(sk, skb, limit) (under slock): -ENOBUFS if
 *    sk_rcvqueues_full, i.e. sk_backlog.len > limit (the segment's own
 *    truesize is not counted; sk_rmem_alloc is not modelled: 0); else
 *    append, len++. Truesize is one per segment.
 *  - sock_hold / sock_put / __sock_put: refcount_inc / refcount_dec_and_test
 *    then sk_free / refcount_dec on sk->sk_refcnt (atomic.ts warnings).
 *    sk_free frees the struct the socket belongs to (if any), with
 *    lifetime.ts's checks (a socket timer still pending: ODEBUG).
 *  - sk_reset_timer(sk, t, delta): if (!mod_timer(t, …)) sock_hold(sk);
 *    sk_stop_timer(sk, t): if (del_timer(t)) __sock_put(sk);
 *    sk_stop_timer_sync with del_timer_sync. Expansions: two steps, as in C.
 *  - A task that returns to user space owning the socket: lockdep's "lock
 *    held when returning to user space!" (sk_lock's dep_map), a lock-leak.
 *
 * Not modelled: lock_sock_fast, the rest of sk_lock's lockdep dep_map (the
 * owned socket is not a lock in lockdep's dependency reports), sk_rmem_alloc and memory
 * accounting, SOCK_RCU_FREE, sk_wmem_alloc keeping a socket after its last
 * put.
 */
import type { SockDecl } from '../dsl/sock.ts';
import type { Expr, Stmt } from '../dsl/design.ts';
import { dropHold, takeHold } from './held-locks.ts';
import { C_BH, C_PREEMPT, ContextStatus, L_OWNER, X_PC, X_PHASE, X_STATUS } from './layout.ts';
import type { Machine } from './machine.ts';
import { freeStruct, structOf } from './lifetime.ts';
import { INSN_WIDTH } from './program.ts';
import { evaluate } from './data.ts';
import { block, Chan, channel, mightSleep, preemptDec, sleeps, wakeAll, wakesOn, yieldCpu } from './scheduler.ts';
import type { Expansion, FootprintBuilder, Mechanism, ObjectKindSpec, OperandSpec, OpSemantics, WaitEdge } from './semantics.ts';
import { freesStruct } from './lifetime.ts';
import { bhEnable } from './softirq.ts';

// Socket words
const K_OWNER = 0; // ctx + 1 of the task owning the socket (sk_lock.owned), 0 none
const K_LEN = 1; // sk_backlog.len, in segments
const K_DETACHED = 2; // segments at the head of the backlog __release_sock has taken off the list
const K_RELEASE = 3; // where the owner's release_sock / __release_sock is (Release)
const SOCK_SIZE = 4;

/** release_sock / __release_sock, step by step (kept in the socket: the callbacks in between clobber X_PHASE). */
const enum Release {
  Idle = 0,
  /** release_sock: spin_lock_bh's prologue done, acquiring slock. */
  Spin = 1,
  /** Detached a batch: drop slock next. */
  DrainUnlock = 2,
  /** Running sk_backlog_rcv over the detached batch. */
  Drain = 3,
  /** The batch is done: retake slock (prologue). */
  Relock = 4,
  /** Retaking slock. */
  RelockSpin = 5,
  /** release_cb returned (or there is none): release ownership. */
  Own = 6,
  /** spin_unlock_bh. */
  Unlock = 7,
  /** __release_sock (called by the design): the same drain, returning with slock held. */
  Bare = 8,
}
/** K_RELEASE's high bits: this is __release_sock, not release_sock. */
const BARE = 16;
/** K_RELEASE's flag: a backlog_rcv call is in progress (the op re-executes when it returns). */
const IN_RCV = 32;
/** K_RELEASE's flag: release_cb is in progress. */
const IN_CB = 64;

const sockOff = (m: Machine, id: number): number => m.objOff('sock', id, SOCK_SIZE);
const sockName = (m: Machine, id: number): string => m.p.objects['sock']![id]!.name;
const attr = (m: Machine, id: number, a: string): number => m.p.objects['sock']![id]!.attrs[a]!;
const slockOf = (m: Machine, id: number): number => attr(m, id, 'slock');
const textOf = (m: Machine, ctx: number): string => m.p.text[m.s[m.ctxOff(ctx) + X_PC]! / INSN_WIDTH]!;
const backlogBase = (m: Machine, id: number): number => m.L.queueBase[attr(m, id, 'backlog')]!;
const backlogLen = (m: Machine, id: number): number => m.s[backlogBase(m, id)]!;
const ownerOf = (m: Machine, id: number): number => m.s[sockOff(m, id) + K_OWNER]! - 1;
const slockName = (m: Machine, id: number): string => `&${m.lockName(slockOf(m, id))}`;
/** BH on while the backlog is processed (≥4.9), or off (<4.9). */
const drainBhOn = (m: Machine): boolean => m.p.flags.backlogBH === 'bh-on';

// ------------------------------------------------------------ footprints

/** Socket `id`'s embedded slock (sk->sk_lock.slock), as a footprint item. */
const slockItem = (f: FootprintBuilder, id: number): number => f.lock(f.program.objects['sock']![id]!.attrs['slock']!);
/** Socket `id`'s backlog queue (sk->sk_backlog), as a footprint item. */
const backlogItem = (f: FootprintBuilder, id: number): number => f.queue(f.program.objects['sock']![id]!.attrs['backlog']!);

/**
 * lock_sock, release_sock and __release_sock: the socket's words (owner,
 * backlog length, detached count, release step), its slock, this CPU (the
 * _bh prologue, preempt count, the softirq run point of each
 * spin_unlock_bh), and the task's own status (a sleep on sk_lock.wq, or
 * cond_resched yielding between backlog segments). The wake-up of
 * sk_lock.wq writes the tasks that may sleep on it (lock_sock's, wakesOn);
 * the drain reads and writes the backlog queue and reads which tasks of
 * this CPU could run (net/core/sock.c __release_sock's cond_resched()
 * between segments, otherRunnable: tasksHere). The calls of backlog_rcv
 * and release_cb only move the context's own pc into design code, whose
 * instructions have footprints of their own.
 */
function sockLockFootprint(f: FootprintBuilder, id: number, drains: boolean): void {
  sleeps(f);
  f.write(f.object('sock', id));
  f.write(slockItem(f, id));
  if (drains) {
    f.write(backlogItem(f, id));
    wakesOn(f, Chan.WaitQueue, f.program.objects['sock']![id]!.attrs['wq']!);
    f.read(f.tasksHere());
  }
}

// ------------------------------------------------------------ slock

/** The prologue of spin_lock_bh (or spin_lock): bh (if asked) and preempt counts up. */
function slockPrologue(m: Machine, cpu: number, bh: boolean): void {
  const co = m.cpuOff(cpu);
  if (bh) m.w(co + C_BH, m.s[co + C_BH]! + 1);
  m.w(co + C_PREEMPT, m.s[co + C_PREEMPT]! + 1);
}

const slockFree = (m: Machine, id: number, ctx: number): boolean => {
  const owner = m.s[m.lockOff(slockOf(m, id)) + L_OWNER]!;
  return owner === 0 || owner === ctx + 1;
};

function slockTake(m: Machine, ctx: number, id: number): void {
  const lock = slockOf(m, id);
  m.w(m.lockOff(lock) + L_OWNER, ctx + 1);
  takeHold(m, ctx, lock, 0);
}

/** spin_unlock(_bh) of slock; false after a violation. The bh run point runs after the caller has moved on. */
function slockRelease(m: Machine, cpu: number, ctx: number, id: number): boolean {
  const lock = slockOf(m, id);
  m.w(m.lockOff(lock) + L_OWNER, 0);
  dropHold(m, ctx, lock);
  return preemptDec(m, cpu, ctx);
}

/** Wait-for edge of a spin on slock. */
function slockWait(m: Machine, ctx: number, id: number, what: string): WaitEdge {
  const owner = m.s[m.lockOff(slockOf(m, id)) + L_OWNER]! - 1;
  return { on: owner >= 0 ? [owner] : [], why: `${m.contextName(ctx)}: ${what}: spin_lock on ${slockName(m, id)} spins: held by ${owner >= 0 ? m.contextName(owner) : 'nobody'}` };
}

// ------------------------------------------------------------ lock_sock

const enum Lock {
  Entry = 0,
  Spin = 1,
  /** Owned: slock taken, ownership taken; spin_unlock_bh next. */
  Unlock = 2,
  /** Owned by another task: prepare_to_wait, spin_unlock_bh next. */
  WaitUnlock = 3,
  /** Asleep on sk_lock.wq (or about to be): re-check the owner. */
  Sleep = 4,
}

const SOCK: OperandSpec = { kind: 'object', field: 'obj', objectKind: 'sock' };

function lockSock(m: Machine, cpu: number, ctx: number, id: number, commit: boolean): string {
  const o = m.ctxOff(ctx);
  const so = sockOff(m, id);
  const text = `lock_sock(&${sockName(m, id)})`;
  const phase = m.s[o + X_PHASE]!;
  switch (phase as Lock) {
    case Lock.Entry: {
      if (ownerOf(m, id) === ctx) {
        // A recursion waits for itself (model/kernel/held-locks.ts): lockdep's check_deadlock on sk_lock's dep_map.
        const message = `WARNING: possible recursive locking detected: ${m.contextName(ctx)} already owns &${sockName(m, id)} (sk_lock-AF_INET): ${text} would sleep until it releases it itself`;
        if (commit) m.fail('deadlock', message, cpu, ctx);
        return `${text}: ${message}`;
      }
      if (commit) {
        if (!mightSleep(m, cpu, ctx, text)) return '';
        slockPrologue(m, cpu, true);
        m.w(o + X_PHASE, Lock.Spin);
      }
      return `${text}: spin_lock_bh(${slockName(m, id)}): local_bh_disable`;
    }
    case Lock.Spin: {
      const owner = ownerOf(m, id);
      if (commit) {
        slockTake(m, ctx, id);
        if (owner < 0) m.w(so + K_OWNER, ctx + 1);
        m.w(o + X_PHASE, owner < 0 ? Lock.Unlock : Lock.WaitUnlock);
      }
      return owner < 0
        ? `${text}: acquires ${slockName(m, id)}; not owned: owned = 1`
        : `${text}: acquires ${slockName(m, id)}; owned by ${m.contextName(owner)}: __lock_sock waits`;
    }
    case Lock.Unlock:
    case Lock.WaitUnlock: {
      if (commit) {
        if (!slockRelease(m, cpu, ctx, id)) return '';
        if (phase === Lock.Unlock) m.advance(ctx);
        else m.w(o + X_PHASE, Lock.Sleep);
        bhEnable(m, cpu, ctx, `spin_unlock_bh(${slockName(m, id)})`);
      }
      return `${text}: spin_unlock_bh(${slockName(m, id)})${phase === Lock.WaitUnlock ? ' (prepare_to_wait_exclusive first)' : ''}`;
    }
    case Lock.Sleep: {
      const owner = ownerOf(m, id);
      if (owner >= 0) {
        if (commit) block(m, cpu, ctx, channel(Chan.WaitQueue, attr(m, id, 'wq')));
        return `${text}: owned by ${m.contextName(owner)}, sleeps on &${sockName(m, id)}->sk_lock.wq`;
      }
      if (commit) {
        slockPrologue(m, cpu, true);
        m.w(o + X_PHASE, Lock.Spin);
      }
      return `${text}: released; spin_lock_bh(${slockName(m, id)}): local_bh_disable`;
    }
  }
  return text;
}

// ------------------------------------------------------------ release_sock

/**
 * release_sock and __release_sock, one step at a time (see Release). The
 * state is the socket's (K_RELEASE), the op re-executing after each
 * backlog_rcv or release_cb call returns.
 */
function releaseSock(m: Machine, cpu: number, ctx: number, id: number, bare: boolean, variant: number, commit: boolean): string {
  const so = sockOff(m, id);
  const name = `&${sockName(m, id)}`;
  const text = bare ? `__release_sock(${name})` : `release_sock(${name})`;
  const word = m.s[so + K_RELEASE]!;
  let step = (word & 15) as Release;
  const w = (v: number): void => {
    if (commit) m.w(so + K_RELEASE, v === Release.Idle ? 0 : v | (bare ? BARE : 0));
  };
  if ((word & IN_RCV) !== 0) {
    // sk_backlog_rcv returned; cond_resched between segments (a yield only if another task could run here).
    if (commit) m.w(so + K_RELEASE, word & ~IN_RCV);
    if (variant === 1 && drainBhOn(m) && otherRunnable(m, cpu, ctx)) {
      if (commit) yieldCpu(m, cpu, ctx);
      return `${text}: sk_backlog_rcv returned; cond_resched() yields the CPU`;
    }
    step = Release.Drain;
  }
  if ((word & IN_CB) !== 0) {
    if (commit) m.w(so + K_RELEASE, word & ~IN_CB);
    step = Release.Own;
  }
  switch (step) {
    case Release.Idle: {
      if (ownerOf(m, id) !== ctx) {
        const owner = ownerOf(m, id);
        const message = `WARNING: bad unlock balance detected! ${m.contextName(ctx)} is trying to release lock (sk_lock-AF_INET) of ${name}: ${owner >= 0 ? `owned by ${m.contextName(owner)}` : 'not owned'} (${text})`;
        if (commit) m.fail('lock-misuse', message, cpu, ctx);
        return message;
      }
      if (bare) {
        if (!slockHeldBy(m, id, ctx)) {
          const message = `WARNING: ${text} by ${m.contextName(ctx)} without holding ${slockName(m, id)} (its caller must)`;
          if (commit) m.fail('lock-misuse', message, cpu, ctx);
          return message;
        }
        return detachOrDone(m, cpu, ctx, id, bare, text, commit, w);
      }
      if (commit) slockPrologue(m, cpu, true);
      w(Release.Spin);
      return `${text}: spin_lock_bh(${slockName(m, id)}): local_bh_disable`;
    }
    case Release.Spin:
    case Release.RelockSpin: {
      if (commit) slockTake(m, ctx, id);
      return `${text}: acquires ${slockName(m, id)}; ${detachOrDone(m, cpu, ctx, id, bare, '', commit, w)}`;
    }
    case Release.DrainUnlock: {
      if (commit) {
        if (!slockRelease(m, cpu, ctx, id)) return '';
        w(Release.Drain);
        if (drainBhOn(m)) bhEnable(m, cpu, ctx, `spin_unlock_bh(${slockName(m, id)}) in __release_sock`);
      }
      return `${text}: ${drainBhOn(m) ? 'spin_unlock_bh' : 'spin_unlock'}(${slockName(m, id)})`;
    }
    case Release.Drain: {
      const detached = m.s[so + K_DETACHED]!;
      if (detached === 0) {
        if (commit) slockPrologue(m, cpu, drainBhOn(m));
        w(Release.RelockSpin);
        return `${text}: batch done; ${drainBhOn(m) ? 'spin_lock_bh' : 'spin_lock'}(${slockName(m, id)})${drainBhOn(m) ? ': local_bh_disable' : ''}`;
      }
      const base = backlogBase(m, id);
      const skb = m.s[base + 1]!;
      if (commit) {
        // Take the head off the detached batch (the queue shifts so equal backlogs hash equal).
        const len = m.s[base]!;
        for (let i = base + 1; i < base + len; i++) m.w(i, m.s[i + 1]!);
        m.w(base + len, 0);
        m.w(base, len - 1);
        m.w(so + K_DETACHED, detached - 1);
        m.setReg(ctx, attr(m, id, 'skb'), skb);
        m.w(so + K_RELEASE, (m.s[so + K_RELEASE]! & ~15) | Release.Drain | IN_RCV | (bare ? BARE : 0));
        m.callFrom(ctx, attr(m, id, 'backlog_rcv'));
      }
      return `${text}: sk_backlog_rcv(${name}, ${skb}): ${backlogRcvName(m, id)}()`;
    }
    case Release.Own: {
      // sock_release_ownership; if (waitqueue_active(&sk->sk_lock.wq)) wake_up(&sk->sk_lock.wq).
      if (commit) {
        m.w(so + K_OWNER, 0);
        wakeAll(m, channel(Chan.WaitQueue, attr(m, id, 'wq')));
      }
      w(Release.Unlock);
      return `${text}: sock_release_ownership: owned = 0, wake_up(&${sockName(m, id)}->sk_lock.wq)`;
    }
    case Release.Unlock: {
      if (commit) {
        if (!slockRelease(m, cpu, ctx, id)) return '';
        w(Release.Idle);
        m.advance(ctx);
        bhEnable(m, cpu, ctx, `spin_unlock_bh(${slockName(m, id)})`);
      }
      return `${text}: spin_unlock_bh(${slockName(m, id)})`;
    }
    default:
      throw new Error(`kdefer internal error: release_sock in step ${step}`);
  }
}

/** With slock held: detach the backlog if it has segments, else end the drain (len = 0) and go on. */
function detachOrDone(m: Machine, _cpu: number, ctx: number, id: number, bare: boolean, text: string, commit: boolean, w: (v: number) => void): string {
  const so = sockOff(m, id);
  const queued = backlogLen(m, id);
  const prefix = text ? `${text}: ` : '';
  if (queued > 0) {
    if (commit) m.w(so + K_DETACHED, queued);
    w(Release.DrainUnlock);
    return `${prefix}backlog: ${queued} segment${queued === 1 ? '' : 's'} detached`;
  }
  if (commit) m.w(so + K_LEN, 0); // __release_sock: sk->sk_backlog.len = 0 after a whole drain
  if (bare) {
    w(Release.Idle);
    if (commit) m.advance(ctx);
    return `${prefix}backlog empty, returns with ${slockName(m, id)} held`;
  }
  const cb = attr(m, id, 'release_cb');
  if (cb >= 0) {
    if (commit) {
      m.w(so + K_RELEASE, Release.Own | IN_CB);
      m.callFrom(ctx, cb);
    }
    return `${prefix}backlog empty; release_cb: ${releaseCbName(m, id)}()`;
  }
  w(Release.Own);
  return `${prefix}backlog empty`;
}

const slockHeldBy = (m: Machine, id: number, ctx: number): boolean => m.s[m.lockOff(slockOf(m, id)) + L_OWNER] === ctx + 1;
const declOf = (m: Machine, id: number): SockDecl => (m.p.design as { socks?: Record<string, SockDecl> }).socks![sockName(m, id)]!;
const backlogRcvName = (m: Machine, id: number): string => declOf(m, id).backlog_rcv;
const releaseCbName = (m: Machine, id: number): string => declOf(m, id).release_cb ?? 'release_cb';

/** Another task of this CPU could run if this one yielded (cond_resched is a yield only then). */
function otherRunnable(m: Machine, cpu: number, ctx: number): boolean {
  for (let t = 0; t < m.p.tasks.length; t++) {
    if (t === ctx || m.cpuOfCtx(t) !== cpu) continue;
    const st = m.s[m.ctxOff(t) + X_STATUS];
    if (st === ContextStatus.Runnable || st === ContextStatus.NotStarted) return true;
  }
  return false;
}

/** release_sock's variants: at the cond_resched after a segment, yield or not. */
function releaseVariants(m: Machine, cpu: number, ctx: number, id: number): number {
  const word = m.s[sockOff(m, id) + K_RELEASE]!;
  // cond_resched() between segments (≥4.9; with BH off, <4.9, cond_resched_softirq is not modelled).
  return (word & IN_RCV) !== 0 && drainBhOn(m) && otherRunnable(m, cpu, ctx) ? 2 : 1;
}

function releaseOp(name: 'release_sock' | '__release_sock'): OpSemantics {
  const bare = name === '__release_sock';
  const step = (m: Machine, id: number): number => m.s[sockOff(m, id) + K_RELEASE]! & 15;
  return {
    name,
    operands: [SOCK],
    // sk_backlog_rcv and release_cb run design code in the owner's context.
    callsDesignCode: true,
    // See sockLockFootprint. release_sock ends with slock released; __release_sock returns holding it (it fails unless it held it).
    footprint(f, a) {
      sockLockFootprint(f, a, true);
      const slock = f.program.objects['sock']![a]!.attrs['slock']!;
      if (bare) f.acquire(slock);
      else f.release(slock);
    },
    ready(m, _cpu, ctx, a) {
      const st = step(m, a);
      return !((st === Release.Spin || st === Release.RelockSpin) && !slockFree(m, a, ctx));
    },
    variants(m, cpu, ctx, a) {
      return releaseVariants(m, cpu, ctx, a);
    },
    exec(m, cpu, ctx, a, _b, _c, variant) {
      releaseSock(m, cpu, ctx, a, bare, variant, true);
    },
    label(m, cpu, ctx, a, _b, _c, variant) {
      const st = step(m, a);
      if ((st === Release.Spin || st === Release.RelockSpin) && !slockFree(m, a, ctx)) return `${name}(&${sockName(m, a)}): spin_lock on ${slockName(m, a)} spins`;
      return releaseSock(m, cpu, ctx, a, bare, variant, false);
    },
    waitsFor(m, _cpu, ctx, a) {
      return slockWait(m, ctx, a, `${name}(&${sockName(m, a)})`);
    },
  };
}

// ------------------------------------------------------------ ops

export const SOCK_OPS: readonly OpSemantics[] = [
  {
    name: 'lock_sock',
    operands: [SOCK],
    // __lock_sock sleeps on the socket's sk_lock.wq: the wait queue its `wq` attribute names.
    sleepsOn: { chan: Chan.WaitQueue, operand: 0, attr: 'wq' },
    // See sockLockFootprint: it never drains nor wakes; slock is released again before it completes.
    footprint(f, a) {
      sockLockFootprint(f, a, false);
      f.release(f.program.objects['sock']![a]!.attrs['slock']!);
    },
    ready(m, _cpu, ctx, a) {
      return !(m.s[m.ctxOff(ctx) + X_PHASE] === Lock.Spin && !slockFree(m, a, ctx));
    },
    exec(m, cpu, ctx, a) {
      lockSock(m, cpu, ctx, a, true);
    },
    label(m, cpu, ctx, a) {
      if (m.s[m.ctxOff(ctx) + X_PHASE] === Lock.Spin && !slockFree(m, a, ctx)) return `lock_sock(&${sockName(m, a)}): spin_lock_bh(${slockName(m, a)}): busy, spins`;
      return lockSock(m, cpu, ctx, a, false);
    },
    waitsFor(m, _cpu, ctx, a) {
      if (m.s[m.ctxOff(ctx) + X_PHASE] === Lock.Sleep) {
        const owner = ownerOf(m, a);
        return { on: owner >= 0 ? [owner] : [], why: `${m.contextName(ctx)}: lock_sock(&${sockName(m, a)}) sleeps: owned by ${owner >= 0 ? m.contextName(owner) : 'nobody'}` };
      }
      return slockWait(m, ctx, a, `lock_sock(&${sockName(m, a)})`);
    },
  },
  releaseOp('release_sock'),
  releaseOp('__release_sock'),
  {
    // sock_release_ownership: owned = 0 (mutex_release of the dep_map); it wakes nobody.
    name: 'sock_release_ownership',
    operands: [SOCK],
    // The owner word only: it wakes nobody.
    footprint(f, a) {
      f.write(f.object('sock', a));
    },
    exec(m, cpu, ctx, a) {
      if (ownerOf(m, a) !== ctx) {
        m.fail('lock-misuse', `WARNING: bad unlock balance detected! ${m.contextName(ctx)} is trying to release lock (sk_lock-AF_INET) of &${sockName(m, a)}: ${ownerOf(m, a) >= 0 ? `owned by ${m.contextName(ownerOf(m, a))}` : 'not owned'} (sock_release_ownership)`, cpu, ctx);
        return;
      }
      m.w(sockOff(m, a) + K_OWNER, 0);
      m.advance(ctx);
    },
  },
  ...(['sock_owned_by_user', 'sock_owned_by_user_nocheck'] as const).map((name): OpSemantics => ({
    name,
    operands: [SOCK, { kind: 'reg-def', field: 'reg' }],
    // The owner word, and (sock_owned_by_me's check) who holds slock.
    footprint(f, a) {
      f.read(f.object('sock', a));
      if (name === 'sock_owned_by_user') f.read(slockItem(f, a));
    },
    exec(m, cpu, ctx, a, b) {
      // sock_owned_by_me: WARN_ON_ONCE(!lockdep_sock_is_held(sk)): slock or the socket lock held by current.
      if (name === 'sock_owned_by_user' && !slockHeldBy(m, a, ctx) && ownerOf(m, a) !== ctx) {
        m.fail('assertion', `WARNING: CPU: ${cpu} at include/net/sock.h sock_owned_by_me: WARN_ON_ONCE(!lockdep_sock_is_held(sk)): ${m.contextName(ctx)} reads sock_owned_by_user(&${sockName(m, a)}) without holding ${slockName(m, a)} or owning the socket: the answer may be stale at once`, cpu, ctx);
        return;
      }
      m.setReg(ctx, b, ownerOf(m, a) >= 0 ? 1 : 0);
      m.advance(ctx);
    },
    label(m, _cpu, ctx, a) {
      const owner = ownerOf(m, a);
      return `${textOf(m, ctx)} → ${owner >= 0 ? `1 (${m.contextName(owner)})` : '0'}`;
    },
  })),
  {
    // sk_add_backlog(sk, skb, limit): a = sock | result register + 1 << 16, b = the skb, c = limit.
    name: 'sk_add_backlog',
    operands: [SOCK, { kind: 'reg-def', field: 'reg', optional: true, packed: true }, { kind: 'expr', field: 'value' }, { kind: 'int', field: 'count', min: 0, max: 63 }],
    // sk_backlog.len (a socket word), the backlog queue, and the segment's expression.
    footprint(f, a, b) {
      const id = a & 0xffff;
      f.write(f.object('sock', id));
      f.write(backlogItem(f, id));
      f.expr(b);
    },
    exec(m, cpu, ctx, a, b, c) {
      const id = a & 0xffff;
      const reg = (a >>> 16) - 1;
      const so = sockOff(m, id);
      const len = m.s[so + K_LEN]!;
      // sk_rcvqueues_full: qsize = sk_backlog.len + sk_rmem_alloc; qsize > limit.
      const full = len > c;
      if (!full) {
        const base = backlogBase(m, id);
        const q = m.p.queues[attr(m, id, 'backlog')]!;
        const n = m.s[base]!;
        if (n >= q.capacity) {
          throw new Error(`kdefer limit: sk_add_backlog(&${sockName(m, id)}, …, ${c}) may queue ${c + 1} segments but ${q.name} holds ${q.capacity}: declare socks['${sockName(m, id)}'].backlog ≥ ${c + 1}`);
        }
        m.w(base + 1 + n, evaluate(m, cpu, ctx, b));
        m.w(base, n + 1);
        m.w(so + K_LEN, len + 1);
      }
      if (reg >= 0) m.setReg(ctx, reg, full ? 1 : 0);
      m.advance(ctx);
    },
    label(m, _cpu, ctx, a, _b, c) {
      const id = a & 0xffff;
      const len = m.s[sockOff(m, id) + K_LEN]!;
      return len > c
        ? `${textOf(m, ctx)} → -ENOBUFS: sk_backlog.len ${len} > limit ${c}`
        : `${textOf(m, ctx)} → 0: queued (sk_backlog.len ${len} → ${len + 1})`;
    },
  },
  {
    // sk_free: __sk_free → sk_destruct: the socket's memory goes (with lifetime.ts's checks).
    name: 'sk_free',
    operands: [SOCK],
    // The free of the struct the socket belongs to, if any (lifetime.ts).
    footprint(f, a) {
      const p = f.program;
      const sid = p.structMembers.findIndex((members) => members.includes(p.objects['sock']![a]!.name));
      if (sid >= 0) freesStruct(f, sid);
    },
    exec(m, cpu, ctx, a) {
      const sid = structOf(m, sockName(m, a));
      if (sid >= 0 && !freeStruct(m, cpu, ctx, sid, `sk_free(&${sockName(m, a)})`)) return;
      m.advance(ctx);
    },
  },
];

// ------------------------------------------------------------ expansions

const refcnt = (sk: string): string => `${sk}->sk_refcnt`;
const sockExpansion = (name: string, fields: readonly string[], expand: Expansion['expand']): Expansion => ({ name, fields, expand });

const SOCK_EXPANSIONS: readonly Expansion[] = [
  sockExpansion('bh_lock_sock', ['obj'], (st) => ({ body: [{ op: 'spin_lock', lock: `${String(st.obj)}->sk_lock.slock` }], text: `bh_lock_sock(&${String(st.obj)})` })),
  sockExpansion('bh_unlock_sock', ['obj'], (st) => ({ body: [{ op: 'spin_unlock', lock: `${String(st.obj)}->sk_lock.slock` }], text: `bh_unlock_sock(&${String(st.obj)})` })),
  sockExpansion('sock_hold', ['obj'], (st) => ({ body: [{ op: 'refcount_inc', var: refcnt(st.obj as string) }], text: `sock_hold(&${String(st.obj)})` })),
  sockExpansion('__sock_put', ['obj'], (st) => ({ body: [{ op: 'refcount_dec', var: refcnt(st.obj as string) }], text: `__sock_put(&${String(st.obj)})` })),
  // sock_put: if (refcount_dec_and_test(&sk->sk_refcnt)) sk_free(sk).
  sockExpansion('sock_put', ['obj'], (st, x) => {
    const r = x.hiddenReg('sock_put');
    return {
      body: [{ op: 'refcount_dec_and_test', var: refcnt(st.obj as string), reg: r }, { op: 'if', cond: { reg: r }, then: [{ op: 'sk_free', obj: st.obj as string }], else: [], text: 'that was the last reference' }],
      text: `sock_put(&${String(st.obj)})`,
    };
  }),
  // sk_reset_timer: if (!mod_timer(timer, expires)) sock_hold(sk).
  sockExpansion('sk_reset_timer', ['obj', 'target', 'value'], (st, x) => {
    const r = x.hiddenReg('sk_reset_timer');
    return {
      body: [
        { op: 'mod_timer', obj: st.target as string, value: st.value as Expr, reg: r } satisfies Stmt,
        { op: 'if', cond: { fn: '!', args: [{ reg: r }] }, then: [{ op: 'refcount_inc', var: refcnt(st.obj as string) }], else: [], text: 'the timer was not pending' },
      ],
      text: `sk_reset_timer(&${String(st.obj)}, &${String(st.target)}): mod_timer`,
    };
  }),
  ...(['sk_stop_timer', 'sk_stop_timer_sync'] as const).map((name) => sockExpansion(name, ['obj', 'target'], (st, x) => {
    const r = x.hiddenReg(name);
    return {
      // sk_stop_timer: if (del_timer(t)) __sock_put(sk); the _sync form with del_timer_sync.
      body: [
        { op: name === 'sk_stop_timer' ? 'del_timer' : 'del_timer_sync', obj: st.target as string, reg: r },
        { op: 'if', cond: { reg: r }, then: [{ op: 'refcount_dec', var: refcnt(st.obj as string) }], else: [], text: 'the timer was pending' },
      ],
      text: `${name}(&${String(st.obj)}, &${String(st.target)}): ${name === 'sk_stop_timer' ? 'del_timer' : 'del_timer_sync'}`,
    };
  })),
];

// ------------------------------------------------------------ declarations

const SOCKS: ObjectKindSpec = {
  kind: 'sock',
  field: 'socks',
  size: SOCK_SIZE,
  ctype: 'sock',
  declKeys: ['backlog', 'backlog_rcv', 'skb', 'release_cb', 'refcnt'],
  // lock_sock's ownership is a lock to lockdep (sk_lock's dep_map): returning to user space owning it is a leak.
  heldBy(m, id, ctx) {
    return ownerOf(m, id) === ctx ? `sk_lock-AF_INET (&${sockName(m, id)}, owned since lock_sock)` : null;
  },
  embedded(name, decl) {
    const d = (typeof decl === 'object' && decl !== null ? decl : {}) as Partial<SockDecl>;
    return {
      locks: { [`${name}->sk_lock.slock`]: 'spinlock' },
      vars: { [refcnt(name)]: typeof d.refcnt === 'number' ? d.refcnt : 1 },
      // A bad capacity is reported by declare(); the queue gets a valid one meanwhile.
      queues: { [`${name}->sk_backlog`]: { capacity: typeof d.backlog === 'number' && d.backlog >= 1 && d.backlog <= 64 ? d.backlog : 1 } },
      objects: { waitqueue: { [`${name}->sk_lock.wq`]: {} } },
    };
  },
  declare(name, decl, d) {
    const k = decl as Partial<SockDecl> | null;
    if (typeof k !== 'object' || k === null || typeof k.backlog_rcv !== 'string') {
      return d.fail("declare a socket as { backlog: n, backlog_rcv: 'fn', skb?: 'reg', release_cb?: 'fn', refcnt?: n }: backlog_rcv (sk->sk_backlog_rcv) processes a backlogged segment, read from register skb");
    }
    if (!Number.isInteger(k.backlog) || k.backlog! < 1 || k.backlog! > 64) d.fail('backlog (the capacity of sk->sk_backlog, in segments) must be a whole number from 1 to 64');
    if (k.refcnt !== undefined && (!Number.isInteger(k.refcnt) || k.refcnt < 0)) d.fail('refcnt (sk->sk_refcnt at the start) must be a whole number');
    const skb = k.skb ?? 'skb';
    if (typeof skb !== 'string') d.fail('skb names the register backlog_rcv reads the segment from');
    if (k.release_cb !== undefined && typeof k.release_cb !== 'string') d.fail('release_cb must name a design function');
    return {
      init: [0, 0, 0, 0],
      attrs: {
        slock: d.lockId(`${name}->sk_lock.slock`),
        backlog: d.queueId(`${name}->sk_backlog`),
        wq: d.objectId('waitqueue', `${name}->sk_lock.wq`),
        skb: d.reg(skb),
        backlog_rcv: d.callbackEntry(k.backlog_rcv, [skb]),
        release_cb: k.release_cb !== undefined ? d.callbackEntry(k.release_cb, []) : -1,
      },
    };
  },
};

/** Who owns a socket, and its backlog length (for tests and reports). */
export function sockView(m: Machine, name: string): { owner: string | null; backlogLen: number; detached: number } {
  const id = m.p.objects['sock']?.findIndex((o) => o.name === name) ?? -1;
  if (id < 0) throw new Error(`no socket '${name}'`);
  const owner = ownerOf(m, id);
  return { owner: owner >= 0 ? m.contextName(owner) : null, backlogLen: m.s[sockOff(m, id) + K_LEN]!, detached: m.s[sockOff(m, id) + K_DETACHED]! };
}

export const SOCK_MECHANISM: Mechanism = {
  name: 'sock',
  // sk_lock.slock is a spinlock_t: on PREEMPT_RT it sleeps, which this model of the socket lock does not follow.
  rtUnmodelled: 'sk_lock.slock is a spinlock_t, a sleeping lock on PREEMPT_RT; the socket lock here spins',
  ops: SOCK_OPS,
  objects: [SOCKS],
  expansions: SOCK_EXPANSIONS,
};
