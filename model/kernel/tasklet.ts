/**
 * Tasklets (include/linux/interrupt.h, kernel/softirq.c;
 * shared/kernel-semantics.md §3.1–3.2).
 *
 * A tasklet has two state bits and a counter: SCHED (queued, not yet
 * started), RUN (its func is executing: a trylock on SMP) and count (the
 * disable depth). tasklet_schedule() test-and-sets SCHED and, if it was
 * clear, puts the tasklet on the scheduling CPU's TASKLET (or HI) list and
 * raises the vector (raise_softirq_irqoff: may wake ksoftirqd). The vector's
 * action, tasklet_action_common(), detaches the whole list with irqs off and
 * then, per tasklet: trylock RUN; count 0 → clear SCHED, call func, clear
 * RUN; RUN busy (running on another CPU) or count > 0 → requeue on this
 * CPU's list and __raise_softirq_irqoff the vector again.
 *
 * State. Each tasklet is an *entry* of ENTRY_WORDS words: the SCHED bit, the
 * RUN holder (the softirq frame running func, ctx+1: it is the target of the
 * wait-for edges of tasklet_disable/kill/unlock_wait), count, and the list it
 * is on with its position. The per-CPU lists are therefore kept in the
 * entries: the list word says which CPU's HI or TASKLET list holds the entry
 * (or the list an action on that CPU has detached and is walking), the
 * position its place in it, so equal lists hash equal. The 2.4 bottom halves
 * of bh.ts are entries too (bh_task_vec[]: HI tasklets whose func is
 * bh_action); entry ids are the tasklets first, then the BHs.
 *
 * Parking (an abstraction, documented): a tasklet that cannot run (RUN held
 * elsewhere, disabled, or a BH while another BH holds global_bh_lock) is
 * requeued and its vector re-raised, forever: the kernel busy-loops through
 * the softirq restarts and then ksoftirqd until the obstacle goes away. In a
 * softirq frame (irq_exit, local_bh_enable) the model does exactly that, so
 * every pass the restart loop may make is explored. In ksoftirqd the loop
 * would cycle without end and hide every terminal state (a hung tasklet_kill
 * would never be reported), so there the requeued entry is *parked*: queued,
 * with its vector not raised. When the obstacle goes away (RUN released,
 * tasklet_enable, global_bh_lock released) every parked entry whose obstacle
 * is gone is re-raised on its CPU, and that CPU's ksoftirqd woken, which is
 * the state the kernel's ksoftirqd loop is in at that moment. Meanwhile the
 * kernel's ksoftirqd stays runnable with the entry's vector pending, and the
 * model keeps both facts (parkedVectors, read by softirq.ts): ksoftirqd runs
 * whatever else gets raised on that CPU, as the busy one would, and
 * ksoftirqd_running() is false there (HI/TASKLET pending: SOFTIRQ_NOW_MASK),
 * so with softirqDefer 'ksoftirqd-running' irq_exit still runs softirqs
 * inline. The passes themselves only requeue the entry: nothing else
 * observes them. What the model does not follow is the loop that never
 * ends: a run whose every task is done with an entry still parked (disabled
 * for good) would spin in ksoftirqd forever, a CPU hog (T6); that path ends
 * bounded-out (ModelBound.TaskletHog), naming the tasklet.
 *
 * Waits. tasklet_disable/tasklet_unlock_wait/tasklet_kill wait for RUN to
 * clear: spinning before 5.13 (taskletWait 'spin'), sleeping in
 * wait_var_event (with might_sleep) since (taskletWait 'sleep'), where
 * tasklet_disable_in_atomic/tasklet_unlock_spin_wait spin. tasklet_kill first
 * owns SCHED: while SCHED is set it sleeps (≥5.13) or yields (<5.13,
 * modelled as sleeping until SCHED clears: the yield loop does nothing
 * else). A spinning wait whose RUN holder cannot finish is a wait-for edge
 * to that frame, so tasklet_disable inside func, or from a hardirq over a
 * running func on the same CPU, is a deadlock with its cycle (B13, B14d).
 */
import { SOFTIRQS } from '../dsl/design.ts';
import {
  C_IRQS_OFF, FrameKind, ModelBound, X_AUX2, X_CALLS,
  X_ENTRY_IRQS, X_HELD, X_KIND, X_PC, X_PHASE, X_RET,
} from './layout.ts';
import type { Machine } from './machine.ts';
import { INSN_WIDTH } from './program.ts';
import { bhAction, bhActionText, bhHandlerReturned, bhIdOfEntry, bhName, globalBhHeld } from './bh.ts';
import { block, Chan, channel, mightSleep, wakeAll } from './scheduler.ts';
import type { Mechanism, ObjectKindSpec, OpSemantics, OperandSpec, WaitEdge } from './semantics.ts';
import { HI_SOFTIRQ, TASKLET_SOFTIRQ, heldNames, raise, registerParkedVectors, wakeupSoftirqd } from './softirq.ts';

// ------------------------------------------------------------------ entries

