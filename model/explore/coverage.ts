/**
 * Coverage for guided random search (guided.ts): a coarse abstract state,
 * hashed to 32 bits. Two states with the same abstraction look alike to a
 * kernel developer reading a lockdep report: the same contexts stacked on
 * each CPU (task, softirq or ksoftirqd, hardirq of which line), the same
 * locks held by the same contexts (and rwlock readers and waiting writers),
 * the same softirqs pending and ksoftirqd woken, the same tasks running,
 * asleep or done, and as much left to come: the same interrupts left in
 * each line's budget, the same jiffies. Program counters, registers, variables and object states
 * are left out on purpose: coverage counts situations, not steps, so a run
 * is "interesting" when it puts the kernel in a situation no earlier run did
 * (a kworker holding dev->lock with the dev hardirq stacked above it).
 */
import {
  C_CURTASK, C_DEPTH, C_IRQS_OFF, C_KSOFTIRQD, C_PENDING, H_JIFFIES, I_BUDGET, L_OWNER, L_READERS, LOCK_SIZE,
  X_CALLS, X_CPU, X_HELD, X_ID, X_KIND, X_PC, X_STATUS,
} from '../kernel/layout.ts';
import type { Machine } from '../kernel/machine.ts';
import { CHOICE_RUN, choiceArg, choiceCpu, choiceKind } from '../kernel/semantics.ts';
import { mix32 } from './random-stream.ts';

const step = (h: number, x: number): number => mix32(h ^ Math.imul(x + 0x9e3779b9, 0x01000193));

/** The coarse abstract state of `s`, as a 32-bit hash. */
export function abstractState(m: Machine, s: Int32Array): number {
  const L = m.L;
  let h = step(0x811c9dc5, s[H_JIFFIES]!);
  for (let l = 0; l < m.p.irqs.length; l++) h = step(h, s[m.irqOff(l) + I_BUDGET]!);
  for (let cpu = 0; cpu < L.ncpu; cpu++) {
    const co = m.cpuOff(cpu);
    const depth = s[co + C_DEPTH]!;
    h = step(h, s[co + C_CURTASK]!);
    h = step(h, depth | (s[co + C_IRQS_OFF]! << 8) | (s[co + C_KSOFTIRQD]! << 9) | (s[co + C_PENDING]! << 10));
    for (let d = 0; d < depth; d++) {
      const o = m.ctxOff(m.frameCtx(cpu, d));
      h = step(h, s[o + X_KIND]! | (s[o + X_ID]! << 4));
      h = step(h, s[o + X_HELD]!);
    }
  }
  for (let t = 0; t < L.ntasks; t++) {
    const o = m.ctxOff(t);
    h = step(h, s[o + X_STATUS]! | (s[o + X_CPU]! << 4));
    h = step(h, s[o + X_HELD]!);
  }
  const locks = m.p.locks.length * LOCK_SIZE;
  for (let i = 0; i < locks; i++) h = step(h, s[L.lockBase + i]!);
  return h;
}

/** Bit l set: lock l is held by someone (an owner, or readers). */
export function heldLocks(m: Machine, s: Int32Array): number {
  let mask = 0;
  for (let l = 0; l < m.p.locks.length; l++) {
    const o = m.lockOff(l);
    if (s[o + L_OWNER] !== 0 || s[o + L_READERS]! > 0) mask |= 1 << l;
  }
  return mask;
}

/**
 * A hazard: an event (an interrupt, a tick, a preemption…) can hit a CPU
 * while a lock is held, here or on another CPU. Its kind, as a 32-bit hash:
 * where the event strikes (the running context, its place in the code, the
 * locks it holds), which locks are held anywhere, and which event (source
 * and line, whatever the CPU). An interrupt inside a critical section, or
 * on top of something a lock holder elsewhere waits for, is where most
 * deferred-work bugs show (its handler, or the softirqs of its irq_exit,
 * meeting the lock); the guided strategy keeps the first schedule that met
 * each kind of hazard and strikes there. Null if `choice` is no hazard;
 * `held` is heldLocks() of the current state.
 */
export function hazardKind(m: Machine, choice: number, held: number): number | null {
  const kind = choiceKind(choice);
  if (kind === CHOICE_RUN || held === 0) return null;
  const top = m.top(choiceCpu(choice));
  if (top < 0) return null;
  const o = m.ctxOff(top);
  const s = m.s;
  let h = step(0x2545f491, s[o + X_KIND]! | (s[o + X_ID]! << 4) | (s[o + X_CALLS]! << 20));
  h = step(h, s[o + X_PC]!);
  h = step(h, s[o + X_HELD]!);
  h = step(h, held);
  return step(h, kind | (choiceArg(choice) << 4));
}
