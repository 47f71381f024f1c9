/**
 * The contracts between the generic machine (machine.ts) and the mechanism
 * files. A mechanism contributes:
 *  - operations: what one instruction does when its context runs;
 *  - choice sources: nondeterministic events that are not an instruction of
 *    the running context (an interrupt arrives, ksoftirqd is scheduled…);
 *  - frame exits: what happens when a context of a given kind returns.
 */
import type { QueueSpec, Stmt } from '../dsl/design.ts';
import type { LockKind } from './lock-kinds.ts';
import type { Machine } from './machine.ts';
import type { Program } from './program.ts';

// ------------------------------------------------------------ footprints

/**
 * What a transition may read and write, item by item, for partial-order
 * reduction (model/explore/por.ts): two transitions on different CPUs
 * commute unless one writes an item the other reads or writes. A footprint
 * is static: it may depend on the operands, never on the state, so it must
 * cover every outcome (every variant, every branch inside the operation).
 * Items are named relative to the CPU that executes the transition:
 * `ownCpu()` is its block (irq flag, preempt counts, pending softirqs,
 * current task, interrupt frames and their contexts).
 *
 * The context's own private state (its pc, phase, registers, call stack,
 * held-lock mask) is not an item: no other CPU reads it. Writing another
 * context's state (waking a task) is `task(t)` or `anyTask()`.
 *
 * An operation, choice source or frame exit that declares no footprint
 * conflicts with everything: sound, just slower.
 */
export interface FootprintBuilder {
  /** The program the footprint is taken in: an object's attributes (a socket's slock and backlog queue), a struct's members, the lines. */
  readonly program: Program;
  read(item: number): void;
  write(item: number): void;
  /** Reads and writes everything (as if no footprint were declared). */
  everything(): void;
  /**
   * The reads of the expression at `off` in the program's pool: variables,
   * per-CPU values, queues, context tests (this CPU's block; for
   * kthread_should_stop() the task's own block), read_seqcount_retry's
   * seqcount, and smp_processor_id() of a task that may migrate (its block,
   * where its CPU is).
   */
  expr(off: number): void;
  /** The executing CPU's block: irq flag, preempt/bh/hardirq counts, pending softirqs, current task, frames. */
  ownCpu(): number;
  /** CPU `c`'s block (a remote CPU an operation names, e.g. add_timer_on). */
  cpu(c: number): number;
  /** Every CPU's block (e.g. an operation that may wake ksoftirqd anywhere). Like every any…(), pass it to read() or write(). */
  anyCpu(): number;
  lock(id: number): number;
  variable(id: number): number;
  /** The executing CPU's copy of per-CPU variable `v`. */
  ownPerCpu(v: number): number;
  perCpu(v: number, c: number): number;
  queue(q: number): number;
  /** Object `id` of a mechanism object kind (`timer`, `tasklet`…). */
  object(kind: string, id: number): number;
  /** Every object of a kind (e.g. an operation that scans all of them). */
  anyObject(kind: string): number;
  /** Interrupt line `l`: its budget and whether a handler runs (I_*). */
  line(l: number): number;
  /** Task `t`'s context block (status, wait channel, CPU). */
  task(t: number): number;
  /** Every task's context block. */
  anyTask(): number;
  /** The context blocks of the tasks that may run on the executing CPU (a look at who else could run here: cond_resched). */
  tasksHere(): number;
  /** The global timer state: jiffies and which CPUs have ticked (H_JIFFIES, H_TICKED). */
  jiffies(): number;
  /** The executing context's own block, if it is a task (its status and wait channel, which others read or write). */
  ownTask(): number;
  /**
   * When it completes, the executing context holds `lock` exclusively
   * (spin_lock, write_lock, mutex_lock). With release(), this feeds the
   * static must-hold lockset analysis: a variable accessed only under one
   * lock cannot be touched by another CPU while this CPU holds that lock.
   */
  acquire(lock: number): void;
  /** When it completes, the executing context no longer holds `lock`. */
  release(lock: number): void;
  /**
   * It may leave `lock` unlocked whoever holds it (a *_init re-initialising
   * it: held-locks.ts initLock). Another context could then take the lock
   * while its holder still holds it, so the lockset analysis protects
   * nothing by `lock`.
   */
  resets(lock: number): void;
  /**
   * It may raise softirq vector `vec` on the executing CPU. A design's
   * softirq handler is assumed to run only on CPUs where something may
   * raise its vector (a transition without a footprint may raise any).
   */
  raises(vec: number): void;
}

