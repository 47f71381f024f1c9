/**
 * The design language: a design is the locking of a driver or subsystem
 * written with functions named after the kernel API. Everything here builds
 * plain data (no closures), so a design can be fingerprinted, printed back
 * and exported. `compile()` (model/dsl/compile.ts) turns it into a program.
 */
import type { KernelFlagsInput, ProfileName } from '../kernel/flags.ts';
import type { ViolationKind } from '../check/violation.ts';
import type { BhName, TqStructDecl } from './bh.ts';
import type { TaskletDecl } from './tasklet.ts';
import type { TimerDecl } from './timer.ts';
import type { WorkDecl, WorkqueueDecl } from './workqueue.ts';

// ---------------------------------------------------------------- expressions

/** An integer expression over design variables and context registers. */
export type Expr =
  | number
  | { readonly var: string }
  | { readonly reg: string }
  | { readonly this_cpu: string }
  | { readonly per_cpu: string; readonly cpu: number }
  | { readonly queue_len: string }
  | { readonly queue_head: string }
  | { readonly smp_processor_id: true }
  | { readonly fn: ExprFn; readonly args: readonly Expr[] };

export type ExprFn = '+' | '-' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||' | '!';

/** `v('count')`: the current value of a shared design variable. */
export const v = (name: string): Expr => ({ var: name });
/** `r('flags')`: a register local to the running context (task or handler). */
export const r = (name: string): Expr => ({ reg: name });
/** `this_cpu_read(x)`: the current CPU's copy of a per-CPU variable. */
export const this_cpu_read = (name: string): Expr => ({ this_cpu: name });
/** `per_cpu(x, cpu)`: a given CPU's copy of a per-CPU variable. */
export const per_cpu = (name: string, cpu: number): Expr => ({ per_cpu: name, cpu });
/** `skb_queue_len(q)`: number of entries in a bounded FIFO queue. */
export const queue_len = (name: string): Expr => ({ queue_len: name });
/** The value at the head of a queue (0 when empty). */
export const queue_head = (name: string): Expr => ({ queue_head: name });
/** `smp_processor_id()`: the CPU the context runs on. */
export const smp_processor_id = (): Expr => ({ smp_processor_id: true });

const fn2 = (fn: ExprFn) => (a: Expr, b: Expr): Expr => ({ fn, args: [a, b] });
export const add = fn2('+');
export const sub = fn2('-');
export const eq = fn2('==');
export const ne = fn2('!=');
export const lt = fn2('<');
export const le = fn2('<=');
export const gt = fn2('>');
export const ge = fn2('>=');
export const and = fn2('&&');
export const or = fn2('||');
export const not = (a: Expr): Expr => ({ fn: '!', args: [a] });

// ----------------------------------------------------------------- statements

/** A trylock used as a branch condition: `if_(spin_trylock(L), then, else)`. */
export interface Trylock {
  readonly trylock: TrylockOp;
  readonly lock?: string;
  readonly obj?: string;
  readonly flags?: string;
}
export type TrylockOp =
  | 'spin_trylock' | 'spin_trylock_bh' | 'spin_trylock_irq' | 'spin_trylock_irqsave'
  | 'raw_spin_trylock' | 'raw_spin_trylock_irqsave'
  | 'read_trylock' | 'write_trylock' | 'mutex_trylock' | 'try_wait_for_completion';

/**
 * One statement. `op` is the kernel function (or a control construct); the
 * other fields are its operands by name. See `Stmt` builders below.
 */
export type Stmt =
  | { readonly op: string; readonly lock?: string; readonly flags?: string; readonly vec?: SoftirqName;
      readonly var?: string; readonly reg?: string; readonly queue?: string; readonly value?: Expr;
      readonly cond?: Expr; readonly message?: string; readonly fn?: string;
      readonly obj?: string; readonly target?: string; readonly count?: number; readonly cpu?: number }
  | IfStmt | WhileStmt | RepeatStmt;

export interface IfStmt {
  readonly op: 'if';
  readonly cond: Expr | Trylock;
  readonly then: readonly Stmt[];
  readonly else: readonly Stmt[];
}
export interface WhileStmt {
  readonly op: 'while';
  readonly cond: Expr;
  readonly body: readonly Stmt[];
  /** Most iterations explored; exceeding it makes the verdict bounded-out. */
  readonly bound: number;
}
export interface RepeatStmt {
  readonly op: 'repeat';
  readonly count: number;
  readonly body: readonly Stmt[];
}

