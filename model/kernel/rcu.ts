/**
 * RCU (include/linux/rcupdate.h, kernel/rcu/tree.c; Documentation/RCU/
 * whatisRCU.rst; shared/kernel-semantics-drivers.md D6), with the flavours
 * consolidated as since 4.20: a grace period waits for every region with
 * preemption, bottom halves or irqs disabled, so softirq and hardirq
 * handlers and spinlock holders are readers too.
 *
 * Readers. rcu_read_lock/rcu_read_unlock nest, counted per context in
 * X_RCU (low byte; rcu_read_lock_bh in the next byte). With `preempt:
 * 'none'` (TREE_RCU, CONFIG_PREEMPT_RCU=n) rcu_read_lock is
 * preempt_disable; with `preempt: 'full'` (PREEMPT_RCU) a task's reader
 * only counts current->rcu_read_lock_nesting: it may be preempted, and
 * sleeping in it is "BUG: sleeping function called from invalid context …
 * RCU nest depth" (scheduler.ts mightSleep). In an interrupt frame it is
 * preempt_disable either way (the frame cannot be preempted anyway).
 * rcu_read_lock_bh is local_bh_disable plus the nesting; its unlock is a
 * softirq run point. rcu_dereference checks lockdep's rcu_read_lock_held()
 * (only rcu_read_lock counts: "suspicious rcu_dereference_check() usage"),
 * rcu_dereference_bh its rcu_read_lock_bh_held() (in_softirq() ||
 * irqs_disabled()); rcu_assign_pointer is a plain store.
 *
 * Grace periods. A request (synchronize_rcu, call_rcu, kfree_rcu) records
 * whom it waits for: each CPU that is inside a reader now, and, under
 * PREEMPT_RCU, each task inside rcu_read_lock now. After every step
 * (Mechanism.afterStep) each CPU found outside any reader, and each task
 * whose nesting is back to 0, is crossed off: that reader has ended (a CPU
 * cannot leave a reader and come back without a step in between). When
 * nobody is left the grace period may end:
 *  - synchronize_rcu (task context, sleeps) wakes at once: its task runs
 *    at any later scheduling point; with nobody to wait for it returns at
 *    once;
 *  - a call_rcu/kfree_rcu callback waits for the grace-period tick, a
 *    choice on its CPU at any later point where irqs are on, which raises
 *    RCU_SOFTIRQ there (rcu_sched_clock_irq → invoke_rcu_core); rcu_core
 *    then runs the ready callbacks in softirq context on that CPU, in any
 *    order (the kernel's is its segmented list's; any order is a sound
 *    over-approximation), kfree_rcu's free among them.
 * Every real grace period ends later than the model's earliest one, never
 * earlier: whatever the kernel may free, the model frees at some point too,
 * and a reader that may still hold an object when it is freed is a touch
 * after kfree (lifetime.ts): a use-after-free (B40).
 *
 * rcu_barrier (sleeps) waits until every callback queued has run. A second
 * call_rcu of a head still queued is "Double-freed CB". Freeing a struct
 * whose rcu_head is queued is ODEBUG "free active" (debug objects of
 * rcu_head).
 *
 * Not modelled: SRCU, Tasks RCU, expedited grace periods (the same
 * guarantee, sooner), offloaded callbacks (rcu_nocbs: rcuo kthreads, task
 * context), kfree_rcu's batching in a work item (the free happens after
 * the grace period, in softirq here), the pre-4.20 separate flavours,
 * CPU stall warnings.
 */
import {
  C_BH, C_DEPTH, C_HARDIRQ, C_IRQS_OFF, C_PREEMPT, C_SERVING, ContextStatus, FrameKind, T_CHANNEL, X_AUX1, X_KIND, X_PC, X_PHASE, X_RCU, X_STATUS,
} from './layout.ts';
import { evaluate as evaluateValue } from './data.ts';
import type { Machine } from './machine.ts';
import type { Program } from './program.ts';
import { INSN_WIDTH } from './program.ts';
import { freeStruct, freesStruct } from './lifetime.ts';
import { opcodeOf } from './registry.ts';
import { block, Chan, channel, mightSleep, preemptDec, sleeps, wakeAll, wakes } from './scheduler.ts';
import type { ChoiceSource, FootprintBuilder, Mechanism, ObjectKindSpec, OperandSpec, OpSemantics, WaitEdge } from './semantics.ts';
import { bhEnable, raise, softirqsAtIrqExit } from './softirq.ts';

