/**
 * The state vector: one flat Int32Array whose layout is fixed per program.
 *
 *   header | irq lines | CPUs | contexts (tasks, then interrupt frames) | locks | vars | per-CPU vars | queues | objects
 *
 * A *context* is one execution context with a program counter: a task, or an
 * interrupt frame (hardirq, softirq batch, ksoftirqd batch) stacked on a CPU.
 * Context ids: task i is i; frame d of CPU c is tasks + c*maxFrames + d.
 */
import type { Program } from './program.ts';
import { LOCK_KINDS } from './lock-kinds.ts';

// Header
export const H_VIOL_KIND = 0; // violation kind code (0 = none)
export const H_VIOL_CPU = 1;
export const H_VIOL_CTX = 2;
export const H_VIOL_A = 3; // kind-specific detail
export const H_VIOL_B = 4;
export const H_VIOL_PC = 5;
/**
 * Why this path was cut, 0 if it was not: 1 + the index of the loop whose
 * bound it exceeded, or MODEL_BOUND + a ModelBound code for a bound of the
 * kernel model itself (see Machine.modelBound, explore/outcome.ts).
 */
export const H_BOUND_HIT = 6;
export const H_JIFFIES = 7;
/** Bit c: CPU c has had its local timer tick for the current jiffy (see timer.ts). */
export const H_TICKED = 8;
export const HEADER_SIZE = 9;

// Per irq line (irq.ts)
export const I_BUDGET = 0; // arrivals left
export const I_RUNNING = 1; // cpu+1 while a handler for the line runs (IRQD_IRQ_INPROGRESS)
export const I_DEPTH = 2; // desc->depth: disable_irq nesting; the line is not requested while I_STATE lacks REQUESTED
export const I_STATE = 3; // bits: requested (an action installed), IRQTF_RUNTHREAD, masked until the oneshot thread finishes
export const I_THREADS = 4; // desc->threads_active: woken thread handlers not yet finished
export const IRQ_SIZE = 5;
/** I_STATE bits. */
export const IRQ_REQUESTED = 1; // an action is installed (request_irq, or at boot)
export const IRQ_RUNTHREAD = 2; // IRQTF_RUNTHREAD: the thread function should run
export const IRQ_ONESHOT_MASKED = 4; // masked by the flow handler until the oneshot thread finishes
export const IRQ_IN_THREAD_FN = 8; // the line's thread is inside its thread function

// Per CPU: the preempt_count parts are kept apart (include/linux/preempt.h)
export const C_IRQS_OFF = 0; // irqs_disabled()
export const C_PREEMPT = 1; // preempt_disable nesting, held spinlocks included
export const C_BH = 2; // local_bh_disable nesting (SOFTIRQ_DISABLE_OFFSET units)
export const C_SERVING = 3; // SOFTIRQ_OFFSET: a softirq batch is executing
export const C_HARDIRQ = 4; // HARDIRQ_OFFSET units
export const C_NMI = 5;
export const C_PENDING = 6; // __softirq_pending bitmask
export const C_CURTASK = 7; // task running on this CPU, -1 none
export const C_DEPTH = 8; // interrupt frames stacked above the task
export const C_KSOFTIRQD = 9; // ksoftirqd runnable (woken)
export const CPU_SIZE = 10;

/**
 * Interrupt frames per CPU (Layout.maxFrames): a softirq batch (or
 * ksoftirqd), then hardirqs. A line never nests with itself, so at most one
 * hardirq frame per line affine to the CPU (and the tick) can stack there,
 * when handlers run with irqs on (before 2.6.35) or turn them on.
 */
export function maxFramesOf(irqLines: number): number {
  return 2 + irqLines + 1;
}
/**
 * Nested calls inside one context (design code called by mechanism code):
 * softirq → tasklet_action → func → run_task_queue's routine is four. A
 * deeper nest (a routine that runs a task queue itself) ends its path as
 * bounded-out (ModelBound.CallDepth), and the bounds name it.
 */
export const MAX_CALLS = 4;

/** H_BOUND_HIT values from MODEL_BOUND up: a bound of the kernel model, not of a design loop. */
export const MODEL_BOUND = 0x10000;
/** The bounds of the kernel model that can end a path as bounded-out (explore/outcome.ts names them). */
export const enum ModelBound {
  /** More than MAX_CALLS nested callback calls in one context. */
  CallDepth = 1,
  /** A path ends with ksoftirqd requeueing a disabled tasklet forever (tasklet.ts parking, T6). */
  TaskletHog = 2,
  /** PREEMPT_RT: a softirq or interrupt frame would sleep on an rt_mutex lock (spinlock.ts). */
  RtFrameSleep = 3,
}

