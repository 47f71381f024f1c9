/**
 * 2.2/2.4 bottom halves and task queues (shared/kernel-semantics.md
 * §3.3–3.4; 2.4 kernel/softirq.c `bh_action`, `global_bh_lock`, `init_bh`,
 * `mark_bh`; include/linux/tqueue.h `queue_task`, `run_task_queue`,
 * kernel/softirq.c `__run_task_queue`; kernel/context.c `schedule_task`,
 * `context_thread` (keventd), `flush_scheduled_tasks`). Only in the '2.4'
 * profile (flags.globalBH): they were removed in 2.5.
 *
 * Bottom halves. 2.4 reimplemented the 32 BH slots as HI tasklets,
 * bh_task_vec[nr], whose func is bh_action(nr): mark_bh(nr) is
 * tasklet_hi_schedule(&bh_task_vec[nr]). bh_action takes global_bh_lock
 * with spin_trylock, and if that fails re-marks the BH to try again later;
 * so at most one BH handler runs in the whole system at a time, and a BH
 * never runs concurrently with itself (its tasklet's RUN bit). A BH is an
 * entry of tasklet.ts (so it shares the HI lists and the action loop) with
 * one more word: the context that holds global_bh_lock for it while its
 * handler runs. A re-mark in ksoftirqd is parked like any requeue (see
 * tasklet.ts) until global_bh_lock is released.
 *
 * The kernel's own BHs exist in every design (they are inert until marked):
 * TIMER_BH, whose handler is the timer mechanism's builtin
 * `run_timer_list_bh` (2.4 timers run in TIMER_BH; the timer tick marks it
 * with markBh), TQUEUE_BH (runs tq_timer; the tick marks it while tq_timer
 * is non-empty, see tqTimerActive) and IMMEDIATE_BH (runs tq_immediate; the
 * queuer must mark_bh it). A design installs its own handlers with its
 * `bhs` field (init_bh), e.g. `bhs: { NET_BH: 'net_bh' }`.
 *
 * Task queues. A tq_struct has a `sync` bit: queue_task test-and-sets it and
 * appends the entry (FIFO, as in 2.4; 2.2 was LIFO) under tqueue_lock with
 * irqs saved, so an entry is never queued twice. run_task_queue splices the
 * whole queue out under the lock and then, per entry, clears sync and calls
 * the routine, in the caller's context: BH context for tq_immediate
 * (IMMEDIATE_BH) and tq_timer (TQUEUE_BH), process context for tq_disk (run
 * explicitly) and for schedule_task's queue, run by the keventd kernel
 * thread, which may sleep. An entry that requeues itself runs at the next
 * run.
 *
 * Not modelled: the global cli() (hardirq_trylock in bh_action always
 * succeeds; no design op takes the global irq lock), 2.2's do_bottom_half()
 * at irq return and in schedule() and start_bh_atomic(), 2.2's tq_scheduler
 * run from schedule(), disable_bh()/enable_bh() and remove_bh(). keventd is
 * one thread pinned to cpu0 (the real one could run on any CPU).
 */
import { BH_NAMES } from '../dsl/bh.ts';
import { X_CALLS, X_HELD, X_PC } from './layout.ts';
import type { Machine } from './machine.ts';
import { block, Chan, channel, mightSleep, wakeAll } from './scheduler.ts';
import type { BuiltinCode, Mechanism, ObjectKindSpec, OpSemantics } from './semantics.ts';
import { HI_SOFTIRQ } from './softirq.ts';
import {
  BH_SIZE, E_STATE, ENTRY_WORDS, SCHED, bhEntry, callbackLeak, continueOrReturn, entryOff, requeueEntry, returnFromCall,
  scheduleEntry, unlockEntry,
} from './tasklet.ts';

// ------------------------------------------------------------ BH slots

/** TIMER_BH's slot (2.4 include/linux/interrupt.h). */
export const TIMER_BH = 0;
/** TQUEUE_BH's slot: runs tq_timer. */
export const TQUEUE_BH = 1;
/** IMMEDIATE_BH's slot: runs tq_immediate. */
export const IMMEDIATE_BH = 9;

