/**
 * What the reports see of a replayed schedule: after every step, each CPU's
 * stack of contexts with the locks each one holds and the lock it waits for,
 * the CPU's irq/bh/preempt state, and the lock events of the step. Built by
 * replaying the choices with the one Machine and comparing consecutive
 * states, so the reports never reimplement a rule of the kernel model; the
 * text trace, the lockdep report and the Perfetto trace all read this.
 *
 * A lock *attempt* is the moment a context first executes an acquisition
 * instruction: where the kernel calls lock_acquire() (lockdep runs there,
 * before any spinning or sleeping), so it is recorded whether the lock is
 * taken in the same step or the context starts to spin or sleep. For the
 * _bh forms the attempt is the step after local_bh_disable (the model makes
 * them two steps, as __raw_spin_lock_bh disables bh before spin_acquire).
 * A successful trylock is an attempt too; a failed one is nothing.
 */
import { kindCode } from '../check/violation.ts';
import { SOFTIRQS } from '../dsl/design.ts';
import { replay } from '../explore/replay.ts';
import type { Violation } from '../explore/outcome.ts';
import {
  C_BH, C_CURTASK, C_DEPTH, C_HARDIRQ, C_IRQS_OFF, C_KSOFTIRQD, C_PENDING, C_PREEMPT, C_SERVING,
  ContextStatus, FrameKind, H_VIOL_CTX, H_VIOL_KIND, L_OWNER, X_AUX2, X_CALLS, X_HELD, X_ID, X_KIND, X_PC, X_PHASE, X_STATUS,
} from '../kernel/layout.ts';
import { LOCK_KINDS } from '../kernel/lock-kinds.ts';
import { Machine } from '../kernel/machine.ts';
import { INSN_WIDTH, type Program } from '../kernel/program.ts';
import { OPS } from '../kernel/registry.ts';
import { CHOICE_RUN, choiceCpu, choiceKind } from '../kernel/semantics.ts';
import { holdCount } from '../kernel/held-locks.ts';

/** The kind of an execution context, as the reports name it. */
export type ContextKind = 'task' | 'hardirq' | 'softirq' | 'ksoftirqd';

/** One lock a context holds. */
export interface HeldLock {
  readonly lock: number;
  /** `&priv->lock` */
  readonly name: string;
  /** Held for read (rwlock reader). */
  readonly read: boolean;
}

/** The lock a context is trying to take and cannot yet. */
export interface LockWait {
  readonly lock: number;
  readonly name: string;
  readonly read: boolean;
  /** `spins` (spinlock, rwlock) or `sleeps` (a task asleep on a mutex). */
  readonly how: 'spins' | 'sleeps';
}

/** One context on a CPU (or a task asleep), as it is after a step. */
export interface FrameView {
  readonly ctx: number;
  readonly kind: ContextKind;
  /** `task reader`, `hardirq eth0`, `softirq NET_RX`, `ksoftirqd/0` (Machine.contextName). */
  readonly name: string;
  /** The name without the softirq vector being run: `softirq`, `ksoftirqd/0`. */
  readonly base: string;
  /** The softirq vector whose handler the frame is running (`NET_RX`), else null. */
  readonly vector: string | null;
  /** A callback the vector handler is running (`tasklet rx`, `timer priv->watchdog`), else null. */
  readonly callback: string | null;
  /**
   * Identity of this frame instance while it lives (a context id is reused
   * by the next interrupt frame at the same depth).
   */
  readonly key: string;
  /** Locks held, in acquisition order (a read recursion appears twice). */
  readonly held: readonly HeldLock[];
  readonly waiting: LockWait | null;
  /** Where its program counter is, e.g. `irq eth0[0]`, and the instruction there. */
  readonly where: string;
  readonly insn: string;
}

