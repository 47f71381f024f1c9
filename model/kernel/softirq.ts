/**
 * Softirqs (kernel/softirq.c; shared/kernel-semantics.md §2): the ten vectors
 * in priority order, the three raise primitives with their wakeup rules, the
 * processing loop with its restart policy, the run points (irq_exit,
 * local_bh_enable, spin_unlock_bh, do_softirq) and ksoftirqd.
 *
 * PREEMPT_RT (flag preemptRT; kernel/softirq.c, the CONFIG_PREEMPT_RT part):
 * invoke_softirq never runs softirqs at irq_exit; it wakes ksoftirqd if
 * should_wake_ksoftirqd() (softirq_ctrl.cnt is 0: no task of this CPU is
 * in a bh-disabled section, which runs them at its local_bh_enable).
 * Over-approximated or not modelled on RT: the per-CPU BH lock
 * (softirq_ctrl.lock) is the bh count of !RT, so a bh-disabled task is not
 * preemptible here (on RT it is, and another task's local_bh_disable
 * sleeps on the lock); softirqs run as frames on the CPU, not in a
 * preemptible task, so one that would sleep on a held rt lock ends its path
 * bounded-out (spinlock.ts); ktimers/N (6.13+) is not modelled (6.12 runs
 * timers in ksoftirqd); the 6.18 removal of the BH lock is not modelled.
 */
import { SOFTIRQS } from '../dsl/design.ts';
import {
  C_BH, C_CURTASK, C_DEPTH, C_IRQS_OFF, C_KSOFTIRQD, C_PENDING, C_SERVING,
  FrameKind, X_AUX0, X_AUX1, X_AUX2, X_ENTRY_IRQS, X_EXIT, X_HELD,
} from './layout.ts';
import type { Machine } from './machine.ts';
import type { ChoiceSource, FootprintBuilder, Mechanism, OpSemantics } from './semantics.ts';

/** The batch loop is built-in code at pc 0 (the compiler puts it there). */
export const SOFTIRQ_LOOP_PC = 0;
export const HI_SOFTIRQ = 0;
export const TASKLET_SOFTIRQ = 6;
/** SOFTIRQ_NOW_MASK: vectors that never wait for ksoftirqd (4.15+). */
const SOFTIRQ_NOW_MASK = (1 << HI_SOFTIRQ) | (1 << TASKLET_SOFTIRQ);
/** MAX_SOFTIRQ_RESTART (kernel/softirq.c). */
export const MAX_SOFTIRQ_RESTART = 10;

const EXIT_IRQS_SHIFT = 8;

/** How a softirq batch frame returns (X_EXIT, low bits). */
export const enum SoftirqExit {
  /** invoke_softirq() from irq_exit: back to the interrupted context, irqs on. */
  IrqReturn = 1,
  /** do_softirq() from local_bh_enable/spin_unlock_bh/do_softirq: local_irq_restore. */
  Local = 2,
  /** run_ksoftirqd(): local_irq_enable, then sleep again unless more is pending. */
  Ksoftirqd = 3,
}

const vecName = (v: number): string => SOFTIRQS[v]!;
export function vectorList(mask: number): string {
  const names: string[] = [];
  for (let v = 0; v < SOFTIRQS.length; v++) if (mask & (1 << v)) names.push(vecName(v));
  return names.join('|');
}

/**
 * The vectors a tasklet parked on `cpu` keeps pending in the kernel, where
 * ksoftirqd requeues it pass after pass and never sleeps (tasklet.ts
 * parkedVectors, registered by tasklet.ts: it imports this file, not the
 * other way round).
 */
let parkedVectors: (m: Machine, cpu: number) => number = () => 0;
export function registerParkedVectors(fn: (m: Machine, cpu: number) => number): void {
  parkedVectors = fn;
}

/** wakeup_softirqd(): ksoftirqd of this CPU becomes runnable. */
export function wakeupSoftirqd(m: Machine, cpu: number): void {
  m.w(m.cpuOff(cpu) + C_KSOFTIRQD, 1);
}

/**
 * ksoftirqd_running(pending), 4.9–6.4 only (commit 4cd13c21b207, reverted by
 * d15121be7485): while ksoftirqd is runnable, irq_exit and do_softirq leave
 * the work to it, unless HI or TASKLET is pending (SOFTIRQ_NOW_MASK).
 */
