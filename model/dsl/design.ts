/**
 * The design language: a design is the locking of a driver or subsystem
 * written with functions named after the kernel API. Everything here builds
 * plain data (no closures), so a design can be fingerprinted, printed back
 * and exported. `compile()` (model/dsl/compile.ts) turns it into a program.
 */
import type { KernelFlagsInput, ProfileName } from '../kernel/flags.ts';
import type { LockKind } from '../kernel/lock-kinds.ts';
import type { ViolationKind } from '../check/violation.ts';
import type { BhName, TqStructDecl } from './bh.ts';
import type { TaskletDecl } from './tasklet.ts';
import type { TimerDecl } from './timer.ts';
import type { WorkDecl, WorkqueueDecl } from './workqueue.ts';
import type { SeqcountDecl } from './seqcount.ts';
import type { IrqWorkDecl } from './irq.ts';
import type { NapiDecl } from './napi.ts';
import type { SockDecl } from './sock.ts';

// ---------------------------------------------------------------- expressions

/** An integer expression over design variables and context registers. */
export type Expr =
  | number
  | { readonly var: string }
  | { readonly reg: string }
  | { readonly this_cpu: string }
  | { readonly per_cpu: string; readonly cpu: number }
  | { readonly per_cpu_sum: string }
  | { readonly queue_len: string }
  | { readonly queue_head: string }
  | { readonly smp_processor_id: true }
  | { readonly ctx: ContextPredicate }
  | { readonly seq_retry: string; readonly seq: Expr }
  | { readonly fn: ExprFn; readonly args: readonly Expr[] };

/**
 * The kernel's context tests (include/linux/preempt.h, irqflags.h,
 * kthread.h), evaluated for the context that runs the expression.
 */
export const CONTEXT_PREDICATES = [
  'in_interrupt', 'in_hardirq', 'in_softirq', 'in_serving_softirq', 'in_task', 'in_atomic', 'irqs_disabled', 'preemptible',
  'kthread_should_stop',
] as const;
export type ContextPredicate = (typeof CONTEXT_PREDICATES)[number];

export type ExprFn = '+' | '-' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||' | '!';

/** `v('count')`: the current value of a shared design variable. */
export const v = (name: string): Expr => ({ var: name });
/** `r('flags')`: a register local to the running context (task or handler). */
export const r = (name: string): Expr => ({ reg: name });
/** `this_cpu_read(x)`: the current CPU's copy of a per-CPU variable. */
export const this_cpu_read = (name: string): Expr => ({ this_cpu: name });
/** `per_cpu(x, cpu)`: a given CPU's copy of a per-CPU variable. */
export const per_cpu = (name: string, cpu: number): Expr => ({ per_cpu: name, cpu });
/**
 * `per_cpu_sum(x)`: every CPU's copy added up (kernel/locking/percpu-rwsem.c
 * per_cpu_sum, for_each_possible_cpu), however many CPUs the design has: an
 * invariant over per-CPU data that still means the same with one more CPU.
 */
export const per_cpu_sum = (name: string): Expr => ({ per_cpu_sum: name });
/** `skb_queue_len(q)`: number of entries in a bounded FIFO queue. */
export const queue_len = (name: string): Expr => ({ queue_len: name });
/** The value at the head of a queue (0 when empty). */
export const queue_head = (name: string): Expr => ({ queue_head: name });
/** `smp_processor_id()`: the CPU the context runs on. */
export const smp_processor_id = (): Expr => ({ smp_processor_id: true });

