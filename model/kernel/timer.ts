/**
 * Timers (kernel/time/timer.c, include/linux/timer.h;
 * shared/kernel-semantics.md §5): jiffies and the tick, struct timer_list
 * with its per-CPU base, the arming and deleting API, and expiry in
 * TIMER_SOFTIRQ (TIMER_BH in the 2.4 profile).
 *
 * State. jiffies is the header word H_JIFFIES. Each timer has
 *  - T_PENDING: Idle, Queued on its base's wheel, or Expiring: moved to the
 *    local list of a running __run_timers by collect_expired_timers and not
 *    yet started (still timer_pending(), still removable by del_timer);
 *  - T_EXPIRES, in jiffies (0 while idle);
 *  - T_BASE: the CPU of its base (timer->flags & TIMER_CPUMASK), kept after
 *    it is detached, as the kernel keeps it;
 *  - T_SHUTDOWN: timer->function == NULL (timer_shutdown, 6.2+);
 *  - T_RUNNING: bit c set while CPU c's base->running_timer is this timer.
 *    Normally at most one bit (TM3); add_timer_on during the callback can
 *    make it two, which the kernel documents as forbidden;
 *  - T_COLLECTOR: while Expiring, the CPU whose __run_timers collected it;
 *  - T_PINNED: TIMER_PINNED set by add_timer_on (≥6.9, for good).
 * The serving frame running a callback keeps which timer and which base in
 * its X_AUX3 (runningIn): with timer pull the CPU running a callback is not
 * always its base's.
 * Static flags (TIMER_IRQSAFE, TIMER_PINNED, TIMER_DEFERRABLE) and the
 * callback's entry are attributes of the declaration.
 *
 * The tick. Each jiffy the timekeeping CPU (cpu0, tick_do_timer_cpu) takes
 * the tick that increments jiffies (tick_do_update_jiffies64), at most
 * `options.ticks` times; every other CPU takes at most one local tick per
 * jiffy (H_TICKED), at any point after cpu0's, or none (NOHZ idle, or a late
 * tick merged with the next). A tick is a hard interrupt, so it comes only
 * where irqs are on. Its handler (update_process_times → run_local_timers)
 * raises TIMER_SOFTIRQ if a timer on the CPU's base is due
 * (jiffies >= expires), and its irq_exit runs pending softirqs if not in
 * interrupt (softirqsAtIrqExit). The whole hardirq is one atomic step: it
 * runs with irqs off and touches only jiffies and the timer bases under
 * their raw locks, so no other step can observe it half done. A local tick
 * on a CPU other than cpu0 that would neither raise a softirq nor run
 * pending ones is not offered: it changes nothing, and leaving it out is
 * the same as that CPU's tick coming late.
 *
 * Expiry. run_timer_softirq → __run_timers collects the due timers of this
 * CPU's base, then calls each (expire_timers → call_timer_fn): running_timer
 * := t, detach (timer_pending() false), fn in softirq context (irqs on, or
 * off for TIMER_IRQSAFE), then running_timer := NULL. Collection, each
 * start, and each return up to the next start are atomic steps, as the
 * kernel does them under base->lock. Timers due together may run in any
 * order (the wheel's bucket order is not modelled).
 *
 * Timer pull (flags.timerPull, ≥6.9, 7ee988770326; kernel/time/timer.c
 * __mod_timer, add_timer_on, run_timer_softirq, run_local_timers,
 * timer_expire_remote; kernel/time/timer_migration.c tmigr_handle_remote).
 * __mod_timer always queues on the arming CPU's base
 * (get_timer_this_cpu_base); add_timer_on sets TIMER_PINNED for good. A
 * global timer (neither pinned nor deferrable) whose CPU is idle when it is
 * due (cpuIdle: no task, frame, runnable task or ksoftirqd) may be expired
 * by any other CPU from its own TIMER softirq: that CPU's tick raises
 * TIMER_SOFTIRQ for it (tmigr_requires_handle_remote), and its __run_timers
 * collects it after its own, with running_timer set on the idle CPU's base,
 * so del_timer_sync and re-arming still find it there (TM3). A base is run
 * by one CPU at a time (__run_timers returns while base->running_timer is
 * set): an idle CPU that wakes does not collect its global timers while
 * another CPU is expiring them, nor do two CPUs pull the same base. The
 * idle timekeeping CPU's tick may wake it for its own due global timers or,
 * while another CPU is active, leave them to the hierarchy (a choice; the
 * last CPU going idle keeps the first event, timer_use_tmigr): jiffies
 * advance either way, as another CPU takes the do_timer duty under NOHZ. Which active CPU is the
 * migrator is not modelled: any other CPU may pull (an over-approximation),
 * and the idle CPU's own BASE_LOCAL/BASE_GLOBAL/BASE_DEF are one base here.
 *
 * Approximations (sound: each only adds behaviours):
 *  - no wheel granularity: a timer is due exactly when jiffies >= expires
 *    (the kernel may run it later, never earlier: TM1);
 *  - a timer re-armed for the current jiffy after its base processed that
 *    jiffy may run again at the same jiffy if its CPU's local tick for it has
 *    not come yet (the kernel's base->clk would defer it one jiffy);
 *  - before 6.9, a non-pinned timer armed from an interrupt on an idle CPU
 *    (no current task) may go to any busy CPU's base
 *    (get_nohz_timer_target); pinned ones and those armed by a task stay
 *    local;
 *  - TIMER_DEFERRABLE timers behave as normal ones (any tick may be late),
 *    except that timer pull never takes them;
 *  - 2.4 del_timer_sync detached before waiting; here it waits, then detaches.
 * Not modelled: hrtimers, timer migration on CPU hotplug, PREEMPT_RT's
 * expiry_lock, lockdep's timer lockdep_map.
 */