function ksoftirqdRunning(m: Machine, cpu: number, pending: number): boolean {
  if (m.p.flags.softirqDefer !== 'ksoftirqd-running') return false;
  // A tasklet parked on this CPU (tasklet.ts) keeps HI or TASKLET pending in the kernel.
  if ((pending | parkedVectors(m, cpu)) & SOFTIRQ_NOW_MASK) return false;
  return m.s[m.cpuOff(cpu) + C_KSOFTIRQD] !== 0;
}

/**
 * Start a batch (__do_softirq / handle_softirqs entry): take the pending
 * snapshot, set SOFTIRQ_OFFSET ("serving"), clear pending, enable irqs.
 */
function startBatch(m: Machine, cpu: number, kind: FrameKind, exit: SoftirqExit): void {
  const co = m.cpuOff(cpu);
  const s = m.s;
  const pending = s[co + C_PENDING]!;
  const callerIrqsOff = s[co + C_IRQS_OFF]!;
  // X_EXIT holds the exit action, and above it the caller's irq state (do_softirq's flags).
  const ctx = m.pushFrame(cpu, kind, cpu, SOFTIRQ_LOOP_PC, exit | (callerIrqsOff << EXIT_IRQS_SHIFT));
  const o = m.ctxOff(ctx);
  m.w(co + C_SERVING, 1);
  m.w(co + C_PENDING, 0);
  m.w(co + C_IRQS_OFF, 0);
  m.w(o + X_AUX0, pending); // vectors of this pass not yet run
  // Restarts left (max-restart) or, for 2.4, the mask of vectors not yet run in this call.
  m.w(o + X_AUX1, m.p.flags.restartPolicy === 'max-restart' ? MAX_SOFTIRQ_RESTART : ~pending & 0x3ff);
  m.w(o + X_AUX2, -1); // vector whose handler is running
}

/**
 * invoke_softirq() at irq_exit (__irq_exit_rcu): run the batch on top of the
 * interrupted context if not in interrupt and something is pending. Returns
 * whether a batch started; if not, the caller returns from the interrupt.
 */
export function softirqsAtIrqExit(m: Machine, cpu: number): boolean {
  const pending = m.s[m.cpuOff(cpu) + C_PENDING]!;
  if (m.p.flags.preemptRT) {
    // PREEMPT_RT invoke_softirq: never here; wake ksoftirqd if should_wake_ksoftirqd() (no
    // bh-disabled section on this CPU, which would run them at its local_bh_enable).
    if (pending !== 0 && !m.inInterrupt(cpu)) wakeupSoftirqd(m, cpu);
    return false;
  }
  if (pending === 0 || m.inInterrupt(cpu) || ksoftirqdRunning(m, cpu, pending)) return false;
  startBatch(m, cpu, FrameKind.Softirq, SoftirqExit.IrqReturn);
  return true;
}

/** do_softirq(): run pending softirqs in the caller's context if allowed. */
function doSoftirq(m: Machine, cpu: number): boolean {
  const pending = m.s[m.cpuOff(cpu) + C_PENDING]!;
  if (pending === 0 || m.inInterrupt(cpu) || ksoftirqdRunning(m, cpu, pending)) return false;
  startBatch(m, cpu, FrameKind.Softirq, SoftirqExit.Local);
  return true;
}

/**
 * __local_bh_enable_ip(): the run point of local_bh_enable and
 * spin_unlock_bh. Warns in hardirq or with irqs off; only the outermost
 * enable, outside interrupt context, runs pending softirqs, here, in the
 * caller's own context. (The kernel drops the last preempt count after the
 * batch; the batch runs with SOFTIRQ_OFFSET set so nothing observes the
 * difference, and we drop it first.) Returns false on a violation.
 */
export function bhEnable(m: Machine, cpu: number, ctx: number, what: string): boolean {
  const co = m.cpuOff(cpu);
  if (m.inHardirq(cpu)) {
    m.fail('bad-bh-enable', `WARNING: CPU: ${cpu} at kernel/softirq.c __local_bh_enable_ip: ${what} in hardirq context (WARN_ON_ONCE(in_hardirq()))`, cpu, ctx);
    return false;
  }
  if (m.irqsOff(cpu)) {
    m.fail('bad-bh-enable', `WARNING: CPU: ${cpu} at kernel/softirq.c __local_bh_enable_ip: ${what} with irqs disabled (lockdep_assert_irqs_enabled); softirqs would run with irqs off`, cpu, ctx);
    return false;
  }
  if (m.s[co + C_BH]! <= 0) {
    m.fail('lock-misuse', `WARNING: CPU: ${cpu} at kernel/softirq.c __local_bh_enable_ip: ${what} without local_bh_disable (softirq count underflow)`, cpu, ctx);
    return false;
  }
  m.w(co + C_BH, m.s[co + C_BH]! - 1);
  doSoftirq(m, cpu);
  return true;
}

