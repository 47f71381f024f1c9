/**
 * irq_work (kernel/irq_work.c, include/linux/irq_work.h;
 * shared/kernel-semantics-drivers.md D4.4): NMI-safe deferral into hardirq
 * context on the queueing CPU.
 *
 * An item (design field `irq_works`, `{ func }`) has its PENDING and BUSY
 * flags (IRQ_WORK_CLAIMED = both), the CPU whose raised list holds it, and
 * the frame running its callback.
 *  - irq_work_queue(w) (any context): irq_work_claim: if PENDING was set,
 *    false (one run covers both); else PENDING|BUSY, on this CPU's list,
 *    and arch_irq_work_raise() sends the self-IPI: true.
 *  - The IPI (the kernel's own `irq_work` vector, a hardirq) comes on that
 *    CPU at any later point where its irqs are on (x86's self-IPI; a tick
 *    on architectures without one is later, covered). irq_work_run_list
 *    runs each item in hardirq context: PENDING cleared before its
 *    callback (a requeue from the callback, or from another CPU meanwhile,
 *    gives one more run), BUSY cleared after unless requeued. The items of
 *    one list run in any order (the kernel's llist order is not modelled:
 *    any order is a sound over-approximation).
 *  - irq_work_sync(w): lockdep_assert_irqs_enabled, then spin while BUSY
 *    (3.x–5.x; later kernels sleep for RT-lazy items, not modelled). From
 *    the callback itself it waits for itself.
 * A callback touching a struct freed meanwhile is a use-after-free, as is
 * the IPI reaching an item whose struct was freed while it was queued
 * (B36: freeing without irq_work_sync).
 *
 * Not modelled: IRQ_WORK_LAZY (the tick-driven lazy list), irq_work_queue_on
 * (the remote IPI), PREEMPT_RT's irq_work/N threads, NMI context.
 */
import { C_HARDIRQ, C_IRQS_OFF, FrameKind, X_ID, X_KIND } from './layout.ts';
import type { Machine } from './machine.ts';
import { goneMessage, structGone, structOf } from './lifetime.ts';
import type { ChoiceSource, FootprintBuilder, Mechanism, ObjectKindSpec, OperandSpec, OpSemantics } from './semantics.ts';

const IW_FLAGS = 0; // PENDING | BUSY
const IW_CPU = 1; // cpu + 1 of the raised list holding it
const IW_RUN = 2; // ctx + 1 of the frame running its callback
const IRQ_WORK_SIZE = 3;
const PENDING = 1;
const BUSY = 2;

/** The vector's name: a hardirq frame `hardirq irq_work`. */
export const IRQ_WORK_VECTOR = 'irq_work';

const count = (m: Machine): number => m.p.objects['irq_work']?.length ?? 0;
const off = (m: Machine, id: number): number => m.objOff('irq_work', id, IRQ_WORK_SIZE);
const name = (m: Machine, id: number): string => m.p.objects['irq_work']![id]!.name;
const entry = (m: Machine, id: number): number => m.p.objects['irq_work']![id]!.attrs['func']!;
const funcName = (m: Machine, id: number): string => (m.p.design as { irq_works?: Record<string, { func: string }> }).irq_works?.[name(m, id)]?.func ?? 'func';
const vectorLine = (m: Machine): number => m.p.irqs.findIndex((l) => l.vector === IRQ_WORK_VECTOR);

/** Items on `cpu`'s raised list, not yet started. */
function queuedOn(m: Machine, cpu: number): number[] {
  const out: number[] = [];
  for (let w = 0, n = count(m); w < n; w++) {
    const o = off(m, w);
    if ((m.s[o + IW_FLAGS]! & PENDING) !== 0 && m.s[o + IW_CPU] === cpu + 1 && m.s[o + IW_RUN] === 0) out.push(w);
  }
  return out;
}

/** The item whose callback frame `ctx` runs, or -1. */
function runningIn(m: Machine, ctx: number): number {
  for (let w = 0, n = count(m); w < n; w++) if (m.s[off(m, w) + IW_RUN] === ctx + 1) return w;
  return -1;
}

/** The irq_work vector's line, as a footprint item. */
const vectorItem = (f: FootprintBuilder): number => f.line(f.program.irqs.findIndex((l) => l.vector === IRQ_WORK_VECTOR));

/** Whether a hardirq frame of the irq_work vector is on `cpu`. */
function ipiRunning(m: Machine, cpu: number): boolean {
  const line = vectorLine(m);
  for (let d = 0; d < m.frameDepth(cpu); d++) {
    const o = m.ctxOff(m.frameCtx(cpu, d));
    if (m.s[o + X_KIND] === FrameKind.Hardirq && m.s[o + X_ID] === line) return true;
  }
  return false;
}