// Spinlocks (include/linux/spinlock_api_smp.h)
export const spin_lock = (lock: string): Stmt => ({ op: 'spin_lock', lock });
export const spin_unlock = (lock: string): Stmt => ({ op: 'spin_unlock', lock });
export const spin_lock_irq = (lock: string): Stmt => ({ op: 'spin_lock_irq', lock });
export const spin_unlock_irq = (lock: string): Stmt => ({ op: 'spin_unlock_irq', lock });
export const spin_lock_irqsave = (lock: string, flags: string): Stmt => ({ op: 'spin_lock_irqsave', lock, flags });
export const spin_unlock_irqrestore = (lock: string, flags: string): Stmt => ({ op: 'spin_unlock_irqrestore', lock, flags });
export const spin_lock_bh = (lock: string): Stmt => ({ op: 'spin_lock_bh', lock });
export const spin_unlock_bh = (lock: string): Stmt => ({ op: 'spin_unlock_bh', lock });
export const spin_trylock = (lock: string): Trylock => ({ trylock: 'spin_trylock', lock });
export const spin_trylock_bh = (lock: string): Trylock => ({ trylock: 'spin_trylock_bh', lock });
export const spin_trylock_irq = (lock: string): Trylock => ({ trylock: 'spin_trylock_irq', lock });
export const spin_trylock_irqsave = (lock: string, flags: string): Trylock =>
  ({ trylock: 'spin_trylock_irqsave', lock, flags });

// raw_spinlock_t (include/linux/spinlock.h raw_spin_*): spins on every kernel, PREEMPT_RT included
export const raw_spin_lock = (lock: string): Stmt => ({ op: 'raw_spin_lock', lock });
export const raw_spin_unlock = (lock: string): Stmt => ({ op: 'raw_spin_unlock', lock });
export const raw_spin_lock_irq = (lock: string): Stmt => ({ op: 'raw_spin_lock_irq', lock });
export const raw_spin_unlock_irq = (lock: string): Stmt => ({ op: 'raw_spin_unlock_irq', lock });
export const raw_spin_lock_irqsave = (lock: string, flags: string): Stmt => ({ op: 'raw_spin_lock_irqsave', lock, flags });
export const raw_spin_unlock_irqrestore = (lock: string, flags: string): Stmt => ({ op: 'raw_spin_unlock_irqrestore', lock, flags });
export const raw_spin_lock_bh = (lock: string): Stmt => ({ op: 'raw_spin_lock_bh', lock });
export const raw_spin_unlock_bh = (lock: string): Stmt => ({ op: 'raw_spin_unlock_bh', lock });
export const raw_spin_trylock = (lock: string): Trylock => ({ trylock: 'raw_spin_trylock', lock });
export const raw_spin_trylock_irqsave = (lock: string, flags: string): Trylock =>
  ({ trylock: 'raw_spin_trylock_irqsave', lock, flags });

// rwlock_t (include/linux/rwlock_api_smp.h, kernel/locking/qrwlock.c)
export const read_lock = (lock: string): Stmt => ({ op: 'read_lock', lock });
export const read_unlock = (lock: string): Stmt => ({ op: 'read_unlock', lock });
export const read_lock_irq = (lock: string): Stmt => ({ op: 'read_lock_irq', lock });
export const read_unlock_irq = (lock: string): Stmt => ({ op: 'read_unlock_irq', lock });
export const read_lock_irqsave = (lock: string, flags: string): Stmt => ({ op: 'read_lock_irqsave', lock, flags });
export const read_unlock_irqrestore = (lock: string, flags: string): Stmt => ({ op: 'read_unlock_irqrestore', lock, flags });
export const read_lock_bh = (lock: string): Stmt => ({ op: 'read_lock_bh', lock });
export const read_unlock_bh = (lock: string): Stmt => ({ op: 'read_unlock_bh', lock });
export const write_lock = (lock: string): Stmt => ({ op: 'write_lock', lock });
export const write_unlock = (lock: string): Stmt => ({ op: 'write_unlock', lock });
export const write_lock_irq = (lock: string): Stmt => ({ op: 'write_lock_irq', lock });
export const write_unlock_irq = (lock: string): Stmt => ({ op: 'write_unlock_irq', lock });
export const write_lock_irqsave = (lock: string, flags: string): Stmt => ({ op: 'write_lock_irqsave', lock, flags });
export const write_unlock_irqrestore = (lock: string, flags: string): Stmt => ({ op: 'write_unlock_irqrestore', lock, flags });
export const write_lock_bh = (lock: string): Stmt => ({ op: 'write_lock_bh', lock });
export const write_unlock_bh = (lock: string): Stmt => ({ op: 'write_unlock_bh', lock });
export const read_trylock = (lock: string): Trylock => ({ trylock: 'read_trylock', lock });
export const write_trylock = (lock: string): Trylock => ({ trylock: 'write_trylock', lock });