// Context predicates (include/linux/preempt.h; shared/kernel-semantics-drivers.md D7).
/** `in_interrupt()`: hardirq, softirq being served, or BH disabled (deprecated: true under local_bh_disable). */
export const in_interrupt = (): Expr => ({ ctx: 'in_interrupt' });
/** `in_hardirq()` (`in_irq()` before 5.11): in a hard interrupt handler. */
export const in_hardirq = (): Expr => ({ ctx: 'in_hardirq' });
/** `in_softirq()`: serving a softirq or BH disabled (deprecated: use in_serving_softirq). */
export const in_softirq = (): Expr => ({ ctx: 'in_softirq' });
/** `in_serving_softirq()`: a softirq handler runs (also in ksoftirqd). */
export const in_serving_softirq = (): Expr => ({ ctx: 'in_serving_softirq' });
/** `in_task()`: not in hardirq nor serving a softirq; true in a task with BH, preemption or irqs disabled. */
export const in_task = (): Expr => ({ ctx: 'in_task' });
/** `in_atomic()`: preempt_count() != 0 (blind to irqs disabled). */
export const in_atomic = (): Expr => ({ ctx: 'in_atomic' });
/** `irqs_disabled()`: the CPU's interrupt flag. */
export const irqs_disabled = (): Expr => ({ ctx: 'irqs_disabled' });
/** `preemptible()`: preempt_count() == 0 && !irqs_disabled() (CONFIG_PREEMPT_COUNT). */
export const preemptible = (): Expr => ({ ctx: 'preemptible' });

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
/** `!a`; of a call (`not(test_and_set_bit(0, 'flags'))`) it is a branch condition: `if (!test_and_set_bit(…))`. */
export function not(a: Expr): Expr;
export function not(a: Stmt): Cond;
export function not(a: Expr | Stmt): Cond {
  return { fn: '!', args: [a as Expr] };
}

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
  | 'raw_spin_trylock' | 'raw_spin_trylock_bh' | 'raw_spin_trylock_irq' | 'raw_spin_trylock_irqsave'
  | 'read_trylock' | 'write_trylock' | 'mutex_trylock' | 'down_read_trylock' | 'down_write_trylock' | 'try_wait_for_completion';

/**
 * One statement. `op` is the kernel function (or a control construct); the
 * other fields are its operands by name. See `Stmt` builders below.
 */
export type Stmt =
  | { readonly op: string; readonly lock?: string; readonly flags?: string; readonly vec?: SoftirqName;
      readonly var?: string; readonly reg?: string; readonly queue?: string; readonly value?: Expr;
      readonly cond?: Expr; readonly message?: string; readonly fn?: string;
      readonly obj?: string; readonly target?: string; readonly count?: number; readonly cpu?: number;
      readonly old?: Expr; readonly new?: Expr; readonly gfp?: Gfp; readonly mayFail?: boolean;
      readonly subclass?: number }
  | IfStmt | WhileStmt | RepeatStmt | EitherStmt;

/**
 * A branch condition: an expression, a trylock, or a call whose result
 * decides (`if_(test_and_set_bit(0, 'flags'), …)`, `if_(refcount_dec_and_test('ref'), …)`):
 * any kernel function with a result register.
 */
export type Cond = Expr | Trylock | Stmt;

export interface IfStmt {
  readonly op: 'if';
  readonly cond: Cond;
  readonly then: readonly Stmt[];
  readonly else: readonly Stmt[];
}
/** A nondeterministic branch: the model explores every one (the device raised the interrupt or not). */
export interface EitherStmt {
  readonly op: 'either';
  readonly branches: readonly (readonly Stmt[])[];
}

