/**
 * Hard interrupts (kernel/irq/handle.c, kernel/softirq.c `irq_enter_rcu` /
 * `__irq_exit_rcu`; shared/kernel-semantics.md §1.3) and the local irq flag
 * (include/linux/irqflags.h).
 *
 * An arrival is a choice on any CPU of the line's affinity whose local irqs
 * are enabled, while the line's budget lasts. A line never nests with itself
 * and never runs on two CPUs at once (IRQD_IRQ_INPROGRESS). The handler runs
 * with irqs off (every handler since 2.6.35); with `irqHandlersIrqsOff=false`
 * (older kernels, handlers without IRQF_DISABLED) it runs with irqs on, so
 * other lines may nest.
 *
 * NMI lines (`nmi: true`; include/linux/hardirq.h nmi_enter/nmi_exit,
 * shared/kernel-semantics-rt.md §2): an arrival ignores the irq flag, so it
 * may come on any context of the line's CPUs: a task, a softirq, a hardirq
 * handler, code holding a raw spinlock with irqs off. It never nests inside
 * another NMI (x86 blocks NMIs until the first returns; the kernel allows
 * nesting up to NMI_BITS, which the model does not follow: at most one NMI
 * frame per CPU). The handler runs with NMI_OFFSET + HARDIRQ_OFFSET
 * (in_nmi(), in_hardirq(), in_interrupt()) and irqs off; nmi_exit runs no
 * softirqs and returns to the interrupted context with its irq state. NMI
 * code may take raw spinlocks (a raw_spin_lock the interrupted context
 * holds on the same CPU is an AA deadlock, B20); a spinlock_t or rwlock_t
 * in NMI is reported (spinlock.ts), and sleeping calls are
 * sleep-in-atomic. Not modelled: the other primitives that are not
 * NMI-safe (wake_up, printk before 5.15, kmalloc: B59) are not flagged in
 * NMI; irq_work.
 *
 * PREEMPT_RT (flag preemptRT): invoke_softirq at irq_exit only wakes
 * ksoftirqd (kernel/softirq.c, RT part: should_wake_ksoftirqd, no
 * softirq_ctrl.cnt), unless a task of this CPU is in a bh-disabled section,
 * which runs them at its local_bh_enable. Forced-threaded handlers are not
 * modelled: compile() requires `noThread` on every non-NMI line on RT.
 */
import {
  C_BH, C_HARDIRQ, C_IRQS_OFF, C_NMI, C_PREEMPT, FrameKind, I_BUDGET, I_RUNNING,
  X_ENTRY_BH, X_ENTRY_IRQS, X_ENTRY_PREEMPT, X_HELD, X_ID,
} from './layout.ts';
import type { ChoiceSource, FootprintBuilder, FrameExit, Mechanism, OpSemantics } from './semantics.ts';
import { heldNames, softirqsAtIrqExit } from './softirq.ts';

const IRQ_ARRIVAL: ChoiceSource = {
  name: 'irq',
  active: (p) => p.irqs.length > 0,
  // Offered by this CPU's irq state and frame depth and each line's budget and
  // in-progress flag; pushes a frame here (a line affine to several CPUs is shared).
  footprint(f, p, cpu) {
    f.write(f.ownCpu());
    p.irqs.forEach((line, l) => {
      if (line.cpuMask & (1 << cpu)) f.write(f.line(l));
    });
  },
  // Another CPU can only enable an arrival here by finishing a handler of a line it shares with this one.
  quiet: (m, cpu) => m.p.irqs.every((line) => (line.cpuMask & (1 << cpu)) === 0 || line.cpuMask === 1 << cpu),
  collect(m, cpu, out) {
    if (m.frameDepth(cpu) >= m.L.maxFrames - 1) return;
    const s = m.s;
    const irqs = m.p.irqs;
    // Maskable lines need irqs on; an NMI line only needs no NMI running here.
    const maskable = !m.irqsOff(cpu);
    const nmiOk = !m.inNmi(cpu);
    for (let line = 0; line < irqs.length; line++) {
      const io = m.irqOff(line);
      if (!(irqs[line]!.nmi ? nmiOk : maskable)) continue;
      if (s[io + I_BUDGET]! > 0 && s[io + I_RUNNING] === 0 && irqs[line]!.cpuMask & (1 << cpu)) {
        out.push(m.choice(IRQ_ARRIVAL, cpu, line, 0));
      }
    }
  },
  apply(m, cpu, line) {
    const s = m.s;
    const io = m.irqOff(line);
    m.w(io + I_BUDGET, s[io + I_BUDGET]! - 1);
    m.w(io + I_RUNNING, cpu + 1);
    const co = m.cpuOff(cpu);
    if (m.p.irqs[line]!.nmi) {
      // nmi_enter: NMI_OFFSET + HARDIRQ_OFFSET; the CPU takes the NMI with irqs off. The frame
      // records the interrupted irq state (X_ENTRY_IRQS) for nmi_exit to return to.
      const was = s[co + C_IRQS_OFF]!;
      m.w(co + C_NMI, s[co + C_NMI]! + 1);
      m.w(co + C_HARDIRQ, s[co + C_HARDIRQ]! + 1);
      m.w(co + C_IRQS_OFF, 1);
      const nctx = m.pushFrame(cpu, FrameKind.Hardirq, line, m.p.irqs[line]!.entry, 0);
      m.w(m.ctxOff(nctx) + X_ENTRY_IRQS, was);
      return;
    }
    // irq_enter_rcu: HARDIRQ_OFFSET; the CPU took the interrupt with irqs off.
    m.w(co + C_HARDIRQ, s[co + C_HARDIRQ]! + 1);
    m.w(co + C_IRQS_OFF, 1);
    const ctx = m.pushFrame(cpu, FrameKind.Hardirq, line, m.p.irqs[line]!.entry, 0);
    // handle_IRQ_event (<2.6.35): local_irq_enable_in_hardirq() unless IRQF_DISABLED.
    if (!m.p.flags.irqHandlersIrqsOff) m.w(co + C_IRQS_OFF, 0);
    m.snapshotEntry(cpu, ctx);
  },
  label(m, _cpu, line) {
    return m.p.irqs[line]!.nmi ? `${m.p.irqs[line]!.name} NMI arrives` : `${m.p.irqs[line]!.name} interrupt arrives`;
  },
};