export const RCU_SOFTIRQ = 9;

// rcu_head words
const R_STATE = 0; // HeadState
const R_CPU = 1; // cpu + 1 whose callback list holds it
const R_MASK = 2; // readers still to end: bits 0..7 CPUs, 8.. tasks (PREEMPT_RCU)
const R_CB = 3; // callback entry + 1, or -(struct + 1) for kfree_rcu
const R_RUN = 4; // ctx + 1 of the rcu_core frame running its callback
const HEAD_SIZE = 5;

const enum HeadState {
  Idle = 0,
  /** Queued, waiting for its grace period (R_MASK). */
  Queued = 1,
  /** The grace period ended and RCU_SOFTIRQ was raised: rcu_core runs it. */
  Ready = 2,
  Running = 3,
}

const TASK_SHIFT = 8;
/** Tasks a grace period can name (bits above the CPUs in a 31-bit mask). */
const MAX_RCU_TASKS = 31 - TASK_SHIFT;
/** The channel rcu_barrier sleeps on (object id past any task's). */
const BARRIER = 0xffff;

const headCount = (m: Machine): number => m.p.objects['rcu_head']?.length ?? 0;
const headOff = (m: Machine, id: number): number => m.objOff('rcu_head', id, HEAD_SIZE);
const headName = (m: Machine, id: number): string => `&${m.p.objects['rcu_head']![id]!.name}`;
const nest = (m: Machine, ctx: number): number => m.s[m.ctxOff(ctx) + X_RCU]! & 0xff;
const bhNest = (m: Machine, ctx: number): number => (m.s[m.ctxOff(ctx) + X_RCU]! >> 8) & 0xff;
const textOf = (m: Machine, ctx: number): string => m.p.text[m.s[m.ctxOff(ctx) + X_PC]! / INSN_WIDTH]!;
const whereOf = (m: Machine, ctx: number): string => m.p.where[m.s[m.ctxOff(ctx) + X_PC]! / INSN_WIDTH]!;
/** PREEMPT_RCU task reader: a task under preempt 'full' counts its own nesting and stays preemptible. */
const preemptibleReader = (m: Machine, ctx: number): boolean => m.p.preempt === 'full' && m.isTask(ctx);

/** Whether CPU `c` is inside a read-side critical section now (any kind, 4.20+ consolidated flavours). */
function cpuInReader(m: Machine, c: number): boolean {
  const co = m.cpuOff(c);
  const s = m.s;
  return s[co + C_PREEMPT]! > 0 || s[co + C_BH]! > 0 || s[co + C_SERVING]! > 0 || s[co + C_HARDIRQ]! > 0
    || s[co + C_IRQS_OFF] !== 0 || s[co + C_DEPTH]! > 0;
}

/** Whom a grace period requested now waits for. */
function readers(m: Machine): number {
  let mask = 0;
  for (let c = 0; c < m.p.ncpu; c++) if (cpuInReader(m, c)) mask |= 1 << c;
  if (m.p.preempt === 'full') {
    for (let t = 0; t < m.L.ntasks; t++) {
      if (nest(m, t) === 0) continue;
      if (t >= MAX_RCU_TASKS) throw new Error(`kdefer limit: task ${m.contextName(t)} is an RCU reader; grace periods track the first ${MAX_RCU_TASKS} tasks`);
      mask |= 1 << (t + TASK_SHIFT);
    }
  }
  return mask;
}

/** Names of the readers in a mask, for labels and wait reasons. */
function readerNames(m: Machine, mask: number): string {
  const out: string[] = [];
  for (let c = 0; c < m.p.ncpu; c++) if (mask & (1 << c)) out.push(`cpu${c}`);
  for (let t = 0; t < MAX_RCU_TASKS; t++) if (mask & (1 << (t + TASK_SHIFT))) out.push(m.contextName(t));
  return out.join(', ');
}

/** The contexts a grace period's wait depends on: the top of each CPU, and each task. */
function readerContexts(m: Machine, mask: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < m.p.ncpu; c++) {
    if ((mask & (1 << c)) === 0) continue;
    const top = m.top(c);
    if (top >= 0) out.push(top);
  }
  for (let t = 0; t < MAX_RCU_TASKS; t++) if (mask & (1 << (t + TASK_SHIFT))) out.push(t);
  return out;
}