/** Allocation flags (include/linux/gfp_types.h): GFP_KERNEL may sleep; GFP_ATOMIC and GFP_NOWAIT never do. */
export type Gfp = 'GFP_KERNEL' | 'GFP_ATOMIC' | 'GFP_NOWAIT';
export interface WhileStmt {
  readonly op: 'while';
  readonly cond: Expr;
  readonly body: readonly Stmt[];
  /**
   * Most iterations explored; exceeding it makes the verdict bounded-out.
   * `'none'`: no bound and no counter in the state, every iteration explored
   * (a kernel `for (;;)` that ends by the kernel's own progress: lock_sock's
   * retry, a drain until a queue is empty). The search then ends only if
   * the states repeat; a loop that changes data for ever runs into the
   * state limit (bounded-out). A path that loops for ever without an end
   * (a livelock) is a cycle of states: safety is checked on every iteration
   * of it, but the cycle itself is not reported; use a numeric bound where
   * a loop that never ends would be the bug.
   */
  readonly bound: number | 'none';
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

// lockdep annotations (include/linux/lockdep.h): a lock taken while another
// lock of its class is held needs a subclass, else lockdep reports it as
// recursion ("possible recursive locking detected").
/** include/linux/lockdep.h: the subclass of the inner lock of a two-level nesting. */
export const SINGLE_DEPTH_NESTING = 1;
/** `spin_lock_nested(&l, subclass)`: spin_lock, lockdep class `l/subclass`. */
export const spin_lock_nested = (lock: string, subclass: number): Stmt => ({ op: 'spin_lock_nested', lock, subclass });
export const spin_lock_irqsave_nested = (lock: string, flags: string, subclass: number): Stmt =>
  ({ op: 'spin_lock_irqsave_nested', lock, flags, subclass });
export const write_lock_nested = (lock: string, subclass: number): Stmt => ({ op: 'write_lock_nested', lock, subclass });
export const mutex_lock_nested = (lock: string, subclass: number): Stmt => ({ op: 'mutex_lock_nested', lock, subclass });

// Lock initialisation: the lock is unlocked again; re-initialising a lock the
// current task holds is lockdep's "held lock freed!" (debug_check_no_locks_freed).
export const spin_lock_init = (lock: string): Stmt => ({ op: 'spin_lock_init', lock });
export const rwlock_init = (lock: string): Stmt => ({ op: 'rwlock_init', lock });
export const mutex_init = (lock: string): Stmt => ({ op: 'mutex_init', lock });

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
/**
 * `p = kmalloc(sizeof(*p), gfp)` of a struct declared with `allocated:
 * false`: its members may be touched from then on. GFP_KERNEL may sleep
 * (might_sleep, and the model lets it block in reclaim). With `mayFail`
 * the allocation may also fail: `ret` (1 on success) is 0 and the struct
 * stays unallocated, so the failure path runs; without `ret` the caller
 * does not check, and its first touch is a NULL dereference.
 */
export const kmalloc = (struct: string, gfp: Gfp, opts: { ret?: string; mayFail?: boolean } = {}): Stmt =>
  ({ op: 'kmalloc', obj: struct, gfp, ...(opts.ret !== undefined ? { reg: opts.ret } : {}), ...(opts.mayFail ? { mayFail: true } : {}) });
/** `kzalloc`: kmalloc, zeroed. */
export const kzalloc = (struct: string, gfp: Gfp, opts: { ret?: string; mayFail?: boolean } = {}): Stmt =>
  ({ ...(kmalloc(struct, gfp, opts) as object), op: 'kzalloc' }) as Stmt;

// Assertions (include/asm-generic/bug.h)
export const BUG_ON = (cond: Expr, message?: string): Stmt => (message ? { op: 'BUG_ON', cond, message } : { op: 'BUG_ON', cond });
export const WARN_ON = (cond: Expr, message?: string): Stmt => (message ? { op: 'WARN_ON', cond, message } : { op: 'WARN_ON', cond });

// Control flow
/**
 * `if (cond) then else otherwise`. The condition is an expression, a
 * trylock, or a call that returns a value (`if_(test_and_set_bit(0, 'f'),
 * …)`, `if_(not(refcount_dec_and_test('r')), …)`): the call is a step of its
 * own, then the branch.
 */
export const if_ = (cond: Cond, then: readonly Stmt[], otherwise: readonly Stmt[] = []): Stmt =>
  ({ op: 'if', cond, then, else: otherwise });
export const while_ = (cond: Expr, body: readonly Stmt[], opts: { bound: number | 'none' }): Stmt =>
  ({ op: 'while', cond, body, bound: opts.bound });
export const repeat = (count: number, body: readonly Stmt[]): Stmt => ({ op: 'repeat', count, body });
/** Call a design function (inlined: the same code can run from several contexts). */
export const call = (fn: string): Stmt => ({ op: 'call', fn });
/**
 * A nondeterministic choice between branches, each a list of statements:
 * the model explores every one (an allocation that fails or not, a device
 * that raised the interrupt or not). One step: the choice itself.
 */
export const either = (...branches: readonly (readonly Stmt[])[]): Stmt => ({ op: 'either', branches });

// ---------------------------------------------------------------- the design

export type { LockKind };

/** A lock declared with its lockdep class (see Design.locks). */
export interface LockDecl {
  readonly kind: LockKind;
  /** The lockdep class, by name (reports print it as `&class`); default: the lock's own name. */
  readonly class?: string;
}

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
  /**
   * `boot` (default): the task exists from the start. `kthread_run`: a
   * kernel thread that exists only once some context runs
   * `kthread_run(name)`; its body is the thread function.
   */
  readonly start?: 'boot' | 'kthread_run';
  /**
   * The task starts when task `after` has exited: module_init/probe-style
   * ordering (`remove` with `after: 'probe'`).
   */
  readonly after?: string;
  /**
   * The task is one of possibly many doing the same (an ioctl caller, a
   * reader): `kdefer check --grow` may copy it onto an added CPU. Leave it
   * unset for a task the design has exactly one of (the remover, the owner
   * that frees). It does not change what `check` explores, nor the fingerprint.
   */
  readonly replicable?: boolean;
}

/** request_irq flags (include/linux/interrupt.h) the model honours. */
export type IrqFlag = 'ONESHOT' | 'NO_AUTOEN' | 'NO_THREAD';