/** arch_irq_work_raise's self-IPI arrives: a hardirq frame running irq_work_run on the queueing CPU. */
const IRQ_WORK_IPI: ChoiceSource = {
  name: 'irq_work_ipi',
  active: (p) => (p.objects['irq_work']?.length ?? 0) > 0,
  // Offered by this CPU's irq flag, frames and depth and by the items queued here (every item's
  // flags, list and runner); it pushes a hardirq frame here. The line's words are not touched
  // (the vector has no budget: its in-progress flag is cleared by the frame's exit).
  footprint(f) {
    f.write(f.ownCpu());
    f.read(f.anyObject('irq_work'));
  },
  // Irqs off here, a frame too deep, or the IPI's frame already here: only this CPU changes them.
  // No item pending on this CPU's list: irq_work_queue queues on the caller's own list, so no other
  // CPU can put one there. (An item pending here but still running on another CPU, requeued from
  // there, becomes offered when that CPU's irq_work_run_list finishes it: not quiet.)
  quiet(m, cpu) {
    if (m.irqsOff(cpu) || m.frameDepth(cpu) >= m.L.maxFrames - 1 || ipiRunning(m, cpu)) return true;
    for (let w = 0, n = count(m); w < n; w++) {
      const o = off(m, w);
      if ((m.s[o + IW_FLAGS]! & PENDING) !== 0 && m.s[o + IW_CPU] === cpu + 1) return false;
    }
    return true;
  },
  collect(m, cpu, out) {
    if (count(m) === 0 || m.irqsOff(cpu) || m.frameDepth(cpu) >= m.L.maxFrames - 1 || ipiRunning(m, cpu)) return;
    if (queuedOn(m, cpu).length > 0) out.push(m.choice(IRQ_WORK_IPI, cpu, 0, 0));
  },
  apply(m, cpu) {
    const co = m.cpuOff(cpu);
    const line = vectorLine(m);
    // irq_enter_rcu: HARDIRQ_OFFSET, irqs off (sysvec_irq_work).
    m.w(co + C_HARDIRQ, m.s[co + C_HARDIRQ]! + 1);
    m.w(co + C_IRQS_OFF, 1);
    const ctx = m.pushFrame(cpu, FrameKind.Hardirq, line, m.p.irqs[line]!.entry, 0);
    m.snapshotEntry(cpu, ctx);
  },
  label(m, cpu) {
    return `irq_work interrupt arrives (self-IPI for ${queuedOn(m, cpu).map((w) => `&${name(m, w)}`).join(', ')})`;
  },
};

/**
 * irq_work_run → irq_work_run_list: after a callback returned, drop BUSY
 * unless requeued; then run the next queued item (a choice), or return
 * from the interrupt (irq_exit).
 */
const RUN_LIST: OpSemantics = {
  name: 'irq_work_run_list',
  internal: true,
  // In the vector's hardirq frame: every item (flags, the list it is on, its runner), the structs
  // they belong to (an item freed while queued), and when the list is empty the frame's exit,
  // irq_exit (irq.ts's exit footprint: this CPU, the line; softirqs may run here).
  footprint(f) {
    f.write(f.anyObject('irq_work'));
    f.read(f.anyObject('struct'));
    f.write(f.ownCpu());
    f.write(vectorItem(f));
  },
  variants(m, cpu) {
    return Math.max(1, queuedOn(m, cpu).length);
  },
  exec(m, cpu, ctx, _a, _b, _c, variant) {
    const done = runningIn(m, ctx);
    if (done >= 0) {
      const o = off(m, done);
      m.w(o + IW_RUN, 0);
      // atomic_cmpxchg(&work->node.a_flags, flags, flags & ~IRQ_WORK_BUSY): kept if requeued meanwhile.
      if ((m.s[o + IW_FLAGS]! & PENDING) === 0) {
        m.w(o + IW_FLAGS, 0);
        m.w(o + IW_CPU, 0);
      }
    }
    const queued = queuedOn(m, cpu);
    if (queued.length === 0) {
      m.exitContext(cpu, ctx); // irq_exit
      return;
    }
    const w = queued[variant]!;
    const sid = structOf(m, name(m, w));
    if (structGone(m, sid)) {
      m.fail('use-after-free', goneMessage(m, sid, 'irq_work_run_list', `hardirq irq_work on cpu${cpu}`, `&${name(m, w)} was queued and its memory freed before it ran (no irq_work_sync)`), cpu, ctx);
      return;
    }
    const o = off(m, w);
    // irq_work_single: flags = atomic_fetch_andnot(IRQ_WORK_PENDING); BUSY stays.
    m.w(o + IW_FLAGS, BUSY);
    m.w(o + IW_RUN, ctx + 1);
    // The callback runs in this hardirq frame: its leaks are the frame's, checked at irq_exit.
    m.callFrom(ctx, entry(m, w));
  },
  label(m, cpu, ctx, _a, _b, _c, variant) {
    const done = runningIn(m, ctx);
    const head = done >= 0 ? `${funcName(m, done)}() returned; ` : '';
    const queued = queuedOn(m, cpu);
    if (queued.length === 0) return `irq_work_run: ${head}list empty, irq_exit`;
    const w = queued[variant]!;
    return `irq_work_run: ${head}&${name(m, w)}: clear PENDING, call ${funcName(m, w)}()`;
  },
};

