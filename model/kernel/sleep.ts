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
import { L_OWNER, X_HELD, X_PHASE } from './layout.ts';
import type { Machine } from './machine.ts';
import { evaluate } from './data.ts';
import { block, Chan, channel, mightSleep, sleeps, wakeAll, wakes } from './scheduler.ts';
import type { Mechanism, ObjectKindSpec, OpSemantics } from './semantics.ts';

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

export const SLEEP_OPS: readonly OpSemantics[] = [
  {
    // mutex_lock(): might_sleep; take it if free, else sleep until the owner unlocks.
    name: 'mutex_lock',
    footprint(f, a) {
      sleeps(f);
      f.write(f.lock(a));
      f.acquire(a);
    },
    operands: [{ kind: 'lock', field: 'lock', lockKind: 'mutex' }],
    exec(m, cpu, ctx, a) {
      if (!mightSleep(m, cpu, ctx, `mutex_lock(&${m.lockName(a)})`)) return;
      const lo = m.lockOff(a);
      const owner = m.s[lo + L_OWNER]!;
      if (owner === ctx + 1) {
        // Not recursive: lockdep "possible recursive locking detected", a self-deadlock.
        m.fail('lock-misuse', `WARNING: possible recursive locking detected: ${m.contextName(ctx)} already holds &${m.lockName(a)} (mutex_lock)`, cpu, ctx);
        return;
      }
      if (owner !== 0) {
        block(m, cpu, ctx, channel(Chan.Mutex, a));
        return;
      }
      m.w(lo + L_OWNER, ctx + 1);
      const o = m.ctxOff(ctx);
      m.w(o + X_HELD, m.s[o + X_HELD]! | (1 << a));
      m.advance(ctx);
    },
    label(m, _cpu, ctx, a) {
      const owner = m.s[m.lockOff(a) + L_OWNER]!;
      return owner === 0 || owner === ctx + 1
        ? `mutex_lock(&${m.lockName(a)})`
        : `mutex_lock(&${m.lockName(a)}): held by ${m.contextName(owner - 1)}, sleeps`;
    },
    waitsFor(m, _cpu, ctx, a) {
      const owner = m.s[m.lockOff(a) + L_OWNER]!;
      return {
        on: owner ? [owner - 1] : [],
        why: `${m.contextName(ctx)}: mutex_lock(&${m.lockName(a)}) sleeps: held by ${owner ? m.contextName(owner - 1) : 'nobody'}`,
      };
    },
  },
  {
    // mutex_unlock(): only the owner task may unlock (DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current)).
    name: 'mutex_unlock',
    footprint(f, a) {
      f.write(f.lock(a));
      wakes(f);
      f.release(a);
    },
    operands: [{ kind: 'lock', field: 'lock', lockKind: 'mutex' }],
    exec(m, cpu, ctx, a) {
      const lo = m.lockOff(a);
      const owner = m.s[lo + L_OWNER]!;
      if (owner !== ctx + 1) {
        const why = owner === 0 ? 'not locked' : `owned by ${m.contextName(owner - 1)}`;
        m.fail('lock-misuse', `WARNING: bad unlock balance detected! ${m.contextName(ctx)} is trying to release lock (&${m.lockName(a)}): ${why} (mutex_unlock: DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current))`, cpu, ctx);
        return;
      }
      m.w(lo + L_OWNER, 0);
      const o = m.ctxOff(ctx);
      m.w(o + X_HELD, m.s[o + X_HELD]! & ~(1 << a));
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
    operands: [{ kind: 'lock', field: 'lock', lockKind: 'mutex' }, { kind: 'reg-def', field: 'reg' }],
    exec(m, cpu, ctx, a, b) {
      if (!m.isTask(ctx) || m.inInterrupt(cpu)) {
        m.fail('lock-misuse', `WARNING: mutex_trylock(&${m.lockName(a)}) in interrupt context (DEBUG_LOCKS_WARN_ON(in_interrupt())) by ${m.contextName(ctx)}`, cpu, ctx);
        return;
      }
      const lo = m.lockOff(a);
      const free = m.s[lo + L_OWNER] === 0;
      if (free) {
        m.w(lo + L_OWNER, ctx + 1);
        const o = m.ctxOff(ctx);
        m.w(o + X_HELD, m.s[o + X_HELD]! | (1 << a));
      }
      m.setReg(ctx, b, free ? 1 : 0);
      m.advance(ctx);
    },
  },
  {
    name: 'down',
    footprint(f, a) {
      sleeps(f);
      f.write(f.object('semaphore', a));
    },
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
      wakes(f);
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
      wakes(f);
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
      wakes(f);
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
    footprint(f) {
      wakes(f);
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