/** BH word: the context that holds global_bh_lock and runs this BH's handler, ctx+1. */
const B_LOCKED = ENTRY_WORDS;

/** The kernel's own BHs are declared with this marker, in every design. */
const KERNEL_BH = Object.freeze({ kernel: 'bh' });

const bhList = (m: Machine) => m.p.objects['bh'] ?? [];
const bhOff = (m: Machine, bh: number): number => entryOff(m, bhEntry(m, bh));
/** The BH id of a tasklet.ts entry that is a BH. */
export const bhIdOfEntry = (m: Machine, e: number): number => e - (m.p.objects['tasklet']?.length ?? 0);
export const bhName = (m: Machine, bh: number): string => bhList(m)[bh]!.name;

/** Whether some bh_action holds global_bh_lock. */
export function globalBhHeld(m: Machine): boolean {
  const list = bhList(m);
  for (let bh = 0; bh < list.length; bh++) if (m.s[bhOff(m, bh) + B_LOCKED] !== 0) return true;
  return false;
}

/** Entry pc of BH `bh`'s handler (bh_base[nr]), or -1 if the slot has none in this program. */
function handlerEntry(m: Machine, bh: number): number {
  const obj = bhList(m)[bh]!;
  const own = obj.attrs['func'];
  if (own !== undefined) return own;
  switch (obj.attrs['slot']) {
    case TIMER_BH: return m.p.builtins['run_timer_list_bh'] ?? -1;
    case TQUEUE_BH: return m.p.builtins['bh_tq_timer'] ?? -1;
    case IMMEDIATE_BH: return m.p.builtins['bh_tq_immediate'] ?? -1;
    default: return -1;
  }
}

/** Release global_bh_lock held for BH `bh`; parked BHs may run now (via unlockEntry's unparkReady). */
function releaseGlobal(m: Machine, bh: number): void {
  m.w(bhOff(m, bh) + B_LOCKED, 0);
}

/**
 * bh_action(nr), called by the HI action with bh_task_vec[nr]'s RUN held
 * and SCHED cleared: spin_trylock(&global_bh_lock), else mark_bh(nr) again
 * (resched); hardirq_trylock (the global cli() is not modelled); run the
 * handler; unlock. The handler is called as design code; its return comes
 * back to the action loop, which calls bhHandlerReturned.
 */
export function bhAction(m: Machine, cpu: number, ctx: number, bh: number): void {
  const e = bhEntry(m, bh);
  if (globalBhHeld(m)) {
    // resched: mark_bh(nr) = tasklet_hi_schedule (SCHED was just cleared), then tasklet_unlock.
    const o = entryOff(m, e);
    m.w(o + E_STATE, m.s[o + E_STATE]! | SCHED);
    requeueEntry(m, cpu, ctx, e, HI_SOFTIRQ);
    unlockEntry(m, e);
    continueOrReturn(m, cpu, ctx);
    return;
  }
  m.w(bhOff(m, bh) + B_LOCKED, ctx + 1);
  const handler = handlerEntry(m, bh);
  if (handler < 0) {
    // bh_base[nr] == NULL: nothing to run.
    releaseGlobal(m, bh);
    unlockEntry(m, e);
    continueOrReturn(m, cpu, ctx);
    return;
  }
  m.snapshotEntry(cpu, ctx);
  m.callFrom(ctx, handler);
}

/** What bhAction is about to do, for the action's label. */
export function bhActionText(m: Machine, bh: number): string {
  if (globalBhHeld(m)) return `bh_action: global_bh_lock is busy, mark_bh(${bhName(m, bh)}) again`;
  const handler = handlerEntry(m, bh);
  if (handler < 0) return 'bh_action: no handler installed';
  const fn = m.p.design.bhs?.[bhName(m, bh) as keyof NonNullable<typeof m.p.design.bhs>];
  return `bh_action: spin_trylock(&global_bh_lock), call ${fn ?? handlerName(m, bh)}()`;
}