import { SOFTIRQS } from '../dsl/design.ts';
import type { TimerDecl } from '../dsl/timer.ts';
import { markBh, TIMER_BH, TQUEUE_BH, tqTimerActive } from './bh.ts';
import { evaluate } from './data.ts';
import type { KernelFlags } from './flags.ts';
import {
  C_CURTASK, C_DEPTH, C_IRQS_OFF, C_KSOFTIRQD, C_PENDING, ContextStatus, FrameKind, H_JIFFIES, H_TICKED,
  X_AUX3, X_ENTRY_IRQS, X_HELD, X_KIND, X_PC, X_PHASE, X_STATUS,
} from './layout.ts';
import type { Machine } from './machine.ts';
import { INSN_WIDTH } from './program.ts';
import type { ChoiceSource, LockdepMapRef, Mechanism, ObjectKindSpec, OpSemantics, WaitEdge } from './semantics.ts';
import { heldNames, HI_SOFTIRQ, raise, softirqsAtIrqExit } from './softirq.ts';

export const TIMER_SOFTIRQ = SOFTIRQS.indexOf('TIMER');
/** tick_do_timer_cpu: the CPU whose tick increments jiffies. */
export const TIMEKEEPING_CPU = 0;

// Timer state words
const T_PENDING = 0;
const T_EXPIRES = 1;
const T_BASE = 2;
const T_SHUTDOWN = 3;
const T_RUNNING = 4;
/** While T_PENDING is Expiring: 1 + the CPU whose __run_timers collected it (its own base, or an idle CPU's under timer pull). */
const T_COLLECTOR = 5;
/** TIMER_PINNED set at run time: add_timer_on sets it for good since 6.9 (timerPull). */
const T_PINNED = 6;
const TIMER_SIZE = 7;

/** T_PENDING values. */
export const enum TimerState {
  Idle = 0,
  /** Enqueued on its base (internal_add_timer). */
  Queued = 1,
  /** On the expiry list of a running __run_timers, not yet started. */
  Expiring = 2,
}

/** Attributes of a timer declaration. */
const A_ENTRY = 'entry';
const A_IRQSAFE = 'irqsafe';
const A_PINNED = 'pinned';
const A_DEFERRABLE = 'deferrable';

const FLAGS = ['IRQSAFE', 'PINNED', 'DEFERRABLE'] as const;

// ------------------------------------------------------------- accessors

const timerOff = (m: Machine, id: number): number => m.objOff('timer', id, TIMER_SIZE);
const timerCount = (m: Machine): number => m.p.objects['timer']?.length ?? 0;
const timerName = (m: Machine, id: number): string => m.p.objects['timer']![id]!.name;
const attr = (m: Machine, id: number, key: string): number => m.p.objects['timer']![id]!.attrs[key]!;
/** The callback's name, e.g. `watchdog_fn`. */
const fnName = (m: Machine, id: number): string => m.p.design.timers![timerName(m, id)]!.func;

/** The current jiffies value. */
export const jiffies = (m: Machine): number => m.s[H_JIFFIES]!;

/** Where a timer stands, for tests and reports. */
export interface TimerView {
  readonly state: TimerState;
  readonly expires: number;
  readonly base: number;
  readonly shutdown: boolean;
  /** CPUs whose base is running its callback now (base->running_timer == t). */
  readonly runningOn: readonly number[];
  /** While it is Expiring: the CPU whose run collected it (another CPU than its base's, when pulled); else -1. */
  readonly collector: number;
  /** TIMER_PINNED, declared or set by add_timer_on (≥6.9). */
  readonly pinned: boolean;
}

/** The state of timer `name` in `m.s`. */
export function timerView(m: Machine, name: string): TimerView {
  const id = m.p.objects['timer']?.findIndex((o) => o.name === name) ?? -1;
  if (id < 0) throw new Error(`no timer '${name}'`);
  const o = timerOff(m, id);
  const running = m.s[o + T_RUNNING]!;
  return {
    state: m.s[o + T_PENDING]! as TimerState,
    expires: m.s[o + T_EXPIRES]!,
    base: m.s[o + T_BASE]!,
    shutdown: m.s[o + T_SHUTDOWN] !== 0,
    runningOn: [...Array(m.p.ncpu).keys()].filter((c) => (running & (1 << c)) !== 0),
    collector: m.s[o + T_COLLECTOR]! - 1,
    pinned: attr(m, id, A_PINNED) !== 0 || m.s[o + T_PINNED] !== 0,
  };
}

/**
 * base->running_timer == t for the base `t` sits on, as lock_timer_base()
 * finds it (timer->flags' CPU). In 2.4 there is one global running_timer.
 */
function runningOnItsBase(m: Machine, id: number): boolean {
  const o = timerOff(m, id);
  const running = m.s[o + T_RUNNING]!;
  if (m.p.flags.globalBH) return running !== 0;
  return (running & (1 << m.s[o + T_BASE]!)) !== 0;
}

/** Whether `cpu`'s base (2.4: the global list) holds a queued timer whose time has come at jiffies `now`. */
function dueOn(m: Machine, cpu: number, now: number): boolean {
  return dueTimersAt(m, cpu, now).length > 0;
}

/** The serving softirq frame (softirq or ksoftirqd batch) of `cpu`: where timer callbacks run. */
function servingFrame(m: Machine, cpu: number): number {
  const depth = m.s[m.cpuOff(cpu) + C_DEPTH]!;
  for (let d = depth - 1; d >= 0; d--) {
    const ctx = m.frameCtx(cpu, d);
    const kind = m.s[m.ctxOff(ctx) + X_KIND]!;
    if (kind === FrameKind.Softirq || kind === FrameKind.Ksoftirqd) return ctx;
  }
  return -1;
}

/**
 * What the serving frame `ctx` is running in its __run_timers (its X_AUX3,
 * free in softirq frames): the timer whose callback it called and the base
 * (CPU) that timer was expired from, which is another CPU's for a pulled
 * timer; null between callbacks.
 */
function runningIn(m: Machine, ctx: number): { id: number; base: number } | null {
  const word = m.s[m.ctxOff(ctx) + X_AUX3]!;
  return word === 0 ? null : { id: (word & 0xffff) - 1, base: word >>> 16 };
}

/** The contexts running `id`'s callback, on the base a del_timer_sync of it waits for (2.4: anywhere). */
function callbackContexts(m: Machine, id: number): number[] {
  const o = timerOff(m, id);
  const out: number[] = [];
  for (let c = 0; c < m.p.ncpu; c++) {
    const ctx = servingFrame(m, c);
    const running = ctx >= 0 ? runningIn(m, ctx) : null;
    if (running?.id === id && (m.p.flags.globalBH || running.base === m.s[o + T_BASE])) out.push(ctx);
  }
  return out;
}

