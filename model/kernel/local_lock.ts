/**
 * local_lock_t (include/linux/local_lock.h, local_lock_internal.h), as
 * kernels without PREEMPT_RT build it: a per-CPU lock that never spins or
 * sleeps. local_lock() is preempt_disable(), local_lock_irq()
 * local_irq_disable(), local_lock_irqsave() local_irq_save(); each then
 * runs local_lock_acquire() on this CPU's instance, which tells lockdep
 * (lock_map_acquire, one class for every CPU's instance, LD_LOCK_PERCPU)
 * and checks that nobody on this CPU owns it yet
 * (DEBUG_LOCKS_WARN_ON(l->owner)). The unlocks run local_lock_release()
 * (DEBUG_LOCKS_WARN_ON(l->owner != current)) and undo their prologue.
 *
 * A local lock protects per-CPU data against the other contexts of its own
 * CPU only, so its owner on a CPU is whichever context of that CPU's stack
 * holds it (its holder cannot leave the CPU: preemption or irqs are off).
 * A second acquisition on the same CPU, by the holder itself or by an
 * interrupt handler that took it with plain local_lock(), does not block
 * on !PREEMPT_RT: it is the DEBUG_LOCKS_WARN_ON warning, lock-misuse, and
 * the per-CPU data is then touched by two contexts at once. (Under
 * PREEMPT_RT local_lock_t is a spinlock_t and the same code deadlocks.)
 */
import { C_CURTASK, C_IRQS_OFF, C_PREEMPT, X_HELD } from './layout.ts';
import { dropHold, initLock, takeHold } from './held-locks.ts';
import type { Machine } from './machine.ts';
import { preemptDec } from './scheduler.ts';
import type { Mechanism, OpSemantics, OperandSpec } from './semantics.ts';

const LOCAL_LOCK: OperandSpec = { kind: 'lock', field: 'lock', lockKind: 'local_lock' };

type Flavour = 'plain' | 'irq' | 'irqsave';
const LOCK: Record<Flavour, string> = { plain: 'local_lock', irq: 'local_lock_irq', irqsave: 'local_lock_irqsave' };
const UNLOCK: Record<Flavour, string> = { plain: 'local_unlock', irq: 'local_unlock_irq', irqsave: 'local_unlock_irqrestore' };

/** The context of `cpu`'s stack that holds this CPU's instance of `lock`, or -1. */
function ownerOn(m: Machine, cpu: number, lock: number): number {
  const task = m.s[m.cpuOff(cpu) + C_CURTASK]!;
  const stack = task >= 0 ? [task] : [];
  for (let d = 0; d < m.frameDepth(cpu); d++) stack.push(m.frameCtx(cpu, d));
  return stack.find((c) => (m.s[m.ctxOff(c) + X_HELD]! & (1 << lock)) !== 0) ?? -1;
}

function lockOp(flavour: Flavour): OpSemantics {
  const name = LOCK[flavour];
  return {
    name,
    operands: flavour === 'irqsave' ? [LOCAL_LOCK, { kind: 'reg-def', field: 'flags' }] : [LOCAL_LOCK],
    lockdep: { action: 'acquire', read: 0, ...(flavour !== 'plain' ? { irqsOff: true as const } : {}) },
    // This CPU only: its preempt count or irq flag, and the held locks of its contexts (ownerOn),
    // which no other CPU runs. The lock's words are never touched, and it excludes nobody on
    // another CPU: no acquire.
    footprint(f) {
      f.write(f.ownCpu());
    },
    exec(m, cpu, ctx, a, b) {
      const co = m.cpuOff(cpu);
      if (flavour === 'plain') m.w(co + C_PREEMPT, m.s[co + C_PREEMPT]! + 1);
      else {
        if (flavour === 'irqsave') m.setReg(ctx, b, m.s[co + C_IRQS_OFF]!);
        m.w(co + C_IRQS_OFF, 1);
      }
      const owner = ownerOn(m, cpu, a);
      if (owner >= 0) {
        const who = owner === ctx ? 'which already holds it' : `while ${m.contextName(owner)} holds it`;
        m.fail('lock-misuse', `WARNING: DEBUG_LOCKS_WARN_ON(l->owner): ${m.contextName(ctx)}: ${name}(&${m.lockName(a)}) on CPU#${cpu}, ${who} (local_lock_acquire: on !PREEMPT_RT a local lock never waits; two contexts of one CPU are inside it at once)`, cpu, ctx);
        return;
      }
      takeHold(m, ctx, a, 0);
      m.advance(ctx);
    },
  };
}

function unlockOp(flavour: Flavour): OpSemantics {
  const name = UNLOCK[flavour];
  return {
    name,
    operands: flavour === 'irqsave' ? [LOCAL_LOCK, { kind: 'reg-use', field: 'flags' }] : [LOCAL_LOCK],
    lockdep: { action: 'release', read: 0 },
    // This CPU only (see local_lock).
    footprint(f) {
      f.write(f.ownCpu());
    },
    exec(m, cpu, ctx, a, b) {
      if ((m.s[m.ctxOff(ctx) + X_HELD]! & (1 << a)) === 0) {
        const owner = ownerOn(m, cpu, a);
        const why = owner >= 0 ? `held by ${m.contextName(owner)}` : 'not held on this CPU';
        m.fail('lock-misuse', `WARNING: DEBUG_LOCKS_WARN_ON(l->owner != current): ${m.contextName(ctx)}: ${name}(&${m.lockName(a)}) on CPU#${cpu}: ${why} (local_lock_release)`, cpu, ctx);
        return;
      }
      dropHold(m, ctx, a);
      const co = m.cpuOff(cpu);
      if (flavour === 'irq') m.w(co + C_IRQS_OFF, 0);
      else if (flavour === 'irqsave') m.w(co + C_IRQS_OFF, m.reg(ctx, b) !== 0 ? 1 : 0);
      else if (!preemptDec(m, cpu, ctx)) return;
      m.advance(ctx);
    },
  };
}

export const LOCAL_LOCK_OPS: readonly OpSemantics[] = [
  lockOp('plain'), unlockOp('plain'), lockOp('irq'), unlockOp('irq'), lockOp('irqsave'), unlockOp('irqsave'),
  {
    // local_lock_init(): __local_lock_init, after debug_check_no_locks_freed on this CPU's instance.
    name: 'local_lock_init',
    operands: [LOCAL_LOCK],
    lockdep: { action: 'init', read: 0 },
    // As mutex_init (sleep.ts): this CPU's contexts' held locks; the lock's (unused) words zeroed.
    footprint(f, a) {
      f.read(f.ownCpu());
      f.write(f.lock(a));
      f.resets(a);
    },
    exec(m, cpu, ctx, a) {
      if (initLock(m, cpu, ctx, a, 'local_lock_init')) m.advance(ctx);
    },
  },
];

export const LOCAL_LOCK_MECHANISM: Mechanism = {
  name: 'local_lock',
  ops: LOCAL_LOCK_OPS,
  // include/linux/local_lock_internal.h, CONFIG_PREEMPT_RT: a per-CPU spinlock_t (sleeping) under migrate_disable.
  rtUnmodelled: 'on PREEMPT_RT a local_lock_t is a per-CPU sleeping spinlock_t taken under migrate_disable, not preempt_disable',
};