// Per context
export const X_STATUS = 0; // see ContextStatus
export const X_KIND = 1; // see FrameKind
export const X_ID = 2; // task index, irq line, or cpu for softirq batches
export const X_PC = 3;
export const X_PHASE = 4; // sub-step of a multi-step operation (e.g. spinning)
export const X_CALLS = 5; // call depth
export const X_RET = 6; // MAX_CALLS return pcs
export const X_HELD = X_RET + MAX_CALLS; // bitmask of locks held (any mode)
export const X_ENTRY_PREEMPT = X_HELD + 1; // counts at context entry, for leak checks
export const X_ENTRY_BH = X_ENTRY_PREEMPT + 1;
export const X_ENTRY_IRQS = X_ENTRY_BH + 1;
export const X_AUX0 = X_ENTRY_IRQS + 1; // mechanism-owned fields
export const X_AUX1 = X_AUX0 + 1;
/** A sleeping task's wait channel, tag << 16 | object id (see scheduler.ts); tasks only. */
export const T_CHANNEL = X_AUX0;
export const X_AUX2 = X_AUX1 + 1;
export const X_AUX3 = X_AUX2 + 1;
export const X_EXIT = X_AUX3 + 1; // what to do when a frame pops (ExitAction)
/** Tasks only (frames use X_EXIT): kthread flags, KTHREAD_SHOULD_STOP (see kthread.ts). */
export const T_KTHREAD = X_EXIT;
/**
 * lockdep subclass of each held lock (spin_lock_nested, mutex_lock_nested…):
 * 4 bits per lock id 0..7, 0 for a plain acquisition. Only lockdep reads it.
 */
export const X_SUBCLASS = X_EXIT + 1;
/** A task's current CPU (it may migrate within its allowed CPUs); frames use their stack's CPU. */
export const X_CPU = X_SUBCLASS + 1;
/** rcu_read_lock nesting of the context (rcu.ts); for a task under PREEMPT_RCU, current->rcu_read_lock_nesting. */
export const X_RCU = X_CPU + 1;
/**
 * The registers (one word per register name), then one word per lock with
 * a shared (read) mode, rwlock_t and rw_semaphore: the context's extra read
 * references to it (read recursion, see held-locks.ts), at
 * Layout.readNestBase + Layout.readNestSlot[lock].
 */
export const X_REGS = X_RCU + 1;

export const enum ContextStatus {
  Free = 0,
  /** A task not yet scheduled for the first time (runnable). */
  NotStarted = 1,
  /** On its CPU: the CPU's current task, or an active interrupt frame. */
  Running = 2,
  Done = 3,
  /** A task ready to run, waiting for its CPU. */
  Runnable = 4,
  /** A task asleep on a wait channel (X_AUX0) until woken. */
  Blocked = 5,
  /**
   * A task that does not exist yet: a kthread until kthread_run creates it,
   * or a task that starts `after` another one exits (see kthread.ts).
   */
  Unborn = 6,
}


export const enum FrameKind {
  Task = 1,
  Hardirq = 2,
  Softirq = 3,
  Ksoftirqd = 4,
}

// Per lock
export const L_OWNER = 0; // exclusive owner ctx+1 (spinlock, rwlock writer)
export const L_READERS = 1; // rwlock reader count
export const L_QHOLDER = 2; // qrwlock wait_lock holder ctx+1
export const L_QWRITER = 3; // 1 if the wait_lock holder is a writer (_QW_WAITING)
export const LOCK_SIZE = 4;

export interface Layout {
  readonly ntasks: number;
  readonly ncpu: number;
  readonly nctx: number;
  readonly ctxSize: number;
  /** Interrupt frames per CPU. */
  readonly maxFrames: number;
  /** Offset in a context block of its read-recursion words, one per rwlock (after the registers). */
  readonly readNestBase: number;
  /** Lock id → its read-recursion word's index from readNestBase, or -1 for a lock with no read mode. */
  readonly readNestSlot: Int32Array;
  readonly irqBase: number;
  readonly cpuBase: number;
  readonly ctxBase: number;
  readonly lockBase: number;
  readonly varBase: number;
  readonly percpuBase: number;
  /** Offset of each queue: length, then capacity slots. */
  readonly queueBase: readonly number[];
  /** Offset of the first object of each mechanism object kind (objects of a kind are contiguous). */
  readonly objBase: Readonly<Record<string, number>>;
  readonly size: number;
}

export function computeLayout(p: Program): Layout {
  const ntasks = p.tasks.length;
  const ncpu = p.ncpu;
  // Only the lines affine to a CPU can stack frames on it.
  let linesPerCpu = 0;
  for (let c = 0; c < p.ncpu; c++) linesPerCpu = Math.max(linesPerCpu, p.irqs.filter((l) => l.cpuMask & (1 << c)).length);
  const maxFrames = maxFramesOf(linesPerCpu);
  const nctx = ntasks + ncpu * maxFrames;
  const readNestBase = X_REGS + p.regs.length;
  const readNestSlot = new Int32Array(p.locks.length).fill(-1);
  let rwlocks = 0;
  p.locks.forEach((l, i) => {
    if (LOCK_KINDS[l.kind].shared) readNestSlot[i] = rwlocks++;
  });
  const ctxSize = readNestBase + rwlocks;
  const irqBase = HEADER_SIZE;
  const cpuBase = irqBase + p.irqs.length * IRQ_SIZE;
  const ctxBase = cpuBase + ncpu * CPU_SIZE;
  const lockBase = ctxBase + nctx * ctxSize;
  const varBase = lockBase + p.locks.length * LOCK_SIZE;
  const percpuBase = varBase + p.vars.length;
  let off = percpuBase + p.percpu.length * ncpu;
  const queueBase: number[] = [];
  for (const q of p.queues) {
    queueBase.push(off);
    off += 1 + q.capacity;
  }
  const objBase: Record<string, number> = {};
  for (const [kind, list] of Object.entries(p.objects)) {
    objBase[kind] = off;
    for (const obj of list) off += obj.init.length;
  }
  return { ntasks, ncpu, nctx, ctxSize, maxFrames, readNestBase, readNestSlot, irqBase, cpuBase, ctxBase, lockBase, varBase, percpuBase, queueBase, objBase, size: off };
}
