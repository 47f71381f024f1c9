/**
 * Sleeping locks and wait queues (shared/kernel-semantics.md §4.3):
 * struct mutex (kernel/locking/mutex.c), struct semaphore
 * (kernel/locking/semaphore.c), struct completion
 * (kernel/sched/completion.c) and wait queues (kernel/sched/wait.c,
 * include/linux/wait.h). Every sleeping call first passes might_sleep
 * (`__might_resched`), whether or not it would block.
 *
 * Waking is wake-all: every sleeper on the channel becomes runnable and
 * re-checks (mutex owner, semaphore count, completion count, wait_event
 * condition). For mutexes and semaphores the kernel hands over to the first
 * waiter (or an optimistic spinner steals); letting any waiter win is a
 * sound over-approximation of that.
 */
import { L_OWNER, X_PC, X_PHASE } from './layout.ts';
import type { Machine } from './machine.ts';
import { dropHold, initLock, MAX_SUBCLASSES, selfDeadlock, takeHold } from './held-locks.ts';
import { evaluate } from './data.ts';
import { block, Chan, channel, mightSleep, sleeps, wakeAll, wakesOn } from './scheduler.ts';
import { INSN_WIDTH } from './program.ts';
import type { Mechanism, ObjectKindSpec, OpSemantics, OperandSpec } from './semantics.ts';

const SEM_SIZE = 1; // count
const COMPLETION_SIZE = 1; // done (UINT_MAX after complete_all)
const WAITQUEUE_SIZE = 1; // unused word: sleepers are tasks on the channel
const COMPLETE_ALL = 0x7fffffff;

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 64;

export const SLEEP_OBJECTS: readonly ObjectKindSpec[] = [
  {
    kind: 'semaphore',
    field: 'semaphores',
    size: SEM_SIZE,
    wordRoles: ['plain'],
    declare(_name, decl, d) {
      if (!isCount(decl)) return d.fail('the initial count (sema_init) must be a whole number from 0 to 64');
      return { init: [decl] };
    },
  },
  {
    kind: 'completion',
    declKeys: ['done'],
    field: 'completions',
    size: COMPLETION_SIZE,
    wordRoles: ['plain'],
    declare(_name, decl, d) {
      const done = (decl as { done?: unknown } | null)?.done ?? 0;
      if (typeof decl !== 'object' || decl === null || !isCount(done)) d.fail('declare a completion as {} or { done: n }');
      return { init: [done as number] };
    },
  },
  {
    kind: 'waitqueue',
    declKeys: [],
    field: 'waitqueues',
    size: WAITQUEUE_SIZE,
    wordRoles: ['plain'],
    declare(_name, decl, d) {
      if (typeof decl !== 'object' || decl === null) d.fail('declare a wait queue as {}');
      return { init: [0] };
    },
  },
];

const semOff = (m: Machine, id: number): number => m.objOff('semaphore', id, SEM_SIZE);
const complOff = (m: Machine, id: number): number => m.objOff('completion', id, COMPLETION_SIZE);
const objName = (m: Machine, kind: string, id: number): string => `&${m.p.objects[kind]![id]!.name}`;

const MUTEX: OperandSpec = { kind: 'lock', field: 'lock', lockKind: 'mutex' };

/**
 * mutex_lock(): might_sleep; take it if free, else sleep until the owner
 * unlocks. `nested`: mutex_lock_nested(lock, subclass), the same lock with
 * a lockdep subclass (include/linux/mutex.h).
 */