/** Entry word: TASKLET_STATE_SCHED (bit 0) and the model's PARKED flag (bit 1). */
export const E_STATE = 0;
/** Entry word: the context holding TASKLET_STATE_RUN, ctx+1; 0 when clear. */
export const E_RUN = 1;
/** Entry word: t->count, the disable depth. */
export const E_COUNT = 2;
/** Entry word: 0 off every list, else 1 + cpu*4 + ListSlot. */
export const E_LIST = 3;
/** Entry word: position in its list (0 = head). */
export const E_POS = 4;
export const ENTRY_WORDS = 5;
/** A tasklet is one entry. */
export const TASKLET_SIZE = ENTRY_WORDS;

export const SCHED = 1;
/** Requeued in ksoftirqd without re-raising its vector (see the header). */
export const PARKED = 2;

/** Which list of a CPU an entry is on. */
const enum ListSlot {
  Hi = 0,
  Tasklet = 1,
  /** The HI list an action on this CPU detached and is walking. */
  HiDetached = 2,
  TaskletDetached = 3,
}

const slotOf = (vec: number): ListSlot => (vec === HI_SOFTIRQ ? ListSlot.Hi : ListSlot.Tasklet);
const liveList = (cpu: number, vec: number): number => 1 + cpu * 4 + slotOf(vec);
const detachedList = (cpu: number, vec: number): number => 1 + cpu * 4 + slotOf(vec) + 2;
const listCpu = (code: number): number => Math.floor((code - 1) / 4);
const listSlot = (code: number): ListSlot => ((code - 1) % 4) as ListSlot;
const listVec = (code: number): number => ((listSlot(code) & 1) === 0 ? HI_SOFTIRQ : TASKLET_SOFTIRQ);
const isLive = (code: number): boolean => code !== 0 && listSlot(code) < ListSlot.HiDetached;

const taskletCount = (m: Machine): number => m.p.objects['tasklet']?.length ?? 0;
/** Tasklets, then the bottom halves' tasklets (bh.ts). */
export const entryCount = (m: Machine): number => taskletCount(m) + (m.p.objects['bh']?.length ?? 0);
/** Entry id of tasklet `id`, or of bottom half `id` of bh.ts. */
export const taskletEntry = (id: number): number => id;
export const bhEntry = (m: Machine, bh: number): number => taskletCount(m) + bh;

/** Offset of an entry's words: tasklets first, then BHs (whose BH-only words follow). */
export function entryOff(m: Machine, e: number): number {
  const nt = taskletCount(m);
  return e < nt ? m.objOff('tasklet', e, TASKLET_SIZE) : m.objOff('bh', e - nt, BH_SIZE);
}
/** A BH is an entry plus its own words (bh.ts). */
export const BH_SIZE = ENTRY_WORDS + 1;

const isBhEntry = (m: Machine, e: number): boolean => e >= taskletCount(m);
export function entryName(m: Machine, e: number): string {
  return isBhEntry(m, e) ? bhName(m, bhIdOfEntry(m, e)) : m.p.objects['tasklet']![e]!.name;
}
/** `tasklet rx` or `bh NET_BH`: what a softirq frame running it is called. */
const entryTitle = (m: Machine, e: number): string => `${isBhEntry(m, e) ? 'bh' : 'tasklet'} ${entryName(m, e)}`;
const taskletName = (m: Machine, id: number): string => `&${m.p.objects['tasklet']![id]!.name}`;

function listLength(m: Machine, code: number): number {
  let n = 0;
  for (let e = 0, N = entryCount(m); e < N; e++) if (m.s[entryOff(m, e) + E_LIST] === code) n++;
  return n;
}

/** The entry at position 0 of list `code`, or -1. */
function listHead(m: Machine, code: number): number {
  for (let e = 0, N = entryCount(m); e < N; e++) {
    const o = entryOff(m, e);
    if (m.s[o + E_LIST] === code && m.s[o + E_POS] === 0) return e;
  }
  return -1;
}

/** Names of a list's entries, head first. */
function listNames(m: Machine, code: number): string[] {
  const out: { pos: number; name: string }[] = [];
  for (let e = 0, N = entryCount(m); e < N; e++) {
    const o = entryOff(m, e);
    if (m.s[o + E_LIST] === code) out.push({ pos: m.s[o + E_POS]!, name: entryName(m, e) });
  }
  return out.sort((a, b) => a.pos - b.pos).map((x) => x.name);
}

/**
 * Put entry `e` on list `code`: at the tail (FIFO, the `tail` pointer of
 * struct tasklet_head) or, with taskletOrder 'lifo' (2.4, early 2.6), at
 * the head (`t->next = list; list = t`).
 */
function enqueue(m: Machine, e: number, code: number): void {
  const s = m.s;
  const o = entryOff(m, e);
  if (m.p.flags.taskletOrder === 'lifo') {
    for (let f = 0, N = entryCount(m); f < N; f++) {
      const fo = entryOff(m, f);
      if (s[fo + E_LIST] === code) m.w(fo + E_POS, s[fo + E_POS]! + 1);
    }
    m.w(o + E_POS, 0);
  } else {
    m.w(o + E_POS, listLength(m, code));
  }
  m.w(o + E_LIST, code);
}

/** Take entry `e` off its list, closing the gap. */
function unlink(m: Machine, e: number): void {
  const s = m.s;
  const o = entryOff(m, e);
  const code = s[o + E_LIST]!;
  const pos = s[o + E_POS]!;
  for (let f = 0, N = entryCount(m); f < N; f++) {
    const fo = entryOff(m, f);
    if (s[fo + E_LIST] === code && s[fo + E_POS]! > pos) m.w(fo + E_POS, s[fo + E_POS]! - 1);
  }
  m.w(o + E_LIST, 0);
  m.w(o + E_POS, 0);
}

