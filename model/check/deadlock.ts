/**
 * Checks of a terminal state (one with no enabled choice):
 *  - deadlock: work remains, so something waits forever. The wait-for graph
 *    has an edge from a spinner to the lock's holder(s), and from each
 *    suspended context to the frame stacked above it on its CPU (a frame
 *    below cannot run until every frame above it returns). Its cycle names
 *    the deadlock for what it is: an interrupt spinning on a lock its own
 *    CPU's task holds (AA), or ABBA across CPUs.
 *  - lost softirq (B15): every CPU idle with softirq work pending that no one
 *    will run ("NOHZ tick-stop error: local softirq work is pending").
 */
import { C_CURTASK, C_DEPTH, C_PENDING, ContextStatus, T_CHANNEL, X_STATUS } from '../kernel/layout.ts';
import { Chan } from '../kernel/scheduler.ts';
import { evaluate } from '../kernel/data.ts';
import type { Machine } from '../kernel/machine.ts';
import type { WaitEdge } from '../kernel/semantics.ts';
import type { ViolationKind } from './violation.ts';

/** One step of a wait-for cycle. */
export interface WaitStep {
  /** The waiting context, e.g. `hardirq eth0`. */
  readonly context: string;
  readonly cpu: number;
  /** Why it waits, in kernel words. */
  readonly why: string;
}

export interface TerminalViolation {
  readonly kind: ViolationKind;
  readonly message: string;
  readonly cpu: number;
  readonly context: string;
  readonly cycle?: readonly WaitStep[];
}

interface Edge {
  readonly to: number;
  readonly why: string;
}

/**
 * An idle kernel thread: asleep on a Chan.Worker channel, waiting for work
 * (a kworker with an empty worklist, see workqueue.ts). It is neither stuck
 * nor unfinished business.
 */
function idleKthread(m: Machine, t: number): boolean {
  const o = m.ctxOff(t);
  return m.s[o + X_STATUS] === ContextStatus.Blocked && m.s[o + T_CHANNEL]! >>> 16 === Chan.Worker;
}

/** Whether every task has finished (or is an idle kthread) and every CPU is back to idle. */
function allDone(m: Machine): boolean {
  for (let t = 0; t < m.L.ntasks; t++) if (m.s[m.ctxOff(t) + X_STATUS] !== ContextStatus.Done && !idleKthread(m, t)) return false;
  for (let c = 0; c < m.p.ncpu; c++) if (m.s[m.cpuOff(c) + C_DEPTH] !== 0) return false;
  return true;
}

/** The wait-for edges out of every live context. */
function waitForGraph(m: Machine): Map<number, Edge[]> {
  const graph = new Map<number, Edge[]>();
  const add = (from: number, to: number, why: string) => {
    const list = graph.get(from) ?? [];
    list.push({ to, why });
    graph.set(from, list);
  };
  for (let cpu = 0; cpu < m.p.ncpu; cpu++) {
    const co = m.cpuOff(cpu);
    const depth = m.s[co + C_DEPTH]!;
    const task = m.s[co + C_CURTASK]!;
    const stack: number[] = [];
    if (task >= 0) stack.push(task);
    for (let d = 0; d < depth; d++) stack.push(m.frameCtx(cpu, d));
    for (let i = 0; i + 1 < stack.length; i++) {
      const below = stack[i]!;
      const above = stack[i + 1]!;
      add(below, above, `${m.contextName(below)} is interrupted on cpu${cpu} by ${m.contextName(above)} and cannot run until it returns`);
    }
    const top = stack[stack.length - 1];
    if (top !== undefined) {
      const edge = m.waitsFor(top);
      if (edge) for (const to of edge.on) add(top, to, edge.why);
    }
  }
  for (const t of blockedTasks(m)) {
    const edge = m.waitsFor(t);
    if (edge) for (const to of edge.on) add(t, to, edge.why);
  }
  return graph;
}

/** Tasks asleep on a wait channel. */
function blockedTasks(m: Machine): number[] {
  const out: number[] = [];
  for (let t = 0; t < m.L.ntasks; t++) if (m.s[m.ctxOff(t) + X_STATUS] === ContextStatus.Blocked && !idleKthread(m, t)) out.push(t);
  return out;
}

