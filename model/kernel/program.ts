/**
 * A compiled design: flat integer code plus the tables that name things.
 * Produced by model/dsl/compile.ts, consumed by the kernel model.
 */
import type { Design } from '../dsl/design.ts';
import type { LockKind } from './lock-kinds.ts';
import type { KernelFlags } from './flags.ts';

/** Ints per instruction: opcode, then three operands. */
export const INSN_WIDTH = 4;

/** The loop index of a `while` with `bound: 'none'` (design.ts WhileStmt): no counter, no entry in Program.loops. */
export const UNBOUNDED_LOOP = -1;

export interface ProgramTask {
  readonly name: string;
  /** The CPU it starts on. */
  readonly cpu: number;
  readonly entry: number;
  /** Bit i set: the task may run on CPU i (cpus_allowed). */
  readonly allowedMask: number;
  /** A kernel thread that starts asleep waiting for work (KernelThread.idle). */
  readonly idle?: true;
  /** A kernel thread not created yet (KernelThread.uncreated). */
  readonly uncreated?: true;
  /** The task does not exist at boot (ContextStatus.Unborn): kthread_run creates it, or the exit of task `after`. */
  readonly unborn?: true;
  /** The task index whose exit starts this one (`after: 'probe'`), or -1. */
  readonly after?: number;
}

export interface ProgramIrq {
  readonly name: string;
  readonly entry: number;
  /** Bit i set: the line may be delivered to CPU i. */
  readonly cpuMask: number;
  readonly budget: number;
  /** An NMI line (nmi_enter/nmi_exit around the handler; not masked by irqs off). */
  readonly nmi: boolean;
  /** Requested at boot (the default); else only after request_irq. */
  readonly requested: boolean;
  /** IRQF_NO_AUTOEN: request_irq leaves it disabled (depth 1) until enable_irq. */
  readonly noAutoEn: boolean;
  /** request_threaded_irq: the thread function's entry pc, or -1. */
  readonly threadEntry: number;
  /** IRQF_ONESHOT: masked from the hardirq until the thread function has finished. */
  readonly oneshot: boolean;
  /**
   * A vector the kernel raises itself, not a device line (the irq_work
   * self-IPI): it never arrives through the irq choice, and bounds do not
   * list it.
   */
  readonly vector?: string;
}

export interface ProgramLock {
  readonly name: string;
  readonly kind: LockKind;
  /** Its lockdep class (the lock's own name unless declared): locks of one class share lockdep's usage and dependencies. */
  readonly class: string;
}

export interface ProgramQueue {
  readonly name: string;
  readonly capacity: number;
  readonly initial: readonly number[];
}

/** An object of a mechanism (a completion, a tasklet, a timer…), see ObjectKindSpec. */
export interface ProgramObject {
  readonly kind: string;
  readonly name: string;
  /** Initial values of its state words. */
  readonly init: readonly number[];
  /** Resolved attributes, e.g. a callback's entry pc. */
  readonly attrs: Readonly<Record<string, number>>;
}

export interface ProgramInvariant {
  readonly name: string;
  /** Offset of its expression in the pool. */
  readonly expr: number;
  readonly text: string;
  readonly when: 'always' | 'at-end';
  readonly kind: import('../check/violation.ts').ViolationKind;
}

export interface ProgramLoop {
  readonly where: string;
  readonly bound: number;
  /** The hidden register counting its iterations. */
  readonly reg: number;
}