/**
 * A CPU with nothing to run (no task, no interrupt frame, no runnable task,
 * ksoftirqd asleep): the idle task's, where NOHZ stops the tick and, under
 * timer pull, tmigr_cpu_deactivate hands its global timers to the hierarchy.
 */
function cpuIdle(m: Machine, cpu: number): boolean {
  const co = m.cpuOff(cpu);
  if (m.s[co + C_CURTASK] !== -1 || m.s[co + C_DEPTH] !== 0 || m.s[co + C_KSOFTIRQD] !== 0) return false;
  for (let t = 0; t < m.L.ntasks; t++) {
    if (m.cpuOfCtx(t) !== cpu) continue;
    const status = m.s[m.ctxOff(t) + X_STATUS]!;
    if (status === ContextStatus.Runnable || status === ContextStatus.NotStarted) return false;
  }
  return true;
}

/**
 * A timer of BASE_GLOBAL (≥6.9): neither TIMER_PINNED (declared, or set by
 * add_timer_on) nor TIMER_DEFERRABLE. Only these are pulled by another CPU.
 */
const isGlobal = (m: Machine, id: number): boolean =>
  !attr(m, id, A_PINNED) && !attr(m, id, A_DEFERRABLE) && m.s[timerOff(m, id) + T_PINNED] === 0;

/**
 * Whether base `base`'s global timers are being expired by another CPU than
 * `cpu`: __run_timers returns at once while base->running_timer is set, and
 * between callbacks the expirer holds base->lock, so a base is run by one
 * CPU at a time.
 */
function baseRunElsewhere(m: Machine, base: number, cpu: number): boolean {
  for (let id = 0; id < timerCount(m); id++) {
    const o = timerOff(m, id);
    if (m.s[o + T_PENDING] === TimerState.Expiring && m.s[o + T_BASE] === base && m.s[o + T_COLLECTOR] !== cpu + 1) return true;
  }
  for (let c = 0; c < m.p.ncpu; c++) {
    if (c === cpu) continue;
    const ctx = servingFrame(m, c);
    if (ctx >= 0 && runningIn(m, ctx)?.base === base) return true;
  }
  return false;
}

const ptr = (m: Machine, id: number): string => `&${timerName(m, id)}`;

// --------------------------------------------------------- declarations

const TIMERS: ObjectKindSpec = {
  kind: 'timer',
  field: 'timers',
  size: TIMER_SIZE,
  ctype: 'timer_list',
  declKeys: ['func', 'flags'],
  declare(_name, decl, d) {
    const t = decl as TimerDecl | null;
    if (typeof t !== 'object' || t === null || typeof t.func !== 'string') {
      return d.fail("declare a timer as timer_setup() does: { func: 'callback', flags?: ['IRQSAFE' | 'PINNED' | 'DEFERRABLE'] }");
    }
    const flags = t.flags ?? [];
    if (!Array.isArray(flags) || !flags.every((f) => (FLAGS as readonly string[]).includes(f))) {
      d.fail(`flags must be a list of ${FLAGS.join(', ')}, got ${JSON.stringify(t.flags)}`);
    }
    const has = (f: string) => (flags.includes(f as never) ? 1 : 0);
    // do_init_timer: not pending, base = the CPU that ran timer_setup (cpu0 for a static declaration).
    return {
      init: [TimerState.Idle, 0, 0, 0, 0, 0, 0],
      attrs: { [A_ENTRY]: d.functionEntry(t.func), [A_IRQSAFE]: has('IRQSAFE'), [A_PINNED]: has('PINNED'), [A_DEFERRABLE]: has('DEFERRABLE') },
    };
  },
  // debugobjects: a timer is "active" from enqueue to detach (debug_activate/debug_deactivate).
  activeState(m, id) {
    return m.s[timerOff(m, id) + T_PENDING] !== TimerState.Idle ? `hint: ${fnName(m, id)}+0x0/0x0` : null;
  },
};

// ------------------------------------------------------------ arming

/** Enqueue on `base` (internal_add_timer) with absolute expiry `expires`. */
function enqueue(m: Machine, id: number, base: number, expires: number): void {
  const o = timerOff(m, id);
  m.w(o + T_PENDING, TimerState.Queued);
  m.w(o + T_EXPIRES, expires);
  m.w(o + T_BASE, base);
}

/**
 * detach_if_pending(): returns whether the timer was pending. An idle
 * timer's old expiry never matters again (every arming sets a new one), so
 * it is cleared: equal situations hash equal.
 */
function detach(m: Machine, id: number): number {
  const o = timerOff(m, id);
  const was = m.s[o + T_PENDING] !== TimerState.Idle ? 1 : 0;
  m.w(o + T_PENDING, TimerState.Idle);
  m.w(o + T_EXPIRES, 0);
  m.w(o + T_COLLECTOR, 0);
  return was;
}

/**
 * The bases __mod_timer may put `id` on, armed from `cpu`: the old base if
 * its running_timer is this timer (the timer stays serialised with its
 * running callback, TM3); else the local CPU's; for a non-pinned timer
 * armed from an interrupt on an idle CPU, also any busy CPU's
 * (get_target_base → get_nohz_timer_target, CONFIG_NO_HZ_COMMON, before 6.9).
 */
function targetBases(m: Machine, cpu: number, id: number): number[] {
  const o = timerOff(m, id);
  if (m.p.flags.globalBH) return [cpu];
  const old = m.s[o + T_BASE]!;
  if ((m.s[o + T_RUNNING]! & (1 << old)) !== 0) return [old];
  // ≥6.9: get_timer_this_cpu_base(timer->flags): the local base, always.
  if (m.p.flags.timerPull || attr(m, id, A_PINNED) || m.s[m.cpuOff(cpu) + C_CURTASK]! >= 0) return [cpu];
  const out = [cpu];
  for (let c = 0; c < m.p.ncpu; c++) if (c !== cpu && m.s[m.cpuOff(c) + C_CURTASK]! >= 0) out.push(c);
  return out;
}