/** The kernel's handler of a kernel BH slot, by name. */
function handlerName(m: Machine, bh: number): string {
  switch (bhList(m)[bh]!.attrs['slot']) {
    case TIMER_BH: return 'timer_bh';
    case TQUEUE_BH: return 'tqueue_bh';
    case IMMEDIATE_BH: return 'immediate_bh';
    default: return 'handler';
  }
}

/** The handler of `bh` returned to bh_action: leak check (B21), hardirq_endlock, spin_unlock(&global_bh_lock). */
export function bhHandlerReturned(m: Machine, cpu: number, ctx: number, bh: number): boolean {
  const fn = m.p.design.bhs?.[bhName(m, bh) as keyof NonNullable<typeof m.p.design.bhs>];
  const leak = callbackLeak(m, cpu, ctx, `bottom half ${bhName(m, bh)}${fn ? ` (${fn})` : ''}`);
  if (leak) {
    m.fail('lock-leak', leak, cpu, ctx);
    return false;
  }
  releaseGlobal(m, bh);
  return true;
}

/**
 * mark_bh(nr) from kernel code on `cpu` (the 2.4 timer tick marks TIMER_BH,
 * and TQUEUE_BH while tqTimerActive): tasklet_hi_schedule(&bh_task_vec[nr]).
 * Only in the 2.4 profile.
 */
export function markBh(m: Machine, cpu: number, nr: number): void {
  if (!m.p.flags.globalBH) throw new Error(`kdefer internal error: mark_bh(${BH_NAMES[nr]}) outside the 2.4 profile`);
  const bh = bhList(m).findIndex((o) => o.attrs['slot'] === nr);
  if (bh < 0) throw new Error(`kdefer internal error: no bottom half in slot ${nr}`);
  scheduleEntry(m, cpu, bhEntry(m, bh), HI_SOFTIRQ);
}

// ----------------------------------------------------------- task queues

/** The kernel's task queues, by task_queue object id; TQ_CONTEXT is kernel/context.c's private one. */
export const TQ_IMMEDIATE = 0;
export const TQ_TIMER = 1;
export const TQ_DISK = 2;
const TQ_CONTEXT = 3;
const TASK_QUEUE_NAMES = ['tq_immediate', 'tq_timer', 'tq_disk', 'tq_context'] as const;

// tq_struct words
const TQ_SYNC = 0;
/** 0 on no queue; 1 + queue on a queue; -(ctx+1) on the list context ctx spliced out and is running. */
const TQ_QUEUE = 1;
const TQ_POS = 2;
const TQ_SIZE = 3;

/** flush_scheduled_tasks() sleepers wait on this id of the Tasklet channel (context_task_done). */
const FLUSH_CHAN_ID = 0xfff0;

const tqList = (m: Machine) => m.p.objects['tq_struct'] ?? [];
const tqOff = (m: Machine, id: number): number => m.objOff('tq_struct', id, TQ_SIZE);
const tqName = (m: Machine, id: number): string => `&${tqList(m)[id]!.name}`;
const liveQueue = (q: number): number => 1 + q;
const localQueue = (ctx: number): number => -(ctx + 1);

function queueLength(m: Machine, code: number): number {
  let n = 0;
  for (let id = 0, N = tqList(m).length; id < N; id++) if (m.s[tqOff(m, id) + TQ_QUEUE] === code) n++;
  return n;
}
function queueHead(m: Machine, code: number): number {
  for (let id = 0, N = tqList(m).length; id < N; id++) {
    const o = tqOff(m, id);
    if (m.s[o + TQ_QUEUE] === code && m.s[o + TQ_POS] === 0) return id;
  }
  return -1;
}
function queueNames(m: Machine, code: number): string[] {
  const out: { pos: number; name: string }[] = [];
  for (let id = 0, N = tqList(m).length; id < N; id++) {
    const o = tqOff(m, id);
    if (m.s[o + TQ_QUEUE] === code) out.push({ pos: m.s[o + TQ_POS]!, name: tqList(m)[id]!.name });
  }
  return out.sort((a, b) => a.pos - b.pos).map((x) => x.name);
}