/** A CPU after a step. */
export interface CpuView {
  readonly cpu: number;
  /** Bottom first: the CPU's current task (if any), then its interrupt frames. */
  readonly stack: readonly FrameView[];
  readonly irqsOff: boolean;
  /** preempt_disable nesting (held spinlocks included). */
  readonly preempt: number;
  /** local_bh_disable nesting. */
  readonly bh: number;
  /** A softirq batch is executing (SOFTIRQ_OFFSET). */
  readonly serving: boolean;
  /** hardirq nesting (HARDIRQ_OFFSET units). */
  readonly hardirq: number;
  /** Pending softirq vectors, e.g. ['NET_RX']. */
  readonly pending: readonly string[];
  readonly ksoftirqdWoken: boolean;
  /** Tasks of this CPU asleep (blocked), with what they hold and wait for. */
  readonly asleep: readonly FrameView[];
}

export interface LockEvent {
  readonly kind: 'attempt' | 'acquire' | 'release';
  readonly ctx: number;
  readonly cpu: number;
  readonly lock: number;
  readonly read: boolean;
  readonly trylock: boolean;
  /** The kernel operation, e.g. `spin_lock_irqsave` (empty if not known). */
  readonly op: string;
  /** Where the instruction is and what it says, e.g. `task ethtool[0]: spin_lock(&priv->lock)` (empty for a diffed hold). */
  readonly where: string;
  /** The attempt raised the step's violation (e.g. a recursive acquisition). */
  readonly failed: boolean;
}

export interface StepView {
  /** 1-based. */
  readonly index: number;
  readonly choice: number;
  /** The CPU the choice acts on. */
  readonly cpu: number;
  /** The model's label, e.g. `cpu0 [task ethtool]: spin_lock(&priv->lock)`. */
  readonly label: string;
  /** The label without its `cpuN [context]: ` prefix. */
  readonly action: string;
  /** The context whose instruction ran, or null for an event (an interrupt arrives, schedule…). */
  readonly actor: string | null;
  readonly actorCtx: number;
  readonly events: readonly LockEvent[];
  /** Every CPU after the step. */
  readonly cpus: readonly CpuView[];
}

export interface ScheduleView {
  readonly program: Program;
  readonly initial: readonly CpuView[];
  readonly steps: readonly StepView[];
  readonly violation: Violation | null;
  /** Set if the choices do not replay: the first step that differs. */
  readonly mismatch: { readonly step: number; readonly problem: string } | null;
  readonly boundedOut: string | null;
  /** The state after the last step. */
  readonly final: Int32Array;
}

/** How a lock operation acts on its lock operand, from the kernel function's name. */
export interface LockOpShape {
  readonly action: 'acquire' | 'release';
  readonly read: boolean;
  readonly trylock: boolean;
  /** The _bh forms disable bottom halves in a step of their own before the attempt. */
  readonly bh: boolean;
}

/** The shape of a lock acquisition or release (its OpSemantics.lockdep), else null. */
export function lockOpShape(opcode: number): LockOpShape | null {
  const ld = OPS[opcode]?.lockdep;
  if (!ld || (ld.action !== 'acquire' && ld.action !== 'release')) return null;
  return { action: ld.action, read: ld.read !== 0, trylock: ld.trylock === true, bh: ld.prologueStep === true };
}

/** `cpu0 [task x]: text` → `text`; `cpu0: text` → `text`. */
export function actionOf(label: string): string {
  const m = /^cpu\d+(?: \[[^\]]*\])?: /.exec(label);
  return m ? label.slice(m[0].length) : label;
}

const KIND_NAMES: Record<number, ContextKind> = {
  [FrameKind.Task]: 'task',
  [FrameKind.Hardirq]: 'hardirq',
  [FrameKind.Softirq]: 'softirq',
  [FrameKind.Ksoftirqd]: 'ksoftirqd',
};