/** How __mod_timer will end, before it runs (for variants and labels). */
const enum ModOutcome {
  /** timer->function == NULL: silently discarded, returns 0. */
  Shutdown,
  /** Pending with the same expiry: returns 1, nothing moves. */
  Same,
  /** Detach if pending, enqueue on the chosen base. */
  Enqueue,
}

function modOutcome(m: Machine, id: number, expires: number, notPending: boolean): ModOutcome {
  const o = timerOff(m, id);
  if (!notPending && m.s[o + T_PENDING] !== TimerState.Idle && m.s[o + T_EXPIRES] === expires) return ModOutcome.Same;
  if (m.s[o + T_SHUTDOWN] !== 0) return ModOutcome.Shutdown;
  return ModOutcome.Enqueue;
}

/** Return value into the optional register operand. */
function setRet(m: Machine, ctx: number, reg: number, value: number): void {
  if (reg >= 0) m.setReg(ctx, reg, value);
}
/** `ret = ` for a register the design named (an expansion's hidden result, `#…`, is not shown). */
const retText = (m: Machine, reg: number): string => (reg >= 0 && !m.p.regs[reg]!.startsWith('#') ? `${m.p.regs[reg]} = ` : '');

/** The kernel's complaint about arming a pending timer, by the kernel version the flags stand for. */
function armedTwice(m: Machine, cpu: number, ctx: number, fn: string, id: number): void {
  const where = m.p.where[m.s[m.ctxOff(ctx) + X_PC]! / INSN_WIDTH]!;
  const flags = m.p.flags;
  const message = flags.globalBH
    // 2.4 kernel/timer.c add_timer: printk, the timer list is left alone.
    ? `bug: kernel timer added twice at ${where}. (${fn}(${ptr(m, id)}) on a pending timer, by ${m.contextName(ctx)})`
    : flags.timerShutdown
      // 6.2+: if (WARN_ON_ONCE(timer_pending(timer))) return;
      ? `WARNING: CPU: ${cpu} at kernel/time/timer.c ${fn}: WARN_ON_ONCE(timer_pending(timer)): ${ptr(m, id)} is already pending (${m.contextName(ctx)} at ${where}); the call is ignored`
      // 2.6 – 6.1: BUG_ON(timer_pending(timer));
      : `kernel BUG at kernel/time/timer.c! ${fn}: BUG_ON(timer_pending(timer)): ${ptr(m, id)} is already pending (${m.contextName(ctx)} at ${where})`;
  m.fail('assertion', message, cpu, ctx);
}

const deltaOf = (m: Machine, cpu: number, ctx: number, expr: number): number => evaluate(m, cpu, ctx, expr);

/**
 * mod_timer / add_timer: __mod_timer(). Operands: timer, delta expression
 * (expires = jiffies + delta), optional return register.
 */
function modTimerOp(name: 'mod_timer' | 'add_timer'): OpSemantics {
  const notPending = name === 'add_timer';
  const outcome = (m: Machine, cpu: number, ctx: number, a: number, b: number): ModOutcome =>
    modOutcome(m, a, jiffies(m) + deltaOf(m, cpu, ctx, b), notPending);
  return {
    name,
    operands: notPending
      ? [{ kind: 'object', field: 'obj', objectKind: 'timer' }, { kind: 'expr', field: 'value' }]
      : [{ kind: 'object', field: 'obj', objectKind: 'timer' }, { kind: 'expr', field: 'value' }, { kind: 'reg-def', field: 'reg', optional: true }],
    variants(m, cpu, ctx, a, b) {
      if (notPending && m.s[timerOff(m, a) + T_PENDING] !== TimerState.Idle) return 1;
      return outcome(m, cpu, ctx, a, b) === ModOutcome.Enqueue ? targetBases(m, cpu, a).length : 1;
    },
    exec(m, cpu, ctx, a, b, operandC, variant) {
      const c = notPending ? -1 : operandC; // add_timer returns nothing
      const o = timerOff(m, a);
      if (notPending && m.s[o + T_PENDING] !== TimerState.Idle) {
        armedTwice(m, cpu, ctx, name, a);
        return;
      }
      const expires = jiffies(m) + deltaOf(m, cpu, ctx, b);
      switch (modOutcome(m, a, expires, notPending)) {
        case ModOutcome.Shutdown:
          setRet(m, ctx, c, 0);
          break;
        case ModOutcome.Same:
          setRet(m, ctx, c, 1);
          break;
        case ModOutcome.Enqueue: {
          const base = targetBases(m, cpu, a)[variant]!;
          const was = detach(m, a);
          enqueue(m, a, base, expires);
          setRet(m, ctx, c, was);
          break;
        }
      }
      m.advance(ctx);
    },
    label(m, cpu, ctx, a, b, c, variant) {
      const delta = deltaOf(m, cpu, ctx, b);
      const text = notPending
        ? `add_timer(${ptr(m, a)}) [expires = jiffies + ${delta}]`
        : `${retText(m, c)}mod_timer(${ptr(m, a)}, jiffies + ${delta})`;
      const o = timerOff(m, a);
      if (notPending && m.s[o + T_PENDING] !== TimerState.Idle) return `${text}: already pending`;
      const expires = jiffies(m) + delta;
      switch (outcome(m, cpu, ctx, a, b)) {
        case ModOutcome.Shutdown:
          return `${text}: timer is shut down (function == NULL), ignored → 0`;
        case ModOutcome.Same:
          return `${text}: pending with the same expiry ${expires} → 1`;
        case ModOutcome.Enqueue: {
          const bases = targetBases(m, cpu, a);
          const base = bases[variant]!;
          const old = m.s[o + T_BASE]!;
          const why = base === old && (m.s[o + T_RUNNING]! & (1 << old)) !== 0 && base !== cpu
            ? ` (stays: cpu${base}'s base is running its callback)`
            : base !== cpu ? ' (NOHZ target: this CPU is idle)' : '';
          const ret = notPending ? '' : ` → ${m.s[o + T_PENDING] !== TimerState.Idle ? 1 : 0}`;
          if (m.p.flags.globalBH) return `${text}: expires ${expires}, on the timer list${ret}`;
          return `${text}: expires ${expires}, on cpu${base}'s base${why}${ret}`;
        }
      }
    },
  };
}