/** How the compiler fills an instruction operand from a statement field. */
export type OperandSpec =
  | { readonly kind: 'lock'; readonly field: 'lock'; readonly lockKind: LockKind }
  /**
   * A register the op sets; `optional`: the statement may omit it (operand -1), e.g. an ignored return value;
   * `packed`: stored in the high 16 bits of the previous operand (an object or variable id), as register + 1.
   */
  | { readonly kind: 'reg-def'; readonly field: 'flags' | 'reg'; readonly optional?: true; readonly packed?: true }
  | { readonly kind: 'reg-use'; readonly field: 'flags' | 'reg' }
  | { readonly kind: 'vec'; readonly field: 'vec' }
  | { readonly kind: 'var'; readonly field: 'var' }
  | { readonly kind: 'percpu'; readonly field: 'var' }
  | { readonly kind: 'queue'; readonly field: 'queue' }
  | { readonly kind: 'expr'; readonly field: 'value' | 'cond' | 'old' | 'new' }
  | {
      readonly kind: 'object'; readonly field: 'obj' | 'target'; readonly objectKind: string;
      /** The object must have this declared attribute set (e.g. a delayed work), else the problem is a design error. */
      readonly requires?: { readonly attr: string; readonly problem: string };
    }
  /**
   * A small integer; `packed`: stored in the high 16 bits of the previous
   * operand (an object id), for ops with more than three operands, e.g.
   * queue_work_on(cpu, wq, work) with its return register.
   */
  | { readonly kind: 'int'; readonly field: 'count' | 'cpu' | 'subclass'; readonly min: number; readonly max: number; readonly packed?: true }
  /**
   * A design function run as a callback (call_rcu's func): its entry pc.
   * `inputs`: registers the mechanism sets before calling it.
   */
  | { readonly kind: 'fn'; readonly field: 'fn'; readonly inputs?: readonly string[] }
  /** A task of the design, by name: its task index; `kthread`: it must be declared with `start: 'kthread_run'`. */
  | { readonly kind: 'task'; readonly field: 'target'; readonly kthread?: true }
  /** An interrupt line of the design, by name (request_irq, disable_irq): its line index. */
  | { readonly kind: 'irq'; readonly field: 'target' }
  /** Allocation flags: the index of GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT (model/dsl/design.ts Gfp). */
  | { readonly kind: 'gfp'; readonly field: 'gfp' }
  /** A boolean statement field (absent: false) as 0 or 1; `packed` as for ints. */
  | { readonly kind: 'flag'; readonly field: 'mayFail'; readonly packed?: true };

/**
 * What a state word holds, for symmetry reduction (model/explore/symmetry.ts):
 * when identical CPUs (or tasks) are swapped, the words that name a CPU or a
 * context must be renamed too.
 *  - plain: a count, a flag, a pc: unchanged;
 *  - cpu / cpu+1: a CPU number (-1 none) / a CPU number plus one (0 none);
 *  - cpuMask: a bit per CPU;
 *  - ctx+1: a context id plus one (0 none); tasks and interrupt frames
 *    both have context ids (see layout.ts);
 *  - ctxMask: a bit per context;
 *  - task: a task index (-1 none).
 */
export type WordRole = 'plain' | 'cpu' | 'cpu+1' | 'cpuMask' | 'ctx+1' | 'ctxMask' | 'task';