/** A task sleeping in synchronize_rcu, with its grace period's mask in X_AUX1. */
const inSynchronize = (m: Machine, t: number): boolean => {
  const o = m.ctxOff(t);
  return m.s[o + X_STATUS] === ContextStatus.Blocked && m.s[o + T_CHANNEL] === channel(Chan.Rcu, t);
};

/** Mechanism.afterStep: cross off the readers that have ended; wake synchronize_rcu waiters with nobody left. */
function noteQuiescentStates(m: Machine): void {
  const now = readers(m);
  for (let h = 0, n = headCount(m); h < n; h++) {
    const o = headOff(m, h);
    if (m.s[o + R_STATE] !== HeadState.Queued) continue;
    const mask = m.s[o + R_MASK]!;
    if ((mask & now) !== mask) m.w(o + R_MASK, mask & now);
  }
  for (let t = 0; t < m.L.ntasks; t++) {
    if (!inSynchronize(m, t)) continue;
    const o = m.ctxOff(t);
    const mask = m.s[o + X_AUX1]!;
    if ((mask & now) === mask) continue;
    m.w(o + X_AUX1, mask & now);
    if ((mask & now) === 0) wakeAll(m, channel(Chan.Rcu, t));
  }
}

/** Whether a program needs the after-step bookkeeping: it has rcu_heads or calls synchronize_rcu. */
function needsGracePeriods(p: Program): boolean {
  if ((p.objects['rcu_head']?.length ?? 0) > 0) return true;
  const ops = ['synchronize_rcu', 'synchronize_net'].map((n) => opcodeOf(n));
  for (let pc = 0; pc < p.code.length; pc += INSN_WIDTH) if (ops.includes(p.code[pc])) return true;
  return false;
}

// ------------------------------------------------------------ footprints
//
// A program with grace periods (rcu_heads, synchronize_rcu) keeps books
// after every step (noteQuiescentStates): any step that ends a reader may
// cross it off and wake a synchronize_rcu sleeper on another CPU, which no
// single op's footprint covers, so the partial-order reduction takes every
// footprint there as everything (model/explore/por.ts). The footprints
// below are exact for a program without grace periods (readers,
// rcu_dereference, rcu_assign_pointer: the nesting X_RCU is then read by
// its own context only, like its registers) and, for the ops that only
// exist with grace periods, state what they touch themselves.

/** What readers() reads: every CPU's counts, irq flag and depth, and every task's nesting (PREEMPT_RCU). */
function readsReaders(f: FootprintBuilder): void {
  f.read(f.anyCpu());
  f.read(f.anyTask());
}

// ------------------------------------------------------------ readers

function lockOp(name: 'rcu_read_lock' | 'rcu_read_lock_bh'): OpSemantics {
  const bh = name === 'rcu_read_lock_bh';
  return {
    name,
    // This CPU's preempt or bh count (and the context's own nesting).
    footprint(f) {
      f.write(f.ownCpu());
    },
    exec(m, cpu, ctx) {
      const o = m.ctxOff(ctx);
      const co = m.cpuOff(cpu);
      if (bh) {
        m.w(co + C_BH, m.s[co + C_BH]! + 1); // local_bh_disable
        m.w(o + X_RCU, m.s[o + X_RCU]! + (1 << 8));
      } else {
        if (!preemptibleReader(m, ctx)) m.w(co + C_PREEMPT, m.s[co + C_PREEMPT]! + 1); // __rcu_read_lock = preempt_disable
        m.w(o + X_RCU, m.s[o + X_RCU]! + 1);
      }
      m.advance(ctx);
    },
  };
}

function unlockOp(name: 'rcu_read_unlock' | 'rcu_read_unlock_bh'): OpSemantics {
  const bh = name === 'rcu_read_unlock_bh';
  return {
    name,
    // This CPU's preempt or bh count; rcu_read_unlock_bh is a softirq run point here (local_bh_enable).
    footprint(f) {
      f.write(f.ownCpu());
    },
    exec(m, cpu, ctx) {
      const o = m.ctxOff(ctx);
      if ((bh ? bhNest(m, ctx) : nest(m, ctx)) === 0) {
        m.fail('lock-misuse', `WARNING: bad unlock balance detected! ${m.contextName(ctx)} is trying to release lock (${bh ? 'rcu_read_lock_bh' : 'rcu_read_lock'}) at ${whereOf(m, ctx)}: no matching ${bh ? 'rcu_read_lock_bh' : 'rcu_read_lock'}`, cpu, ctx);
        return;
      }
      if (bh) {
        m.w(o + X_RCU, m.s[o + X_RCU]! - (1 << 8));
        m.advance(ctx);
        bhEnable(m, cpu, ctx, 'rcu_read_unlock_bh()'); // local_bh_enable: a softirq run point
        return;
      }
      m.w(o + X_RCU, m.s[o + X_RCU]! - 1);
      if (!preemptibleReader(m, ctx) && !preemptDec(m, cpu, ctx)) return;
      m.advance(ctx);
    },
  };
}