/**
 * __tasklet_schedule_common() behind the test_and_set_bit(SCHED) of
 * tasklet_schedule/tasklet_hi_schedule (and 2.4's mark_bh): returns false if
 * SCHED was already set. Otherwise, with irqs off, queue on `cpu`'s list and
 * raise_softirq_irqoff(vec), which wakes ksoftirqd outside interrupt context.
 */
export function scheduleEntry(m: Machine, cpu: number, e: number, vec: number): boolean {
  const o = entryOff(m, e);
  if ((m.s[o + E_STATE]! & SCHED) !== 0) return false;
  m.w(o + E_STATE, m.s[o + E_STATE]! | SCHED);
  enqueue(m, e, liveList(cpu, vec));
  raise(m, cpu, vec);
  if (!m.inInterrupt(cpu)) wakeupSoftirqd(m, cpu);
  return true;
}

/**
 * The requeue of tasklet_action_common (or the re-mark of bh_action): with
 * irqs off, put `e` back on this CPU's list and __raise_softirq_irqoff the
 * vector; in ksoftirqd, park it instead (see the header).
 */
export function requeueEntry(m: Machine, cpu: number, ctx: number, e: number, vec: number): void {
  const o = entryOff(m, e);
  enqueue(m, e, liveList(cpu, vec));
  if (m.s[m.ctxOff(ctx) + X_KIND] === FrameKind.Ksoftirqd) {
    m.w(o + E_STATE, m.s[o + E_STATE]! | PARKED);
  } else {
    m.w(o + E_STATE, m.s[o + E_STATE]! & ~PARKED);
    raise(m, cpu, vec);
  }
}

/** Why `e` would be requeued if its action reached it now, or null. */
function obstacle(m: Machine, e: number): string | null {
  const o = entryOff(m, e);
  if (m.s[o + E_RUN] !== 0) return `running in ${m.contextName(m.s[o + E_RUN]! - 1)} (RUN held)`;
  if (m.s[o + E_COUNT] !== 0) return `disabled (count ${m.s[o + E_COUNT]})`;
  if (isBhEntry(m, e) && globalBhHeld(m)) return 'global_bh_lock is held by another bottom half';
  return null;
}

/**
 * The obstacle of some parked entries went away: re-raise their vector on
 * their CPU and wake its ksoftirqd, as the kernel's ksoftirqd loop would find
 * them runnable at its next pass.
 */
export function unparkReady(m: Machine): void {
  const s = m.s;
  for (let e = 0, N = entryCount(m); e < N; e++) {
    const o = entryOff(m, e);
    if ((s[o + E_STATE]! & PARKED) === 0 || !isLive(s[o + E_LIST]!) || obstacle(m, e) !== null) continue;
    m.w(o + E_STATE, s[o + E_STATE]! & ~PARKED);
    const cpu = listCpu(s[o + E_LIST]!);
    raise(m, cpu, listVec(s[o + E_LIST]!));
    wakeupSoftirqd(m, cpu);
  }
}

/**
 * The vectors (HI, TASKLET bits) of the entries parked on `cpu`'s lists:
 * in the kernel those vectors are pending all the while, re-raised by every
 * pass of ksoftirqd/cpu, which stays runnable (see the header; softirq.ts
 * reads this for ksoftirqd_running() and for ksoftirqd's own runs).
 */
export function parkedVectors(m: Machine, cpu: number): number {
  const n = entryCount(m);
  let mask = 0;
  for (let e = 0; e < n; e++) {
    const o = entryOff(m, e);
    const code = m.s[o + E_LIST]!;
    if ((m.s[o + E_STATE]! & PARKED) !== 0 && isLive(code) && listCpu(code) === cpu) mask |= 1 << listVec(code);
  }
  return mask;
}

registerParkedVectors(parkedVectors);

/**
 * At a terminal state with no violation (every task done, every CPU idle):
 * an entry still parked is disabled for good (a RUN holder or a BH holding
 * global_bh_lock would still be on a CPU), so the kernel's ksoftirqd
 * requeues it forever (T6). The model stops there: bounded-out, naming it.
 */
function parkedForever(m: Machine): { bound: ModelBound; detail: string } | null {
  for (let e = 0, N = entryCount(m); e < N; e++) {
    const o = entryOff(m, e);
    if ((m.s[o + E_STATE]! & PARKED) === 0) continue;
    const code = m.s[o + E_LIST]!;
    const cpu = listCpu(code);
    return {
      bound: ModelBound.TaskletHog,
      detail: `${entryTitle(m, e)} is scheduled on cpu${cpu} but ${obstacle(m, e) ?? 'cannot run'} when everything else is done: ksoftirqd/${cpu} requeues it and re-raises ${SOFTIRQS[listVec(code)]} for ever, and ${entryName(m, e)} never runs`,
    };
  }
  return null;
}

/** tasklet_unlock(): clear RUN, wake_up_var(&t->state); parked entries may run now. */
export function unlockEntry(m: Machine, e: number): void {
  m.w(entryOff(m, e) + E_RUN, 0);
  wakeAll(m, channel(Chan.Tasklet, e));
  unparkReady(m);
}