/** What a mechanism's object declarations may ask of the compiler. */
export interface DeclareContext {
  readonly ncpu: number;
  /** The kernel the design picked (its profile with overrides), e.g. to refuse a 2.4-only object. */
  readonly flags: import('./flags.ts').KernelFlags;
  /** Throw a DesignError naming this declaration. */
  fail(problem: string): never;
  /** Compile design function `fn` as callback code; returns its entry pc. */
  functionEntry(fn: string): number;
  /** Id of a declared object of another kind (e.g. a work item's workqueue). */
  objectId(kind: string, name: string): number;
  /** Id of a declared lock, variable or queue (the design's own or one embedded in an object). */
  lockId(name: string): number;
  varId(name: string): number;
  queueId(name: string): number;
  /** The register slot of `name` (a mechanism passes a value to a callback in it). */
  reg(name: string): number;
  /** Compile design function `fn` as a callback that reads the registers `inputs`, set by the mechanism before the call. */
  callbackEntry(fn: string, inputs: readonly string[]): number;
}

/**
 * What an object embeds and the design may name on its own: a socket's
 * `sk->sk_lock.slock` lock, its `sk->sk_refcnt` variable, its
 * `sk->sk_backlog` queue. The names are declared as if the design had
 * written them in `locks`, `vars` and `queues`, and belong to the struct
 * the object belongs to.
 */