/** Per-context bookkeeping the state vector does not keep: acquisition order and attempts. */
class Observer {
  readonly m: Machine;
  /** Locks each context holds, in acquisition order. */
  readonly order = new Map<number, HeldLock[]>();
  /** Context → pc of the acquisition instruction it has attempted and not completed. */
  readonly attempted = new Map<number, { pc: number; lock: number; read: boolean }>();
  /** Frame instance generation per CPU depth, and the signature it was given for. */
  readonly generations = new Map<string, { sig: string; gen: number }>();
  /** Task run serial: bumped each time a task becomes a CPU's current task. */
  readonly runs = new Map<number, { current: boolean; serial: number }>();
  /** Vector call serial per frame key. */
  readonly vectors = new Map<string, { vector: string | null; serial: number }>();

  constructor(p: Program) {
    this.m = new Machine(p);
  }

  /** How many references `ctx` holds on `lock` in state `s` (read recursion counts each). */
  holdCount(s: Int32Array, ctx: number, lock: number): number {
    return holdCount(this.m.L, s, this.m.ctxOff(ctx), lock);
  }

  /** Diff every context's holds between two states into acquire/release events, in lock order. */
  holdEvents(s0: Int32Array, s1: Int32Array): LockEvent[] {
    const m = this.m;
    const out: LockEvent[] = [];
    const nlocks = m.p.locks.length;
    for (let ctx = 0; ctx < m.L.nctx; ctx++) {
      const o = m.ctxOff(ctx);
      if (s0[o + X_HELD] === s1[o + X_HELD] && sameWords(s0, s1, o + m.L.readNestBase, o + m.L.ctxSize)) continue;
      for (let lock = 0; lock < nlocks; lock++) {
        const before = this.holdCount(s0, ctx, lock);
        const after = this.holdCount(s1, ctx, lock);
        if (before === after) continue;
        // A shared lock (rwlock_t, rw_semaphore) held by a context that is not its writer is held for read.
        const read = LOCK_KINDS[m.p.locks[lock]!.kind].shared && s1[m.lockOff(lock) + L_OWNER] !== ctx + 1 && s0[m.lockOff(lock) + L_OWNER] !== ctx + 1;
        const cpu = m.cpuOfCtx(ctx);
        for (let i = before; i < after; i++) out.push({ kind: 'acquire', ctx, cpu, lock, read, trylock: false, op: '', where: '', failed: false });
        for (let i = after; i < before; i++) out.push({ kind: 'release', ctx, cpu, lock, read, trylock: false, op: '', where: '', failed: false });
      }
    }
    return out;
  }

  /** Apply hold events to the acquisition-order lists. */
  applyHolds(events: readonly LockEvent[]): void {
    for (const e of events) {
      const list = this.order.get(e.ctx) ?? [];
      if (e.kind === 'acquire') {
        list.push({ lock: e.lock, name: `&${this.m.lockName(e.lock)}`, read: e.read });
      } else if (e.kind === 'release') {
        for (let i = list.length - 1; i >= 0; i--) {
          if (list[i]!.lock === e.lock) {
            list.splice(i, 1);
            break;
          }
        }
      }
      this.order.set(e.ctx, list);
    }
  }

  /** Forget attempts whose context has moved on (completed, popped, or gone elsewhere). */
  pruneAttempts(s: Int32Array): void {
    for (const [ctx, a] of [...this.attempted]) {
      const o = this.m.ctxOff(ctx);
      if (s[o + X_STATUS] === ContextStatus.Free || s[o + X_STATUS] === ContextStatus.Done || s[o + X_PC] !== a.pc) this.attempted.delete(ctx);
    }
    for (const [ctx, list] of [...this.order]) {
      const o = this.m.ctxOff(ctx);
      if (list.length > 0 && s[o + X_HELD] === 0) this.order.set(ctx, []);
    }
  }

