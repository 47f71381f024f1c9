/**
 * NAPI (net/core/dev.c, include/linux/netdevice.h;
 * shared/kernel-semantics-drivers.md D3), softirq NAPI only.
 *
 * A NAPI instance (design field `napis`, `{ poll, weight? }`) has its state
 * bits SCHED (a poll is scheduled or running: the ownership token), MISSED
 * (a schedule came while SCHED was held), DISABLE (napi_disable pending),
 * NPSVC (disabled) and LISTED (netif_napi_add), the poll list it is on (a
 * CPU's softnet_data.poll_list, or the list a running net_rx_action took
 * off it) with its place there, and the frame running its poll.
 *
 *  - netif_napi_add: LISTED, and SCHED|NPSVC: a new NAPI starts disabled.
 *    netif_napi_del: not LISTED (netif_napi_del's synchronize_net sleeps:
 *    might_sleep).
 *  - napi_enable: BUG_ON(!SCHED); clear SCHED|NPSVC.
 *  - napi_schedule = napi_schedule_prep + __napi_schedule. prep: false if
 *    DISABLE; set SCHED, and MISSED if it was already set; true if the
 *    caller now owns the poll. __napi_schedule: with irqs off, put it on
 *    this CPU's poll list and __raise_softirq_irqoff(NET_RX), which wakes
 *    nobody: from a task with BH on that is B15, a lost softirq.
 *  - net_rx_action (NET_RX): take this CPU's poll list; for each entry,
 *    napi_poll calls the design's poll function with the weight in the
 *    register `budget` (and `work` at 0): the poll function sets `work`.
 *    work < weight: the driver must have completed (napi_complete_done);
 *    work == weight: still scheduled, it goes on the repoll list (or, with
 *    a napi_disable pending, it is completed here); work > weight is
 *    "NAPI poll function … exceeding its budget". A driver that completed
 *    and then used up its budget is "Budget exhausted after napi
 *    rescheduled" (B30). After any poll, netdev_budget or the 2-jiffy time
 *    limit may stop the loop (a choice: the budget's exact accounting is
 *    not modelled); what is left, new arrivals and the repoll list go back
 *    on the poll list and NET_RX is raised again.
 *  - napi_complete_done (from the poll function): false under NPSVC;
 *    WARN_ON_ONCE(!SCHED); clear SCHED unless MISSED is set, in which case
 *    it reschedules at once and returns false (no lost event: NP2).
 *  - napi_disable (sleeps): set DISABLE, wait until neither SCHED nor
 *    NPSVC is set (usleep_range: modelled as sleeping until they clear),
 *    then take both and clear DISABLE. A second napi_disable waits for
 *    ever (B31).
 * The poll runs in NET_RX, BH off, irqs on; a poll function that touches
 * freed memory, or a net_rx_action that reaches a NAPI whose struct was
 * freed, is a use-after-free (B29).
 *
 * Not modelled: busy polling (napi_busy_loop), threaded NAPI
 * (dev_set_threaded), netpoll, GRO, gro_flush_timeout and
 * napi_defer_hard_irqs (napi_complete_done returns true or false only as
 * above), in_net_rx_action (NET_RX is raised even while it runs: one more
 * empty pass), RPS.
 */
import type { NapiDecl } from '../dsl/napi.ts';
import { FrameKind, X_KIND, X_PC, X_PHASE } from './layout.ts';
import type { Machine } from './machine.ts';
import { goneMessage, structGone, structOf } from './lifetime.ts';
import { INSN_WIDTH } from './program.ts';
import { block, Chan, channel, mightSleep, sleeps, wakeAll, wakes } from './scheduler.ts';
import type { FootprintBuilder, Mechanism, ObjectKindSpec, OperandSpec, OpSemantics, WaitEdge } from './semantics.ts';
import { raise } from './softirq.ts';

export const NET_RX_SOFTIRQ = 3;
/** NAPI_POLL_WEIGHT. */
export const NAPI_POLL_WEIGHT = 64;

// Napi words
const N_STATE = 0;
const N_LIST = 1; // 0 none; 1 + cpu * 2: cpu's poll_list; 2 + cpu * 2: the list cpu's net_rx_action took
const N_POS = 2;
const N_POLL = 3; // ctx + 1 of the frame inside its poll function
const NAPI_SIZE = 4;

const SCHED = 1;
const MISSED = 2;
const DISABLE = 4;
const NPSVC = 8;
const LISTED = 16;