/** The entry whose RUN the context `ctx` holds, or -1. */
export function runningEntry(m: Machine, ctx: number): number {
  for (let e = 0, N = entryCount(m); e < N; e++) if (m.s[entryOff(m, e) + E_RUN] === ctx + 1) return e;
  return -1;
}

/** Return from the builtin code the softirq loop called (the `ret` op's effect). */
export function returnFromCall(m: Machine, ctx: number): void {
  const s = m.s;
  const o = m.ctxOff(ctx);
  const depth = s[o + X_CALLS]!;
  m.w(o + X_CALLS, depth - 1);
  m.w(o + X_PC, s[o + X_RET + depth - 1]!);
  m.w(o + X_RET + depth - 1, 0);
  m.w(o + X_PHASE, 0);
}

/**
 * B21: a callback (tasklet func, BH handler, task-queue routine) must return
 * with the counts it was called with and no lock held. The kernel notices at
 * the end of the softirq ("huh, entered softirq …") or through lockdep; the
 * model names the callback. Null if clean.
 */
export function callbackLeak(m: Machine, cpu: number, ctx: number, what: string): string | null {
  const s = m.s;
  const o = m.ctxOff(ctx);
  const co = m.cpuOff(cpu);
  const vec = s[o + X_AUX2]!;
  const held = s[o + X_HELD]!;
  if (held !== 0) return `BUG: ${what} returned with ${heldNames(m, held)} held (lockdep: leaked lock at softirq ${SOFTIRQS[vec]} exit)`;
  const before = m.entryPreemptCount(cpu, ctx);
  const after = m.preemptCount(cpu);
  if (before !== after) {
    const hex = (n: number) => n.toString(16).padStart(8, '0');
    return `huh, entered softirq ${vec} ${SOFTIRQS[vec]} ${what} with preempt_count ${hex(before)}, exited with ${hex(after)}?`;
  }
  if (s[co + C_IRQS_OFF] !== s[o + X_ENTRY_IRQS]) return `BUG: ${what} returned with irqs disabled (softirq ${SOFTIRQS[vec]})`;
  return null;
}

// ------------------------------------------------------------ the action

/** What the action loop does at its next step; exec and label share it. */
const enum Next {
  /** func (or a BH handler) returned: tasklet_unlock. */
  Unlock,
  /** trylock RUN, count 0: clear SCHED, call func (or bh_action). */
  Run,
  /** RUN busy or count > 0: requeue. */
  Requeue,
  /** Nothing left on the detached list. */
  Done,
}

function nextStep(m: Machine, cpu: number, ctx: number): { step: Next; e: number } {
  const running = runningEntry(m, ctx);
  if (running >= 0) return { step: Next.Unlock, e: running };
  const vec = m.s[m.ctxOff(ctx) + X_AUX2]!;
  const e = listHead(m, detachedList(cpu, vec));
  if (e < 0) return { step: Next.Done, e };
  const o = entryOff(m, e);
  return { step: m.s[o + E_RUN] === 0 && m.s[o + E_COUNT] === 0 ? Next.Run : Next.Requeue, e };
}

/** After an entry is dealt with: return to the softirq loop if the detached list is empty. */
export function continueOrReturn(m: Machine, cpu: number, ctx: number): void {
  const vec = m.s[m.ctxOff(ctx) + X_AUX2]!;
  if (listHead(m, detachedList(cpu, vec)) < 0) returnFromCall(m, ctx);
}

const actionName = (vec: number): string => (vec === HI_SOFTIRQ ? 'tasklet_hi_action' : 'tasklet_action');