  frameView(s: Int32Array, ctx: number, key: string): FrameView {
    const m = this.m;
    m.s = s;
    const o = m.ctxOff(ctx);
    const kind = KIND_NAMES[s[o + X_KIND]!] ?? 'task';
    const name = m.contextName(ctx);
    const base = kind === 'softirq' ? 'softirq' : kind === 'ksoftirqd' ? `ksoftirqd/${m.cpuOfCtx(ctx)}` : name;
    // The softirq mechanism keeps the running vector in X_AUX2 while its handler is called (as contextName reads it).
    const vec = kind === 'softirq' || kind === 'ksoftirqd' ? s[o + X_AUX2]! : -1;
    const vector = vec >= 0 && s[o + X_CALLS]! > 0 ? SOFTIRQS[vec] ?? null : null;
    const shown = name.startsWith(`${base} `) ? name.slice(base.length + 1) : name === base ? null : name;
    const callback = shown !== null && shown !== vector ? shown : null;
    const a = this.attempted.get(ctx);
    const waiting: LockWait | null = a
      ? { lock: a.lock, name: `&${m.lockName(a.lock)}`, read: a.read, how: s[o + X_STATUS] === ContextStatus.Blocked ? 'sleeps' : 'spins' }
      : null;
    const pc = s[o + X_PC]!;
    const insn = pc / INSN_WIDTH;
    return {
      ctx, kind, name, base, vector, callback, key,
      held: [...(this.order.get(ctx) ?? [])],
      waiting,
      where: m.p.where[insn] ?? '',
      insn: m.p.text[insn] ?? '',
    };
  }

  cpuViews(s: Int32Array): CpuView[] {
    const m = this.m;
    const p = m.p;
    const views: CpuView[] = [];
    for (let cpu = 0; cpu < p.ncpu; cpu++) {
      const co = m.cpuOff(cpu);
      const stack: FrameView[] = [];
      const task = s[co + C_CURTASK]!;
      for (let t = 0; t < m.L.ntasks; t++) {
        if (p.tasks[t]!.cpu !== cpu) continue;
        const run = this.runs.get(t) ?? { current: false, serial: 0 };
        const current = t === task && s[m.ctxOff(t) + X_STATUS] === ContextStatus.Running;
        this.runs.set(t, { current, serial: current && !run.current ? run.serial + 1 : run.serial });
      }
      if (task >= 0 && s[m.ctxOff(task) + X_STATUS] === ContextStatus.Running) {
        stack.push(this.frameView(s, task, `t${task}.${this.runs.get(task)!.serial}`));
      }
      const depth = s[co + C_DEPTH]!;
      for (let d = 0; d < depth; d++) {
        const ctx = m.frameCtx(cpu, d);
        const o = m.ctxOff(ctx);
        const sig = `${s[o + X_KIND]}:${s[o + X_ID]}`;
        const slot = `${cpu}.${d}`;
        const g = this.generations.get(slot);
        const gen = g && g.sig === sig ? g.gen : (g?.gen ?? 0) + 1;
        this.generations.set(slot, { sig, gen });
        stack.push(this.frameView(s, ctx, `f${cpu}.${d}.${gen}`));
      }
      // A depth no longer used starts a new generation when it is next pushed.
      for (let d = depth; d < 8; d++) {
        const slot = `${cpu}.${d}`;
        const g = this.generations.get(slot);
        if (g && g.sig !== '') this.generations.set(slot, { sig: '', gen: g.gen });
      }
      const asleep: FrameView[] = [];
      for (let t = 0; t < m.L.ntasks; t++) {
        if (p.tasks[t]!.cpu === cpu && s[m.ctxOff(t) + X_STATUS] === ContextStatus.Blocked) asleep.push(this.frameView(s, t, `t${t}.asleep`));
      }
      const pendingMask = s[co + C_PENDING]!;
      views.push({
        cpu,
        stack,
        irqsOff: s[co + C_IRQS_OFF] !== 0,
        preempt: s[co + C_PREEMPT]!,
        bh: s[co + C_BH]!,
        serving: s[co + C_SERVING] !== 0,
        hardirq: s[co + C_HARDIRQ]!,
        pending: SOFTIRQS.filter((_, v) => (pendingMask & (1 << v)) !== 0),
        ksoftirqdWoken: s[co + C_KSOFTIRQD] !== 0,
        asleep,
      });
    }
    return views;
  }