// Sleeping primitives (kernel/locking/mutex.c, semaphore.c, kernel/sched/completion.c, wait.c)
export const mutex_lock = (lock: string): Stmt => ({ op: 'mutex_lock', lock });
export const mutex_unlock = (lock: string): Stmt => ({ op: 'mutex_unlock', lock });
export const mutex_trylock = (lock: string): Trylock => ({ trylock: 'mutex_trylock', lock });
export const down = (sem: string): Stmt => ({ op: 'down', obj: sem });
export const up = (sem: string): Stmt => ({ op: 'up', obj: sem });
export const wait_for_completion = (c: string): Stmt => ({ op: 'wait_for_completion', obj: c });
export const try_wait_for_completion = (c: string): Trylock => ({ trylock: 'try_wait_for_completion', obj: c });
export const complete = (c: string): Stmt => ({ op: 'complete', obj: c });
export const complete_all = (c: string): Stmt => ({ op: 'complete_all', obj: c });
export const reinit_completion = (c: string): Stmt => ({ op: 'reinit_completion', obj: c });
/** `wait_event(wq, cond)`: sleep until `cond` holds, re-checked after every wake_up. */
export const wait_event = (wq: string, cond: Expr): Stmt => ({ op: 'wait_event', obj: wq, cond });
export const wake_up = (wq: string): Stmt => ({ op: 'wake_up', obj: wq });
/**
 * `interruptible_sleep_on(wq)` (2.2/2.4, removed in 3.15): sleep until the next
 * wake_up, with no condition: a wake_up before it is lost.
 */
export const sleep_on = (wq: string): Stmt => ({ op: 'sleep_on', obj: wq });
export const msleep = (ms: number): Stmt => ({ op: 'msleep', count: ms });
export const schedule = (): Stmt => ({ op: 'schedule' });
export const cond_resched = (): Stmt => ({ op: 'cond_resched' });
export const might_sleep = (): Stmt => ({ op: 'might_sleep' });

// Local interrupt, bottom-half and preemption control (irqflags.h, bottom_half.h, preempt.h)
export const local_irq_disable = (): Stmt => ({ op: 'local_irq_disable' });
export const local_irq_enable = (): Stmt => ({ op: 'local_irq_enable' });
export const local_irq_save = (flags: string): Stmt => ({ op: 'local_irq_save', flags });
export const local_irq_restore = (flags: string): Stmt => ({ op: 'local_irq_restore', flags });
export const local_bh_disable = (): Stmt => ({ op: 'local_bh_disable' });
export const local_bh_enable = (): Stmt => ({ op: 'local_bh_enable' });
export const preempt_disable = (): Stmt => ({ op: 'preempt_disable' });
export const preempt_enable = (): Stmt => ({ op: 'preempt_enable' });

// Softirqs (kernel/softirq.c)
export const SOFTIRQS = ['HI', 'TIMER', 'NET_TX', 'NET_RX', 'BLOCK', 'IRQ_POLL', 'TASKLET', 'SCHED', 'HRTIMER', 'RCU'] as const;
export type SoftirqName = (typeof SOFTIRQS)[number];
export const raise_softirq = (vec: SoftirqName): Stmt => ({ op: 'raise_softirq', vec });
export const raise_softirq_irqoff = (vec: SoftirqName): Stmt => ({ op: 'raise_softirq_irqoff', vec });
export const __raise_softirq_irqoff = (vec: SoftirqName): Stmt => ({ op: '__raise_softirq_irqoff', vec });
/** Explicit `do_softirq()`: runs pending softirqs now if not in interrupt (old netif_rx_ni). */
export const do_softirq = (): Stmt => ({ op: 'do_softirq' });