/** rcu_dereference / _bh / _protected: a load, with lockdep-RCU's check. */
function dereferenceOp(name: 'rcu_dereference' | 'rcu_dereference_bh' | 'rcu_dereference_protected'): OpSemantics {
  const held = (m: Machine, cpu: number, ctx: number): boolean => {
    if (name === 'rcu_dereference_protected') return true;
    // rcu_read_lock_held(): lock_is_held(&rcu_lock_map); rcu_read_lock_bh_held(): in_softirq() || irqs_disabled().
    if (name === 'rcu_dereference') return nest(m, ctx) > 0;
    const co = m.cpuOff(cpu);
    return m.s[co + C_SERVING]! > 0 || m.s[co + C_BH]! > 0 || m.irqsOff(cpu);
  };
  return {
    name,
    operands: [{ kind: 'reg-def', field: 'reg' }, { kind: 'var', field: 'var' }],
    // The pointer; lockdep-RCU's check reads the context's nesting (its own) or this CPU's bh state and irq flag.
    footprint(f, _a, b) {
      f.read(f.variable(b));
      if (name === 'rcu_dereference_bh') f.read(f.ownCpu());
    },
    exec(m, cpu, ctx, a, b) {
      if (!held(m, cpu, ctx)) {
        m.fail('assertion', `WARNING: suspicious RCU usage\n${whereOf(m, ctx)}: suspicious ${name === 'rcu_dereference' ? 'rcu_dereference_check' : 'rcu_dereference_bh_check'}() usage! ${m.contextName(ctx)} holds no ${name === 'rcu_dereference' ? 'rcu_read_lock' : 'rcu_read_lock_bh (and is not in softirq or irqs-off context)'}: ${textOf(m, ctx)}`, cpu, ctx);
        return;
      }
      m.setReg(ctx, a, m.s[m.L.varBase + b]!);
      m.advance(ctx);
    },
  };
}

// ------------------------------------------------------------ updaters

const HEAD: OperandSpec = { kind: 'object', field: 'obj', objectKind: 'rcu_head' };

/** call_rcu / kfree_rcu: queue `head` on this CPU, its grace period waiting for the readers of now. */
function queueHead(m: Machine, cpu: number, ctx: number, head: number, cb: number, what: string): boolean {
  const o = headOff(m, head);
  if (m.s[o + R_STATE] !== HeadState.Idle) {
    // __call_rcu_common with CONFIG_DEBUG_OBJECTS_RCU_HEAD: debug_rcu_head_queue fails.
    m.fail('use-after-free', `WARNING: CPU: ${cpu} at kernel/rcu/tree.c __call_rcu_common: __call_rcu(): Double-freed CB ${headName(m, head)}: ${what} by ${m.contextName(ctx)} while it is still queued`, cpu, ctx);
    return false;
  }
  m.w(o + R_STATE, HeadState.Queued);
  m.w(o + R_CPU, cpu + 1);
  m.w(o + R_MASK, readers(m));
  m.w(o + R_CB, cb);
  return true;
}

/** Whether any callback is queued, waiting to run, or running (what rcu_barrier waits for). */
function callbacksPending(m: Machine): boolean {
  for (let h = 0, n = headCount(m); h < n; h++) if (m.s[headOff(m, h) + R_STATE] !== HeadState.Idle) return true;
  return false;
}