/** Set `vec` pending on `cpu` (the bit only: callers apply the wakeup rule of their primitive). */
export function raise(m: Machine, cpu: number, vec: number): void {
  const co = m.cpuOff(cpu);
  m.w(co + C_PENDING, m.s[co + C_PENDING]! | (1 << vec));
}

function assertIrqsOff(m: Machine, cpu: number, ctx: number, what: string): boolean {
  if (m.irqsOff(cpu)) return true;
  m.fail('assertion', `WARNING: CPU: ${cpu} at kernel/softirq.c: ${what} called with irqs enabled (lockdep_assert_irqs_disabled)`, cpu, ctx);
  return false;
}

const leakMessage = (m: Machine, cpu: number, ctx: number, vec: number): string | null => {
  const o = m.ctxOff(ctx);
  const co = m.cpuOff(cpu);
  const s = m.s;
  const held = s[o + X_HELD]!;
  const heldText = held !== 0 ? ` (${heldNames(m, held)} still held)` : '';
  const before = m.entryPreemptCount(cpu, ctx);
  const after = m.preemptCount(cpu);
  if (before !== after) {
    // __do_softirq: "huh, entered softirq %u %s %p with preempt_count %08x, exited with %08x?"
    const hex = (n: number) => n.toString(16).padStart(8, '0');
    return `huh, entered softirq ${vec} ${vecName(vec)} with preempt_count ${hex(before)}, exited with ${hex(after)}?${heldText}`;
  }
  if (held !== 0) {
    // A lock released by count but not by owner cannot happen; a held rwlock reader keeps preempt too.
    return `BUG: softirq ${vecName(vec)} returned with ${heldNames(m, held)} held (lockdep: leaked lock at softirq exit)`;
  }
  if (s[co + C_IRQS_OFF] !== s[o + X_ENTRY_IRQS]) {
    return `BUG: softirq ${vecName(vec)} returned with irqs disabled`;
  }
  return null;
};

export function heldNames(m: Machine, held: number): string {
  const names: string[] = [];
  for (let l = 0; l < m.p.locks.length; l++) if (held & (1 << l)) names.push(`&${m.lockName(l)}`);
  return names.join(', ');
}

/** What the batch loop does next; its label and semantics share this. */
const enum LoopStep {
  RunVector,
  Restart,
  Finish,
  FinishWakeup,
}

function nextLoopStep(m: Machine, cpu: number, ctx: number, variant: number): LoopStep {
  const o = m.ctxOff(ctx);
  if (m.s[o + X_AUX0] !== 0) return LoopStep.RunVector;
  const pending = m.s[m.cpuOff(cpu) + C_PENDING]!;
  if (pending === 0) return LoopStep.Finish;
  if (m.p.flags.restartPolicy === 'max-restart') {
    // handle_softirqs: restart if time_before(jiffies, end) && !need_resched() && --max_restart;
    // the time limit and need_resched are outside the model, so variant 1 gives up early.
    return variant === 0 && m.s[o + X_AUX1]! > 1 ? LoopStep.Restart : LoopStep.FinishWakeup;
  }
  // 2.4 do_softirq: restart only if a vector not yet run in this call is pending.
  return pending & m.s[o + X_AUX1]! ? LoopStep.Restart : LoopStep.FinishWakeup;
}

const lowestBit = (x: number): number => 31 - Math.clz32(x & -x);

/** The softirq operations touch this CPU's state only: its pending bits, counts, irq flag and frames. */
const ownCpuFootprint = (f: FootprintBuilder): void => {
  f.write(f.ownCpu());
};