export interface IrqSpec {
  /** Line name, e.g. `eth0`. */
  readonly name: string;
  /** The hard interrupt handler; may be left out for a threaded line with ONESHOT (irq_default_primary_handler). */
  readonly handler?: readonly Stmt[];
  /** CPUs the line may be delivered to (its affinity); default all. */
  readonly cpus?: readonly number[];
  /** Most arrivals explored (default 1). */
  readonly budget?: number;
  /**
   * An NMI source (perf, watchdog; request_nmi): not masked by
   * local_irq_disable, nests on any context but another NMI, runs with
   * in_nmi() (nmi_enter). Default false. See model/kernel/irq.ts.
   */
  readonly nmi?: boolean;
  /**
   * `boot` (default): the handler is installed from the start. `request_irq`:
   * the line fires only after `request_irq(name)` (or
   * `request_threaded_irq`), and not after `free_irq(name)`.
   */
  readonly start?: 'boot' | 'request_irq';
  /** request_threaded_irq: the thread function, run by the task `irq/N-name` after each hardirq (IRQ_WAKE_THREAD). */
  readonly thread?: readonly Stmt[];
  /**
   * IRQF_* flags. NO_THREAD keeps the handler in hardirq context on
   * PREEMPT_RT: kdefer does not model forced threading
   * (irq_setup_forced_threading), so on a PREEMPT_RT profile every line
   * that is not an NMI needs NO_THREAD or ONESHOT (which the kernel does
   * not force-thread either).
   */
  readonly flags?: readonly IrqFlag[];
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

/**
 * Something a verdict of the design depends on beyond what it checks: "one
 * remover", "two segments: the rx ring holds two". `bound` names the bound
 * it is about, as `kdefer check --grow` names bounds (`cpus`, `irq <line>`,
 * `ticks`, `loops`, `preempt`): growing that bound may break the design, and
 * --grow reports such a flip as assumed, not as a bug. Documentation, like
 * `description`: not in the fingerprint, never read by the explorers.
 */
export interface Assumption {
  readonly bound?: string;
  readonly why: string;
}

export interface Design {
  readonly name: string;
  readonly description?: string;
  readonly cpus: number;
  readonly profile?: ProfileName;
  readonly flags?: KernelFlagsInput;
  readonly options?: DesignOptions;
  /**
   * The locks, by name: their kind (`'spinlock'`), or `{ kind, class }` to
   * make several locks instances of one lockdep class (locks initialised at
   * one `spin_lock_init` site share a class in the kernel), e.g.
   * `{ 'dev[0]->lock': { kind: 'spinlock', class: 'dev->lock' } }`. A lock
   * declared by kind alone is a class of its own, named after it.
   */
  readonly locks?: Readonly<Record<string, LockKind | LockDecl>>;
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
  /**
   * kmalloc'ed objects whose lifetime is checked: the variables, timers,
   * tasklets and works inside each. `allocated: false`: it exists only
   * once kmalloc'ed.
   */
  readonly structs?: Readonly<Record<string, { readonly members: readonly string[]; readonly allocated?: boolean }>>;
  /** seqcount_t / seqcount_spinlock_t / seqlock_t / u64_stats_sync, by name (model/dsl/seqcount.ts). */
  readonly seqcounts?: Readonly<Record<string, SeqcountDecl>>;
  /** struct rcu_head, by name (model/dsl/rcu.ts). */
  readonly rcu_heads?: Readonly<Record<string, Record<string, never>>>;
  /** struct irq_work, by name (model/dsl/irq.ts). */
  readonly irq_works?: Readonly<Record<string, IrqWorkDecl>>;
  /** struct napi_struct, by name (model/dsl/napi.ts). */
  readonly napis?: Readonly<Record<string, NapiDecl>>;
  /** struct sock, by name (model/dsl/sock.ts). */
  readonly socks?: Readonly<Record<string, SockDecl>>;
  readonly tasks: readonly TaskSpec[];
  readonly irqs?: readonly IrqSpec[];
  readonly softirqs?: Readonly<Partial<Record<SoftirqName, readonly Stmt[]>>>;
  readonly invariants?: readonly Invariant[];
  /** The verdict this design claims; the checker confirms it by exploring, never reads it. */
  readonly expected?: 'verified' | ViolationKind;
  /** The buggy/fixed twin in the catalogue, by design name. */
  readonly twin?: string;
  /** What the design's verdict assumes beyond its bounds; printed with every verdict (see Assumption). */
  readonly assumes?: readonly Assumption[];
}

/**
 * Gives a design its type. Not generic on purpose: a design written inline
 * is checked against `Design` exactly, so a misspelled key (`irq:` for
 * `irqs:`) is a type error. `compile()` checks every key again at run time.
 */
export function defineDesign(design: Design): Design {
  return design;
}