/** A cycle in the wait-for graph, found by depth-first search from each blocked top context. */
function findCycle(graph: Map<number, Edge[]>): { ctx: number; why: string }[] | null {
  const state = new Map<number, 1 | 2>(); // 1 on path, 2 done
  const path: { ctx: number; why: string }[] = [];
  const visit = (ctx: number): { ctx: number; why: string }[] | null => {
    state.set(ctx, 1);
    for (const e of graph.get(ctx) ?? []) {
      path.push({ ctx, why: e.why });
      const st = state.get(e.to);
      if (st === 1) {
        const start = path.findIndex((p) => p.ctx === e.to);
        return path.slice(start);
      }
      if (st === undefined) {
        const found = visit(e.to);
        if (found) return found;
      }
      path.pop();
    }
    state.set(ctx, 2);
    return null;
  };
  for (const ctx of [...graph.keys()].sort((a, b) => a - b)) {
    if (state.has(ctx)) continue;
    const found = visit(ctx);
    if (found) return found;
  }
  return null;
}

/** Classify a cycle: all on one CPU (AA through interrupt nesting) or across CPUs. */
function summarise(m: Machine, cycle: readonly { ctx: number; why: string }[]): string {
  const cpus = new Set(cycle.map((c) => m.cpuOfCtx(c.ctx)));
  const names = cycle.map((c) => m.contextName(c.ctx));
  if (cpus.size === 1) {
    const cpu = [...cpus][0]!;
    // Without an interrupted frame in it, a one-CPU cycle is one of sleepers (mutexes, flushes).
    if (!cycle.some((c) => c.why.includes(' is interrupted on '))) {
      return cycle.length === 1
        ? `deadlock on cpu${cpu}: ${names[0]} waits for itself`
        : `deadlock on cpu${cpu}: ${names.join(' → ')} → ${names[0]} (circular wait)`;
    }
    const spinner = cycle.find((c) => !c.why.includes(' is interrupted on '));
    const who = spinner ? m.contextName(spinner.ctx) : names[0]!;
    return `AA deadlock on cpu${cpu}: ${who} spins on a lock held by a context it interrupted (${names.join(' ⇄ ')})`;
  }
  return `deadlock across cpu${[...cpus].sort().join('/cpu')}: ${names.join(' → ')} → ${names[0]} (circular wait)`;
}

/** The violation of a terminal state, or null if it is a clean end. */
export function terminalViolation(m: Machine, s: Int32Array): TerminalViolation | null {
  m.s = s;
  if (allDone(m)) {
    for (let cpu = 0; cpu < m.p.ncpu; cpu++) {
      const pending = m.s[m.cpuOff(cpu) + C_PENDING]!;
      if (pending !== 0) {
        // tick_nohz_stop_tick / report_idle_softirq
        const hex = pending.toString(16).padStart(2, '0');
        return {
          kind: 'lost-softirq' as const,
          message: `NOHZ tick-stop error: local softirq work is pending, handler #${hex}!!! (cpu${cpu} is idle, no irq_exit, bh enable or ksoftirqd wakeup will run it)`,
          cpu,
          context: `cpu${cpu} idle`,
        };
      }
    }
    // The design's at-end invariants (all work done; nothing may be left undone or done twice).
    for (const inv of m.p.invariants) {
      if (inv.when === 'at-end' && evaluate(m, 0, 0, inv.expr) === 0) {
        return { kind: inv.kind, message: `invariant '${inv.name}' does not hold when all work is done: ${inv.text}`, cpu: -1, context: '' };
      }
    }
    return null;
  }
  const graph = waitForGraph(m);
  const cycle = findCycle(graph);
  if (cycle) return cycleViolation(m, cycle);
  // No cycle, but tasks asleep forever: nobody is left to wake them
  // (check_hung_uninterruptible_tasks: "blocked for more than 120 seconds").
  const sleepers = blockedTasks(m);
  if (sleepers.length > 0) {
    const lines = sleepers.map((t) => {
      const why = m.waitsFor(t)?.why ?? `${m.contextName(t)} sleeps`;
      return `INFO: ${m.contextName(t)} blocked for more than 120 seconds.\n  ${why}; no context left can wake it`;
    });
    return { kind: 'hung-task', message: lines.join('\n'), cpu: m.cpuOfCtx(sleepers[0]!), context: m.contextName(sleepers[0]!) };
  }
  // No cycle: something waits on a context that can never run again.
  const waits = [...graph.entries()].flatMap(([ctx, edges]) => edges.map((e) => `  cpu${m.cpuOfCtx(ctx)} ${e.why}`));
  const stuck = [...graph.keys()][0] ?? 0;
  return {
    kind: 'deadlock',
    message: `no progress possible while work remains (waiting forever, no cycle):\n${waits.join('\n')}`,
    cpu: m.cpuOfCtx(stuck),
    context: m.contextName(stuck),
  };
}