export const SOFTIRQ_OPS: readonly OpSemantics[] = [
  {
    name: 'softirq_loop',
    footprint: ownCpuFootprint,
    internal: true,
    variants(m, cpu, ctx) {
      const o = m.ctxOff(ctx);
      if (m.p.flags.restartPolicy !== 'max-restart' || m.s[o + X_AUX0] !== 0) return 1;
      const pending = m.s[m.cpuOff(cpu) + C_PENDING]!;
      return pending !== 0 && m.s[o + X_AUX1]! > 1 ? 2 : 1;
    },
    exec(m, cpu, ctx, _a, _b, _c, variant) {
      const s = m.s;
      const o = m.ctxOff(ctx);
      const co = m.cpuOff(cpu);
      const finished = s[o + X_AUX2]!;
      if (finished >= 0) {
        const leak = leakMessage(m, cpu, ctx, finished);
        if (leak) {
          m.fail('lock-leak', leak, cpu, ctx);
          return;
        }
        m.w(o + X_AUX2, -1);
      }
      switch (nextLoopStep(m, cpu, ctx, variant)) {
        case LoopStep.RunVector: {
          const snap = s[o + X_AUX0]!;
          const vec = lowestBit(snap);
          m.w(o + X_AUX0, snap & ~(1 << vec));
          m.w(o + X_AUX2, vec);
          m.snapshotEntry(cpu, ctx);
          m.callFrom(ctx, m.p.softirqEntry[vec]!);
          return;
        }
        case LoopStep.Restart: {
          const pending = s[co + C_PENDING]!;
          if (m.p.flags.restartPolicy === 'max-restart') m.w(o + X_AUX1, s[o + X_AUX1]! - 1);
          else m.w(o + X_AUX1, s[o + X_AUX1]! & ~pending);
          m.w(o + X_AUX0, pending);
          m.w(co + C_PENDING, 0);
          m.w(co + C_IRQS_OFF, 0);
          return;
        }
        case LoopStep.FinishWakeup:
          wakeupSoftirqd(m, cpu);
          finishBatch(m, cpu, ctx);
          return;
        case LoopStep.Finish:
          finishBatch(m, cpu, ctx);
          return;
      }
    },
    label(m, cpu, ctx, _a, _b, _c, variant) {
      const o = m.ctxOff(ctx);
      const pending = m.s[m.cpuOff(cpu) + C_PENDING]!;
      switch (nextLoopStep(m, cpu, ctx, variant)) {
        case LoopStep.RunVector: {
          const vec = lowestBit(m.s[o + X_AUX0]!);
          return `__do_softirq: run ${vecName(vec)} handler`;
        }
        case LoopStep.Restart:
          return `__do_softirq: ${vectorList(pending)} raised meanwhile, restart`;
        case LoopStep.FinishWakeup:
          return `__do_softirq: ${vectorList(pending)} still pending, give up (time limit, need_resched or restarts) and wake ksoftirqd`;
        case LoopStep.Finish:
          return '__do_softirq: batch done';
      }
    },
  },
  {
    // raise_softirq(): local_irq_save, raise_softirq_irqoff, local_irq_restore.
    name: 'raise_softirq',
    footprint(f, a) {
      f.write(f.ownCpu());
      f.raises(a);
    },
    operands: [{ kind: 'vec', field: 'vec' }],
    exec(m, cpu, ctx, a) {
      raise(m, cpu, a);
      if (!m.inInterrupt(cpu)) wakeupSoftirqd(m, cpu);
      m.advance(ctx);
    },
  },
  {
    // raise_softirq_irqoff(): irqs must be off; wakes ksoftirqd outside interrupt context.
    name: 'raise_softirq_irqoff',
    footprint(f, a) {
      f.write(f.ownCpu());
      f.raises(a);
    },
    operands: [{ kind: 'vec', field: 'vec' }],
    exec(m, cpu, ctx, a) {
      if (!assertIrqsOff(m, cpu, ctx, `raise_softirq_irqoff(${vecName(a)})`)) return;
      raise(m, cpu, a);
      if (!m.inInterrupt(cpu)) wakeupSoftirqd(m, cpu);
      m.advance(ctx);
    },
  },
  {
    // __raise_softirq_irqoff(): sets the bit and never wakes anyone (B15).
    name: '__raise_softirq_irqoff',
    footprint(f, a) {
      f.write(f.ownCpu());
      f.raises(a);
    },
    operands: [{ kind: 'vec', field: 'vec' }],
    exec(m, cpu, ctx, a) {
      if (!assertIrqsOff(m, cpu, ctx, `__raise_softirq_irqoff(${vecName(a)})`)) return;
      raise(m, cpu, a);
      m.advance(ctx);
    },
  },
  {
    name: 'do_softirq',
    footprint: ownCpuFootprint,
    exec(m, cpu, ctx) {
      m.advance(ctx);
      doSoftirq(m, cpu);
    },
  },
  {
    // local_bh_disable(): __local_bh_disable_ip(SOFTIRQ_DISABLE_OFFSET).
    name: 'local_bh_disable',
    footprint: ownCpuFootprint,
    exec(m, cpu, ctx) {
      const co = m.cpuOff(cpu);
      m.w(co + C_BH, m.s[co + C_BH]! + 1);
      m.advance(ctx);
    },
  },
  {
    name: 'local_bh_enable',
    footprint: ownCpuFootprint,
    exec(m, cpu, ctx) {
      m.advance(ctx);
      bhEnable(m, cpu, ctx, 'local_bh_enable()');
    },
  },
];