/** TQ_ACTIVE(tq_timer): the 2.4 tick (do_timer) marks TQUEUE_BH while this holds. */
export function tqTimerActive(m: Machine): boolean {
  return queueLength(m, liveQueue(TQ_TIMER)) > 0;
}

/** queue_task(): test_and_set_bit(0, &sync); if it was clear, list_add_tail under tqueue_lock. */
function queueTask(m: Machine, id: number, q: number): boolean {
  const o = tqOff(m, id);
  if (m.s[o + TQ_SYNC] !== 0) return false;
  m.w(o + TQ_SYNC, 1);
  m.w(o + TQ_POS, queueLength(m, liveQueue(q)));
  m.w(o + TQ_QUEUE, liveQueue(q));
  return true;
}

/** __run_task_queue(): splice the queue out under tqueue_lock into `ctx`'s local list; how many entries. */
function splice(m: Machine, q: number, ctx: number): number {
  let n = 0;
  for (let id = 0, N = tqList(m).length; id < N; id++) {
    const o = tqOff(m, id);
    if (m.s[o + TQ_QUEUE] === liveQueue(q)) {
      m.w(o + TQ_QUEUE, localQueue(ctx));
      n++;
    }
  }
  return n;
}

/** The keventd task (kernel/context.c context_thread), or -1 if the program has none. */
function keventd(m: Machine): number {
  const entry = m.p.builtins['keventd'];
  return m.p.tasks.findIndex((t) => t.entry === entry);
}

/**
 * wake_up(&context_task_wq): keventd, idle in TASK_INTERRUPTIBLE, becomes
 * runnable. It idles as the kernel's idle kthreads do in the model (see
 * KernelThread.idle): asleep on its own Chan.Worker channel.
 */
function wakeKeventd(m: Machine): void {
  const k = keventd(m);
  if (k >= 0) wakeAll(m, channel(Chan.Worker, k));
}

/** Whether tq_context has work that a flush must wait for: queued entries, or keventd running a batch. */
function keventdBusy(m: Machine): boolean {
  const k = keventd(m);
  if (k < 0) return false;
  return queueLength(m, liveQueue(TQ_CONTEXT)) > 0 || m.s[m.ctxOff(k) + X_PC] !== m.p.builtins['keventd'];
}

const queueOf = (q: number): string => TASK_QUEUE_NAMES[q]!;
const removedIn25 = (flags: { globalBH: boolean }): string | null =>
  flags.globalBH ? null : "old-style bottom halves and task queues were removed in 2.5: use the '2.4' profile";

/** tq_splice_*: the first half of run_task_queue(&tq_…) as a BH handler. */
const spliceOp = (q: number): OpSemantics => ({
  name: `tq_splice_${queueOf(q).slice(3)}`,
  internal: true,
  exec(m, _cpu, ctx) {
    splice(m, q, ctx);
    m.advance(ctx);
  },
  label(m) {
    const names = queueNames(m, liveQueue(q));
    return `run_task_queue(&${queueOf(q)}): ${names.length === 0 ? 'empty' : `splice out ${names.join(', ')}`}`;
  },
});