  /** The attempt made by the running context in the step s0 → s1, if any. */
  attemptIn(s0: Int32Array, s1: Int32Array, choice: number, holds: readonly LockEvent[]): LockEvent | null {
    if (choiceKind(choice) !== CHOICE_RUN) return null;
    const m = this.m;
    const cpu = choiceCpu(choice);
    m.s = s0;
    const ctx = m.top(cpu);
    if (ctx < 0) return null;
    const o = m.ctxOff(ctx);
    const pc = s0[o + X_PC]!;
    const shape = lockOpShape(m.code[pc]!);
    if (!shape || shape.action !== 'acquire') return null;
    if (this.attempted.get(ctx)?.pc === pc) return null;
    const lock = m.code[pc + 1]!;
    const acquired = holds.some((e) => e.kind === 'acquire' && e.ctx === ctx && e.lock === lock);
    const raised = s0[H_VIOL_KIND] === 0 && s1[H_VIOL_KIND] !== 0 && s1[H_VIOL_CTX] === ctx;
    // A wait that closed a deadlock's cycle (check/deadlock.ts closedCycle) is an attempt like any
    // other: the context spins (its phase set) or sleeps at the acquisition, and the step raised it.
    const closedCycle = raised && s1[H_VIOL_KIND] === kindCode('deadlock') && s1[o + X_PC] === pc &&
      (s1[o + X_PHASE] !== 0 || s1[o + X_STATUS] === ContextStatus.Blocked);
    const failed = raised && !closedCycle;
    if (shape.trylock && !acquired) return null;
    if (!acquired && !failed) {
      if (shape.bh && s0[o + X_PHASE] === 0) return null;
      if (s1[o + X_PC] !== pc) return null;
    }
    if (!acquired && !failed) this.attempted.set(ctx, { pc, lock, read: shape.read });
    return {
      kind: 'attempt', ctx, cpu, lock, read: shape.read, trylock: shape.trylock,
      op: OPS[m.code[pc]!]!.name, where: `${m.p.where[pc / INSN_WIDTH] ?? ''}: ${m.p.text[pc / INSN_WIDTH] ?? ''}`, failed,
    };
  }
}

/**
 * Replay `choices` on `p` and observe every step. Never throws for a
 * schedule that does not fit the model: the view stops at the first step
 * that differs and says why in `mismatch`.
 */
export function observeSchedule(p: Program, choices: readonly number[]): ScheduleView {
  const r = replay(p, choices);
  const obs = new Observer(p);
  const m = obs.m;
  let s = m.initial();
  const initial = obs.cpuViews(s);
  const steps: StepView[] = [];
  r.steps.forEach((st, i) => {
    const s0 = s;
    const cpu = choiceCpu(st.choice);
    m.s = s0;
    const actorCtx = choiceKind(st.choice) === CHOICE_RUN ? m.top(cpu) : -1;
    const actor = actorCtx >= 0 ? m.contextName(actorCtx) : null;
    const s1 = m.step(s0, st.choice);
    const holds = obs.holdEvents(s0, s1);
    const attempt = obs.attemptIn(s0, s1, st.choice, holds);
    const events = attempt ? [attempt, ...holds] : holds;
    obs.applyHolds(holds);
    obs.pruneAttempts(s1);
    s = s1;
    steps.push({
      index: i + 1, choice: st.choice, cpu, label: st.label, action: actionOf(st.label), actor, actorCtx,
      events, cpus: obs.cpuViews(s1),
    });
  });
  return { program: p, initial, steps, violation: r.violation, mismatch: r.mismatch, boundedOut: r.boundedOut, final: r.final };
}

/** The CPU views before step `index` (1-based): the initial views for step 1. */
export function cpusBefore(view: ScheduleView, index: number): readonly CpuView[] {
  return index <= 1 ? view.initial : view.steps[index - 2]!.cpus;
}

/** Whether words [from, to) of two states are equal. */
function sameWords(a: Int32Array, b: Int32Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}