function synchronizeOp(name: 'synchronize_rcu' | 'synchronize_net'): OpSemantics {
  return {
    name,
    // might_sleep and whom the grace period waits for (every CPU and task); it sleeps.
    footprint(f) {
      sleeps(f);
      readsReaders(f);
    },
    exec(m, cpu, ctx) {
      const o = m.ctxOff(ctx);
      if (m.s[o + X_PHASE] === 0) {
        if (!mightSleep(m, cpu, ctx, `${name}()`)) return;
        const mask = readers(m);
        if (mask !== 0) {
          m.w(o + X_AUX1, mask);
          m.w(o + X_PHASE, 1);
          block(m, cpu, ctx, channel(Chan.Rcu, ctx));
          return;
        }
      } else if (m.s[o + X_AUX1] !== 0) {
        block(m, cpu, ctx, channel(Chan.Rcu, ctx));
        return;
      }
      m.w(o + X_AUX1, 0);
      m.advance(ctx);
    },
    label(m, _cpu, ctx) {
      const o = m.ctxOff(ctx);
      if (m.s[o + X_PHASE] !== 0) return m.s[o + X_AUX1] === 0 ? `${name}(): grace period over` : `${name}(): still waiting for ${readerNames(m, m.s[o + X_AUX1]!)}`;
      const mask = readers(m);
      return mask === 0 ? `${name}(): no reader to wait for, grace period over` : `${name}(): sleeps until the readers on ${readerNames(m, mask)} have ended`;
    },
    waitsFor(m, _cpu, ctx): WaitEdge {
      const mask = m.s[m.ctxOff(ctx) + X_AUX1]!;
      return { on: readerContexts(m, mask), why: `${m.contextName(ctx)}: ${name}() sleeps until the readers that started before it have ended: ${readerNames(m, mask) || 'none left'}` };
    },
  };
}