export interface Program {
  readonly design: Design;
  /** Stable hash of the design's data, printed with every verdict. */
  readonly fingerprint: string;
  readonly flags: KernelFlags;
  readonly preempt: 'none' | 'full';
  /** Most timer ticks (jiffies increments) explored: options.ticks. */
  readonly ticks: number;
  readonly ncpu: number;
  /** INSN_WIDTH ints per instruction. */
  readonly code: Int32Array;
  /** Per instruction: where it comes from in the design, e.g. `irq eth0: handler[2]`. */
  readonly where: readonly string[];
  /** Per instruction: kernel text, e.g. `spin_lock(&priv->lock)`. */
  readonly text: readonly string[];
  /**
   * Per instruction: the task whose own body it is (the body's code, its
   * calls inlined), which no other context ever runs; −1 for code other
   * contexts may run (handlers, callbacks, the kernel's own code).
   */
  readonly taskOwner: Int32Array;
  /**
   * The instructions that may block their task on a wait channel their
   * operation declares (OpSemantics.sleepsOn): the channel's tag, its id
   * and the instruction's taskOwner.
   */
  readonly sleepSites: readonly SleepSite[];
  /** Postfix expression pool (see model/kernel/data.ts). */
  readonly exprs: Int32Array;
  readonly tasks: readonly ProgramTask[];
  readonly irqs: readonly ProgramIrq[];
  /** Entry pc of each softirq vector's handler, -1 where the design has none. */
  readonly softirqEntry: Int32Array;
  readonly locks: readonly ProgramLock[];
  readonly vars: readonly string[];
  readonly varInit: readonly number[];
  readonly percpu: readonly string[];
  readonly percpuInit: readonly number[];
  readonly queues: readonly ProgramQueue[];
  /** Per instruction (pc / INSN_WIDTH): bitmask of the structs whose members it touches. */
  readonly insnStructs: Int32Array;
  /** Per struct id: the names of its members, with the locks, variables and queues embedded in member objects. */
  readonly structMembers: readonly (readonly string[])[];
  /** Entry pc of each mechanism's builtin kernel code, by name. */
  readonly builtins: Readonly<Record<string, number>>;
  /** The pcs [from, to) of each builtin's code, and whether any context can run it (BuiltinCode.live). */
  readonly builtinRegions: readonly { readonly name: string; readonly from: number; readonly to: number; readonly live: boolean }[];
  /** Mechanism objects by kind, each list indexed by the object's id. */
  readonly objects: Readonly<Record<string, readonly ProgramObject[]>>;
  /** Register names; every context has one slot per name. */
  readonly regs: readonly string[];
  readonly loops: readonly ProgramLoop[];
  readonly invariants: readonly ProgramInvariant[];
  /** Instructions before this pc are the kernel's builtin code; from here on, the design's. */
  readonly designStart: number;
  /** Which registers are dead where (model/dsl/liveness.ts), for Machine.killDead. */
  readonly liveness: import('../dsl/liveness.ts').Liveness;
}

/** An instruction that may block its task (Program.sleepSites). */
export interface SleepSite {
  readonly tag: number;
  readonly id: number;
  readonly task: number;
}

const SLEEPERS = new WeakMap<Program, Map<number, readonly number[] | null>>();

/**
 * The tasks that may sleep on wait channel (tag, id) (scheduler.ts
 * channel): those whose own body holds an instruction that may block on
 * it, sorted; null (any task) if such an instruction lies in code other
 * contexts run too (a work function a kworker runs, a threaded handler,
 * the kernel's code). Exact for the channels whose blocking operations
 * all declare sleepsOn (Mutex, Semaphore, Completion, WaitQueue:
 * properties/explore/footprints.test.ts checks the blocks of the
 * catalogue's designs against it, and random designs with and without
 * the reductions). Cached per program and channel.
 */
export function sleepersOf(p: Program, tag: number, id: number): readonly number[] | null {
  let known = SLEEPERS.get(p);
  if (known === undefined) SLEEPERS.set(p, (known = new Map()));
  const key = (tag << 16) | id;
  let answer = known.get(key);
  if (answer === undefined) {
    const tasks = new Set<number>();
    let shared = false;
    for (const site of p.sleepSites) {
      if (site.tag !== tag || site.id !== id) continue;
      if (site.task < 0) shared = true;
      else tasks.add(site.task);
    }
    answer = shared ? null : [...tasks].sort((a, b) => a - b);
    known.set(key, answer);
  }
  return answer;
}

const CALLS = new WeakMap<Program, Map<string, boolean>>();

/**
 * Whether some instruction of `p`'s design calls one of the operations
 * `names`, by the instructions' text (`msleep(10)`, `p = kmalloc(…)`): how
 * a mechanism finds which operations a program uses without the
 * registry's opcodes, which its module cannot import (the registry imports
 * it). Cached per program and list.
 */
export function callsAny(p: Program, names: readonly string[]): boolean {
  let known = CALLS.get(p);
  if (known === undefined) CALLS.set(p, (known = new Map()));
  const key = names.join('|');
  let found = known.get(key);
  if (found === undefined) {
    const call = new RegExp(`\\b(?:${key})\\(`);
    found = false;
    for (let k = p.designStart / INSN_WIDTH; !found && k < p.text.length; k++) if (call.test(p.text[k]!)) found = true;
    known.set(key, found);
  }
  return found;
}