// Data
/** `WRITE_ONCE(x, value)` on a shared variable, one atomic step. */
export const assign = (name: string, value: Expr): Stmt => ({ op: 'assign', var: name, value });
/** `x++` on a shared variable as one atomic step (use load/assign for a racy one). */
export const inc = (name: string): Stmt => ({ op: 'inc', var: name });
export const dec = (name: string): Stmt => ({ op: 'dec', var: name });
/** `reg = value`: a context-local register (a C local variable). */
export const load = (reg: string, value: Expr): Stmt => ({ op: 'load', reg, value });
export const this_cpu_write = (name: string, value: Expr): Stmt => ({ op: 'this_cpu_write', var: name, value });
export const this_cpu_inc = (name: string): Stmt => ({ op: 'this_cpu_inc', var: name });
/** `per_cpu(x, cpu) = value`: another CPU's copy, written from anywhere. */
export const per_cpu_write = (name: string, cpu: number, value: Expr): Stmt => ({ op: 'per_cpu_write', var: name, cpu, value });
/** Append to a bounded FIFO (`__skb_queue_tail`); overflow is an assertion failure. */
export const enqueue = (queue: string, value: Expr): Stmt => ({ op: 'enqueue', queue, value });
/** Remove the head into a register (`__skb_dequeue`); 0 if empty. */
export const dequeue = (queue: string, reg: string): Stmt => ({ op: 'dequeue', queue, reg });

// Object lifetime (mm/slub.c)
/** `kfree(p)` of a struct declared in `structs`: touching its members afterwards is a use-after-free. */
export const kfree = (struct: string): Stmt => ({ op: 'kfree', obj: struct });

// Assertions (include/asm-generic/bug.h)
export const BUG_ON = (cond: Expr, message?: string): Stmt => (message ? { op: 'BUG_ON', cond, message } : { op: 'BUG_ON', cond });
export const WARN_ON = (cond: Expr, message?: string): Stmt => (message ? { op: 'WARN_ON', cond, message } : { op: 'WARN_ON', cond });

// Control flow
export const if_ = (cond: Expr | Trylock, then: readonly Stmt[], otherwise: readonly Stmt[] = []): Stmt =>
  ({ op: 'if', cond, then, else: otherwise });
export const while_ = (cond: Expr, body: readonly Stmt[], opts: { bound: number }): Stmt =>
  ({ op: 'while', cond, body, bound: opts.bound });
export const repeat = (count: number, body: readonly Stmt[]): Stmt => ({ op: 'repeat', count, body });
/** Call a design function (inlined: the same code can run from several contexts). */
export const call = (fn: string): Stmt => ({ op: 'call', fn });

// ---------------------------------------------------------------- the design

/** `raw_spinlock` is raw_spinlock_t: it spins on PREEMPT_RT too, where `spinlock` and `rwlock` sleep. */
export type LockKind = 'spinlock' | 'raw_spinlock' | 'rwlock' | 'mutex';

export interface TaskSpec {
  /** Name shown in traces, e.g. `writer` or `ksoftirqd`-like kthreads. */
  readonly name: string;
  /** The CPU the task starts on (and is pinned to, unless `allowed` says more). */
  readonly cpu: number;
  readonly body: readonly Stmt[];
  /**
   * cpus_allowed: CPUs the scheduler may migrate the task to while it is
   * runnable and not running (load balancing). Default: only `cpu`.
   */
  readonly allowed?: readonly number[];
}

export interface IrqSpec {
  /** Line name, e.g. `eth0`. */
  readonly name: string;
  readonly handler: readonly Stmt[];
  /** CPUs the line may be delivered to (its affinity); default all. */
  readonly cpus?: readonly number[];
  /** Most arrivals explored (default 1). */
  readonly budget?: number;
  /**
   * An NMI source (perf, watchdog): not masked by local_irq_disable, nests
   * on any context but another NMI, runs with in_nmi() (nmi_enter). Default
   * false. See model/kernel/irq.ts.
   */
  readonly nmi?: boolean;
  /**
   * IRQF_NO_THREAD: the handler stays in hardirq context on PREEMPT_RT.
   * kdefer does not model forced-threaded handlers, so on a PREEMPT_RT
   * profile every non-NMI line must say so. Default false.
   */
  readonly noThread?: boolean;
}