export const RCU_OPS: readonly OpSemantics[] = [
  lockOp('rcu_read_lock'),
  unlockOp('rcu_read_unlock'),
  lockOp('rcu_read_lock_bh'),
  unlockOp('rcu_read_unlock_bh'),
  dereferenceOp('rcu_dereference'),
  dereferenceOp('rcu_dereference_bh'),
  dereferenceOp('rcu_dereference_protected'),
  {
    // rcu_assign_pointer(p, v): smp_store_release, a plain store in this model.
    name: 'rcu_assign_pointer',
    operands: [{ kind: 'var', field: 'var' }, { kind: 'expr', field: 'value' }],
    footprint(f, a, b) {
      f.write(f.variable(a));
      f.expr(b);
    },
    exec(m, cpu, ctx, a, b) {
      m.w(m.L.varBase + a, evaluateValue(m, cpu, ctx, b));
      m.advance(ctx);
    },
  },
  synchronizeOp('synchronize_rcu'),
  // synchronize_net() = synchronize_rcu() (or the expedited form under RTNL: the same guarantee).
  synchronizeOp('synchronize_net'),
  {
    // call_rcu(head, func): any context, never blocks.
    name: 'call_rcu',
    operands: [HEAD, { kind: 'fn', field: 'fn' }],
    // The head, and whom its grace period waits for.
    footprint(f, a) {
      f.write(f.object('rcu_head', a));
      readsReaders(f);
    },
    exec(m, cpu, ctx, a, b) {
      if (queueHead(m, cpu, ctx, a, b + 1, `call_rcu(${headName(m, a)})`)) m.advance(ctx);
    },
    label(m, _cpu, ctx) {
      const mask = readers(m);
      return `${textOf(m, ctx)}: queued on this CPU${mask ? `, waits for ${readerNames(m, mask)}` : ', no reader to wait for'}`;
    },
  },
  {
    // kfree_rcu(ptr, rhf): kvfree_call_rcu, the free after a grace period.
    name: 'kfree_rcu',
    operands: [{ kind: 'object', field: 'target', objectKind: 'struct' }, HEAD],
    // The head, and whom its grace period waits for (the struct goes later, in rcu_do_batch).
    footprint(f, _a, b) {
      f.write(f.object('rcu_head', b));
      readsReaders(f);
    },
    exec(m, cpu, ctx, a, b) {
      if (queueHead(m, cpu, ctx, b, -(a + 1), `kfree_rcu(${m.p.objects['struct']![a]!.name})`)) m.advance(ctx);
    },
    label(m, _cpu, ctx) {
      const mask = readers(m);
      return `${textOf(m, ctx)}: queued on this CPU${mask ? `, waits for ${readerNames(m, mask)}` : ', no reader to wait for'}`;
    },
  },
  {
    // rcu_barrier(): sleeps until every callback queued so far has run.
    name: 'rcu_barrier',
    // might_sleep; whether any head is still queued; it sleeps.
    footprint(f) {
      sleeps(f);
      f.read(f.anyObject('rcu_head'));
    },
    exec(m, cpu, ctx) {
      const o = m.ctxOff(ctx);
      if (m.s[o + X_PHASE] === 0 && !mightSleep(m, cpu, ctx, 'rcu_barrier()')) return;
      if (callbacksPending(m)) {
        m.w(o + X_PHASE, 1);
        block(m, cpu, ctx, channel(Chan.Rcu, BARRIER));
        return;
      }
      m.advance(ctx);
    },
    waitsFor(m, _cpu, ctx) {
      const on: number[] = [];
      for (let h = 0, n = headCount(m); h < n; h++) {
        const o = headOff(m, h);
        if (m.s[o + R_STATE] === HeadState.Running) on.push(m.s[o + R_RUN]! - 1);
        else if (m.s[o + R_STATE] === HeadState.Queued) on.push(...readerContexts(m, m.s[o + R_MASK]!));
      }
      return { on: [...new Set(on)], why: `${m.contextName(ctx)}: rcu_barrier() sleeps until every queued RCU callback has run` };
    },
  },
  {
    // rcu_core → rcu_do_batch (RCU_SOFTIRQ): run this CPU's ready callbacks, one step each.
    name: 'rcu_do_batch',
    internal: true,
    // RCU_SOFTIRQ on this CPU: every head (which are ready here, which this frame runs), rcu_barrier's
    // sleepers woken, and any struct a kfree_rcu frees.
    footprint(f) {
      f.write(f.anyObject('rcu_head'));
      wakes(f);
      const structs = f.program.objects['struct']?.length ?? 0;
      for (let sid = 0; sid < structs; sid++) freesStruct(f, sid);
    },
    variants(m, cpu) {
      return Math.max(1, readyOn(m, cpu).length);
    },
    exec(m, cpu, ctx, _a, _b, _c, variant) {
      const done = runningIn(m, ctx);
      if (done >= 0) finishHead(m, done);
      const ready = readyOn(m, cpu);
      if (ready.length === 0) {
        m.returnFromCall(ctx);
        return;
      }
      const h = ready[variant]!;
      const o = headOff(m, h);
      const cb = m.s[o + R_CB]!;
      if (cb < 0) {
        // debug_rcu_head_unqueue, then the free: the head is no longer active when its struct goes.
        finishHead(m, h);
        freeStruct(m, cpu, ctx, -cb - 1, `kfree_rcu(${m.p.objects['struct']![-cb - 1]!.name})`);
        return;
      }
      m.w(o + R_STATE, HeadState.Running);
      m.w(o + R_RUN, ctx + 1);
      // The callback runs inside RCU_SOFTIRQ: its leaks are the softirq's, checked when the vector returns.
      m.callFrom(ctx, cb - 1);
    },
    label(m, cpu, ctx, _a, _b, _c, variant) {
      const done = runningIn(m, ctx);
      const ready = readyOn(m, cpu).filter((h) => h !== done);
      const head = done >= 0 ? `${headName(m, done)}'s callback returned; ` : '';
      if (ready.length === 0) return `rcu_do_batch: ${head}no callback ready, done`;
      const h = ready[variant]!;
      const cb = m.s[headOff(m, h) + R_CB]!;
      return `rcu_do_batch: ${head}invoke ${headName(m, h)}: ${cb < 0 ? `kfree(${m.p.objects['struct']![-cb - 1]!.name})` : `${functionAt(m, cb - 1)}()`}`;
    },
  },
];


/** The design function whose code starts at `pc` (compiled as `function fn[0]`, or `function fn: end` when empty). */
function functionAt(m: Machine, pc: number): string {
  return /^function (.+?)(?:\[\d+\]|: end)/.exec(m.p.where[pc / INSN_WIDTH]!)?.[1] ?? 'func';
}

/** The heads whose grace period ended and whose RCU_SOFTIRQ ran on `cpu`. */
function readyOn(m: Machine, cpu: number): number[] {
  const out: number[] = [];
  for (let h = 0, n = headCount(m); h < n; h++) {
    const o = headOff(m, h);
    if (m.s[o + R_STATE] === HeadState.Ready && m.s[o + R_CPU] === cpu + 1) out.push(h);
  }
  return out;
}

/** The head whose callback frame `ctx` is running, or -1. */
function runningIn(m: Machine, ctx: number): number {
  for (let h = 0, n = headCount(m); h < n; h++) if (m.s[headOff(m, h) + R_RUN] === ctx + 1) return h;
  return -1;
}