const count = (m: Machine): number => m.p.objects['napi']?.length ?? 0;
const off = (m: Machine, n: number): number => m.objOff('napi', n, NAPI_SIZE);
const napiName = (m: Machine, n: number): string => m.p.objects['napi']![n]!.name;
const attr = (m: Machine, n: number, a: string): number => m.p.objects['napi']![n]!.attrs[a]!;
const stateOf = (m: Machine, n: number): number => m.s[off(m, n) + N_STATE]!;
const pollList = (cpu: number): number => 1 + cpu * 2;
const takenList = (cpu: number): number => 2 + cpu * 2;
const textOf = (m: Machine, ctx: number): string => m.p.text[m.s[m.ctxOff(ctx) + X_PC]! / INSN_WIDTH]!;
const pollFn = (m: Machine, n: number): string => (m.p.design as { napis?: Record<string, NapiDecl> }).napis?.[napiName(m, n)]?.poll ?? 'poll';

/** Names of the state bits, for labels. */
function bits(st: number): string {
  const names: [number, string][] = [[SCHED, 'SCHED'], [MISSED, 'MISSED'], [DISABLE, 'DISABLE'], [NPSVC, 'NPSVC']];
  const out = names.filter(([b]) => (st & b) !== 0).map(([, n]) => n);
  return out.length ? out.join('|') : 'idle';
}

/** The entries of a list, in order. */
function entries(m: Machine, list: number): number[] {
  const out: { n: number; pos: number }[] = [];
  for (let n = 0, N = count(m); n < N; n++) if (m.s[off(m, n) + N_LIST] === list) out.push({ n, pos: m.s[off(m, n) + N_POS]! });
  return out.sort((a, b) => a.pos - b.pos).map((e) => e.n);
}

function append(m: Machine, n: number, list: number): void {
  m.w(off(m, n) + N_POS, entries(m, list).length);
  m.w(off(m, n) + N_LIST, list);
}

/** list_del_init, closing the gap. */
function unlink(m: Machine, n: number): void {
  const o = off(m, n);
  const list = m.s[o + N_LIST]!;
  const pos = m.s[o + N_POS]!;
  for (const k of entries(m, list)) if (m.s[off(m, k) + N_POS]! > pos) m.w(off(m, k) + N_POS, m.s[off(m, k) + N_POS]! - 1);
  m.w(o + N_LIST, 0);
  m.w(o + N_POS, 0);
}

/** ____napi_schedule: on this CPU's poll list, NET_RX raised (no wakeup: __raise_softirq_irqoff). */
function napiScheduleLocal(m: Machine, cpu: number, n: number): void {
  if (m.s[off(m, n) + N_LIST] === 0) append(m, n, pollList(cpu));
  raise(m, cpu, NET_RX_SOFTIRQ);
}

/** napi_schedule_prep: the cmpxchg loop; true if the caller now owns the poll. */
function schedulePrep(m: Machine, n: number, commit: boolean): boolean {
  const st = stateOf(m, n);
  if ((st & DISABLE) !== 0) return false;
  if (commit) m.w(off(m, n) + N_STATE, st | SCHED | ((st & SCHED) !== 0 ? MISSED : 0));
  return (st & SCHED) === 0;
}

/** SCHED (or NPSVC) cleared: a napi_disable waiting may go on. */
const wakeDisablers = (m: Machine, n: number): void => wakeAll(m, channel(Chan.Napi, n));

/** napi_complete_done's state change; returns what it returns, or null after a violation. */
function complete(m: Machine, cpu: number, ctx: number, n: number, commit: boolean): boolean | null {
  const o = off(m, n);
  const st = stateOf(m, n);
  if ((st & NPSVC) !== 0) return false;
  if ((st & SCHED) === 0) {
    if (commit) m.fail('assertion', `WARNING: CPU: ${cpu} at net/core/dev.c napi_complete_done: WARN_ON_ONCE(!(val & NAPIF_STATE_SCHED)): ${textOf(m, ctx)} by ${m.contextName(ctx)} on a NAPI that is not scheduled`, cpu, ctx);
    return null;
  }
  if ((st & MISSED) !== 0) {
    // A schedule came while polling: keep SCHED, clear MISSED, and __napi_schedule again.
    if (commit) {
      m.w(o + N_STATE, st & ~MISSED);
      napiScheduleLocal(m, cpu, n);
    }
    return false;
  }
  if (commit) {
    m.w(o + N_STATE, st & ~SCHED);
    wakeDisablers(m, n);
  }
  return true;
}