export const BH_OPS: readonly OpSemantics[] = [
  {
    // mark_bh(nr) (2.4 include/linux/interrupt.h): tasklet_hi_schedule(bh_task_vec + nr).
    name: 'mark_bh',
    operands: [{ kind: 'object', field: 'obj', objectKind: 'bh' }],
    unavailable: removedIn25,
    exec(m, cpu, ctx, a) {
      scheduleEntry(m, cpu, bhEntry(m, a), HI_SOFTIRQ);
      m.advance(ctx);
    },
    label(m, cpu, _ctx, a) {
      return (m.s[bhOff(m, a) + E_STATE]! & SCHED) !== 0
        ? `mark_bh(${bhName(m, a)}): already marked`
        : `mark_bh(${bhName(m, a)}): queued on cpu${cpu}'s HI list, HI raised${m.inInterrupt(cpu) ? '' : ', ksoftirqd woken'}`;
    },
  },
  {
    // queue_task(&tq, &queue): returns 1 if queued, 0 if it already was (sync set).
    name: 'queue_task',
    operands: [
      { kind: 'object', field: 'obj', objectKind: 'tq_struct' },
      { kind: 'object', field: 'target', objectKind: 'task_queue' },
      { kind: 'reg-def', field: 'reg', optional: true },
    ],
    unavailable: removedIn25,
    exec(m, _cpu, ctx, a, b, c) {
      const queued = queueTask(m, a, b);
      if (c >= 0) m.setReg(ctx, c, queued ? 1 : 0);
      m.advance(ctx);
    },
    label(m, _cpu, _ctx, a, b) {
      return m.s[tqOff(m, a) + TQ_SYNC] !== 0
        ? `queue_task(${tqName(m, a)}, &${queueOf(b)}): already queued (sync set), returns 0`
        : `queue_task(${tqName(m, a)}, &${queueOf(b)}): queued, returns 1`;
    },
  },
  {
    // run_task_queue(&queue) in the caller's context: splice, then run each entry (builtin tq_run).
    name: 'run_task_queue',
    operands: [{ kind: 'object', field: 'target', objectKind: 'task_queue' }],
    callsDesignCode: true,
    unavailable: removedIn25,
    exec(m, _cpu, ctx, a) {
      const n = splice(m, a, ctx);
      m.advance(ctx);
      if (n > 0) m.callFrom(ctx, m.p.builtins['tq_run']!);
    },
    label(m, _cpu, _ctx, a) {
      const names = queueNames(m, liveQueue(a));
      return `run_task_queue(&${queueOf(a)}): ${names.length === 0 ? 'empty (TQ_ACTIVE false)' : `splice out ${names.join(', ')}`}`;
    },
  },
  spliceOp(TQ_IMMEDIATE),
  spliceOp(TQ_TIMER),
  {
    // __run_task_queue loop: p->sync = 0 (after wmb), then p->routine(p->data).
    name: 'tq_run_next',
    internal: true,
    exec(m, _cpu, ctx) {
      const id = queueHead(m, localQueue(ctx));
      if (id < 0) {
        // Done: return to the caller (a BH's bh_action, a design's run_task_queue), or on to keventd's next step.
        if (m.s[m.ctxOff(ctx) + X_CALLS]! > 0) returnFromCall(m, ctx);
        else m.advance(ctx);
        return;
      }
      const o = tqOff(m, id);
      const code = localQueue(ctx);
      for (let other = 0, N = tqList(m).length; other < N; other++) {
        const oo = tqOff(m, other);
        if (m.s[oo + TQ_QUEUE] === code && m.s[oo + TQ_POS]! > 0) m.w(oo + TQ_POS, m.s[oo + TQ_POS]! - 1);
      }
      m.w(o + TQ_QUEUE, 0);
      m.w(o + TQ_POS, 0);
      m.w(o + TQ_SYNC, 0);
      m.callFrom(ctx, tqList(m)[id]!.attrs['routine']!);
    },
    label(m, _cpu, ctx) {
      const id = queueHead(m, localQueue(ctx));
      if (id < 0) return 'run_task_queue: done';
      const fn = m.p.design.tq_structs?.[tqList(m)[id]!.name]?.routine ?? 'routine';
      return `run_task_queue: ${tqList(m)[id]!.name}.sync = 0, call ${fn}()`;
    },
  },
  {
    // schedule_task(&tq) (kernel/context.c): queue_task(&tq, &tq_context); wake_up(&context_task_wq).
    name: 'schedule_task',
    operands: [{ kind: 'object', field: 'obj', objectKind: 'tq_struct' }, { kind: 'reg-def', field: 'reg', optional: true }],
    unavailable: removedIn25,
    exec(m, _cpu, ctx, a, b) {
      const queued = queueTask(m, a, TQ_CONTEXT);
      if (b >= 0) m.setReg(ctx, b, queued ? 1 : 0);
      wakeKeventd(m);
      m.advance(ctx);
    },
    label(m, _cpu, _ctx, a) {
      return m.s[tqOff(m, a) + TQ_SYNC] !== 0
        ? `schedule_task(${tqName(m, a)}): already queued, returns 0`
        : `schedule_task(${tqName(m, a)}): queued for keventd, returns 1`;
    },
  },
  {
    // flush_scheduled_tasks(): sleep until keventd has run everything queued before (the dummy-task handshake).
    name: 'flush_scheduled_tasks',
    unavailable: removedIn25,
    exec(m, cpu, ctx) {
      if (!mightSleep(m, cpu, ctx, 'flush_scheduled_tasks()')) return;
      if (!keventdBusy(m)) {
        m.advance(ctx);
        return;
      }
      block(m, cpu, ctx, channel(Chan.Tasklet, FLUSH_CHAN_ID));
    },
    label(m) {
      return keventdBusy(m) ? 'flush_scheduled_tasks(): keventd has work: sleeps until it is done' : 'flush_scheduled_tasks(): nothing scheduled';
    },
    waitsFor(m, _cpu, ctx) {
      const k = keventd(m);
      return {
        on: k >= 0 ? [k] : [],
        why: `${m.contextName(ctx)}: flush_scheduled_tasks() sleeps until keventd has run tq_context${k === ctx ? ' (it is keventd itself)' : ''}`,
      };
    },
  },
  {
    // context_thread(): sleep (TASK_INTERRUPTIBLE) unless TQ_ACTIVE(tq_context), then run_task_queue(&tq_context).
    name: 'keventd_wait',
    internal: true,
    exec(m, cpu, ctx) {
      if (splice(m, TQ_CONTEXT, ctx) > 0) {
        m.advance(ctx);
        return;
      }
      block(m, cpu, ctx, channel(Chan.Worker, ctx)); // idle: see wakeKeventd
    },
    label(m) {
      const names = queueNames(m, liveQueue(TQ_CONTEXT));
      return names.length === 0 ? 'keventd: tq_context empty, sleeps' : `keventd: run_task_queue(&tq_context): splice out ${names.join(', ')}`;
    },
  },
  {
    // context_thread(): wake_up(&context_task_done), then loop. Routines run in
    // keventd itself, so a lock or count leaked by one shows here (B21).
    name: 'keventd_done',
    internal: true,
    exec(m, cpu, ctx) {
      const held = m.s[m.ctxOff(ctx) + X_HELD]!;
      if (held !== 0 || m.inAtomic(cpu) || m.irqsOff(cpu)) {
        m.fail('lock-leak', `BUG: keventd: a task queue routine returned with ${held !== 0 ? 'a lock held' : 'preempt_count raised or irqs disabled'} (leaked lock or atomic)`, cpu, ctx);
        return;
      }
      wakeAll(m, channel(Chan.Tasklet, FLUSH_CHAN_ID));
      m.jump(ctx, m.p.builtins['keventd']!);
    },
    label() {
      return 'keventd: wake_up(&context_task_done)';
    },
  },
];

