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
 * A line fires only while it has an action (requested at boot, or by
 * request_irq), is enabled (desc->depth 0) and not masked for a oneshot
 * thread; see "Irq lines" below for request_irq, free_irq, disable_irq,
 * enable_irq, synchronize_irq and threaded handlers.
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
 * modelled: compile() requires flags NO_THREAD (or ONESHOT, which the
 * kernel does not force-thread either) on every non-NMI line on RT.
 */
import {
  C_BH, C_HARDIRQ, C_IRQS_OFF, C_NMI, C_PREEMPT, FrameKind, I_BUDGET, I_DEPTH, I_RUNNING, I_STATE, I_THREADS,
  IRQ_IN_THREAD_FN, IRQ_ONESHOT_MASKED, IRQ_REQUESTED, IRQ_RUNTHREAD, X_ENTRY_BH, X_ENTRY_IRQS, X_ENTRY_PREEMPT, X_HELD, X_ID, X_KIND, X_PHASE,
} from './layout.ts';
import type { KernelFlags } from './flags.ts';
import type { Machine } from './machine.ts';
import { callsAny, type Program } from './program.ts';
import { block, Chan, channel, mightSleep, wakeAll } from './scheduler.ts';
import type {
  ChoiceSource, FootprintBuilder, FrameExit, KernelThread, Mechanism, OperandSpec, OpSemantics, ProgramShape, WaitEdge,
} from './semantics.ts';
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
  // Another CPU can only enable an arrival here by finishing a handler of a line it shares with this one
  // (or, where lines are requested, enabled or unmasked by code, by that code: never quiet then).
  quiet: (m, cpu) => quietOn(m.p)[cpu] === 1,
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
      if (s[io + I_BUDGET]! > 0 && s[io + I_RUNNING] === 0 && irqs[line]!.cpuMask & (1 << cpu) && lineLive(m, line)) {
        out.push(m.choice(IRQ_ARRIVAL, cpu, line, 0));
      }
    }
  },
  apply(m, cpu, line) {
    const s = m.s;
    const io = m.irqOff(line);
    m.w(io + I_BUDGET, s[io + I_BUDGET]! - 1);
    m.w(io + I_RUNNING, cpu + 1);
    // handle_fasteoi_irq / handle_level_irq: a IRQS_ONESHOT line is masked until its thread has run (irq_finalize_oneshot).
    if (m.p.irqs[line]!.oneshot) m.w(io + I_STATE, s[io + I_STATE]! | IRQ_ONESHOT_MASKED);
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
  // The primary handler returned IRQ_WAKE_THREAD (every threaded line here): __irq_wake_thread, still INPROGRESS.
  if (m.p.irqs[line]!.threadEntry >= 0) wakeThread(m, line);
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

// ------------------------------------------------------------ irq lines
/*
 * Irq lines (kernel/irq/manage.c; shared/kernel-semantics-drivers.md D4).
 * Per line: I_DEPTH (desc->depth), I_STATE (an action installed, the
 * thread's IRQTF_RUNTHREAD, masked for a oneshot thread), I_THREADS
 * (desc->threads_active) and I_RUNNING (IRQD_IRQ_INPROGRESS, the CPU).
 *
 *  - request_irq / request_threaded_irq (task context: the request mutex,
 *    might_sleep): install the action; the line may fire at once, on any
 *    CPU of its affinity, before the call even returns. IRQF_NO_AUTOEN
 *    leaves it disabled (depth 1) until enable_irq. A second request of a
 *    line the design shares with nobody is "genirq: Flags mismatch"
 *    (-EBUSY), an `assertion`.
 *  - free_irq (task context, might_sleep; "Trying to free IRQ %d from IRQ
 *    context!"): the line stops firing, then synchronize_irq: it waits for
 *    a handler running on any CPU, and for the thread function to finish.
 *    Freeing a line not requested is "Trying to free already-free IRQ".
 *  - disable_irq_nosync: depth++ (any context); the line does not fire
 *    while depth > 0 (an interrupt raised meanwhile is resent at enable:
 *    the model lets it arrive any time after). disable_irq: might_sleep
 *    (since 6.2, 17549b0f184d), depth++, then synchronize_irq, so in the
 *    line's own handler it is a sleep in atomic context (before 6.2 it
 *    spun on its own INPROGRESS for ever, B33).
 *  - enable_irq: depth-- ("Unbalanced enable for IRQ %d" at 0;
 *    "enable_irq before setup/request_irq").
 *  - synchronize_irq (might_sleep, wait_event): spin while a hardirq of the
 *    line runs anywhere (__synchronize_hardirq), then sleep until
 *    threads_active is 0. synchronize_hardirq: the spin only, any context;
 *    its result is "no thread active".
 *  - A threaded line's thread is a kernel thread `irq/N-name` on the
 *    line's CPUs (irq_thread): the hardirq (the design's handler, or
 *    irq_default_primary_handler) returns IRQ_WAKE_THREAD, which sets
 *    IRQTF_RUNTHREAD, threads_active++ and wakes the thread; the thread
 *    clears RUNTHREAD, runs the thread function in task context (it may
 *    sleep), then irq_finalize_oneshot unmasks a IRQF_ONESHOT line (if no
 *    new run is due and it is not disabled) and wake_threads_waitq drops
 *    threads_active and wakes synchronize_irq.
 *
 * Not modelled: shared lines (IRQF_SHARED: one action per line here),
 * CONFIG_DEBUG_SHIRQ's test calls, forced threading (threadirqs), the
 * chip's own in-flight state (sync_chip), spurious-interrupt accounting,
 * a primary handler that returns IRQ_HANDLED on a threaded line.
 */

const LINE: OperandSpec = { kind: 'irq', field: 'target' };

/** Operations that change whether a line may fire (so code on one CPU can enable an arrival on another). */
const LINE_CONTROL = ['request_irq', 'request_threaded_irq', 'free_irq', 'disable_irq', 'disable_irq_nosync', 'enable_irq'];
/**
 * Whether some line's liveness is changed by code: requested or enabled by
 * the design, or unmasked by its irq thread (IRQF_ONESHOT). Then an arrival
 * on a CPU may be enabled by another CPU's step, and the arrival source is
 * never quiet for partial-order reduction.
 */
function linesManaged(p: Program): boolean {
  return p.irqs.some((l) => l.vector === undefined && (!l.requested || l.noAutoEn || l.oneshot || l.threadEntry >= 0)) || callsAny(p, LINE_CONTROL);
}
/** Per CPU, whether no other CPU can make an arrival possible there (ARRIVAL.quiet): fixed for a program. */
const QUIET = new WeakMap<Program, Uint8Array>();
function quietOn(p: Program): Uint8Array {
  let known = QUIET.get(p);
  if (known === undefined) {
    known = new Uint8Array(p.ncpu);
    const managed = linesManaged(p);
    for (let cpu = 0; cpu < p.ncpu; cpu++) {
      known[cpu] = !managed && p.irqs.every((line) => (line.cpuMask & (1 << cpu)) === 0 || line.cpuMask === 1 << cpu) ? 1 : 0;
    }
    QUIET.set(p, known);
  }
  return known;
}
const lineName = (m: Machine, line: number): string => m.p.irqs[line]!.name;
const state = (m: Machine, line: number): number => m.s[m.irqOff(line) + I_STATE]!;
const phaseOf = (m: Machine, ctx: number): number => m.s[m.ctxOff(ctx) + X_PHASE]!;

/** Whether the line may fire now: requested, enabled, not masked for its oneshot thread, not a kernel vector. */
function lineLive(m: Machine, line: number): boolean {
  const io = m.irqOff(line);
  return (m.s[io + I_STATE]! & (IRQ_REQUESTED | IRQ_ONESHOT_MASKED)) === IRQ_REQUESTED && m.s[io + I_DEPTH] === 0 && m.p.irqs[line]!.vector === undefined;
}

/** The irq threads of a program, by line (-1: no thread), and back. */
interface IrqThreads {
  readonly taskOf: Int32Array;
  readonly lineOf: Int32Array;
}
const THREADS = new WeakMap<Program, IrqThreads>();
function irqThreads(m: Machine): IrqThreads {
  let t = THREADS.get(m.p);
  if (t) return t;
  const p = m.p;
  const taskOf = new Int32Array(p.irqs.length).fill(-1);
  const lineOf = new Int32Array(p.tasks.length).fill(-1);
  const entry = p.builtins['irq_thread'];
  const threads = p.tasks.flatMap((task, i) => (task.entry === entry ? [i] : []));
  let k = 0;
  p.irqs.forEach((line, l) => {
    if (line.threadEntry < 0) return;
    const task = threads[k++];
    if (task === undefined) throw new Error(`kdefer internal error: no irq thread for line ${line.name}`);
    taskOf[l] = task;
    lineOf[task] = l;
  });
  t = { taskOf, lineOf };
  THREADS.set(p, t);
  return t;
}

/** `irq/N-name`: the threads request_threaded_irq creates, one per threaded line, on the line's CPUs. */
function irqThreadTasks(shape: ProgramShape): readonly KernelThread[] {
  return shape.irqs.flatMap((line, l): KernelThread[] => (line.threaded
    ? [{ name: `irq/${l}-${line.name}`, cpu: 31 - Math.clz32(line.cpuMask & -line.cpuMask), cpusAllowed: line.cpuMask, builtin: 'irq_thread', idle: true }]
    : []));
}

/** __irq_wake_thread: unless IRQTF_RUNTHREAD is already set, set it, threads_active++, wake the thread. */
function wakeThread(m: Machine, line: number): void {
  const io = m.irqOff(line);
  if ((m.s[io + I_STATE]! & IRQ_RUNTHREAD) !== 0) return;
  m.w(io + I_STATE, m.s[io + I_STATE]! | IRQ_RUNTHREAD);
  m.w(io + I_THREADS, m.s[io + I_THREADS]! + 1);
  const task = irqThreads(m).taskOf[line]!;
  wakeAll(m, channel(Chan.Worker, task));
}

/** The hardirq frame running `line`'s handler now, or -1. */
function handlerFrame(m: Machine, line: number): number {
  const cpu = m.s[m.irqOff(line) + I_RUNNING]! - 1;
  if (cpu < 0) return -1;
  for (let d = m.frameDepth(cpu) - 1; d >= 0; d--) {
    const ctx = m.frameCtx(cpu, d);
    const o = m.ctxOff(ctx);
    if (m.s[o + X_KIND] === FrameKind.Hardirq && m.s[o + X_ID] === line) return ctx;
  }
  return -1;
}

/** The thread function is due or running: what synchronize_irq's wait_event waits out. */
const threadsBusy = (m: Machine, line: number): boolean => m.s[m.irqOff(line) + I_THREADS]! > 0 || (state(m, line) & (IRQ_RUNTHREAD | IRQ_IN_THREAD_FN)) !== 0;

// Phases of a synchronize_irq wait (X_PHASE).
const SYNC_HARD = 1; // spinning while INPROGRESS
const SYNC_THREADS = 2; // asleep until threads_active == 0

/**
 * __synchronize_irq: spin while a hardirq of the line runs, then sleep
 * until no thread function is due or running. `threads`: false for
 * synchronize_hardirq. Returns the step's label (exec when `commit`).
 */
function synchronize(m: Machine, cpu: number, ctx: number, line: number, text: string, threads: boolean, commit: boolean, done: () => void): string {
  const o = m.ctxOff(ctx);
  let phase = m.s[o + X_PHASE]!;
  if (phase < SYNC_HARD) phase = SYNC_HARD;
  if (phase === SYNC_HARD) {
    if (m.s[m.irqOff(line) + I_RUNNING] !== 0) {
      if (commit) m.w(o + X_PHASE, SYNC_HARD);
      return `${text}: ${lineName(m, line)}'s handler runs on cpu${m.s[m.irqOff(line) + I_RUNNING]! - 1}, spins`;
    }
    phase = SYNC_THREADS;
  }
  if (threads && threadsBusy(m, line)) {
    if (commit) {
      m.w(o + X_PHASE, SYNC_THREADS);
      block(m, cpu, ctx, channel(Chan.Irq, line));
    }
    return `${text}: ${lineName(m, line)}'s thread function is ${m.s[m.irqOff(line) + I_THREADS]! > 0 ? 'running or due' : 'due'}, sleeps`;
  }
  if (commit) done();
  return `${text}: no handler of ${lineName(m, line)} running`;
}

/** What a synchronize_irq wait waits for: the handler's frame, or the line's thread. */
function syncWait(m: Machine, ctx: number, line: number, text: string): WaitEdge {
  const frame = handlerFrame(m, line);
  if (phaseOf(m, ctx) === SYNC_HARD && frame >= 0) {
    return { on: [frame], why: `${m.contextName(ctx)}: ${text} spins while ${m.contextName(frame)} runs on cpu${m.cpuOfCtx(frame)}${frame === ctx ? ' (itself)' : ''}` };
  }
  const task = irqThreads(m).taskOf[line]!;
  return { on: task >= 0 ? [task] : [], why: `${m.contextName(ctx)}: ${text} sleeps until ${lineName(m, line)}'s thread function has finished` };
}

/** An op that may end in synchronize_irq: `before` runs once, at phase 0; false stops it (a violation). */
function syncOp(name: string, opts: { sleeps: boolean | ((flags: KernelFlags) => boolean); threads: boolean; before?: (m: Machine, cpu: number, ctx: number, line: number) => boolean; ret?: true }): OpSemantics {
  const text = (m: Machine, line: number) => `${name}(${lineName(m, line)})`;
  return {
    name,
    operands: opts.ret ? [LINE, { kind: 'reg-def', field: 'reg', optional: true }] : [LINE],
    ready(m, _cpu, ctx, a) {
      return !(phaseOf(m, ctx) === SYNC_HARD && m.s[m.irqOff(a) + I_RUNNING] !== 0);
    },
    exec(m, cpu, ctx, a, b) {
      if (phaseOf(m, ctx) === 0) {
        const sleeps = typeof opts.sleeps === 'function' ? opts.sleeps(m.p.flags) : opts.sleeps;
        if (sleeps && !mightSleep(m, cpu, ctx, text(m, a))) return;
        if (opts.before && !opts.before(m, cpu, ctx, a)) return;
      }
      synchronize(m, cpu, ctx, a, text(m, a), opts.threads, true, () => {
        // synchronize_hardirq returns !threads_active.
        if (opts.ret && b >= 0) m.setReg(ctx, b, m.s[m.irqOff(a) + I_THREADS] === 0 ? 1 : 0);
        m.advance(ctx);
      });
    },
    label(m, cpu, ctx, a) {
      return synchronize(m, cpu, ctx, a, text(m, a), opts.threads, false, () => {});
    },
    waitsFor(m, _cpu, ctx, a) {
      return syncWait(m, ctx, a, text(m, a));
    },
  };
}

/** disable_irq_nosync's depth++ (__disable_irq). */
function disable(m: Machine, line: number): boolean {
  m.w(m.irqOff(line) + I_DEPTH, m.s[m.irqOff(line) + I_DEPTH]! + 1);
  return true;
}

/** request_irq / request_threaded_irq: __setup_irq for the line's one action. */
function request(name: string): OpSemantics {
  return {
    name,
    operands: [LINE],
    exec(m, cpu, ctx, a) {
      if (!mightSleep(m, cpu, ctx, `${name}(${lineName(m, a)})`)) return;
      const io = m.irqOff(a);
      if ((m.s[io + I_STATE]! & IRQ_REQUESTED) !== 0) {
        m.fail('assertion', `genirq: Flags mismatch irq ${a}. 00000000 (${lineName(m, a)}) vs. 00000000 (${lineName(m, a)}): ${name}(${lineName(m, a)}) by ${m.contextName(ctx)} on a line already requested (not IRQF_SHARED): -EBUSY`, cpu, ctx);
        return;
      }
      m.w(io + I_STATE, m.s[io + I_STATE]! | IRQ_REQUESTED);
      // irq_startup unless IRQ_NOAUTOEN: depth 0; with IRQF_NO_AUTOEN it stays 1 until enable_irq.
      m.w(io + I_DEPTH, m.p.irqs[a]!.noAutoEn ? 1 : 0);
      m.advance(ctx);
    },
    label(m, _cpu, _ctx, a) {
      return `${name}(${lineName(m, a)})${m.p.irqs[a]!.noAutoEn ? ': installed, left disabled (IRQF_NO_AUTOEN)' : `: installed, ${lineName(m, a)} may fire from now on`}${(state(m, a) & IRQ_REQUESTED) !== 0 ? ' (already requested)' : ''}`;
    },
  };
}

export const IRQ_LINE_OPS: readonly OpSemantics[] = [
  request('request_irq'),
  request('request_threaded_irq'),
  syncOp('free_irq', {
    sleeps: false,
    threads: true,
    before(m, cpu, ctx, line) {
      if (m.inInterrupt(cpu) || !m.isTask(ctx)) {
        m.fail('sleep-in-atomic', `WARNING: CPU: ${cpu} at kernel/irq/manage.c __free_irq: Trying to free IRQ ${line} (${lineName(m, line)}) from IRQ context! (${m.contextName(ctx)}; it sleeps on the request mutex and waits for the handler)`, cpu, ctx);
        return false;
      }
      if (!mightSleep(m, cpu, ctx, `free_irq(${lineName(m, line)})`)) return false;
      const io = m.irqOff(line);
      if ((m.s[io + I_STATE]! & IRQ_REQUESTED) === 0) {
        m.fail('assertion', `WARNING: CPU: ${cpu} at kernel/irq/manage.c __free_irq: Trying to free already-free IRQ ${line} (${lineName(m, line)}) by ${m.contextName(ctx)}`, cpu, ctx);
        return false;
      }
      // Unlink the action; the last one shuts the line down (irq_shutdown: depth 1, masked).
      m.w(io + I_STATE, m.s[io + I_STATE]! & ~(IRQ_REQUESTED | IRQ_ONESHOT_MASKED));
      m.w(io + I_DEPTH, 1);
      return true;
    },
  }),
  {
    name: 'disable_irq_nosync',
    operands: [LINE],
    exec(m, _cpu, ctx, a) {
      disable(m, a);
      m.advance(ctx);
    },
    label(m, _cpu, _ctx, a) {
      return `disable_irq_nosync(${lineName(m, a)}): depth ${m.s[m.irqOff(a) + I_DEPTH]} → ${m.s[m.irqOff(a) + I_DEPTH]! + 1}`;
    },
  },
  // disable_irq: might_sleep() (6.2+, flags.disableIrqMightSleep), __disable_irq_nosync, synchronize_irq.
  syncOp('disable_irq', { sleeps: (flags) => flags.disableIrqMightSleep, threads: true, before: (m, _cpu, _ctx, line) => disable(m, line) }),
  syncOp('synchronize_irq', { sleeps: true, threads: true }),
  syncOp('synchronize_hardirq', { sleeps: false, threads: false, ret: true }),
  {
    // enable_irq → __enable_irq.
    name: 'enable_irq',
    operands: [LINE],
    exec(m, cpu, ctx, a) {
      const io = m.irqOff(a);
      const depth = m.s[io + I_DEPTH]!;
      if ((m.s[io + I_STATE]! & IRQ_REQUESTED) === 0) {
        m.fail('assertion', `WARNING: CPU: ${cpu} at kernel/irq/manage.c enable_irq: enable_irq before setup/request_irq: irq ${a} (${lineName(m, a)}) by ${m.contextName(ctx)}`, cpu, ctx);
        return;
      }
      if (depth === 0) {
        m.fail('assertion', `WARNING: CPU: ${cpu} at kernel/irq/manage.c __enable_irq: Unbalanced enable for IRQ ${a} (${lineName(m, a)}) by ${m.contextName(ctx)}`, cpu, ctx);
        return;
      }
      m.w(io + I_DEPTH, depth - 1);
      // irq_startup/irq_enable unmask a oneshot line whose thread has nothing due.
      if (depth === 1 && !threadsBusy(m, a)) m.w(io + I_STATE, m.s[io + I_STATE]! & ~IRQ_ONESHOT_MASKED);
      m.advance(ctx);
    },
    label(m, _cpu, _ctx, a) {
      const depth = m.s[m.irqOff(a) + I_DEPTH]!;
      return `enable_irq(${lineName(m, a)}): depth ${depth} → ${depth - 1}${depth === 1 ? `, ${lineName(m, a)} may fire again` : ''}`;
    },
  },
  {
    // irq_thread(): one step of an irq thread (see the section's header).
    name: 'irq_thread',
    internal: true,
    exec(m, cpu, ctx) {
      irqThreadStep(m, cpu, ctx, true);
    },
    label(m, cpu, ctx) {
      return irqThreadStep(m, cpu, ctx, false);
    },
  },
];

/**
 * irq_thread: after the thread function returned, the leak check,
 * irq_finalize_oneshot and wake_threads_waitq; then, if IRQTF_RUNTHREAD is
 * set, clear it and call the thread function; else sleep.
 */
function irqThreadStep(m: Machine, cpu: number, ctx: number, commit: boolean): string {
  const line = irqThreads(m).lineOf[ctx]!;
  const io = m.irqOff(line);
  const o = m.ctxOff(ctx);
  const name = lineName(m, line);
  const notes: string[] = [];
  if ((m.s[io + I_STATE]! & IRQ_IN_THREAD_FN) !== 0) {
    // The thread function returned (callFrom came back to this instruction).
    const held = m.s[o + X_HELD]!;
    if (held !== 0 || m.preemptCount(cpu) !== 0 || m.irqsOff(cpu)) {
      const message = `BUG: irq thread function of ${name} returned with ${held !== 0 ? `${heldNames(m, held)} held` : `preempt_count 0x${m.preemptCount(cpu).toString(16).padStart(8, '0')}${m.irqsOff(cpu) ? ' and irqs disabled' : ''}`} (irq/${line}-${name})`;
      if (commit) m.fail('lock-leak', message, cpu, ctx);
      return message;
    }
    notes.push('thread function returned');
    const unmask = m.p.irqs[line]!.oneshot && (m.s[io + I_STATE]! & IRQ_RUNTHREAD) === 0 && m.s[io + I_DEPTH] === 0;
    if (m.p.irqs[line]!.oneshot) notes.push(unmask ? 'irq_finalize_oneshot unmasks the line' : 'the line stays masked');
    if (commit) {
      m.w(io + I_STATE, m.s[io + I_STATE]! & ~(IRQ_IN_THREAD_FN | (unmask ? IRQ_ONESHOT_MASKED : 0)));
      // wake_threads_waitq: atomic_dec_and_test(&desc->threads_active) → wake_up(&desc->wait_for_threads).
      m.w(io + I_THREADS, m.s[io + I_THREADS]! - 1);
      if (m.s[io + I_THREADS] === 0) wakeAll(m, channel(Chan.Irq, line));
    }
  }
  // irq_wait_for_interrupt: test_and_clear_bit(IRQTF_RUNTHREAD).
  if ((m.s[io + I_STATE]! & IRQ_RUNTHREAD) !== 0) {
    if (commit) {
      m.w(io + I_STATE, (m.s[io + I_STATE]! & ~IRQ_RUNTHREAD) | IRQ_IN_THREAD_FN);
      m.snapshotEntry(cpu, ctx);
      m.callFrom(ctx, m.p.irqs[line]!.threadEntry);
    }
    notes.push(`IRQTF_RUNTHREAD: run ${name}'s thread function`);
  } else {
    if (commit) block(m, cpu, ctx, channel(Chan.Worker, ctx));
    notes.push('sleeps until the next interrupt');
  }
  return `irq_thread: ${notes.join('; ')}`;
}

export const IRQ: Mechanism = {
  name: 'irq',
  ops: [...IRQ_OPS, ...IRQ_LINE_OPS],
  choices: [IRQ_ARRIVAL],
  exits: { [FrameKind.Hardirq]: hardirqExit },
  // Live only where some line has a thread (irqThreadTasks makes its task).
  builtins: [{ name: 'irq_thread', ops: ['irq_thread'], live: (shape) => shape.irqs.some((l) => l.threaded) }],
  threads: irqThreadTasks,
  // irq_exit: the line's in-progress flag, this CPU's counts and frames, softirqs run here;
  // a threaded line's primary handler wakes the line's irq thread.
  exitFootprints: {
    [FrameKind.Hardirq]: (f, p, _cpu, line) => {
      f.write(f.ownCpu());
      f.write(f.line(line));
      if (p.irqs[line]!.threadEntry >= 0) f.write(f.anyTask());
    },
  },
};

/** Read a line's state (for tests and reports). */
export function irqLineView(m: Machine, name: string): { requested: boolean; depth: number; running: number; runthread: boolean; threadsActive: number; oneshotMasked: boolean } {
  const line = m.p.irqs.findIndex((l) => l.name === name);
  if (line < 0) throw new Error(`no irq line '${name}'`);
  const io = m.irqOff(line);
  const st = m.s[io + I_STATE]!;
  return {
    requested: (st & IRQ_REQUESTED) !== 0, depth: m.s[io + I_DEPTH]!, running: m.s[io + I_RUNNING]! - 1,
    runthread: (st & IRQ_RUNTHREAD) !== 0, threadsActive: m.s[io + I_THREADS]!, oneshotMasked: (st & IRQ_ONESHOT_MASKED) !== 0,
  };
}