/**
 * ____napi_schedule on this CPU: the place on its poll list (append reads
 * every NAPI's list and position), NET_RX pending here.
 */
function schedulesLocally(f: FootprintBuilder): void {
  f.write(f.anyObject('napi'));
  f.write(f.ownCpu());
  f.raises(NET_RX_SOFTIRQ);
}

const NAPI: OperandSpec = { kind: 'object', field: 'obj', objectKind: 'napi' };
const RET: OperandSpec = { kind: 'reg-def', field: 'reg', optional: true };
const setRet = (m: Machine, ctx: number, reg: number, b: boolean): void => {
  if (reg >= 0) m.setReg(ctx, reg, b ? 1 : 0);
};

/** napi_schedule / napi_schedule_irqoff / __napi_schedule / napi_schedule_prep. */
function scheduleOp(name: 'napi_schedule' | 'napi_schedule_irqoff' | '__napi_schedule' | 'napi_schedule_prep'): OpSemantics {
  const prepOnly = name === 'napi_schedule_prep';
  const noPrep = name === '__napi_schedule';
  return {
    name,
    operands: prepOnly ? [NAPI, { kind: 'reg-def', field: 'reg' }] : [NAPI, RET],
    // Its state bits; napi_schedule_irqoff's assertion reads this CPU's irq flag; all but the prep put it on this CPU's poll list.
    footprint(f, a) {
      f.write(f.object('napi', a));
      if (name === 'napi_schedule_irqoff') f.read(f.ownCpu());
      if (!prepOnly) schedulesLocally(f);
    },
    exec(m, cpu, ctx, a, b) {
      if (name === 'napi_schedule_irqoff' && !m.irqsOff(cpu)) {
        m.fail('assertion', `WARNING: CPU: ${cpu} at net/core/dev.c ____napi_schedule: lockdep_assert_irqs_disabled(): napi_schedule_irqoff(&${napiName(m, a)}) by ${m.contextName(ctx)} with irqs on`, cpu, ctx);
        return;
      }
      const owns = noPrep ? true : schedulePrep(m, a, true);
      if (owns && !prepOnly) napiScheduleLocal(m, cpu, a);
      if (!noPrep) setRet(m, ctx, b, owns);
      m.advance(ctx);
    },
    label(m, cpu, ctx, a) {
      const text = textOf(m, ctx);
      const st = stateOf(m, a);
      if (noPrep) return `${text}: on cpu${cpu}'s poll list, NET_RX raised`;
      if ((st & DISABLE) !== 0) return `${text} → false: a napi_disable is pending`;
      if ((st & SCHED) !== 0) return `${text} → false: already scheduled (${bits(st)}): MISSED set`;
      return prepOnly ? `${text} → true: SCHED set` : `${text} → true: SCHED, on cpu${cpu}'s poll list, NET_RX raised`;
    },
  };
}