function finishHead(m: Machine, h: number): void {
  const o = headOff(m, h);
  m.zero(o, o + HEAD_SIZE);
  wakeAll(m, channel(Chan.Rcu, BARRIER));
}


/** Heads of `cpu` whose grace period is over, waiting for the tick to raise RCU_SOFTIRQ. */
function gpOver(m: Machine, cpu: number): number[] {
  const out: number[] = [];
  for (let h = 0, n = headCount(m); h < n; h++) {
    const o = headOff(m, h);
    if (m.s[o + R_STATE] === HeadState.Queued && m.s[o + R_MASK] === 0 && m.s[o + R_CPU] === cpu + 1) out.push(h);
  }
  return out;
}

/**
 * The grace period's end reaches the callbacks' CPU: its tick
 * (rcu_sched_clock_irq → invoke_rcu_core) raises RCU_SOFTIRQ, which runs at
 * that interrupt's irq_exit if it can. A hardirq, so only where irqs are on.
 */
const RCU_GP_END: ChoiceSource = {
  name: 'rcu_gp_end',
  active: (p) => (p.objects['rcu_head']?.length ?? 0) > 0,
  // This CPU's irq flag, the heads queued here; RCU_SOFTIRQ raised and run at this tick's irq_exit.
  footprint(f) {
    f.write(f.ownCpu());
    f.write(f.anyObject('rcu_head'));
    f.raises(RCU_SOFTIRQ);
  },
  collect(m, cpu, out) {
    if (headCount(m) === 0 || m.irqsOff(cpu) || gpOver(m, cpu).length === 0) return;
    out.push(m.choice(RCU_GP_END, cpu, 0, 0));
  },
  apply(m, cpu) {
    for (const h of gpOver(m, cpu)) m.w(headOff(m, h) + R_STATE, HeadState.Ready);
    raise(m, cpu, RCU_SOFTIRQ);
    softirqsAtIrqExit(m, cpu);
  },
  label(m, cpu) {
    return `rcu: grace period over for ${gpOver(m, cpu).map((h) => headName(m, h)).join(', ')}; the tick raises RCU_SOFTIRQ`;
  },
};

const RCU_HEADS: ObjectKindSpec = {
  kind: 'rcu_head',
  field: 'rcu_heads',
  size: HEAD_SIZE,
  ctype: 'rcu_head',
  declKeys: [],
  declare(_name, decl, d) {
    if (typeof decl !== 'object' || decl === null || Array.isArray(decl)) return d.fail('declare an rcu_head as {}');
    return { init: [0, 0, 0, 0, 0] };
  },
  // debug_rcu_head_queue at call_rcu, debug_rcu_head_unqueue just before rcu_do_batch invokes the callback.
  activeState(m, id) {
    const st = m.s[headOff(m, id) + R_STATE]!;
    if (st === HeadState.Queued) return '(call_rcu pending: waiting for a grace period)';
    if (st === HeadState.Ready) return '(call_rcu pending: grace period over, not yet invoked)';
    return null;
  },
};

/** `rcu p->rcu` for an rcu_core frame running that head's callback. */
function rcuFrameName(m: Machine, ctx: number): string | null {
  const kind = m.s[m.ctxOff(ctx) + X_KIND]!;
  if (kind !== FrameKind.Softirq && kind !== FrameKind.Ksoftirqd) return null;
  const h = runningIn(m, ctx);
  return h < 0 ? null : `rcu ${m.p.objects['rcu_head']![h]!.name}`;
}

export const RCU: Mechanism = {
  name: 'rcu',
  // kernel/rcu/tree.c: PREEMPT_RT defaults to use_softirq = 0: callbacks run in the rcuc/N kthreads.
  rtUnmodelled: 'on PREEMPT_RT RCU callbacks run in the rcuc/N kthreads (use_softirq = 0), not in RCU_SOFTIRQ',
  ops: RCU_OPS,
  objects: [RCU_HEADS],
  choices: [RCU_GP_END],
  builtins: [{ name: 'rcu_core', ops: ['rcu_do_batch', 'ret'], live: (shape) => shape.objectCount('rcu_head') > 0 }],
  softirqActions(shape) {
    return shape.objectCount('rcu_head') > 0 ? [{ vec: RCU_SOFTIRQ, builtin: 'rcu_core' }] : [];
  },
  afterStep: { needs: needsGracePeriods, run: noteQuiescentStates },
  frameName: rcuFrameName,
};