function mutexLockOp(nested: boolean): OpSemantics {
  const name = nested ? 'mutex_lock_nested' : 'mutex_lock';
  return {
    name,
    // might_sleep reads this CPU; the owner word; a sleep leaves the CPU (the subclass lives in the context's own record).
    footprint(f, a) {
      sleeps(f);
      f.write(f.lock(a));
      f.acquire(a);
    },
    sleepsOn: { chan: Chan.Mutex, operand: 0 },
    operands: nested ? [MUTEX, { kind: 'int', field: 'subclass', min: 0, max: MAX_SUBCLASSES - 1 }] : [MUTEX],
    // mutex_acquire_nest(&lock->dep_map, subclass, 0, nest_lock, ip): exclusive.
    lockdep: { action: 'acquire', read: 0, ...(nested ? { subclassOperand: 1 as const } : {}) },
    exec(m, cpu, ctx, a, b) {
      if (!mightSleep(m, cpu, ctx, `${name}(&${m.lockName(a)})`)) return;
      const lo = m.lockOff(a);
      // Not recursive: the owner sleeps on itself (held-locks.ts).
      if (selfDeadlock(m, cpu, ctx, a, false, name, 'sleeps')) return;
      if (m.s[lo + L_OWNER] !== 0) {
        block(m, cpu, ctx, channel(Chan.Mutex, a));
        return;
      }
      m.w(lo + L_OWNER, ctx + 1);
      takeHold(m, ctx, a, nested ? b : 0);
      m.advance(ctx);
    },
    label(m, _cpu, ctx, a) {
      const owner = m.s[m.lockOff(a) + L_OWNER]!;
      const text = m.p.text[m.s[m.ctxOff(ctx) + X_PC]! / INSN_WIDTH]!;
      return owner === 0 || owner === ctx + 1 ? text : `${text}: held by ${m.contextName(owner - 1)}, sleeps`;
    },
    waitsFor(m, _cpu, ctx, a) {
      const owner = m.s[m.lockOff(a) + L_OWNER]!;
      return {
        on: owner ? [owner - 1] : [],
        why: `${m.contextName(ctx)}: ${name}(&${m.lockName(a)}) sleeps: held by ${owner ? m.contextName(owner - 1) : 'nobody'}`,
        // Only the owner may unlock a mutex (mutex_unlock: DEBUG_LOCKS_WARN_ON(owner != current)).
        permanent: true,
      };
    },
  };
}