/** Leave the batch: __local_bh_enable(SOFTIRQ_OFFSET), then the frame's exit. */
function finishBatch(m: Machine, cpu: number, ctx: number): void {
  const s = m.s;
  const co = m.cpuOff(cpu);
  const exit = s[m.ctxOff(ctx) + X_EXIT]! & ((1 << EXIT_IRQS_SHIFT) - 1);
  const callerIrqsOff = s[m.ctxOff(ctx) + X_EXIT]! >> EXIT_IRQS_SHIFT;
  m.w(co + C_SERVING, 0);
  m.popFrame(cpu);
  // Back to the caller's irq state: irq_exit returns to a context that had
  // irqs on (that is how the interrupt came), ksoftirqd does
  // local_irq_enable, and do_softirq does local_irq_restore of its flags.
  m.w(co + C_IRQS_OFF, exit === SoftirqExit.Local ? callerIrqsOff : 0);
  if (exit === SoftirqExit.Ksoftirqd) m.w(co + C_KSOFTIRQD, s[co + C_PENDING] !== 0 ? 1 : 0);
}

/**
 * ksoftirqd/N as a choice: the per-CPU kthread runs when it is runnable and
 * the CPU may schedule it: when the CPU is between tasks or idle, or, with
 * preempt=full, when the running task is preemptible (run_ksoftirqd). While
 * a tasklet is parked on the CPU the kernel's ksoftirqd never sleeps (it
 * requeues that tasklet pass after pass, tasklet.ts), so it also runs
 * whatever else is pending there.
 */
const KSOFTIRQD: ChoiceSource = {
  name: 'ksoftirqd',
  footprint(f) {
    f.write(f.ownCpu());
    // Whether a tasklet is parked on this CPU (parkedVectors).
    f.read(f.anyObject('tasklet'));
    f.read(f.anyObject('bh'));
  },
  // Only this CPU wakes its ksoftirqd (wakeup_softirqd is local), and only its own
  // ksoftirqd parks tasklets on its lists.
  quiet: () => true,
  collect(m, cpu, out) {
    const co = m.cpuOff(cpu);
    const s = m.s;
    if (s[co + C_DEPTH] !== 0) return;
    if (s[co + C_KSOFTIRQD] === 0 && (s[co + C_PENDING] === 0 || parkedVectors(m, cpu) === 0)) return;
    const task = s[co + C_CURTASK]!;
    if (task >= 0 && !(m.p.preempt === 'full' && !m.inAtomic(cpu) && !m.irqsOff(cpu))) return;
    out.push(m.choice(KSOFTIRQD, cpu, 0, 0));
  },
  apply(m, cpu) {
    const co = m.cpuOff(cpu);
    if (m.s[co + C_PENDING] === 0) {
      m.w(co + C_KSOFTIRQD, 0);
      return;
    }
    startBatch(m, cpu, FrameKind.Ksoftirqd, SoftirqExit.Ksoftirqd);
  },
  label(m, cpu) {
    const pending = m.s[m.cpuOff(cpu) + C_PENDING]!;
    return pending === 0
      ? `ksoftirqd/${cpu} finds nothing pending and sleeps`
      : `ksoftirqd/${cpu} runs pending softirqs ${vectorList(pending)}`;
  },
};

/** A softirq frame never returns through `ret`; its loop pops it, so it has no frame exit. */
export const SOFTIRQ: Mechanism = { name: 'softirq', ops: SOFTIRQ_OPS, choices: [KSOFTIRQD] };