// ------------------------------------------------------------ deleting

/** Whether del_timer_sync in this context trips WARN_ON(in_hardirq() && !(timer->flags & TIMER_IRQSAFE)). */
const hardirqWarn = (m: Machine, cpu: number, id: number): boolean =>
  !m.p.flags.globalBH && m.inHardirq(cpu) && attr(m, id, A_IRQSAFE) === 0;

/** Spinning in __timer_delete_sync (phase 1 of timer_shutdown_sync: function already NULL). */
const PHASE_SPIN = 1;

/**
 * del_timer_sync / timer_delete_sync / timer_shutdown_sync:
 * __timer_delete_sync() repeating __try_to_del_timer_sync() until the
 * callback runs nowhere: a spin, with a wait-for edge to the softirq frame
 * running the callback. The shutdown form sets function = NULL on its first
 * try, even while the callback still runs, so re-arming is ignored from then on.
 */
function deleteSyncOp(name: 'del_timer_sync' | 'timer_delete_sync' | 'timer_shutdown_sync'): OpSemantics {
  const shutdown = name === 'timer_shutdown_sync';
  return {
    name,
    operands: [{ kind: 'object', field: 'obj', objectKind: 'timer' }, { kind: 'reg-def', field: 'reg', optional: true }],
    ...availability(name),
    // __timer_delete_sync: lock_map_acquire/release(&timer->lockdep_map) under local_irq_save, before anything else.
    lockdep: { action: 'touch-map', read: 0, map: 'timer', irqsOff: true },
    ready(m, cpu, ctx, a) {
      if (hardirqWarn(m, cpu, a) || !runningOnItsBase(m, a)) return true;
      return shutdown && m.s[m.ctxOff(ctx) + X_PHASE] === 0;
    },
    exec(m, cpu, ctx, a, b) {
      if (hardirqWarn(m, cpu, a)) {
        m.fail('assertion', `WARNING: CPU: ${cpu} at kernel/time/timer.c __timer_delete_sync: WARN_ON(in_hardirq() && !(timer->flags & TIMER_IRQSAFE)): ${name}(${ptr(m, a)}) in hardirq context by ${m.contextName(ctx)} (it could wait for a callback this interrupt interrupted)`, cpu, ctx);
        return;
      }
      const o = timerOff(m, a);
      if (shutdown) m.w(o + T_SHUTDOWN, 1);
      if (runningOnItsBase(m, a)) {
        m.w(m.ctxOff(ctx) + X_PHASE, PHASE_SPIN);
        return;
      }
      setRet(m, ctx, b, detach(m, a));
      m.advance(ctx);
    },
    label(m, cpu, _ctx, a, b) {
      const text = `${retText(m, b)}${name}(${ptr(m, a)})`;
      if (hardirqWarn(m, cpu, a)) return `${text} in hardirq context`;
      if (runningOnItsBase(m, a)) return `${text}${shutdown ? ': function = NULL' : ''}: ${fnName(m, a)}() is running, spins`;
      return `${text} → ${m.s[timerOff(m, a) + T_PENDING] !== TimerState.Idle ? 1 : 0}`;
    },
    waitsFor(m, _cpu, ctx, a): WaitEdge {
      const on = callbackContexts(m, a);
      const where = on.map((c) => `cpu${m.cpuOfCtx(c)} (${m.contextName(c)})`).join(' and ') || 'another CPU';
      return {
        on,
        why: `${m.contextName(ctx)}: ${name}(${ptr(m, a)}) spins while base->running_timer == ${ptr(m, a)}: ${fnName(m, a)}() is running on ${where}`,
      };
    },
  };
}

/** del_timer / timer_delete / timer_shutdown: __timer_delete(); never waits. */
function deleteOp(name: 'del_timer' | 'timer_delete' | 'timer_shutdown'): OpSemantics {
  const shutdown = name === 'timer_shutdown';
  return {
    name,
    operands: [{ kind: 'object', field: 'obj', objectKind: 'timer' }, { kind: 'reg-def', field: 'reg', optional: true }],
    ...availability(name),
    exec(m, _cpu, ctx, a, b) {
      setRet(m, ctx, b, detach(m, a));
      if (shutdown) m.w(timerOff(m, a) + T_SHUTDOWN, 1);
      m.advance(ctx);
    },
    label(m, _cpu, _ctx, a, b) {
      const o = timerOff(m, a);
      const pending = m.s[o + T_PENDING] !== TimerState.Idle ? 1 : 0;
      const running = m.s[o + T_RUNNING] !== 0 ? ` (${fnName(m, a)}() is still running)` : '';
      return `${retText(m, b)}${name}(${ptr(m, a)}) → ${pending}${running}`;
    },
  };
}

/** Names that do not exist in every kernel the profiles stand for. */
function availability(name: string): Pick<OpSemantics, 'unavailable'> {
  switch (name) {
    case 'timer_shutdown':
    case 'timer_shutdown_sync':
      return { unavailable: (f: KernelFlags) => (f.timerShutdown ? null : 'timer_shutdown arrived in 6.2; this kernel (flags.timerShutdown false) has no way to prevent re-arming') };
    case 'timer_delete':
    case 'timer_delete_sync':
      return { unavailable: (f: KernelFlags) => (f.timerShutdown ? null : `${name} is the 6.2 name; this kernel has ${name === 'timer_delete' ? 'del_timer' : 'del_timer_sync'}`) };
    case 'add_timer_on':
    case 'try_to_del_timer_sync':
      return { unavailable: (f: KernelFlags) => (f.globalBH ? '2.4 has one global timer list run by TIMER_BH, no per-CPU timer bases' : null) };
    default:
      return {};
  }
}

// ------------------------------------------------------------- expiry

/**
 * Timers `cpu`'s run_timer_softirq would collect at jiffies `now`: the due
 * ones queued on its own base (2.4: on the global list), then, under timer
 * pull, the due global timers of every idle CPU's base (tmigr_handle_remote
 * → timer_expire_remote; any other CPU may be the migrator that does it).
 * A base another CPU is expiring is skipped (__run_timers: base->running_timer).
 */