export const SLEEP_OPS: readonly OpSemantics[] = [
  mutexLockOp(false),
  mutexLockOp(true),
  {
    // mutex_unlock(): only the owner task may unlock (DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current)).
    name: 'mutex_unlock',
    footprint(f, a) {
      f.write(f.lock(a));
      wakesOn(f, Chan.Mutex, a);
      f.release(a);
    },
    operands: [MUTEX],
    lockdep: { action: 'release', read: 0 },
    exec(m, cpu, ctx, a) {
      const lo = m.lockOff(a);
      const owner = m.s[lo + L_OWNER]!;
      if (owner !== ctx + 1) {
        const why = owner === 0 ? 'not locked' : `owned by ${m.contextName(owner - 1)}`;
        m.fail('lock-misuse', `WARNING: bad unlock balance detected! ${m.contextName(ctx)} is trying to release lock (&${m.lockName(a)}): ${why} (mutex_unlock: DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current))`, cpu, ctx);
        return;
      }
      m.w(lo + L_OWNER, 0);
      dropHold(m, ctx, a);
      wakeAll(m, channel(Chan.Mutex, a));
      m.advance(ctx);
    },
  },
  {
    // mutex_trylock(): never sleeps, but is not allowed in interrupt context.
    name: 'mutex_trylock',
    footprint(f, a) {
      f.read(f.ownCpu());
      f.write(f.lock(a));
    },
    operands: [MUTEX, { kind: 'reg-def', field: 'reg' }],
    lockdep: { action: 'acquire', read: 0, trylock: true },
    exec(m, cpu, ctx, a, b) {
      if (!m.isTask(ctx) || m.inInterrupt(cpu)) {
        m.fail('lock-misuse', `WARNING: mutex_trylock(&${m.lockName(a)}) in interrupt context (DEBUG_LOCKS_WARN_ON(in_interrupt())) by ${m.contextName(ctx)}`, cpu, ctx);
        return;
      }
      const lo = m.lockOff(a);
      const free = m.s[lo + L_OWNER] === 0;
      if (free) {
        m.w(lo + L_OWNER, ctx + 1);
        takeHold(m, ctx, a, 0);
      }
      m.setReg(ctx, b, free ? 1 : 0);
      m.advance(ctx);
    },
  },
  {
    // mutex_init(): __mutex_init, after debug_check_no_locks_freed (held-locks.ts initLock).
    name: 'mutex_init',
    operands: [MUTEX],
    // debug_check_no_locks_freed reads the held locks of this CPU's current contexts (only this CPU
    // changes them); the lock's words are zeroed, under whoever holds it.
    footprint(f, a) {
      f.read(f.ownCpu());
      f.write(f.lock(a));
      f.release(a);
      f.resets(a);
    },
    lockdep: { action: 'init', read: 0 },
    exec(m, cpu, ctx, a) {
      if (initLock(m, cpu, ctx, a, 'mutex_init')) m.advance(ctx);
    },
  },
  {
    name: 'down',
    footprint(f, a) {
      sleeps(f);
      f.write(f.object('semaphore', a));
    },
    sleepsOn: { chan: Chan.Semaphore, operand: 0 },
    operands: [{ kind: 'object', field: 'obj', objectKind: 'semaphore' }],
    exec(m, cpu, ctx, a) {
      if (!mightSleep(m, cpu, ctx, `down(${objName(m, 'semaphore', a)})`)) return;
      const off = semOff(m, a);
      if (m.s[off] === 0) {
        block(m, cpu, ctx, channel(Chan.Semaphore, a));
        return;
      }
      m.w(off, m.s[off]! - 1);
      m.advance(ctx);
    },
    waitsFor(m, _cpu, ctx, a) {
      return { on: [], why: `${m.contextName(ctx)}: down(${objName(m, 'semaphore', a)}) sleeps until an up()` };
    },
  },
  {
    // up(): any context.
    name: 'up',
    footprint(f, a) {
      f.write(f.object('semaphore', a));
      wakesOn(f, Chan.Semaphore, a);
    },
    operands: [{ kind: 'object', field: 'obj', objectKind: 'semaphore' }],
    exec(m, _cpu, ctx, a) {
      const off = semOff(m, a);
      m.w(off, m.s[off]! + 1);
      wakeAll(m, channel(Chan.Semaphore, a));
      m.advance(ctx);
    },
  },
  {
    name: 'wait_for_completion',
    footprint(f, a) {
      sleeps(f);
      f.write(f.object('completion', a));
    },
    sleepsOn: { chan: Chan.Completion, operand: 0 },
    operands: [{ kind: 'object', field: 'obj', objectKind: 'completion' }],
    exec(m, cpu, ctx, a) {
      if (!mightSleep(m, cpu, ctx, `wait_for_completion(${objName(m, 'completion', a)})`)) return;
      const off = complOff(m, a);
      const done = m.s[off]!;
      if (done === 0) {
        block(m, cpu, ctx, channel(Chan.Completion, a));
        return;
      }
      if (done !== COMPLETE_ALL) m.w(off, done - 1);
      m.advance(ctx);
    },
    waitsFor(m, _cpu, ctx, a) {
      return { on: [], why: `${m.contextName(ctx)}: wait_for_completion(${objName(m, 'completion', a)}) sleeps until a complete()` };
    },
  },
  {
    // try_wait_for_completion(): any context, never sleeps.
    name: 'try_wait_for_completion',
    footprint(f, a) {
      f.write(f.object('completion', a));
    },
    operands: [{ kind: 'object', field: 'obj', objectKind: 'completion' }, { kind: 'reg-def', field: 'reg' }],
    exec(m, _cpu, ctx, a, b) {
      const off = complOff(m, a);
      const done = m.s[off]!;
      if (done > 0 && done !== COMPLETE_ALL) m.w(off, done - 1);
      m.setReg(ctx, b, done > 0 ? 1 : 0);
      m.advance(ctx);
    },
  },
  {
    // complete(): any context; done++ (saturating at complete_all's UINT_MAX).
    name: 'complete',
    footprint(f, a) {
      f.write(f.object('completion', a));
      wakesOn(f, Chan.Completion, a);
    },
    operands: [{ kind: 'object', field: 'obj', objectKind: 'completion' }],
    exec(m, _cpu, ctx, a) {
      const off = complOff(m, a);
      if (m.s[off] !== COMPLETE_ALL) m.w(off, m.s[off]! + 1);
      wakeAll(m, channel(Chan.Completion, a));
      m.advance(ctx);
    },
  },
  {
    name: 'complete_all',
    footprint(f, a) {
      f.write(f.object('completion', a));
      wakesOn(f, Chan.Completion, a);
    },
    operands: [{ kind: 'object', field: 'obj', objectKind: 'completion' }],
    exec(m, _cpu, ctx, a) {
      m.w(complOff(m, a), COMPLETE_ALL);
      wakeAll(m, channel(Chan.Completion, a));
      m.advance(ctx);
    },
  },
  {
    name: 'reinit_completion',
    footprint(f, a) {
      f.write(f.object('completion', a));
    },
    operands: [{ kind: 'object', field: 'obj', objectKind: 'completion' }],
    exec(m, _cpu, ctx, a) {
      m.w(complOff(m, a), 0);
      m.advance(ctx);
    },
  },
  {
    // wait_event(): prepare_to_wait sets the task state before the condition is
    // checked, so a wake_up between the check and schedule() is not lost: the
    // check and the sleep are one step here.
    name: 'wait_event',
    footprint(f, _a, b) {
      sleeps(f);
      f.expr(b);
    },
    sleepsOn: { chan: Chan.WaitQueue, operand: 0 },
    operands: [{ kind: 'object', field: 'obj', objectKind: 'waitqueue' }, { kind: 'expr', field: 'cond' }],
    exec(m, cpu, ctx, a, b) {
      if (!mightSleep(m, cpu, ctx, `wait_event(${objName(m, 'waitqueue', a)})`)) return;
      if (evaluate(m, cpu, ctx, b) !== 0) {
        m.advance(ctx);
        return;
      }
      block(m, cpu, ctx, channel(Chan.WaitQueue, a));
    },
    waitsFor(m, _cpu, ctx, a) {
      return { on: [], why: `${m.contextName(ctx)}: wait_event(${objName(m, 'waitqueue', a)}) sleeps until its condition holds and a wake_up()` };
    },
  },
  {
    name: 'wake_up',
    footprint(f, a) {
      wakesOn(f, Chan.WaitQueue, a);
    },
    operands: [{ kind: 'object', field: 'obj', objectKind: 'waitqueue' }],
    exec(m, _cpu, ctx, a) {
      wakeAll(m, channel(Chan.WaitQueue, a));
      m.advance(ctx);
    },
  },
  {
    // interruptible_sleep_on(): sleep unconditionally until the next wake_up.
    name: 'sleep_on',
    footprint(f) {
      sleeps(f);
    },
    sleepsOn: { chan: Chan.WaitQueue, operand: 0 },
    operands: [{ kind: 'object', field: 'obj', objectKind: 'waitqueue' }],
    exec(m, cpu, ctx, a) {
      const o = m.ctxOff(ctx);
      if (m.s[o + X_PHASE] === 1) {
        m.advance(ctx);
        return;
      }
      if (!mightSleep(m, cpu, ctx, `sleep_on(${objName(m, 'waitqueue', a)})`)) return;
      m.w(o + X_PHASE, 1);
      block(m, cpu, ctx, channel(Chan.WaitQueue, a));
    },
    waitsFor(m, _cpu, ctx, a) {
      return { on: [], why: `${m.contextName(ctx)}: sleep_on(${objName(m, 'waitqueue', a)}) sleeps until the next wake_up()` };
    },
  },
];

export const SLEEP: Mechanism = { name: 'sleep', ops: SLEEP_OPS, objects: SLEEP_OBJECTS };