const TASKLET_ACTION_OPS: readonly OpSemantics[] = [
  {
    // tasklet_action_common(): local_irq_disable; list = head; head = NULL; local_irq_enable.
    name: 'tasklet_action_detach',
    internal: true,
    exec(m, cpu, ctx) {
      const vec = m.s[m.ctxOff(ctx) + X_AUX2]!;
      const live = liveList(cpu, vec);
      const detached = detachedList(cpu, vec);
      let any = false;
      for (let e = 0, N = entryCount(m); e < N; e++) {
        const o = entryOff(m, e);
        if (m.s[o + E_LIST] === live) {
          m.w(o + E_LIST, detached);
          any = true;
        }
      }
      if (any) m.advance(ctx);
      else returnFromCall(m, ctx);
    },
    label(m, cpu, ctx) {
      const vec = m.s[m.ctxOff(ctx) + X_AUX2]!;
      const names = listNames(m, liveList(cpu, vec));
      return names.length === 0
        ? `${actionName(vec)}: this CPU's ${SOFTIRQS[vec]} list is empty`
        : `${actionName(vec)}: detach this CPU's ${SOFTIRQS[vec]} list (${names.join(', ')})`;
    },
  },
  {
    // tasklet_action_common(): the per-tasklet loop.
    name: 'tasklet_action_next',
    internal: true,
    exec(m, cpu, ctx) {
      const s = m.s;
      const vec = s[m.ctxOff(ctx) + X_AUX2]!;
      const { step, e } = nextStep(m, cpu, ctx);
      switch (step) {
        case Next.Unlock: {
          if (isBhEntry(m, e)) {
            if (!bhHandlerReturned(m, cpu, ctx, bhIdOfEntry(m, e))) return;
          } else {
            const leak = callbackLeak(m, cpu, ctx, `tasklet ${entryName(m, e)} (${m.p.design.tasklets?.[entryName(m, e)]?.func ?? '?'})`);
            if (leak) {
              m.fail('lock-leak', leak, cpu, ctx);
              return;
            }
          }
          unlockEntry(m, e);
          continueOrReturn(m, cpu, ctx);
          return;
        }
        case Next.Run: {
          const o = entryOff(m, e);
          unlink(m, e);
          m.w(o + E_RUN, ctx + 1); // tasklet_trylock()
          // tasklet_clear_sched() (≥5.13: WARN and skip func; 2.4–5.12: BUG()).
          if ((s[o + E_STATE]! & SCHED) === 0) {
            m.fail('assertion', `WARNING: CPU: ${cpu} at kernel/softirq.c tasklet_clear_sched: tasklet SCHED state not set: ${entryTitle(m, e)}`, cpu, ctx);
            return;
          }
          m.w(o + E_STATE, 0); // SCHED and PARKED clear
          wakeAll(m, channel(Chan.Tasklet, e)); // wake_up_var(&t->state): a tasklet_kill waiting for SCHED
          if (isBhEntry(m, e)) {
            bhAction(m, cpu, ctx, bhIdOfEntry(m, e));
            return;
          }
          m.snapshotEntry(cpu, ctx);
          m.callFrom(ctx, m.p.objects['tasklet']![e]!.attrs['func']!);
          return;
        }
        case Next.Requeue:
          unlink(m, e);
          requeueEntry(m, cpu, ctx, e, vec);
          continueOrReturn(m, cpu, ctx);
          return;
        case Next.Done:
          returnFromCall(m, ctx);
          return;
      }
    },
    label(m, cpu, ctx) {
      const vec = m.s[m.ctxOff(ctx) + X_AUX2]!;
      const act = actionName(vec);
      const { step, e } = nextStep(m, cpu, ctx);
      switch (step) {
        case Next.Unlock:
          return isBhEntry(m, e)
            ? `${act}: bh_action(${entryName(m, e)}) returns: spin_unlock(&global_bh_lock), tasklet_unlock`
            : `${act}: ${entryName(m, e)}'s func returned: tasklet_unlock(&${entryName(m, e)})`;
        case Next.Run:
          return isBhEntry(m, e)
            ? `${act}: run ${entryName(m, e)}: clear SCHED, ${bhActionText(m, bhIdOfEntry(m, e))}`
            : `${act}: run ${entryName(m, e)}: clear SCHED, call ${m.p.design.tasklets?.[entryName(m, e)]?.func ?? 'func'}()`;
        case Next.Requeue: {
          const why = obstacle(m, e)!;
          const parked = m.s[m.ctxOff(ctx) + X_KIND] === FrameKind.Ksoftirqd;
          return `${act}: ${entryName(m, e)} is ${why}: requeue${parked ? ' (parked until that changes)' : ` and raise ${SOFTIRQS[vec]} again`}`;
        }
        case Next.Done:
          return `${act}: list done`;
      }
    },
  },
];

// ---------------------------------------------------------- kernel API

const TASKLET_OPERAND: OperandSpec = { kind: 'object', field: 'obj', objectKind: 'tasklet' };
const whereOf = (m: Machine, ctx: number): string => m.p.where[m.s[m.ctxOff(ctx) + X_PC]! / INSN_WIDTH]!;
const phaseOf = (m: Machine, ctx: number): number => m.s[m.ctxOff(ctx) + X_PHASE]!;
const setPhase = (m: Machine, ctx: number, phase: number): void => {
  m.w(m.ctxOff(ctx) + X_PHASE, phase);
};
const runHolder = (m: Machine, id: number): number => m.s[entryOff(m, taskletEntry(id)) + E_RUN]! - 1;
const sleeps = (m: Machine): boolean => m.p.flags.taskletWait === 'sleep';

/** Where a tasklet stands, for wait reasons: `queued on cpu1's TASKLET list, disabled (count 1)`. */
function whereIs(m: Machine, e: number): string {
  const o = entryOff(m, e);
  const parts: string[] = [];
  const code = m.s[o + E_LIST]!;
  if (code !== 0) parts.push(`${isLive(code) ? 'queued on' : 'on the list being run by'} cpu${listCpu(code)}'s ${SOFTIRQS[listVec(code)]} list`);
  if (m.s[o + E_RUN] !== 0) parts.push(`running in ${m.contextName(m.s[o + E_RUN]! - 1)}`);
  if (m.s[o + E_COUNT] !== 0) parts.push(`disabled (count ${m.s[o + E_COUNT]})`);
  return parts.length > 0 ? parts.join(', ') : 'idle';
}

/** A wait for RUN to clear (tasklet_unlock_wait / _spin_wait): an edge to the RUN holder. */
function runWait(m: Machine, ctx: number, id: number, what: string): WaitEdge {
  const holder = runHolder(m, id);
  return {
    on: holder >= 0 ? [holder] : [],
    why: `${m.contextName(ctx)}: ${what} waits for ${taskletName(m, id)}'s func to finish: ${holder === ctx ? 'it is that func itself' : `RUN is held by ${holder >= 0 ? m.contextName(holder) : 'nobody'}`}`,
  };
}