export interface QueueSpec {
  readonly capacity: number;
  readonly initial?: readonly number[];
}

/** Choices the model makes at the kernel's points of freedom. */
export interface DesignOptions {
  /** `none`: tasks yield only when they finish; `full`: CONFIG_PREEMPT. */
  readonly preempt?: 'none' | 'full';
  /**
   * Most timer ticks explored: how far jiffies may advance (0 to 16). Each
   * jiffy, the timekeeping CPU (cpu0) takes the tick that increments
   * jiffies, and every other CPU at most one local tick; a tick is an
   * interrupt, so it comes only where irqs are on. Default: 2 if the design
   * declares timers, else 0 (no ticks). See model/kernel/timer.ts.
   */
  readonly ticks?: number;
  /**
   * Kernel memory may run out: creating a kworker (create_worker) may fail,
   * for good once it has, and only the rescuers of WQ_MEM_RECLAIM workqueues
   * keep their items moving (mayday). Default false: creation succeeds.
   * See model/kernel/workqueue.ts.
   */
  readonly memoryPressure?: boolean;
}

/**
 * A property of the design's data, checked by the explorers: `always` after
 * every step, `at-end` in every state where all work is done. It may read
 * variables, per_cpu values and queue lengths, not registers.
 */
export interface Invariant {
  readonly name: string;
  readonly holds: Expr;
  readonly when?: 'always' | 'at-end';
  /** The violation kind when it fails (default 'assertion'). */
  readonly kind?: ViolationKind;
}

export interface Design {
  readonly name: string;
  readonly description?: string;
  readonly cpus: number;
  readonly profile?: ProfileName;
  readonly flags?: KernelFlagsInput;
  readonly options?: DesignOptions;
  readonly locks?: Readonly<Record<string, LockKind>>;
  /** struct semaphore, by name: the initial count (sema_init). */
  readonly semaphores?: Readonly<Record<string, number>>;
  /** struct completion, by name: `{}` or `{ done }`. */
  readonly completions?: Readonly<Record<string, { readonly done?: number }>>;
  /** wait_queue_head_t, by name: `{}`. */
  readonly waitqueues?: Readonly<Record<string, Record<string, never>>>;
  readonly vars?: Readonly<Record<string, number>>;
  readonly percpu?: Readonly<Record<string, number>>;
  readonly queues?: Readonly<Record<string, QueueSpec>>;
  readonly functions?: Readonly<Record<string, readonly Stmt[]>>;
  /** struct tasklet_struct, by name. */
  readonly tasklets?: Readonly<Record<string, TaskletDecl>>;
  /** 2.4 bottom halves installed with init_bh(nr, routine): BH slot → design function. */
  readonly bhs?: Readonly<Partial<Record<BhName, string>>>;
  /** 2.2/2.4 struct tq_struct, by name. */
  readonly tq_structs?: Readonly<Record<string, TqStructDecl>>;
  /** struct timer_list, by name. */
  readonly timers?: Readonly<Record<string, TimerDecl>>;
  /** struct workqueue_struct, by name (system_wq is the kernel's). */
  readonly workqueues?: Readonly<Record<string, WorkqueueDecl>>;
  /** struct work_struct / delayed_work, by name. */
  readonly works?: Readonly<Record<string, WorkDecl>>;
  /** kmalloc'ed objects whose lifetime is checked: the variables, timers, tasklets and works inside each. */
  readonly structs?: Readonly<Record<string, { readonly members: readonly string[] }>>;
  readonly tasks: readonly TaskSpec[];
  readonly irqs?: readonly IrqSpec[];
  readonly softirqs?: Readonly<Partial<Record<SoftirqName, readonly Stmt[]>>>;
  readonly invariants?: readonly Invariant[];
  /** The verdict this design claims; the checker confirms it by exploring, never reads it. */
  readonly expected?: 'verified' | ViolationKind;
  /** The buggy/fixed twin in the catalogue, by design name. */
  readonly twin?: string;
}

/**
 * Gives a design its type. Not generic on purpose: a design written inline
 * is checked against `Design` exactly, so a misspelled key (`irq:` for
 * `irqs:`) is a type error. `compile()` checks every key again at run time.
 */
export function defineDesign(design: Design): Design {
  return design;
}