// ----------------------------------------------------------- declarations

export const BH_OBJECTS: readonly ObjectKindSpec[] = [
  {
    kind: 'bh',
    field: 'bhs',
    size: BH_SIZE,
    ctype: 'bottom half',
    builtin: { TIMER_BH: KERNEL_BH, TQUEUE_BH: KERNEL_BH, IMMEDIATE_BH: KERNEL_BH },
    declare(name, decl, d): { init: number[]; attrs: Record<string, number> } {
      const slot = (BH_NAMES as readonly string[]).indexOf(name);
      if (slot < 0) return d.fail(`no bottom half slot '${name}' (2.4 include/linux/interrupt.h: ${BH_NAMES.join(', ')})`);
      const init = new Array<number>(BH_SIZE).fill(0);
      if (decl === KERNEL_BH) return { init, attrs: { slot } };
      if (!d.flags.globalBH) return d.fail(`init_bh(${name}): old-style bottom halves were removed in 2.5; use the '2.4' profile`);
      if (typeof decl !== 'string') return d.fail(`install a bottom half as the name of a design function: bhs: { ${name}: 'handler' } (init_bh)`);
      return { init, attrs: { slot, func: d.functionEntry(decl) } };
    },
  },
  {
    kind: 'task_queue',
    field: 'task_queues',
    size: 0,
    ctype: 'task_queue',
    builtin: { tq_immediate: KERNEL_BH, tq_timer: KERNEL_BH, tq_disk: KERNEL_BH },
    declare(_name, decl, d) {
      if (decl !== KERNEL_BH) return d.fail('the task queues are the kernel\'s: tq_immediate, tq_timer and tq_disk (schedule_task for keventd)');
      return { init: [] };
    },
  },
  {
    kind: 'tq_struct',
    field: 'tq_structs',
    size: TQ_SIZE,
    ctype: 'tq_struct',
    declKeys: ['routine'],
    declare(name, decl, d) {
      if (!d.flags.globalBH) return d.fail(`struct tq_struct ${name}: task queues were replaced by work queues in 2.5.41; use the '2.4' profile`);
      const routine = (decl as { routine?: unknown } | null)?.routine;
      if (typeof routine !== 'string') return d.fail("declare a tq_struct as { routine: 'name_of_a_design_function' }");
      return { init: [0, 0, 0], attrs: { routine: d.functionEntry(routine) } };
    },
    activeState(m, id) {
      const o = tqOff(m, id);
      if (m.s[o + TQ_SYNC] === 0) return null;
      const q = m.s[o + TQ_QUEUE]!;
      return q > 0 ? `queued on ${queueOf(q - 1)} (sync 1)` : `about to run in ${m.contextName(-q - 1)} (sync 1)`;
    },
  },
];