/** yield() in the <5.13 tasklet_kill loop: schedule_debug() if atomic ("scheduling while atomic"). */
function yieldAllowed(m: Machine, cpu: number, ctx: number, what: string): boolean {
  if (m.isTask(ctx) && !m.inAtomic(cpu) && !m.irqsOff(cpu)) return true;
  m.fail('sleep-in-atomic',
    `BUG: scheduling while atomic: ${m.contextName(ctx)}/0x${m.preemptCount(cpu).toString(16).padStart(8, '0')} at ${whereOf(m, ctx)}\n${what} yields the CPU`,
    cpu, ctx);
  return false;
}

/** Whether __might_resched / schedule_debug would let `ctx` sleep or yield here. */
const maySleep = (m: Machine, cpu: number, ctx: number): boolean =>
  m.isTask(ctx) && m.inTask(cpu) && !m.inAtomic(cpu) && !m.irqsOff(cpu);

/** The kill's pr_notice, part of its violation text when it is called in interrupt. */
const killWhat = (m: Machine, cpu: number, id: number): string =>
  `tasklet_kill(${taskletName(m, id)})${m.inInterrupt(cpu) ? ' [Attempt to kill tasklet from interrupt]' : ''}`;

// Phases of tasklet_kill.
const KILL_SCHED_WAIT = 1;
const KILL_RUN_SPIN = 2;
const KILL_RUN_SLEEP = 3;
// Phase of tasklet_disable / tasklet_unlock_wait once waiting.
const WAITING = 1;

/** tasklet_kill, phase by phase; returns the label of the step (exec when `commit`). */
function kill(m: Machine, cpu: number, ctx: number, id: number, commit: boolean): string {
  const s = m.s;
  const e = taskletEntry(id);
  const o = entryOff(m, e);
  const name = taskletName(m, id);
  const phase = phaseOf(m, ctx);
  const finish = (text: string): string => {
    if (commit) {
      // tasklet_clear_sched (≥5.13) / clear_bit(SCHED) (<5.13).
      m.w(o + E_STATE, s[o + E_STATE]! & ~SCHED);
      wakeAll(m, channel(Chan.Tasklet, e));
      m.advance(ctx);
    }
    return text;
  };
  if (phase === KILL_RUN_SPIN) return finish(`tasklet_kill(${name}): RUN cleared, clear SCHED`);
  const waitRun = (prefix: string): string => {
    // tasklet_unlock_wait(): wait_var_event (≥5.13, might_sleep) or a spin.
    if (sleeps(m)) {
      if (!commit && !maySleep(m, cpu, ctx)) return `${prefix}; tasklet_unlock_wait: might_sleep() in atomic context`;
      if (commit && !mightSleep(m, cpu, ctx, `${killWhat(m, cpu, id)} → tasklet_unlock_wait()`)) return '';
      if (s[o + E_RUN] === 0) return finish(`${prefix}, not running: clear SCHED`);
      if (commit) {
        setPhase(m, ctx, KILL_RUN_SLEEP);
        block(m, cpu, ctx, channel(Chan.Tasklet, e));
      }
      return `${prefix}; running in ${m.contextName(s[o + E_RUN]! - 1)}: sleeps until RUN clears`;
    }
    if (s[o + E_RUN] === 0) return finish(`${prefix}, not running: clear SCHED`);
    if (commit) setPhase(m, ctx, KILL_RUN_SPIN);
    return `${prefix}; running in ${m.contextName(s[o + E_RUN]! - 1)}: spins until RUN clears`;
  };
  if (phase === KILL_RUN_SLEEP) {
    if (s[o + E_RUN] === 0) return finish(`tasklet_kill(${name}): RUN cleared, clear SCHED`);
    if (commit) block(m, cpu, ctx, channel(Chan.Tasklet, e));
    return `tasklet_kill(${name}): still running, sleeps again`;
  }
  // Phase 0 (entry) or KILL_SCHED_WAIT (woken): while (test_and_set_bit(SCHED)) wait.
  if ((s[o + E_STATE]! & SCHED) === 0) {
    if (commit) m.w(o + E_STATE, s[o + E_STATE]! | SCHED);
    return waitRun(`tasklet_kill(${name}): owns SCHED`);
  }
  const where = whereIs(m, e);
  if (sleeps(m)) {
    // wait_var_event(&t->state, !test_bit(SCHED)): might_sleep, then sleep.
    if (!commit && !maySleep(m, cpu, ctx)) return `tasklet_kill(${name}): SCHED set (${where}): might_sleep() in atomic context`;
    if (commit) {
      if (!mightSleep(m, cpu, ctx, killWhat(m, cpu, id))) return '';
      setPhase(m, ctx, KILL_SCHED_WAIT);
      block(m, cpu, ctx, channel(Chan.Tasklet, e));
    }
    return `tasklet_kill(${name}): SCHED set (${where}): sleeps until it clears`;
  }
  // <5.13: do { yield(); } while (test_bit(SCHED)).
  if (!commit && !maySleep(m, cpu, ctx)) return `tasklet_kill(${name}): SCHED set (${where}): yield() in atomic context`;
  if (commit) {
    if (!yieldAllowed(m, cpu, ctx, killWhat(m, cpu, id))) return '';
    setPhase(m, ctx, KILL_SCHED_WAIT);
    block(m, cpu, ctx, channel(Chan.Tasklet, e));
  }
  return `tasklet_kill(${name}): SCHED set (${where}): yields until it clears`;
}