export const NAPI_OPS: readonly OpSemantics[] = [
  {
    name: 'netif_napi_add',
    operands: [NAPI],
    footprint(f, a) {
      f.write(f.object('napi', a));
    },
    exec(m, cpu, ctx, a) {
      const o = off(m, a);
      if ((stateOf(m, a) & LISTED) !== 0) {
        m.fail('assertion', `WARNING: CPU: ${cpu} at net/core/dev.c netif_napi_add_weight: WARN_ON(test_and_set_bit(NAPI_STATE_LISTED)): &${napiName(m, a)} added twice by ${m.contextName(ctx)}`, cpu, ctx);
        return;
      }
      m.w(o + N_STATE, LISTED | SCHED | NPSVC);
      m.advance(ctx);
    },
  },
  {
    name: 'netif_napi_del',
    operands: [NAPI],
    // might_sleep reads this CPU; the LISTED bit.
    footprint(f, a) {
      f.read(f.ownCpu());
      f.write(f.object('napi', a));
    },
    exec(m, cpu, ctx, a) {
      // netif_napi_del = __netif_napi_del + synchronize_net().
      if (!mightSleep(m, cpu, ctx, `netif_napi_del(&${napiName(m, a)})`)) return;
      m.w(off(m, a) + N_STATE, stateOf(m, a) & ~LISTED);
      m.advance(ctx);
    },
  },
  {
    name: 'napi_enable',
    operands: [NAPI],
    footprint(f, a) {
      f.write(f.object('napi', a));
    },
    exec(m, cpu, ctx, a) {
      const st = stateOf(m, a);
      if ((st & SCHED) === 0) {
        m.fail('assertion', `kernel BUG at net/core/dev.c! napi_enable: BUG_ON(!test_bit(NAPI_STATE_SCHED, &n->state)): &${napiName(m, a)} is not disabled (${m.contextName(ctx)})`, cpu, ctx);
        return;
      }
      m.w(off(m, a) + N_STATE, st & ~(SCHED | NPSVC));
      m.advance(ctx);
    },
  },
  {
    name: 'napi_disable',
    operands: [NAPI],
    // might_sleep reads this CPU; the state bits; it sleeps until a complete wakes it.
    footprint(f, a) {
      sleeps(f);
      f.write(f.object('napi', a));
    },
    exec(m, cpu, ctx, a) {
      const o = m.ctxOff(ctx);
      const no = off(m, a);
      if (m.s[o + X_PHASE] === 0) {
        if (!mightSleep(m, cpu, ctx, `napi_disable(&${napiName(m, a)})`)) return;
        m.w(no + N_STATE, stateOf(m, a) | DISABLE);
        m.w(o + X_PHASE, 1);
      }
      const st = stateOf(m, a);
      if ((st & (SCHED | NPSVC)) !== 0) {
        block(m, cpu, ctx, channel(Chan.Napi, a));
        return;
      }
      m.w(no + N_STATE, (st | SCHED | NPSVC) & ~DISABLE);
      m.advance(ctx);
    },
    label(m, _cpu, ctx, a) {
      const st = stateOf(m, a);
      const head = `napi_disable(&${napiName(m, a)})${m.s[m.ctxOff(ctx) + X_PHASE] === 0 ? ': DISABLE' : ''}`;
      return (st & (SCHED | NPSVC)) !== 0 ? `${head}; ${bits(st)}: sleeps until the poll is done` : `${head}; owns SCHED|NPSVC: disabled`;
    },
    waitsFor(m, _cpu, ctx, a): WaitEdge {
      const no = off(m, a);
      const poller = m.s[no + N_POLL]! - 1;
      const list = m.s[no + N_LIST]!;
      const cpu = list === 0 ? -1 : Math.floor((list - 1) / 2);
      const on = poller >= 0 ? [poller] : cpu >= 0 && m.top(cpu) >= 0 ? [m.top(cpu)] : [];
      const where = poller >= 0 ? `its poll runs in ${m.contextName(poller)}` : cpu >= 0 ? `it waits on cpu${cpu}'s poll list for NET_RX` : (stateOf(m, a) & NPSVC) !== 0 ? 'it is already disabled (NPSVC): nobody will ever clear it' : 'nobody will poll it';
      return { on, why: `${m.contextName(ctx)}: napi_disable(&${napiName(m, a)}) sleeps while SCHED or NPSVC is set: ${where}` };
    },
  },
  scheduleOp('napi_schedule'),
  scheduleOp('napi_schedule_irqoff'),
  scheduleOp('napi_schedule_prep'),
  scheduleOp('__napi_schedule'),
  {
    // napi_complete_done(n, work_done): false if it must keep polling (MISSED, or netpoll/busy poll owns it).
    name: 'napi_complete_done',
    operands: [NAPI, { kind: 'reg-def', field: 'reg', optional: true, packed: true }, { kind: 'expr', field: 'value' }],
    // Its state bits; MISSED: rescheduled on this CPU; SCHED cleared: a napi_disable sleeping on it is woken.
    // (work_done, the expression, is not read.)
    footprint(f, a) {
      f.write(f.object('napi', a & 0xffff));
      schedulesLocally(f);
      wakes(f);
    },
    exec(m, cpu, ctx, a) {
      const n = a & 0xffff;
      const r = complete(m, cpu, ctx, n, true);
      if (r === null) return;
      setRet(m, ctx, (a >>> 16) - 1, r);
      m.advance(ctx);
    },
    label(m, cpu, ctx, a) {
      const n = a & 0xffff;
      const st = stateOf(m, n);
      const text = textOf(m, ctx);
      if ((st & NPSVC) !== 0) return `${text} → false: NPSVC`;
      if ((st & SCHED) === 0) return `${text}: not scheduled`;
      if ((st & MISSED) !== 0) return `${text} → false: MISSED: rescheduled on cpu${cpu}`;
      return `${text} → true: SCHED cleared`;
    },
  },
  {
    // net_rx_action: one step per poll (see the header).
    name: 'net_rx_action',
    internal: true,
    // NET_RX on this CPU: every NAPI (its lists, the state of the one polled, the frame polling),
    // the structs the NAPIs belong to (a freed one is a use-after-free), NET_RX raised again here,
    // and a napi_disable woken when a poll with one pending is completed.
    footprint(f) {
      schedulesLocally(f);
      f.read(f.anyObject('struct'));
      wakes(f);
    },
    variants(m, cpu, ctx) {
      return netRx(m, cpu, ctx, 0, false).variants;
    },
    exec(m, cpu, ctx, _a, _b, _c, variant) {
      netRx(m, cpu, ctx, variant, true);
    },
    label(m, cpu, ctx, _a, _b, _c, variant) {
      return netRx(m, cpu, ctx, variant, false).label;
    },
  },
];