/**
 * Handler return, then irq_exit: leak checks, HARDIRQ_OFFSET off, and
 * invoke_softirq() if not in interrupt and softirqs are pending; otherwise
 * return to the interrupted context, which had irqs on.
 */
const hardirqExit: FrameExit = (m, cpu, ctx) => {
  const s = m.s;
  const o = m.ctxOff(ctx);
  const co = m.cpuOff(cpu);
  const line = s[o + X_ID]!;
  const name = m.p.irqs[line]!.name;
  const held = s[o + X_HELD]!;
  if (held !== 0) {
    m.fail('lock-leak', `BUG: irq handler ${name} returned with ${heldNames(m, held)} held (leaked lock in hardirq)`, cpu, ctx);
    return;
  }
  const nmi = m.p.irqs[line]!.nmi;
  if (m.p.flags.irqHandlersIrqsOff && s[co + C_IRQS_OFF] === 0) {
    // __handle_irq_event_percpu: WARN_ONCE(!irqs_disabled(), "irq %u handler %pS enabled interrupts\n")
    m.fail('lock-leak', `WARNING: irq ${line} handler ${name} enabled interrupts`, cpu, ctx);
    return;
  }
  if (s[co + C_PREEMPT] !== s[o + X_ENTRY_PREEMPT] || s[co + C_BH] !== s[o + X_ENTRY_BH]) {
    m.fail('lock-leak', `BUG: irq handler ${name} returned with preempt_count changed (preempt ${s[o + X_ENTRY_PREEMPT]}→${s[co + C_PREEMPT]}, bh-disable ${s[o + X_ENTRY_BH]}→${s[co + C_BH]})`, cpu, ctx);
    return;
  }
  m.w(m.irqOff(line) + I_RUNNING, 0);
  m.w(co + C_HARDIRQ, s[co + C_HARDIRQ]! - 1);
  if (nmi) {
    // nmi_exit: the counts only; no softirq run point; back to the interrupted irq state.
    const was = s[o + X_ENTRY_IRQS]!;
    m.w(co + C_NMI, s[co + C_NMI]! - 1);
    m.popFrame(cpu);
    m.w(co + C_IRQS_OFF, was);
    return;
  }
  m.w(co + C_IRQS_OFF, 1);
  m.popFrame(cpu);
  if (!softirqsAtIrqExit(m, cpu)) m.w(co + C_IRQS_OFF, 0);
};

/** The footprint of an operation on this CPU's own state only (irq flag, preempt and bh counts, pending softirqs, frames). */
export function ownCpu(f: FootprintBuilder): void {
  f.write(f.ownCpu());
}

export const IRQ_OPS: readonly OpSemantics[] = [
  {
    name: 'local_irq_disable',
    footprint: ownCpu,
    exec(m, cpu, ctx) {
      m.w(m.cpuOff(cpu) + C_IRQS_OFF, 1);
      m.advance(ctx);
    },
  },
  {
    name: 'local_irq_enable',
    footprint: ownCpu,
    exec(m, cpu, ctx) {
      m.w(m.cpuOff(cpu) + C_IRQS_OFF, 0);
      m.advance(ctx);
    },
  },
  {
    name: 'local_irq_save',
    operands: [{ kind: 'reg-def', field: 'flags' }],
    footprint: ownCpu,
    exec(m, cpu, ctx, a) {
      const co = m.cpuOff(cpu);
      m.setReg(ctx, a, m.s[co + C_IRQS_OFF]!);
      m.w(co + C_IRQS_OFF, 1);
      m.advance(ctx);
    },
  },
  {
    name: 'local_irq_restore',
    operands: [{ kind: 'reg-use', field: 'flags' }],
    footprint: ownCpu,
    exec(m, cpu, ctx, a) {
      m.w(m.cpuOff(cpu) + C_IRQS_OFF, m.reg(ctx, a) !== 0 ? 1 : 0);
      m.advance(ctx);
    },
  },
];

export const IRQ: Mechanism = {
  name: 'irq',
  ops: IRQ_OPS,
  choices: [IRQ_ARRIVAL],
  exits: { [FrameKind.Hardirq]: hardirqExit },
  // irq_exit: the line's in-progress flag, this CPU's counts and frames, softirqs run here.
  exitFootprints: {
    [FrameKind.Hardirq]: (f, _p, _cpu, line) => {
      f.write(f.ownCpu());
      f.write(f.line(line));
    },
  },
};