const BH_BUILTINS: readonly BuiltinCode[] = [
  // IMMEDIATE_BH's handler: run_task_queue(&tq_immediate).
  { name: 'bh_tq_immediate', ops: ['tq_splice_immediate', 'tq_run_next', 'ret'], live: (shape) => shape.flags.globalBH },
  // TQUEUE_BH's handler: run_task_queue(&tq_timer).
  { name: 'bh_tq_timer', ops: ['tq_splice_timer', 'tq_run_next', 'ret'], live: (shape) => shape.flags.globalBH },
  // The loop of a run_task_queue() written in a design.
  { name: 'tq_run', ops: ['tq_run_next', 'ret'], live: (shape) => shape.flags.globalBH },
  // keventd: context_thread().
  { name: 'keventd', ops: ['keventd_wait', 'tq_run_next', 'keventd_done'], live: (shape) => shape.flags.globalBH && shape.objectCount('tq_struct') > 0 },
];

export const BH: Mechanism = {
  name: 'bh',
  ops: BH_OPS,
  // Every BH, tasklet entry and tq_struct, this CPU, keventd (a task); TIMER_BH runs the timer list.
  defaultFootprint(f) {
    f.write(f.ownCpu());
    f.raises(HI_SOFTIRQ);
    f.write(f.anyObject('bh'));
    f.write(f.anyObject('tasklet'));
    f.write(f.anyObject('tq_struct'));
    f.write(f.anyObject('timer'));
    f.write(f.anyTask());
  },
  objects: BH_OBJECTS,
  builtins: BH_BUILTINS,
  threads(shape) {
    return shape.flags.globalBH && shape.objectCount('tq_struct') > 0 ? [{ name: 'keventd', cpu: 0, builtin: 'keventd', idle: true }] : [];
  },
};