/** The NAPI whose poll frame `ctx` runs, or -1. */
function pollingIn(m: Machine, ctx: number): number {
  for (let n = 0, N = count(m); n < N; n++) if (m.s[off(m, n) + N_POLL] === ctx + 1) return n;
  return -1;
}

/**
 * net_rx_action, step by step. At entry (nothing taken yet, no poll
 * returned): take the poll list. After a poll returns: napi_poll's
 * handling of its work, then (variant 1, if more is left) stop for
 * netdev_budget or the time limit. Then poll the next entry, or take the
 * poll list again if it refilled, or end: put back what is left and raise
 * NET_RX if anything is.
 */
function netRx(m: Machine, cpu: number, ctx: number, variant: number, commit: boolean): { variants: number; label: string } {
  // A label runs the same code on a copy of the state, with the write log and fingerprint put back after.
  const s0 = m.s;
  const saved = { message: m.message, logLen: m.logLen, hLo: m.hLo, hHi: m.hHi };
  if (!commit) m.s = s0.slice();
  try {
    const notes: string[] = [];
    const taken = takenList(cpu);
    const done = pollingIn(m, ctx);
    let variants = 1;
    if (done >= 0) {
      const o = off(m, done);
      const weight = attr(m, done, 'weight');
      const work = m.reg(ctx, attr(m, done, 'work'));
      m.w(o + N_POLL, 0);
      notes.push(`${pollFn(m, done)}() returned ${work}`);
      if (work > weight) {
        m.fail('assertion', `NAPI poll function ${pollFn(m, done)} returned ${work}, exceeding its budget of ${weight}.`, cpu, ctx);
        return { variants: 1, label: notes.join('; ') };
      }
      if (work === weight) {
        const st = stateOf(m, done);
        if ((st & DISABLE) !== 0) {
          // napi_disable_pending: napi_complete(n) here.
          m.w(o + N_STATE, st & ~(SCHED | MISSED));
          wakeDisablers(m, done);
          notes.push('budget used, napi_disable pending: completed');
        } else if (m.s[o + N_LIST] !== 0) {
          m.fail('assertion', `${napiName(m, done)}: Budget exhausted after napi rescheduled (the poll function completed and used its whole budget; net/core/dev.c __napi_poll)`, cpu, ctx);
          return { variants: 1, label: notes.join('; ') };
        } else {
          append(m, done, taken); // the repoll list: after what is left, in order
          notes.push('budget used: repoll');
        }
      }
      // netdev_budget / time limit: a choice after any poll while entries are left.
      if (entries(m, taken).length > 0 || entries(m, pollList(cpu)).length > 0) {
        variants = 2;
        if (variant === 1) {
          finish(m, cpu, taken, notes, 'netdev_budget or the time limit hit');
          if (commit) m.returnFromCall(ctx);
          return { variants, label: `net_rx_action: ${notes.join('; ')}` };
        }
      }
    }
    if (entries(m, taken).length === 0) {
      const arrivals = entries(m, pollList(cpu));
      for (const n of arrivals) {
        unlink(m, n);
        append(m, n, taken);
      }
      if (arrivals.length > 0) notes.push(`takes cpu${cpu}'s poll list (${arrivals.map((n) => `&${napiName(m, n)}`).join(', ')})`);
    }
    const next = entries(m, taken)[0];
    if (next === undefined) {
      finish(m, cpu, taken, notes, 'nothing left');
      if (commit) m.returnFromCall(ctx);
      return { variants, label: `net_rx_action: ${notes.join('; ')}` };
    }
    const sid = structOf(m, napiName(m, next));
    if (structGone(m, sid)) {
      m.fail('use-after-free', goneMessage(m, sid, 'net_rx_action', `${m.contextName(ctx)} on cpu${cpu}`, `napi_poll(&${napiName(m, next)})`), cpu, ctx);
      return { variants, label: `net_rx_action: napi_poll(&${napiName(m, next)}) on freed memory` };
    }
    unlink(m, next);
    // napi_poll: if (test_bit(NAPI_STATE_SCHED)) work = n->poll(n, weight).
    if ((stateOf(m, next) & SCHED) !== 0) {
      const o = off(m, next);
      m.w(o + N_POLL, ctx + 1);
      m.setReg(ctx, attr(m, next, 'budget'), attr(m, next, 'weight'));
      m.setReg(ctx, attr(m, next, 'work'), 0);
      notes.push(`napi_poll(&${napiName(m, next)}): ${pollFn(m, next)}(budget ${attr(m, next, 'weight')})`);
      // The poll runs inside NET_RX: its leaks are the softirq's, checked when the vector returns.
      if (commit) m.callFrom(ctx, attr(m, next, 'poll'));
    } else {
      notes.push(`&${napiName(m, next)} is not scheduled: skipped`);
    }
    return { variants, label: `net_rx_action: ${notes.join('; ')}` };
  } finally {
    if (!commit) {
      m.s = s0;
      Object.assign(m, saved);
    }
  }
}