function dueTimersAt(m: Machine, cpu: number, now: number): number[] {
  const global = m.p.flags.globalBH;
  const local: number[] = [];
  const pulled: number[] = [];
  for (let id = 0; id < timerCount(m); id++) {
    const o = timerOff(m, id);
    if (m.s[o + T_PENDING] !== TimerState.Queued || m.s[o + T_EXPIRES]! > now) continue;
    const base = m.s[o + T_BASE]!;
    if (global || base === cpu) {
      if (!(m.p.flags.timerPull && isGlobal(m, id) && baseRunElsewhere(m, base, cpu))) local.push(id);
    } else if (m.p.flags.timerPull && isGlobal(m, id) && cpuIdle(m, base) && !baseRunElsewhere(m, base, cpu)) {
      pulled.push(id);
    }
  }
  return [...local, ...pulled];
}

/** The timers the serving frame `ctx` of `cpu` may start next: at entry, those it will collect; after a callback, those still on its expiry list. */
function nextCandidates(m: Machine, cpu: number, ctx: number): number[] {
  if (runningIn(m, ctx) === null) return dueTimersAt(m, cpu, jiffies(m));
  const out: number[] = [];
  for (let id = 0; id < timerCount(m); id++) {
    const o = timerOff(m, id);
    if (m.s[o + T_PENDING] === TimerState.Expiring && m.s[o + T_COLLECTOR] === cpu + 1) out.push(id);
  }
  return out;
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/** call_timer_fn's check after fn returns (B21); the message, or null if fn left everything as it found it. */
function callbackLeak(m: Machine, cpu: number, ctx: number, id: number): string | null {
  const o = m.ctxOff(ctx);
  const co = m.cpuOff(cpu);
  const s = m.s;
  const fn = fnName(m, id);
  const held = s[o + X_HELD]!;
  // call_timer_fn compares preempt_count around fn (which runs with SOFTIRQ_OFFSET set).
  const before = m.entryPreemptCount(cpu, ctx);
  const after = m.preemptCount(cpu);
  const heldText = held !== 0 ? ` (${fn}() returned with ${heldNames(m, held)} held)` : '';
  if (before !== after) return `WARNING: CPU: ${cpu} at kernel/time/timer.c call_timer_fn: timer: ${fn}+0x0/0x0 preempt leak: ${hex8(before)} -> ${hex8(after)}${heldText}`;
  if (held !== 0) return `BUG: timer callback ${fn}() returned with ${heldNames(m, held)} held (leaked lock at timer callback exit)`;
  if (s[co + C_IRQS_OFF] !== s[o + X_ENTRY_IRQS]) {
    return attr(m, id, A_IRQSAFE)
      ? `BUG: TIMER_IRQSAFE callback ${fn}() returned with irqs enabled`
      : `BUG: timer callback ${fn}() returned with irqs disabled`;
  }
  return null;
}


/**
 * The expiry loop, re-entered after each callback returns (callFrom comes
 * back to this instruction): __run_timers + expire_timers + call_timer_fn.
 * Entry: collect the due timers (T_PENDING Expiring, T_COLLECTOR this CPU),
 * its own and, under timer pull, idle CPUs' global ones. After a callback:
 * leak check, running_timer := NULL on the base it came from. Then start
 * the next timer of the list (a choice among them) or return to the softirq
 * (or BH) that called it. The frame keeps what it runs in X_AUX3 (runningIn).
 */
function runTimersOp(name: string): OpSemantics {
  return {
    name,
    internal: true,
    variants(m, cpu, ctx) {
      return Math.max(1, nextCandidates(m, cpu, ctx).length);
    },
    exec(m, cpu, ctx, _a, _b, _c, variant) {
      const s = m.s;
      const co = m.cpuOff(cpu);
      const done = runningIn(m, ctx);
      const candidates = nextCandidates(m, cpu, ctx);
      if (done !== null) {
        const leak = callbackLeak(m, cpu, ctx, done.id);
        if (leak) {
          m.fail('lock-leak', leak, cpu, ctx);
          return;
        }
        const d = timerOff(m, done.id);
        m.w(d + T_RUNNING, s[d + T_RUNNING]! & ~(1 << done.base));
        m.w(m.ctxOff(ctx) + X_AUX3, 0);
      } else {
        // collect_expired_timers: the due timers move to this run's expiry list.
        for (const id of candidates) {
          m.w(timerOff(m, id) + T_PENDING, TimerState.Expiring);
          m.w(timerOff(m, id) + T_COLLECTOR, cpu + 1);
        }
      }
      // Between callbacks, and at the end (raw_spin_unlock_irq), irqs are on.
      m.w(co + C_IRQS_OFF, 0);
      if (candidates.length === 0) {
        m.snapshotEntry(cpu, ctx);
        m.returnFromCall(ctx);
        return;
      }
      const id = candidates[variant]!;
      const o = timerOff(m, id);
      // The base it is expired from (2.4: the one global list, run by this CPU).
      const base = m.p.flags.globalBH ? cpu : s[o + T_BASE]!;
      // call_timer_fn: lock_map_acquire(&lockdep_map), a copy of timer->lockdep_map, held around fn (timerMapsHeld).
      m.observer?.lockdepMap?.(m, cpu, ctx, { kind: 'timer', id }, attr(m, id, A_IRQSAFE) !== 0);
      detach(m, id); // detach_timer(timer, true)
      m.w(o + T_RUNNING, s[o + T_RUNNING]! | (1 << base)); // base->running_timer = timer
      m.w(m.ctxOff(ctx) + X_AUX3, (id + 1) | (base << 16));
      if (attr(m, id, A_IRQSAFE)) m.w(co + C_IRQS_OFF, 1); // raw_spin_unlock (irqs stay off) vs raw_spin_unlock_irq
      m.snapshotEntry(cpu, ctx);
      m.callFrom(ctx, attr(m, id, A_ENTRY));
    },
    label(m, cpu, ctx, _a, _b, _c, variant) {
      const done = runningIn(m, ctx);
      const candidates = nextCandidates(m, cpu, ctx);
      const from = (id: number): string => {
        const base = m.s[timerOff(m, id) + T_BASE]!;
        return m.p.flags.globalBH || base === cpu ? '' : ` (cpu${base} is idle: timer_expire_remote(${base}))`;
      };
      const head = done !== null
        ? `${fnName(m, done.id)}() returned, running_timer = NULL`
        : `${name} (jiffies ${jiffies(m)}): ${candidates.length === 0 ? 'no timer expired' : `${candidates.map((id) => `${ptr(m, id)}${from(id)}`).join(', ')} expired`}`;
      if (candidates.length === 0) return `${head}; done`;
      const id = candidates[variant]!;
      return `${head}; running_timer = ${ptr(m, id)}, call ${fnName(m, id)}()${attr(m, id, A_IRQSAFE) ? ' with irqs off (TIMER_IRQSAFE)' : ''}`;
    },
  };
}

// ------------------------------------------------------------ the tick

/**
 * What a tick on `cpu` would do now; null if no tick is offered there.
 * `idleVariant`: under timer pull, the timekeeping CPU is idle and would
 * raise TIMER only for global timers, which an idle CPU leaves to the
 * timer migration hierarchy (it arms its hardware for local events only):
 * it may also stay idle (variant 1), jiffies advancing without it.
 */
function tickEffect(m: Machine, cpu: number): { readonly advances: boolean; readonly raises: boolean; readonly idleVariant: boolean } | null {
  if (m.irqsOff(cpu)) return null;
  const now = jiffies(m);
  if (cpu === TIMEKEEPING_CPU) {
    if (now >= m.p.ticks) return null;
    // The tick first advances jiffies, then looks at the base.
    const due = m.p.flags.globalBH ? [] : dueTimersAt(m, cpu, now + 1);
    // The last CPU going idle keeps the hierarchy's first event and wakes for it (timer_use_tmigr):
    // only while another CPU is active can this one sleep on.
    const othersActive = [...Array(m.p.ncpu).keys()].some((c) => c !== cpu && !cpuIdle(m, c));
    const idleVariant = m.p.flags.timerPull && othersActive && due.length > 0 && cpuIdle(m, cpu) && due.every((id) => isGlobal(m, id) && m.s[timerOff(m, id) + T_BASE] === cpu);
    return { advances: true, raises: due.length > 0, idleVariant };
  }
  if (m.p.flags.globalBH || now === 0 || (m.s[H_TICKED]! & (1 << cpu)) !== 0) return null;
  // run_local_timers: a due timer of this CPU's bases, or (≥6.9) tmigr_requires_handle_remote().
  const raises = dueOn(m, cpu, now);
  const runsPending = m.s[m.cpuOff(cpu) + C_PENDING] !== 0 && !m.inInterrupt(cpu);
  return raises || runsPending ? { advances: false, raises, idleVariant: false } : null;
}

/**
 * The timer interrupt (tick_sched_timer / tick_handle_periodic →
 * update_process_times → run_local_timers; 2.4: do_timer), then irq_exit.
 */
const TICK: ChoiceSource = {
  name: 'tick',
  active: (p) => p.ticks > 0,
  collect(m, cpu, out) {
    const effect = tickEffect(m, cpu);
    if (!effect) return;
    out.push(m.choice(TICK, cpu, 0, 0));
    if (effect.idleVariant) out.push(m.choice(TICK, cpu, 0, 1));
  },
  apply(m, cpu, _arg, variant) {
    const effect = tickEffect(m, cpu)!;
    if (variant === 1) {
      // NOHZ idle, timer pull: jiffies advance (another CPU took the do_timer duty); this CPU sleeps on.
      m.w(H_JIFFIES, jiffies(m) + 1);
      m.w(H_TICKED, 1 << cpu);
      return;
    }
    if (effect.advances) {
      m.w(H_JIFFIES, jiffies(m) + 1);
      m.w(H_TICKED, 1 << cpu);
    } else {
      m.w(H_TICKED, m.s[H_TICKED]! | (1 << cpu));
    }
    if (m.p.flags.globalBH) {
      markTimerBhs(m, cpu);
    } else if (effect.raises) {
      // run_local_timers: raise_softirq(TIMER_SOFTIRQ) in hardirq context: no ksoftirqd wakeup.
      raise(m, cpu, TIMER_SOFTIRQ);
    }
    // irq_exit: invoke_softirq() if not in interrupt and something is pending.
    softirqsAtIrqExit(m, cpu);
  },
  label(m, cpu, _arg, variant) {
    const effect = tickEffect(m, cpu)!;
    const now = jiffies(m);
    const head = effect.advances ? `timer tick: jiffies ${now} → ${now + 1}` : `timer tick (jiffies ${now})`;
    if (variant === 1) return `${head}; cpu${cpu} stays idle (NOHZ), its global timers left to the timer migration hierarchy`;
    if (m.p.flags.globalBH) return `${head}, do_timer: mark_bh(TIMER_BH)`;
    if (!effect.raises) return `${head}, no timer due`;
    const remote = [...new Set(dueTimersAt(m, cpu, effect.advances ? now + 1 : now).map((id) => m.s[timerOff(m, id) + T_BASE]!).filter((b) => b !== cpu))];
    return `${head}, run_local_timers raises TIMER_SOFTIRQ${remote.length > 0 ? ` (tmigr_requires_handle_remote: due timers of idle ${remote.map((b) => `cpu${b}`).join(', ')})` : ''}`;
  },
};

/** 2.4 do_timer: mark_bh(TIMER_BH), and mark_bh(TQUEUE_BH) if tq_timer has entries (TQ_ACTIVE). */
function markTimerBhs(m: Machine, cpu: number): void {
  markBh(m, cpu, TIMER_BH);
  if (tqTimerActive(m)) markBh(m, cpu, TQUEUE_BH);
}

// ---------------------------------------------------------------- ops

export const TIMER_OPS: readonly OpSemantics[] = [
  modTimerOp('add_timer'),
  modTimerOp('mod_timer'),
  {
    // add_timer_on(): like add_timer on `cpu`'s base, without the running_timer check (TM3's documented exception).
    name: 'add_timer_on',
    operands: [{ kind: 'object', field: 'obj', objectKind: 'timer' }, { kind: 'expr', field: 'value' }, { kind: 'int', field: 'count', min: 0, max: 7 }],
    ...availability('add_timer_on'),
    exec(m, cpu, ctx, a, b, c) {
      if (c >= m.p.ncpu) {
        m.fail('assertion', `add_timer_on(${ptr(m, a)}, ${c}): the design has no cpu${c} (it has ${m.p.ncpu})`, cpu, ctx);
        return;
      }
      const o = timerOff(m, a);
      if (m.s[o + T_PENDING] !== TimerState.Idle) {
        armedTwice(m, cpu, ctx, 'add_timer_on', a);
        return;
      }
      // ≥6.9 (timerPull): timer->flags |= TIMER_PINNED, for good: it is never pulled, and mod_timer keeps it local.
      if (m.p.flags.timerPull) m.w(o + T_PINNED, 1);
      if (m.s[o + T_SHUTDOWN] === 0) enqueue(m, a, c, jiffies(m) + deltaOf(m, cpu, ctx, b));
      m.advance(ctx);
    },
    label(m, cpu, ctx, a, b, c) {
      const expires = jiffies(m) + deltaOf(m, cpu, ctx, b);
      const text = `add_timer_on(${ptr(m, a)}, ${c}) [expires = jiffies + ${expires - jiffies(m)}]`;
      const o = timerOff(m, a);
      if (m.s[o + T_PENDING] !== TimerState.Idle) return `${text}: already pending`;
      if (m.s[o + T_SHUTDOWN] !== 0) return `${text}: timer is shut down (function == NULL), ignored`;
      return `${text}: expires ${expires}, on cpu${c}'s base`;
    },
  },
  deleteOp('del_timer'),
  deleteOp('timer_delete'),
  deleteOp('timer_shutdown'),
  {
    // try_to_del_timer_sync(): -1 if the base runs the callback now, else detach.
    name: 'try_to_del_timer_sync',
    operands: [{ kind: 'object', field: 'obj', objectKind: 'timer' }, { kind: 'reg-def', field: 'reg', optional: true }],
    ...availability('try_to_del_timer_sync'),
    exec(m, _cpu, ctx, a, b) {
      setRet(m, ctx, b, runningOnItsBase(m, a) ? -1 : detach(m, a));
      m.advance(ctx);
    },
    label(m, _cpu, _ctx, a, b) {
      const result = runningOnItsBase(m, a) ? -1 : m.s[timerOff(m, a) + T_PENDING] !== TimerState.Idle ? 1 : 0;
      return `${retText(m, b)}try_to_del_timer_sync(${ptr(m, a)}) → ${result}`;
    },
  },
  deleteSyncOp('del_timer_sync'),
  deleteSyncOp('timer_delete_sync'),
  deleteSyncOp('timer_shutdown_sync'),
  {
    name: 'timer_pending',
    operands: [{ kind: 'object', field: 'obj', objectKind: 'timer' }, { kind: 'reg-def', field: 'reg' }],
    exec(m, _cpu, ctx, a, b) {
      m.setReg(ctx, b, m.s[timerOff(m, a) + T_PENDING] !== TimerState.Idle ? 1 : 0);
      m.advance(ctx);
    },
    label(m, _cpu, _ctx, a, b) {
      return `${m.p.regs[b]} = timer_pending(${ptr(m, a)}) → ${m.s[timerOff(m, a) + T_PENDING] !== TimerState.Idle ? 1 : 0}`;
    },
  },
  runTimersOp('__run_timers'),
  runTimersOp('run_timer_list'),
];

/** `timer priv->watchdog` for a serving frame running that timer's callback. */
function runningTimerTitle(m: Machine, ctx: number): string | null {
  const running = runningIn(m, ctx);
  return running === null ? null : `timer ${timerName(m, running.id)}`;
}

/** The timer whose callback `ctx` runs holds its lockdep map (call_timer_fn): a softirq or ksoftirqd frame of a CPU whose base runs it. */
function timerMapsHeld(m: Machine, ctx: number): readonly LockdepMapRef[] {
  if (m.isTask(ctx)) return [];
  const kind = m.s[m.ctxOff(ctx) + X_KIND]!;
  if (kind !== FrameKind.Softirq && kind !== FrameKind.Ksoftirqd) return [];
  const running = runningIn(m, ctx);
  return running === null ? [] : [{ kind: 'timer', id: running.id }];
}

export const TIMER: Mechanism = {
  name: 'timer',
  ops: TIMER_OPS,
  // Every timer, jiffies and the tick bits, this CPU (run points, TIMER softirq, its frames);
  // the NOHZ target choice reads which CPUs are busy; 2.4's do_timer marks TIMER_BH and TQUEUE_BH.
  defaultFootprint(f) {
    f.write(f.ownCpu());
    f.raises(TIMER_SOFTIRQ);
    f.raises(HI_SOFTIRQ);
    f.read(f.anyCpu());
    f.write(f.anyObject('timer'));
    f.write(f.jiffies());
    f.write(f.anyObject('bh'));
    f.write(f.anyObject('tasklet'));
    f.read(f.anyObject('tq_struct'));
  },
  objects: [TIMERS],
  choices: [TICK],
  builtins: [
    // run_timer_softirq → __run_timers (TIMER_SOFTIRQ, 2.6+).
    { name: 'run_timer_softirq', ops: ['__run_timers', 'ret'], live: (shape) => shape.objectCount('timer') > 0 && !shape.flags.globalBH },
    // 2.4 run_timer_list, run by TIMER_BH (model/kernel/bh.ts calls it).
    { name: 'run_timer_list_bh', ops: ['run_timer_list', 'ret'], live: (shape) => shape.flags.globalBH },
  ],
  softirqActions(shape) {
    return shape.objectCount('timer') > 0 && !shape.flags.globalBH ? [{ vec: TIMER_SOFTIRQ, builtin: 'run_timer_softirq' }] : [];
  },
  frameName: runningTimerTitle,
  lockdepMapsHeld: timerMapsHeld,
};