/** The deadlock a wait-for cycle is, with the cycle's steps and the kernel's words. */
function cycleViolation(m: Machine, cycle: readonly { ctx: number; why: string }[]): TerminalViolation {
  const steps: WaitStep[] = cycle.map((c) => ({ context: m.contextName(c.ctx), cpu: m.cpuOfCtx(c.ctx), why: c.why }));
  // Name the context that spins or sleeps, not one merely interrupted.
  const first = cycle.find((c) => !c.why.includes(' is interrupted on ')) ?? cycle[0]!;
  return {
    kind: 'deadlock',
    message: `${summarise(m, cycle)}\n${steps.map((st) => `  cpu${st.cpu} ${st.why}`).join('\n')}`,
    cpu: m.cpuOfCtx(first.ctx),
    context: m.contextName(first.ctx),
    cycle: steps,
  };
}

/**
 * The frame stacked right above `ctx` on its CPU, if `ctx` is suspended
 * below one: it cannot run until that frame returns.
 */
function frameAbove(m: Machine, ctx: number): number {
  const cpu = m.cpuOfCtx(ctx);
  if (cpu < 0) return -1;
  const co = m.cpuOff(cpu);
  const depth = m.s[co + C_DEPTH]!;
  if (depth === 0) return -1;
  const task = m.s[co + C_CURTASK]!;
  if (task === ctx) return m.frameCtx(cpu, 0);
  for (let d = 0; d + 1 < depth; d++) if (m.frameCtx(cpu, d) === ctx) return m.frameCtx(cpu, d + 1);
  return -1;
}

/**
 * A wait-for cycle through `ctx` made only of edges that the contexts they
 * point at alone can end by running: a frame stacked above another on its
 * CPU, and permanent waits (WaitEdge.permanent: a lock's owner or holders,
 * all of whom the waiter needs). Every context on such a cycle waits for
 * the next, which can never move: the deadlock exists the moment the cycle
 * closes, whatever the rest of the machine does (more interrupts, timer
 * ticks, other CPUs' work). Called after `ctx` stepped into a wait, the one
 * way such a cycle can close: a new frame runs, and a new holder runs, so
 * neither can be the last edge. Null if there is no such cycle.
 */
export function closedCycle(m: Machine, ctx: number): TerminalViolation | null {
  const first = m.waitsNow(ctx);
  if (!first?.permanent) return null;
  // The common case, without allocating: every context waited for runs on (nothing stacked on it,
  // not waiting itself), so no cycle can close through it.
  let open = false;
  const on = first.on;
  for (let i = 0; i < on.length; i++) {
    const t = on[i]!;
    if (t === ctx || frameAbove(m, t) >= 0 || m.waitsNow(t)?.permanent) {
      open = true;
      break;
    }
  }
  return open ? cycleThrough(m, ctx, first) : null;
}

/**
 * closedCycle's search, apart so that the common case above allocates
 * nothing (a function whose closures capture its variables allocates
 * their context on every call).
 */
function cycleThrough(m: Machine, ctx: number, first: WaitEdge): TerminalViolation | null {
  // Edges with their text built only for a cycle found (this runs after every step that starts a wait).
  const edgesOf = (x: number): { to: number; why: () => string }[] => {
    const out: { to: number; why: () => string }[] = [];
    const above = frameAbove(m, x);
    if (above >= 0) out.push({ to: above, why: () => `${m.contextName(x)} is interrupted on cpu${m.cpuOfCtx(x)} by ${m.contextName(above)} and cannot run until it returns` });
    const e = x === ctx ? first : m.waitsNow(x);
    if (e?.permanent) for (const to of e.on) out.push({ to, why: () => e.why });
    return out;
  };
  // Depth-first from ctx, in a fixed order, back to ctx.
  const seen = new Set<number>([ctx]);
  const path: { ctx: number; why: () => string }[] = [];
  const visit = (x: number): boolean => {
    for (const e of edgesOf(x)) {
      path.push({ ctx: x, why: e.why });
      if (e.to === ctx) return true;
      if (!seen.has(e.to)) {
        seen.add(e.to);
        if (visit(e.to)) return true;
      }
      path.pop();
    }
    return false;
  };
  if (!visit(ctx)) return null;
  // Start where the search of a terminal state would (findCycle: the lowest context), so a cycle reads the same either way.
  let low = 0;
  for (let i = 1; i < path.length; i++) if (path[i]!.ctx < path[low]!.ctx) low = i;
  return cycleViolation(m, [...path.slice(low), ...path.slice(0, low)].map((c) => ({ ctx: c.ctx, why: c.why() })));
}