/** The end of net_rx_action: what is left, then new arrivals, back on the poll list; NET_RX again if any. */
function finish(m: Machine, cpu: number, taken: number, notes: string[], why: string): void {
  const left = entries(m, taken);
  const arrivals = entries(m, pollList(cpu));
  for (const n of arrivals) unlink(m, n);
  for (const n of left) unlink(m, n);
  for (const n of [...left, ...arrivals]) append(m, n, pollList(cpu));
  if (left.length + arrivals.length > 0) {
    raise(m, cpu, NET_RX_SOFTIRQ);
    notes.push(`${why}: ${[...left, ...arrivals].map((n) => `&${napiName(m, n)}`).join(', ')} back on the poll list, NET_RX raised`);
  } else {
    notes.push('done');
  }
}


const NAPIS: ObjectKindSpec = {
  kind: 'napi',
  field: 'napis',
  size: NAPI_SIZE,
  ctype: 'napi_struct',
  declKeys: ['poll', 'weight', 'budget', 'work'],
  declare(_name, decl, d) {
    const n = decl as Partial<NapiDecl> | null;
    if (typeof n !== 'object' || n === null || typeof n.poll !== 'string') {
      return d.fail("declare a NAPI as { poll: 'fn', weight?: n } (netif_napi_add_weight); the poll function reads register 'budget' and sets 'work'");
    }
    const weight = n.weight ?? NAPI_POLL_WEIGHT;
    if (!Number.isInteger(weight) || weight < 1 || weight > NAPI_POLL_WEIGHT) d.fail(`weight must be a whole number from 1 to ${NAPI_POLL_WEIGHT}`);
    const budget = n.budget ?? 'budget';
    const work = n.work ?? 'work';
    if (typeof budget !== 'string' || typeof work !== 'string') d.fail('budget and work name registers');
    return { init: [0, 0, 0, 0], attrs: { poll: d.callbackEntry(n.poll, [budget]), weight, budget: d.reg(budget), work: d.reg(work) } };
  },
};

/** `napi rx` for a NET_RX frame inside that NAPI's poll. */
function napiFrameName(m: Machine, ctx: number): string | null {
  const kind = m.s[m.ctxOff(ctx) + X_KIND]!;
  if (kind !== FrameKind.Softirq && kind !== FrameKind.Ksoftirqd) return null;
  const n = pollingIn(m, ctx);
  return n < 0 ? null : `napi ${napiName(m, n)}`;
}

export const NAPI_MECHANISM: Mechanism = {
  name: 'napi',
  // net/core/dev.c: NET_RX on PREEMPT_RT runs in task context (ksoftirqd or a bh-enabling task), where napi polls may sleep on rt locks.
  rtUnmodelled: 'on PREEMPT_RT NET_RX runs in task context, where a napi poll may sleep on an rt lock; softirqs here are frames that cannot',
  ops: NAPI_OPS,
  objects: [NAPIS],
  builtins: [{ name: 'net_rx_action', ops: ['net_rx_action'], live: (shape) => shape.objectCount('napi') > 0 }],
  softirqActions(shape) {
    return shape.objectCount('napi') > 0 ? [{ vec: NET_RX_SOFTIRQ, builtin: 'net_rx_action' }] : [];
  },
  frameName: napiFrameName,
};