/** tasklet_disable / tasklet_disable_in_atomic / tasklet_unlock_wait / _spin_wait. */
function waitForRun(m: Machine, cpu: number, ctx: number, id: number, opts: { disable: boolean; spin: boolean; what: string }, commit: boolean): string {
  const s = m.s;
  const e = taskletEntry(id);
  const o = entryOff(m, e);
  const phase = phaseOf(m, ctx);
  if (phase === 0 && opts.disable && commit) m.w(o + E_COUNT, s[o + E_COUNT]! + 1); // tasklet_disable_nosync
  const prefix = phase === 0 && opts.disable ? `${opts.what}: count ${s[o + E_COUNT]! + (commit ? 0 : 1)}` : opts.what;
  if (!opts.spin && phase === 0) {
    // wait_var_event: might_sleep() first.
    if (!commit && !maySleep(m, cpu, ctx)) return `${prefix}: wait_var_event: might_sleep() in atomic context`;
    if (commit && !mightSleep(m, cpu, ctx, opts.what)) return '';
  }
  if (s[o + E_RUN] === 0) {
    if (commit) m.advance(ctx);
    return phase === 0 ? `${prefix}, not running` : `${opts.what}: RUN cleared`;
  }
  const holder = m.contextName(s[o + E_RUN]! - 1);
  if (opts.spin) {
    if (commit) setPhase(m, ctx, WAITING);
    return `${prefix}, running in ${holder}: spins until RUN clears`;
  }
  if (commit) {
    setPhase(m, ctx, WAITING);
    block(m, cpu, ctx, channel(Chan.Tasklet, e));
  }
  return `${prefix}, running in ${holder}: sleeps until RUN clears`;
}

/** OpSemantics of a RUN wait: ready unless spinning on a held RUN. */
function runWaitOp(name: string, opts: { disable: boolean; spin: (m: Machine) => boolean; since513?: true }): OpSemantics {
  const what = (m: Machine, id: number) => `${name}(${taskletName(m, id)})`;
  return {
    name,
    operands: [TASKLET_OPERAND],
    ...(opts.since513 ? { unavailable: (flags) => (flags.taskletWait === 'spin' ? `${name}() exists since 5.13 (taskletWait 'sleep'); before, every tasklet wait spins` : null) } : {}),
    ready(m, _cpu, ctx, a) {
      return !(opts.spin(m) && phaseOf(m, ctx) === WAITING && m.s[entryOff(m, a) + E_RUN] !== 0);
    },
    exec(m, cpu, ctx, a) {
      waitForRun(m, cpu, ctx, a, { disable: opts.disable, spin: opts.spin(m), what: what(m, a) }, true);
    },
    label(m, cpu, ctx, a) {
      return waitForRun(m, cpu, ctx, a, { disable: opts.disable, spin: opts.spin(m), what: what(m, a) }, false);
    },
    waitsFor(m, _cpu, ctx, a) {
      return runWait(m, ctx, a, what(m, a));
    },
  };
}

export const TASKLET_OPS: readonly OpSemantics[] = [
  ...TASKLET_ACTION_OPS,
  ...(['tasklet_schedule', 'tasklet_hi_schedule'] as const).map((name): OpSemantics => {
    const vec = name === 'tasklet_schedule' ? TASKLET_SOFTIRQ : HI_SOFTIRQ;
    return {
      // tasklet_schedule(): if (!test_and_set_bit(TASKLET_STATE_SCHED)) __tasklet_schedule(t).
      name,
      operands: [TASKLET_OPERAND],
      exec(m, cpu, ctx, a) {
        scheduleEntry(m, cpu, taskletEntry(a), vec);
        m.advance(ctx);
      },
      label(m, cpu, _ctx, a) {
        const o = entryOff(m, taskletEntry(a));
        return (m.s[o + E_STATE]! & SCHED) !== 0
          ? `${name}(${taskletName(m, a)}): SCHED already set, nothing to do`
          : `${name}(${taskletName(m, a)}): queued on cpu${cpu}'s ${SOFTIRQS[vec]} list, ${SOFTIRQS[vec]} raised${m.inInterrupt(cpu) ? '' : ', ksoftirqd woken'}`;
      },
    };
  }),
  {
    // tasklet_disable_nosync(): atomic_inc(&t->count).
    name: 'tasklet_disable_nosync',
    operands: [TASKLET_OPERAND],
    exec(m, _cpu, ctx, a) {
      const o = entryOff(m, taskletEntry(a));
      m.w(o + E_COUNT, m.s[o + E_COUNT]! + 1);
      m.advance(ctx);
    },
  },
  // tasklet_disable(): tasklet_disable_nosync + tasklet_unlock_wait (sleeps ≥5.13, spins before).
  runWaitOp('tasklet_disable', { disable: true, spin: (m) => !sleeps(m) }),
  // tasklet_disable_in_atomic() (≥5.13): tasklet_disable_nosync + tasklet_unlock_spin_wait.
  runWaitOp('tasklet_disable_in_atomic', { disable: true, spin: () => true, since513: true }),
  runWaitOp('tasklet_unlock_wait', { disable: false, spin: (m) => !sleeps(m) }),
  runWaitOp('tasklet_unlock_spin_wait', { disable: false, spin: () => true, since513: true }),
  {
    // tasklet_enable(): atomic_dec(&t->count). A disabled tasklet kept
    // bouncing on its list, so it runs at the next pass (unparkReady).
    name: 'tasklet_enable',
    operands: [TASKLET_OPERAND],
    exec(m, cpu, ctx, a) {
      const o = entryOff(m, taskletEntry(a));
      if (m.s[o + E_COUNT]! <= 0) {
        m.fail('lock-misuse', `tasklet_enable(${taskletName(m, a)}) in ${m.contextName(ctx)} without a matching tasklet_disable: t->count goes negative and the tasklet never runs again`, cpu, ctx);
        return;
      }
      m.w(o + E_COUNT, m.s[o + E_COUNT]! - 1);
      unparkReady(m);
      m.advance(ctx);
    },
  },
  {
    // tasklet_kill(): test_and_set SCHED (waiting while it is set), then tasklet_unlock_wait, then clear SCHED.
    name: 'tasklet_kill',
    operands: [TASKLET_OPERAND],
    ready(m, _cpu, ctx, a) {
      return !(phaseOf(m, ctx) === KILL_RUN_SPIN && m.s[entryOff(m, taskletEntry(a)) + E_RUN] !== 0);
    },
    exec(m, cpu, ctx, a) {
      kill(m, cpu, ctx, a, true);
    },
    label(m, cpu, ctx, a) {
      return kill(m, cpu, ctx, a, false);
    },
    waitsFor(m, _cpu, ctx, a) {
      const e = taskletEntry(a);
      if (phaseOf(m, ctx) === KILL_SCHED_WAIT) {
        const holder = runHolder(m, a);
        return {
          on: holder >= 0 ? [holder] : [],
          why: `${m.contextName(ctx)}: tasklet_kill(${taskletName(m, a)}) waits for SCHED to clear; ${taskletName(m, a)} is ${whereIs(m, e)}${m.s[entryOff(m, e) + E_COUNT] !== 0 ? ', so it never runs' : ''}`,
        };
      }
      return runWait(m, ctx, a, `tasklet_kill(${taskletName(m, a)})`);
    },
  },
];