export interface Embedded {
  readonly locks?: Readonly<Record<string, LockKind>>;
  readonly vars?: Readonly<Record<string, number>>;
  readonly queues?: Readonly<Record<string, QueueSpec>>;
  /** Mechanism objects, by kind, then name → declaration (a socket's `sk->sk_lock.wq` wait queue). */
  readonly objects?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * A kind of mechanism object (completions, tasklets, timers…): declared in a
 * design field as a record from name to declaration, with `size` state words
 * each, addressed by Machine.objOff(kind, id).
 */
export interface ObjectKindSpec {
  /** The operand kind and the key of Layout.objBase, e.g. 'completion'. */
  readonly kind: string;
  /** The design field declaring them, e.g. 'completions'. */
  readonly field: string;
  readonly size: number;
  /** Objects the kernel provides without a declaration (e.g. system_wq). */
  readonly builtin?: Readonly<Record<string, unknown>>;
  /** The C type, for reports (e.g. `timer_list`). */
  readonly ctype?: string;
  /** The keys a declaration written as an object may have; any other key is a design error. */
  readonly declKeys?: readonly string[];
  /**
   * The role of each of its `size` state words, for symmetry reduction (see
   * WordRole). Omitted: a design with objects of this kind is never reduced
   * by symmetry (sound, just slower).
   */
  readonly wordRoles?: readonly WordRole[];
  /**
   * Whether object `id` is active (a timer pending, a tasklet scheduled or
   * running, a work queued or running), described for the report; null if
   * idle. Freeing its struct while active is a use-after-free.
   */
  activeState?(m: Machine, id: number): string | null;
  /**
   * What of object `id` context `ctx` holds like a lock (a socket it owns
   * through lock_sock), named as lockdep names it; null if nothing. A task
   * returning to user space with it held is "lock held when returning to
   * user space!" (scheduler.ts taskExit).
   */
  heldBy?(m: Machine, id: number, ctx: number): string | null;
  /** Validate one declaration; return its initial state words and attributes. */
  declare(name: string, decl: unknown, d: DeclareContext): { init: number[]; attrs?: Record<string, number> };
  /** The locks, variables and queues an object of this kind embeds (see Embedded); called before any code compiles. */
  embedded?(name: string, decl: unknown): Embedded;
}

/** What an expansion may ask of the compiler. */
export interface ExpandContext {
  /** Throw a DesignError naming the statement. */
  fail(problem: string): never;
  /** The declaration of object `name` of a kind (e.g. a seqcount's `{ lock }`), or undefined. */
  declaration(kind: string, name: string): unknown;
  /** A register name no design uses, unique to this statement, for a hidden result (`#kref_put3`). */
  hiddenReg(tag: string): string;
}

/**
 * A kernel function that is an inline composition of others: the compiler
 * replaces the statement by these statements, each a step of its own, as
 * the kernel's C would run them (write_seqlock = spin_lock +
 * write_seqcount_begin; kref_put = refcount_dec_and_test + the release in
 * the caller's context; sk_reset_timer = mod_timer + sock_hold). `text`
 * renames the first emitted instruction in traces (bh_lock_sock for its
 * spin_lock).
 */
export interface Expansion {
  readonly name: string;
  /** The statement fields it reads; any other field is a design error. */
  readonly fields: readonly string[];
  unavailable?(flags: import('./flags.ts').KernelFlags): string | null;
  expand(st: Readonly<Record<string, unknown>>, x: ExpandContext): { readonly body: readonly Stmt[]; readonly text?: string };
}

/**
 * What lockdep sees an instruction do to its lock operand (operand a),
 * statically (kernel/locking/lockdep.c lock_acquire/lock_release; the
 * explorers' lockdep observer, model/check/lockdep.ts, and the reports
 * read it).
 */
export interface LockdepAction {
  /**
   * acquire (lock_acquire), release, downgrade (lock_downgrade), init (a
   * *_init: debug_check_no_locks_freed), touch-map (lock_map_acquire and
   * release of the lockdep map of operand a's object, `map`, as the
   * instruction's first act, even when it then waits at once).
   */
  readonly action: 'acquire' | 'release' | 'downgrade' | 'init' | 'touch-map';
  /** The kind of object operand a is, for touch-map. */
  readonly map?: LockdepMapRef['kind'];
  /**
   * For an acquire (or a touch-map): 0 exclusive, 1 a non-recursive reader
   * (down_read), 2 a recursive reader (seqcount_acquire_read), 'read_lock'
   * an rwlock reader, recursive unless a queued rwlock is read in task
   * context (read_lock_is_recursive).
   */
  readonly read: 0 | 1 | 2 | 'read_lock';
  readonly trylock?: true;
  /** Irqs are off at the acquisition whatever they were before: the _irq/_irqsave forms disable them in the same step. */
  readonly irqsOff?: true;
  /** Softirqs are off at the acquisition: a _bh trylock disables them in the same step. */
  readonly bhOff?: true;
  /** The instruction's first step is only its prologue (a _bh lock's local_bh_disable); lockdep sees the acquisition in a later step. */
  readonly prologueStep?: true;
  /** The operand (1 = b, 2 = c) holding a lockdep subclass (the *_nested forms); else subclass 0. */
  readonly subclassOperand?: 1 | 2;
}

export interface OpSemantics {
  /** The kernel function, as written in designs and labels. */
  readonly name: string;
  /** Its effect on its lock operand as lockdep sees it, if it is a lock operation. */
  readonly lockdep?: LockdepAction;
  /** Operands a..c as the compiler fills them from the statement's fields. */
  readonly operands?: readonly OperandSpec[];
  /** Statement fields it reads besides its operands' (e.g. BUG_ON's `message`); any other field is a design error. */
  readonly extraFields?: readonly string[];
  /**
   * It may call design code in its own context (Machine.callFrom), e.g.
   * run_task_queue running the queue's routines: registers live across it
   * are kept alive in called code (model/dsl/liveness.ts). callFrom refuses
   * a call from a design instruction whose op does not say so.
   */
  readonly callsDesignCode?: true;
  /** Emitted by the compiler or the kernel itself, never written in a design. */
  readonly internal?: true;
  /**
   * The wait channel it may block its task on (scheduler.ts block): the
   * channel's tag, and which operand is its id, or names the object whose
   * attribute `attr` is (a socket's wait queue: lock_sock). Declared by
   * every operation that blocks on a Mutex, Semaphore, Completion or
   * WaitQueue channel: the wakers of those channels wake only the tasks
   * that may sleep on them (program.ts sleepersOf), for the partial-order
   * reduction.
   */
  readonly sleepsOn?: { readonly chan: number; readonly operand: 0 | 1 | 2; readonly attr?: string };
  /**
   * Why the kernel the design picked (its profile and flags) has no such
   * function, or null if it has; the compiler reports it as a design error.
   */
  unavailable?(flags: import('./flags.ts').KernelFlags): string | null;
  /** False while the instruction cannot progress (spinning on a lock…). Default true. */
  ready?(m: Machine, cpu: number, ctx: number, a: number, b: number, c: number): boolean;
  /** How many outcomes the kernel may pick between here. Default 1. */
  variants?(m: Machine, cpu: number, ctx: number, a: number, b: number, c: number): number;
  /** Execute; must advance the pc (m.advance) unless the instruction stays. */
  exec(m: Machine, cpu: number, ctx: number, a: number, b: number, c: number, variant: number): void;
  /** The label for one outcome; default is the instruction's kernel text. */
  label?(m: Machine, cpu: number, ctx: number, a: number, b: number, c: number, variant: number): string;
  /** For a blocked instruction: whom it waits for, and how to say so. */
  waitsFor?(m: Machine, cpu: number, ctx: number, a: number, b: number, c: number): WaitEdge;
  /**
   * What it may read and write (see FootprintBuilder), from its operands,
   * covering its readiness test, every variant and every softirq run point
   * it may reach. Omitted: it conflicts with everything.
   */
  footprint?(f: FootprintBuilder, a: number, b: number, c: number): void;
}

/**
 * A lockdep map a mechanism annotates its waits with, as the kernel does:
 * timer->lockdep_map (kernel/time/timer.c call_timer_fn, __timer_delete_sync),
 * work->lockdep_map and wq->lockdep_map (kernel/workqueue.c
 * process_one_work, start_flush_work, __flush_workqueue). `id` is the
 * object's id in its kind.
 */
export interface LockdepMapRef {
  readonly kind: 'timer' | 'work' | 'workqueue' | 'seqcount';
  readonly id: number;
}

/**
 * Told of every transition the machine takes (Machine.stepInPlace), for
 * observers that learn from the executions an explorer actually explores
 * (lockdep's prediction, model/check/lockdep.ts). It must not change the
 * state.
 */
export interface TransitionObserver {
  /** Before `choice` is taken from the machine's current state. */
  before(m: Machine, choice: number): void;
  /** After it was taken: `m.s` is the successor. */
  after(m: Machine, choice: number): void;
  /**
   * lock_map_acquire of a lockdep map by `ctx` on `cpu`, now, in the middle
   * of a transition: a touch (acquire and release) at a flush or
   * del_timer_sync, or the acquisition the map's mechanism then keeps held
   * (Mechanism.lockdepMapsHeld). `irqsOff`: hardirqs are off at the acquire
   * whatever the CPU's state says (del_timer_sync's local_irq_save);
   * `under`: another map the context holds at that moment that the state
   * does not show yet (process_one_work takes wq->lockdep_map, then the
   * work's).
   */
  lockdepMap?(m: Machine, cpu: number, ctx: number, map: LockdepMapRef, irqsOff: boolean, under?: LockdepMapRef): void;
}

/** An edge of the wait-for graph. */
export interface WaitEdge {
  readonly on: readonly number[];
  readonly why: string;
  /**
   * Only the contexts in `on` can end this wait, each by running (a lock's
   * owner or holders: nobody else may release it), and the waiter needs
   * every one of them. A wait-for cycle of such edges and frames stacked on
   * one another is a deadlock the moment it closes (check/deadlock.ts
   * closedCycle). Absent: someone else may end it (a complete(), an up(),
   * a kworker yet to come), so only a state with no move left is judged.
   */
  readonly permanent?: boolean;
}

/** A nondeterministic event offered on a CPU. */
export interface ChoiceSource {
  readonly name: string;
  /** Whether it can ever offer a choice in program `p` (default: yes); the machine skips it otherwise. */
  active?(p: Program): boolean;
  /** Push encoded choices (see encodeChoice) enabled on `cpu`. */
  collect(m: Machine, cpu: number, out: number[]): void;
  apply(m: Machine, cpu: number, arg: number, variant: number): void;
  label(m: Machine, cpu: number, arg: number, variant: number): string;
  /**
   * What any of its events on `cpu` may read (including what decides
   * whether it is offered) and write. Omitted: it conflicts with everything.
   */
  footprint?(f: FootprintBuilder, p: Program, cpu: number): void;
  /**
   * True if, in the current state, no other CPU can make it offer
   * something on `cpu` before `cpu` itself takes a step (e.g. no task can
   * be scheduled on a CPU that is running one). What it offers now is not
   * asked: the caller knows it from collect(). The partial-order reduction
   * leaves the footprint of a quiet source that offers nothing now out of
   * what `cpu` can do now. Omitted: never quiet.
   */
  quiet?(m: Machine, cpu: number): boolean;
}

/** What happens when a context of one kind returns from its outermost code. */
export type FrameExit = (m: Machine, cpu: number, ctx: number) => void;

// Choice encoding: kind 4 bits | cpu 4 bits | variant 8 bits | arg 16 bits.
// Kind 0 runs the CPU's top context; other kinds index the choice sources.
export const CHOICE_RUN = 0;
export function encodeChoice(kind: number, cpu: number, arg: number, variant: number): number {
  return ((kind & 0xf) << 28) | ((cpu & 0xf) << 24) | ((variant & 0xff) << 16) | (arg & 0xffff);
}
export const choiceKind = (c: number): number => (c >>> 28) & 0xf;
export const choiceCpu = (c: number): number => (c >>> 24) & 0xf;
export const choiceVariant = (c: number): number => (c >>> 16) & 0xff;
export const choiceArg = (c: number): number => c & 0xffff;

/** Kernel code a mechanism provides (a softirq action, a kthread's loop): internal ops, in order. */
export interface BuiltinCode {
  readonly name: string;
  /** Internal operation names; operands are 0. The code must end in a loop or a `ret`. */
  readonly ops: readonly string[];
  /**
   * Whether any context can ever run this code in a program of this shape
   * (default: yes). The compiler emits it anyway; the partial-order
   * reduction leaves dead builtin code out of what a CPU might do.
   */
  live?(shape: ProgramShape): boolean;
}

/** An implicit kernel thread a mechanism needs (a kworker), running builtin code. */
export interface KernelThread {
  readonly name: string;
  readonly cpu: number;
  readonly builtin: string;
  /** Bit i set: it may run on CPU i (an unbound kworker); default: bound to `cpu`. */
  readonly cpusAllowed?: number;
  /**
   * The thread starts asleep, idle, waiting for work (a kworker with an
   * empty worklist): blocked on channel(Chan.Worker, its task id) until its
   * mechanism wakes it. An idle kthread keeps no design from ending.
   */
  readonly idle?: true;
  /**
   * With `idle`: the thread does not exist yet, it is a slot its mechanism
   * may create later (a kworker create_worker may make, under memory
   * pressure); asleep on channel(Chan.Worker, UNCREATED_KTHREAD | its task id).
   */
  readonly uncreated?: true;
}

/** What the compiler tells a mechanism about the program it builds. */
export interface ProgramShape {
  readonly ncpu: number;
  readonly flags: import('./flags.ts').KernelFlags;
  /** The design's interrupt lines: name, affinity and whether a thread handler is requested (request_threaded_irq). */
  readonly irqs: readonly { readonly name: string; readonly cpuMask: number; readonly threaded: boolean }[];
  /** Number of declared objects of each kind. */
  readonly objectCount: (kind: string) => number;
  /** Names of the objects of a kind (the kernel's builtin ones first), in id order. */
  readonly objectNames: (kind: string) => readonly string[];
  /**
   * The operands (a, b, c) of every instruction of kernel operation `op` in
   * the design's code (compiled before threads() is asked), e.g. to size a
   * worker pool from the work items queued to it.
   */
  readonly operandsOf?: (op: string) => readonly (readonly [number, number, number])[];
  /** Attribute `attr` of declared object `id` of a kind (declared before threads() is asked). */
  readonly objectAttr?: (kind: string, id: number, attr: string) => number | undefined;
  /** options.memoryPressure: kernel memory may run out, so creating a kernel thread may fail. */
  readonly memoryPressure?: boolean;
}

/**
 * One kernel mechanism: everything it adds to the model. Adding a mechanism
 * is its file, one entry in registry.ts, and its builders in design.ts.
 */
export interface Mechanism {
  readonly name: string;
  readonly ops?: readonly OpSemantics[];
  /**
   * Set where the mechanism's PREEMPT_RT semantics are not modelled: why.
   * compile() refuses its operations on a PREEMPT_RT profile with this
   * reason instead of checking them under !RT rules (no silent bound).
   */
  readonly rtUnmodelled?: string;
  readonly choices?: readonly ChoiceSource[];
  readonly exits?: Readonly<Record<number, FrameExit>>;
  /**
   * The footprint of each of its operations, choice sources and frame
   * exits that declares none of its own: a coarse bound for the whole
   * mechanism (its objects, this CPU, the tasks it may wake). Omitted: such
   * transitions conflict with everything.
   */
  readonly defaultFootprint?: (f: FootprintBuilder) => void;
  /**
   * Footprints of its frame exits, by frame kind (see FootprintBuilder), for
   * the frame with X_ID `id` (a task's index, an irq line) on `cpu`; an exit
   * without one conflicts with everything.
   */
  readonly exitFootprints?: Readonly<Record<number, (f: FootprintBuilder, p: Program, cpu: number, id: number) => void>>;
  readonly objects?: readonly ObjectKindSpec[];
  /** Kernel functions the compiler expands into other statements (see Expansion). */
  readonly expansions?: readonly Expansion[];
  readonly builtins?: readonly BuiltinCode[];
  /** Softirq vectors whose action is this mechanism's builtin code, when it is in use. */
  softirqActions?(shape: ProgramShape): readonly { readonly vec: number; readonly builtin: string }[];
  /**
   * Checked before every instruction executes; returns false (after m.fail)
   * to stop it. Used by lifetime checks; keep it cheap.
   */
  readonly guard?: (m: Machine, cpu: number, ctx: number, pc: number) => boolean;
  /** Kernel threads this mechanism needs in this program. */
  threads?(shape: ProgramShape): readonly KernelThread[];
  /**
   * Interrupt vectors the kernel raises itself in this program (the
   * irq_work self-IPI): each becomes an interrupt line whose hardirq frame
   * runs the named builtin code; the mechanism's own choice source raises it.
   */
  vectors?(shape: ProgramShape): readonly { readonly name: string; readonly builtin: string }[];
  /**
   * Bookkeeping after every step of a program that `needs` it (RCU's
   * quiescent states): it may only update the mechanism's own state
   * through m.w(), deterministically. Keep it cheap.
   */
  readonly afterStep?: { needs(p: Program): boolean; run(m: Machine): void };
  /**
   * The lockdep maps context `ctx` holds now because of this mechanism (a
   * kworker inside a work function holds its workqueue's and the work's
   * map; a softirq running a timer callback holds the timer's map).
   */
  readonly lockdepMapsHeld?: (m: Machine, ctx: number) => readonly LockdepMapRef[];
  /**
   * What a softirq or ksoftirqd frame is running for this mechanism right
   * now (`tasklet rx`, `bh NET_BH`), or null; Machine.contextName shows it
   * instead of the bare vector.
   */
  readonly frameName?: (m: Machine, ctx: number) => string | null;
  /**
   * At a terminal state without a violation: a run the kernel would go on
   * with but the model stops following (a loop it parks), as the bound it
   * hits and what happens; null if the end is clean. The explorers end the
   * path as bounded-out with it (explore/outcome.ts endBound).
   */
  readonly endBound?: (m: Machine) => { readonly bound: import('./layout.ts').ModelBound; readonly detail: string } | null;
}