const ITEM: OperandSpec = { kind: 'object', field: 'obj', objectKind: 'irq_work' };
/** irq_work arrived in 2.6.37. */
const unavailable = (flags: { readonly globalBH: boolean }): string | null => (flags.globalBH ? 'irq_work arrived in 2.6.37; the 2.4 profile has none' : null);

export const IRQ_WORK_OPS: readonly OpSemantics[] = [
  RUN_LIST,
  {
    // irq_work_queue(): irq_work_claim, then __irq_work_queue_local (preemption off) and the self-IPI.
    name: 'irq_work_queue',
    operands: [ITEM, { kind: 'reg-def', field: 'reg', optional: true }],
    unavailable,
    // The item's flags and the CPU whose list holds it (which makes the IPI offered here).
    footprint(f, a) {
      f.write(f.object('irq_work', a));
    },
    exec(m, cpu, ctx, a, b) {
      const o = off(m, a);
      const queued = (m.s[o + IW_FLAGS]! & PENDING) === 0;
      if (queued) {
        m.w(o + IW_FLAGS, PENDING | BUSY);
        m.w(o + IW_CPU, cpu + 1);
      }
      if (b >= 0) m.setReg(ctx, b, queued ? 1 : 0);
      m.advance(ctx);
    },
    label(m, cpu, _ctx, a) {
      const o = off(m, a);
      return (m.s[o + IW_FLAGS]! & PENDING) !== 0
        ? `irq_work_queue(&${name(m, a)}) → false: already pending on cpu${m.s[o + IW_CPU]! - 1}`
        : `irq_work_queue(&${name(m, a)}) → true: on cpu${cpu}'s raised list, self-IPI sent`;
    },
  },
  {
    // irq_work_sync(): lockdep_assert_irqs_enabled(); while (irq_work_is_busy(work)) cpu_relax();
    name: 'irq_work_sync',
    operands: [ITEM],
    unavailable,
    // This CPU's irq flag (the assertion), the item's BUSY flag (the spin).
    footprint(f, a) {
      f.read(f.ownCpu());
      f.read(f.object('irq_work', a));
    },
    ready(m, cpu, _ctx, a) {
      // The assertion comes first: with irqs off it warns before spinning.
      return m.irqsOff(cpu) || (m.s[off(m, a) + IW_FLAGS]! & BUSY) === 0;
    },
    exec(m, cpu, ctx, a) {
      if (m.irqsOff(cpu)) {
        m.fail('assertion', `WARNING: CPU: ${cpu} at kernel/irq_work.c irq_work_sync: lockdep_assert_irqs_enabled(): irq_work_sync(&${name(m, a)}) by ${m.contextName(ctx)} with irqs disabled (the self-IPI could never come)`, cpu, ctx);
        return;
      }
      m.advance(ctx);
    },
    label(m, _cpu, _ctx, a) {
      return `irq_work_sync(&${name(m, a)}): not busy`;
    },
    waitsFor(m, _cpu, ctx, a) {
      const o = off(m, a);
      const runner = m.s[o + IW_RUN]! - 1;
      const on = runner >= 0 ? [runner] : [];
      const where = runner >= 0 ? `its callback runs in ${m.contextName(runner)}${runner === ctx ? ' (itself)' : ''}` : `it is queued on cpu${m.s[o + IW_CPU]! - 1}`;
      return { on, why: `${m.contextName(ctx)}: irq_work_sync(&${name(m, a)}) spins while it is busy: ${where}` };
    },
  },
];

const IRQ_WORKS: ObjectKindSpec = {
  kind: 'irq_work',
  field: 'irq_works',
  size: IRQ_WORK_SIZE,
  ctype: 'irq_work',
  declKeys: ['func'],
  declare(_name, decl, d) {
    const w = decl as { func?: unknown } | null;
    if (typeof w !== 'object' || w === null || typeof w.func !== 'string') return d.fail("declare an irq_work as { func: 'callback' } (init_irq_work / IRQ_WORK_INIT)");
    return { init: [0, 0, 0], attrs: { func: d.functionEntry(w.func) } };
  },
};

export const IRQ_WORK: Mechanism = {
  name: 'irq_work',
  // kernel/irq_work.c: on PREEMPT_RT an item without IRQ_WORK_HARD_IRQ runs in the per-CPU irq_work/N thread.
  rtUnmodelled: 'on PREEMPT_RT an irq_work without IRQ_WORK_HARD_IRQ runs in the irq_work/N kthread, not in hardirq context',
  ops: IRQ_WORK_OPS,
  objects: [IRQ_WORKS],
  choices: [IRQ_WORK_IPI],
  builtins: [{ name: 'irq_work_run', ops: ['irq_work_run_list'], live: (shape) => shape.objectCount('irq_work') > 0 }],
  vectors(shape) {
    return shape.objectCount('irq_work') > 0 ? [{ name: IRQ_WORK_VECTOR, builtin: 'irq_work_run' }] : [];
  },
};