// ----------------------------------------------------------- declarations

export const TASKLET_OBJECTS: readonly ObjectKindSpec[] = [
  {
    kind: 'tasklet',
    field: 'tasklets',
    size: TASKLET_SIZE,
    ctype: 'tasklet_struct',
    declKeys: ['func', 'disabled'],
    declare(_name, decl, d) {
      const t = decl as { func?: unknown; disabled?: unknown } | null;
      if (typeof t !== 'object' || t === null || typeof t.func !== 'string') {
        return d.fail("declare a tasklet as { func: 'name_of_a_design_function' } (DECLARE_TASKLET / tasklet_setup)");
      }
      if (t.disabled !== undefined && typeof t.disabled !== 'boolean') d.fail('disabled must be true or false (DECLARE_TASKLET_DISABLED)');
      return { init: [0, 0, t.disabled ? 1 : 0, 0, 0], attrs: { func: d.functionEntry(t.func) } };
    },
    activeState(m, id) {
      const o = entryOff(m, taskletEntry(id));
      if (m.s[o + E_RUN] !== 0) return `running (TASKLET_STATE_RUN) in ${m.contextName(m.s[o + E_RUN]! - 1)}`;
      if ((m.s[o + E_STATE]! & SCHED) !== 0) return `scheduled (TASKLET_STATE_SCHED): ${whereIs(m, taskletEntry(id))}`;
      return null;
    },
  },
];

/** Name of the tasklet or BH a softirq/ksoftirqd frame is running now (RUN holder), or null. */
export function runningTitle(m: Machine, ctx: number): string | null {
  const e = runningEntry(m, ctx);
  return e < 0 ? null : entryTitle(m, e);
}

export const TASKLET: Mechanism = {
  name: 'tasklet',
  ops: TASKLET_OPS,
  // Every tasklet and BH entry (state, count, list position), this CPU's lists and
  // softirq state, the tasks a wait may block or wake; 2.4 BHs run task queues.
  defaultFootprint(f) {
    f.write(f.ownCpu());
    f.raises(HI_SOFTIRQ);
    f.raises(TASKLET_SOFTIRQ);
    f.write(f.anyObject('tasklet'));
    f.write(f.anyObject('bh'));
    f.write(f.anyObject('tq_struct'));
    f.write(f.anyTask());
  },
  objects: TASKLET_OBJECTS,
  builtins: [{
    name: 'tasklet_action',
    ops: ['tasklet_action_detach', 'tasklet_action_next', 'ret'],
    live: (shape) => shape.objectCount('tasklet') > 0 || shape.flags.globalBH,
  }],
  // HI and TASKLET run tasklet_hi_action/tasklet_action when the design has
  // tasklets; in 2.4, HI always does (it runs the bottom halves, bh.ts).
  softirqActions(shape) {
    const out: { vec: number; builtin: string }[] = [];
    if (shape.objectCount('tasklet') > 0 || shape.flags.globalBH) out.push({ vec: HI_SOFTIRQ, builtin: 'tasklet_action' });
    if (shape.objectCount('tasklet') > 0) out.push({ vec: TASKLET_SOFTIRQ, builtin: 'tasklet_action' });
    return out;
  },
  frameName: runningTitle,
  endBound: parkedForever,
};
