/**
 * Tasks and the scheduler (kernel/sched/core.c). Tasks run in process
 * context, each pinned to a CPU. A CPU runs its tasks one after another: when
 * the running task finishes, scheduling the next one is a choice, so that
 * interrupts and ksoftirqd can interleave with the idle gap.
 * preempt_disable/preempt_enable (include/linux/preempt.h) live here too.
 */
import {
  C_BH, C_CURTASK, C_DEPTH, C_IRQS_OFF, C_PREEMPT, ContextStatus, FrameKind, X_HELD, X_STATUS,
} from './layout.ts';
import type { Machine } from './machine.ts';
import type { ChoiceSource, FrameExit, OpSemantics } from './semantics.ts';
import { heldNames } from './softirq.ts';

function nextTask(m: Machine, cpu: number): number {
  const tasks = m.p.tasks;
  for (let t = 0; t < tasks.length; t++) {
    if (tasks[t]!.cpu === cpu && m.s[m.ctxOff(t) + X_STATUS] === ContextStatus.NotStarted) return t;
  }
  return -1;
}

const SCHEDULE: ChoiceSource = {
  name: 'schedule',
  collect(m, cpu, out) {
    const co = m.cpuOff(cpu);
    if (m.s[co + C_CURTASK] !== -1 || m.s[co + C_DEPTH] !== 0) return;
    const t = nextTask(m, cpu);
    if (t >= 0) out.push(m.choice(SCHEDULE, cpu, t, 0));
  },
  apply(m, cpu, t) {
    m.s[m.cpuOff(cpu) + C_CURTASK] = t;
    m.s[m.ctxOff(t) + X_STATUS] = ContextStatus.Running;
  },
  label(m, _cpu, t) {
    return `schedule() → task ${m.p.tasks[t]!.name}`;
  },
};

/**
 * A task returning to user space (or a kthread exiting): it must hold no
 * lock (lockdep_sys_exit: "lock held when returning to user space!") and have
 * irqs, bh and preemption as it found them.
 */
const taskExit: FrameExit = (m, cpu, ctx) => {
  const s = m.s;
  const o = m.ctxOff(ctx);
  const co = m.cpuOff(cpu);
  const held = s[o + X_HELD]!;
  const name = m.contextName(ctx);
  if (held !== 0) {
    m.fail('lock-leak', `WARNING: lock held when returning to user space! ${name} is leaving the kernel with locks still held: ${heldNames(m, held)}`, cpu, ctx);
    return;
  }
  if (s[co + C_PREEMPT] !== 0 || s[co + C_BH] !== 0 || s[co + C_IRQS_OFF] !== 0) {
    const pc = s[co + C_PREEMPT]! + s[co + C_BH]! * 0x200;
    m.fail('lock-leak', `BUG: ${name} returned with preempt_count 0x${pc.toString(16).padStart(8, '0')}${s[co + C_IRQS_OFF] ? ' and irqs disabled' : ''} (leaked preempt/bh/irq state)`, cpu, ctx);
    return;
  }
  s[o + X_STATUS] = ContextStatus.Done;
  s[co + C_CURTASK] = -1;
};

/** preempt_count_sub(1) with the DEBUG_PREEMPT underflow check; false on a violation. */
export function preemptDec(m: Machine, cpu: number, ctx: number): boolean {
  const co = m.cpuOff(cpu);
  if (m.s[co + C_PREEMPT]! <= 0) {
    m.fail('lock-misuse', `WARNING: CPU: ${cpu} at kernel/sched/core.c preempt_count_sub: DEBUG_LOCKS_WARN_ON(val > preempt_count()) in ${m.contextName(ctx)}`, cpu, ctx);
    return false;
  }
  m.s[co + C_PREEMPT] = m.s[co + C_PREEMPT]! - 1;
  return true;
}

export const SCHEDULER_OPS: readonly OpSemantics[] = [
  {
    name: 'preempt_disable',
    exec(m, cpu, ctx) {
      const co = m.cpuOff(cpu);
      m.s[co + C_PREEMPT] = m.s[co + C_PREEMPT]! + 1;
      m.advance(ctx);
    },
  },
  {
    name: 'preempt_enable',
    exec(m, cpu, ctx) {
      if (preemptDec(m, cpu, ctx)) m.advance(ctx);
    },
  },
];

export const SCHEDULER_CHOICES: readonly ChoiceSource[] = [SCHEDULE];
export const SCHEDULER_EXITS: Readonly<Record<number, FrameExit>> = { [FrameKind.Task]: taskExit };
