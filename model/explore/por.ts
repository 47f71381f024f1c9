/**
 * Partial-order reduction for the exhaustive search: in each state, explore
 * only the transitions of a set of CPUs that nothing outside it can
 * interfere with, instead of every enabled transition (an ample, or
 * persistent, set; Godefroid 1996, Peled 1993).
 *
 * ## The argument
 *
 * A CPU is a sequential process: in any state it can take its top
 * context's next instruction, or one of the events offered on it
 * (interrupt arrival, tick, ksoftirqd, a scheduling choice). Two
 * transitions on different CPUs commute when neither writes an item the
 * other reads or writes (model/kernel/semantics.ts FootprintBuilder): same
 * resulting state, either order, and neither enables or disables the other.
 *
 * For a state s, a set S of CPUs is *closed* when no CPU outside S can,
 * before every CPU of S has moved, take a transition that conflicts with
 * any transition a CPU of S could take now or could be given by others
 * (a blocked spinner's lock, a sleeper's wake-up: the guards are in the
 * footprints too). "Could take" is over-approximated statically: the
 * union of the footprints of every instruction that can ever run on that
 * CPU, every event it can be offered and every frame exit
 * (`StaticFootprints`). The transitions enabled in s on the CPUs of S then
 * form a persistent set: along any path from s made of transitions of
 * other CPUs only, each transition is independent of all of them (Godefroid's
 * condition), because it belongs to a CPU that does not interfere with S.
 *
 * Lock protection sharpens "conflicts": if every access to a variable in
 * the whole program is made while the accessing context holds lock L (a
 * static must-hold lockset analysis over the compiled code), and L is held
 * now by a context only CPU c can run (an interrupt frame of c, or a task
 * pinned to c), then no other CPU can touch the variable until c moves, so
 * c's accesses to it do not count as conflicts. A lock that some
 * instruction may re-initialise (mutex_init, init_rwsem…:
 * FootprintBuilder.resets) protects nothing: the reset frees it under its
 * holder, and another CPU may take it and touch the data meanwhile.
 *
 * Persistent sets preserve every terminal state of the full graph (every
 * deadlock, every violation, since a violating state has no successors,
 * and every end state where `at-end` invariants and hung-task checks are
 * made). Invariants checked after every step (`always`) are observations
 * of intermediate states: a transition that may write an item an `always`
 * invariant reads is made to read every such item, so two of them never
 * commute, and the interleavings that matter to the invariant are kept.
 * The state graph can have cycles (a preemption back and forth), so the
 * search applies the stack proviso: a reduced state with a successor on
 * the DFS stack is expanded fully (exhaustive.ts).
 *
 * A wake-up writes the blocks of the tasks it may wake. On a channel whose
 * blocking operations all declare it (OpSemantics.sleepsOn: mutexes,
 * rw_semaphores, semaphores, completions, wait queues, PREEMPT_RT's
 * sleeping spinlocks), those are the tasks whose own code holds such an
 * operation on that object (program.ts sleepersOf): no other context can
 * be asleep on it, so the wake-up writes nothing else, and what it reads of
 * the others (scheduler.ts wakeAll looks at every task's status and
 * channel) is "not asleep on it" in every state, whatever they do; any
 * task where such an operation lies in code several contexts run (a work
 * function).
 *
 * Anything without a declared footprint conflicts with everything: a new
 * mechanism is explored fully until its footprints are written. A program
 * whose mechanisms keep books after every step (Mechanism.afterStep: RCU's
 * quiescent states, which any step ending a reader may advance and which
 * may wake a task on another CPU) has every footprint taken as
 * everything: no transition's declared footprint covers what the hook
 * writes after it.
 */
import { ContextStatus, FrameKind, L_OWNER, X_CALLS, X_ID, X_KIND, X_PC, X_STATUS } from '../kernel/layout.ts';
import type { Machine } from '../kernel/machine.ts';
import { INSN_WIDTH, type Program } from '../kernel/program.ts';
import { AFTER_STEP, CHOICE_SOURCES, EXIT_MECHANISM, MECHANISMS, OP_MECHANISM, OPS, SOURCE_MECHANISM } from '../kernel/registry.ts';
import { choiceCpu, choiceKind, type FootprintBuilder } from '../kernel/semantics.ts';
import { CTX_KTHREAD_SHOULD_STOP, E_CPU, E_CTX, E_END, E_PER_CPU, E_QHEAD, E_QLEN, E_SEQ_RETRY, E_THIS_CPU, E_VAR } from '../kernel/data.ts';
import { successors } from '../dsl/liveness.ts';

/** A footprint as bitsets over the program's items, or "everything". */
export interface Footprint {
  /** A number of its own among its program's footprints (PartialOrder's memo of what interferes with a CPU names footprints by it). */
  readonly id: number;
  readonly r: Uint32Array;
  readonly w: Uint32Array;
  all: boolean;
  /** Locks held exclusively when it completes / released when it completes (lockset analysis). */
  readonly acq: number[];
  readonly rel: number[];
  /** Locks it may reset whoever holds them (a *_init): they protect nothing. */
  readonly rst: number[];
  /** Softirq vectors it may raise on its CPU (all of them when `all`). */
  raises: number;
}

/** The program's items: every unit of shared state a footprint can name. */
class Items {
  readonly ncpu: number;
  readonly ntasks: number;
  readonly size: number;
  readonly words: number;
  /** Footprints made over these items so far: the next one's id. */
  footprints = 0;
  private readonly taskBase: number;
  private readonly lockBase: number;
  private readonly varBase: number;
  private readonly percpuBase: number;
  private readonly queueBase: number;
  private readonly lineBase: number;
  readonly jiffies: number;
  private readonly objectBase = new Map<string, { base: number; count: number }>();
  /** Items that are data (variables, per-CPU values, queues, objects): the only ones locks can protect. */
  readonly dataFrom: number;
  readonly dataTo: number;

  constructor(p: Program) {
    let n = 0;
    this.ncpu = p.ncpu;
    this.ntasks = p.tasks.length;
    n += p.ncpu;
    this.taskBase = n;
    n += p.tasks.length;
    this.lockBase = n;
    n += p.locks.length;
    this.lineBase = n;
    n += p.irqs.length;
    this.jiffies = n++;
    this.dataFrom = n;
    this.varBase = n;
    n += p.vars.length;
    this.percpuBase = n;
    n += p.percpu.length * p.ncpu;
    this.queueBase = n;
    n += p.queues.length;
    for (const [kind, list] of Object.entries(p.objects)) {
      this.objectBase.set(kind, { base: n, count: list.length });
      n += list.length;
    }
    this.dataTo = n;
    this.size = n;
    this.words = Math.max(1, Math.ceil(n / 32));
  }
  cpu(c: number): number { return c; }
  task(t: number): number { return this.taskBase + t; }
  lock(l: number): number { return this.lockBase + l; }
  line(l: number): number { return this.lineBase + l; }
  variable(v: number): number { return this.varBase + v; }
  perCpu(v: number, c: number): number { return this.percpuBase + v * this.ncpu + c; }
  queue(q: number): number { return this.queueBase + q; }
  object(kind: string, id: number): number {
    const k = this.objectBase.get(kind);
    if (!k || id < 0 || id >= k.count) throw new Error(`kdefer internal error: footprint names ${kind} ${id}, which the program does not have`);
    return k.base + id;
  }
  objectRange(kind: string): { base: number; count: number } {
    return this.objectBase.get(kind) ?? { base: 0, count: 0 };
  }
}

const setBit = (set: Uint32Array, i: number): void => {
  set[i >>> 5] = set[i >>> 5]! | (1 << (i & 31));
};
const hasBit = (set: Uint32Array, i: number): boolean => (set[i >>> 5]! & (1 << (i & 31))) !== 0;

function newFootprint(items: Items): Footprint {
  const words = items.words;
  return { id: items.footprints++, r: new Uint32Array(words), w: new Uint32Array(words), all: false, acq: [], rel: [], rst: [], raises: 0 };
}

function orInto(into: Footprint, from: Footprint): void {
  if (from.all) into.all = true;
  into.raises |= from.raises;
  for (let i = 0; i < into.r.length; i++) {
    into.r[i] = into.r[i]! | from.r[i]!;
    into.w[i] = into.w[i]! | from.w[i]!;
  }
}

/**
 * A FootprintBuilder recording into one Footprint, for a transition on `cpu`
 * by `ownTasks` (the executing task, `taskKnown`, or every task that may run
 * on `cpu` when the executing context is not known).
 */
class Recorder implements FootprintBuilder {
  fp: Footprint;
  /** Item sets named by any…() and tasksHere(): set k is passed to read/write as -(k + 1). */
  private readonly sets: (readonly number[])[] = [];
  constructor(
    private readonly items: Items, private readonly p: Program, private readonly cpuNow: number, private readonly ownTasks: readonly number[],
    private readonly taskKnown = false,
  ) {
    this.fp = newFootprint(items);
  }
  get program(): Program {
    return this.p;
  }
  read(item: number): void {
    if (item < 0) {
      for (const i of this.sets[-item - 1] ?? []) setBit(this.fp.r, i);
      return;
    }
    setBit(this.fp.r, item);
  }
  write(item: number): void {
    if (item < 0) {
      for (const i of this.sets[-item - 1] ?? []) this.touchBoth(i);
      return;
    }
    setBit(this.fp.w, item);
    setBit(this.fp.r, item);
  }
  /** A range of items, as a negative handle for read/write. */
  private range(from: number, to: number): number {
    return this.set(Array.from({ length: to - from }, (_, k) => from + k));
  }
  /** A set of items, as a negative handle for read/write. */
  private set(items: readonly number[]): number {
    this.sets.push(items);
    return -this.sets.length;
  }
  everything(): void {
    this.fp.all = true;
    this.fp.raises = -1;
  }
  raises(vec: number): void {
    this.fp.raises |= 1 << vec;
  }
  expr(off: number): void {
    const pool = this.p.exprs;
    for (let i = off; pool[i] !== E_END; i += 2) {
      const arg = pool[i + 1]!;
      switch (pool[i]) {
        case E_VAR: this.read(this.items.variable(arg)); break;
        case E_THIS_CPU: this.read(this.items.perCpu(arg, this.cpuNow)); break;
        case E_PER_CPU: this.read(this.items.perCpu(arg >> 4, arg & 15)); break;
        case E_QLEN: case E_QHEAD: this.read(this.items.queue(arg)); break;
        // kthread_should_stop(): the task's own T_KTHREAD, which kthread_stop on another CPU sets
        // (data.ts contextPredicate 8); the other context tests read this CPU's counts and irq flag.
        // Where the task is not known, every task: the static footprint of one CPU stands for the
        // instruction wherever it runs (fusion's privateInstructions asks cpu0's), so it may not
        // depend on which tasks that CPU runs.
        case E_CTX:
          if (arg !== CTX_KTHREAD_SHOULD_STOP) this.read(this.ownCpu());
          else if (this.taskKnown) this.read(this.ownTask());
          else this.read(this.anyTask());
          break;
        // read_seqcount_retry(s, start): the sequence, which a writer on another CPU moves.
        case E_SEQ_RETRY: this.read(this.items.object('seqcount', arg)); break;
        // smp_processor_id(): constant for a frame and a pinned task; a task that may migrate reads
        // where it is (its block), which a preemption and a migration may change before this step.
        // Where the task is not known, every task that may migrate (as for kthread_should_stop).
        case E_CPU:
          this.p.tasks.forEach((t, i) => {
            const migrates = (t.allowedMask & (t.allowedMask - 1)) !== 0;
            if (migrates && (!this.taskKnown || this.ownTasks.includes(i))) this.read(this.items.task(i));
          });
          break;
        default: break;
      }
    }
  }
  ownCpu(): number { return this.items.cpu(this.cpuNow); }
  cpu(c: number): number { return this.items.cpu(c); }
  anyCpu(): number {
    return this.range(this.items.cpu(0), this.items.cpu(0) + this.items.ncpu);
  }
  lock(id: number): number { return this.items.lock(id); }
  variable(id: number): number { return this.items.variable(id); }
  ownPerCpu(v: number): number { return this.items.perCpu(v, this.cpuNow); }
  perCpu(v: number, c: number): number { return this.items.perCpu(v, c); }
  queue(q: number): number { return this.items.queue(q); }
  object(kind: string, id: number): number { return this.items.object(kind, id); }
  anyObject(kind: string): number {
    const { base, count } = this.items.objectRange(kind);
    return this.range(base, base + count);
  }
  line(l: number): number { return this.items.line(l); }
  task(t: number): number { return this.items.task(t); }
  anyTask(): number {
    return this.range(this.items.task(0), this.items.task(0) + this.items.ntasks);
  }
  tasksHere(): number {
    return this.set(this.p.tasks.flatMap((t, i) => ((t.allowedMask & (1 << this.cpuNow)) !== 0 ? [this.items.task(i)] : [])));
  }
  jiffies(): number { return this.items.jiffies; }
  ownTask(): number {
    if (this.ownTasks.length === 1) return this.items.task(this.ownTasks[0]!);
    // Not known (a static union over what may run here): every task this CPU may run, read and written.
    for (const t of this.ownTasks) this.touchBoth(this.items.task(t));
    return this.range(0, 0);
  }
  acquire(lock: number): void {
    this.fp.acq.push(lock);
  }
  release(lock: number): void {
    this.fp.rel.push(lock);
  }
  resets(lock: number): void {
    this.fp.rst.push(lock);
  }
  private touchBoth(item: number): void {
    setBit(this.fp.r, item);
    setBit(this.fp.w, item);
  }
}

const OP_JMP = OPS.findIndex((o) => o.name === 'jmp');
const OP_RET = OPS.findIndex((o) => o.name === 'ret');
const OP_BRZ = OPS.findIndex((o) => o.name === 'brz');
const OP_WHILE = OPS.findIndex((o) => o.name === 'while');

/** Frame exits' footprints by frame kind, gathered from the mechanisms. */
const EXIT_FOOTPRINTS = Object.assign({}, ...MECHANISMS.map((mech) => mech.exitFootprints ?? {})) as
  Record<number, ((f: FootprintBuilder, p: Program, cpu: number, id: number) => void) | undefined>;

/** Footprints of a program's transitions, and the static facts the reduction needs. */
export class StaticFootprints {
  readonly items: Items;
  /** Per CPU: everything that can ever happen on it (instructions, events, exits). */
  readonly onCpu: Footprint[];
  /** Per CPU: the events (choice sources) it can be offered, guards included. */
  readonly events: Footprint[];
  /** Per CPU, per active choice source (in CHOICE_SOURCES order): that source's footprint there. */
  readonly sourceOn: { readonly source: (typeof CHOICE_SOURCES)[number]; readonly kind: number; readonly fp: Footprint }[][];
  /** Per lock: the data items every access to which holds that lock. */
  readonly protectedBy: Uint32Array[];
  /** Items read by an `always` invariant. */
  readonly invariantItems: Uint32Array;
  /** Per instruction: the CPUs it can run on. */
  private readonly insnCpus: Int32Array;
  private readonly cache = new Map<number, Footprint>();
  /** The same footprints by (instruction, cpu, task + 1), for the search's hot path. */
  private readonly flatCache: (Footprint | undefined)[] = [];
  private readonly exitCache = new Map<number, Footprint>();

  /** Some mechanism's after-step bookkeeping runs in this program: every footprint is everything (see the file comment). */
  private readonly hooked: boolean;

  constructor(readonly p: Program) {
    this.hooked = AFTER_STEP.some((h) => h.needs(p));
    const items = new Items(p);
    this.items = items;
    const ninsn = p.code.length / INSN_WIDTH;
    const allCpus = (1 << p.ncpu) - 1;

    // `always` invariants: their items, read by every transition that may write one.
    this.invariantItems = new Uint32Array(items.words);
    const inv = new Recorder(items, p, 0, []);
    for (const i of p.invariants) if (i.when === 'always') inv.expr(i.expr);
    // per-CPU values read by an invariant are named per CPU already (per_cpu(x, c)).
    this.invariantItems.set(inv.fp.r);

    // Which CPUs each instruction can run on: task bodies and irq handlers where they may run,
    // builtin code no context can run nowhere, the rest anywhere.
    this.insnCpus = new Int32Array(ninsn).fill(allCpus);
    for (const r of p.builtinRegions) if (!r.live) this.insnCpus.fill(0, r.from / INSN_WIDTH, r.to / INSN_WIDTH);
    const region = (entry: number, mask: number) => {
      const seen = new Set<number>();
      const todo = [entry / INSN_WIDTH];
      while (todo.length > 0) {
        const k = todo.pop()!;
        if (seen.has(k)) continue;
        seen.add(k);
        this.insnCpus[k] = mask;
        for (const t of successors(p.code, k * INSN_WIDTH, p.designStart)) todo.push(t / INSN_WIDTH);
      }
    };
    p.tasks.forEach((t) => {
      if (t.entry >= p.designStart) region(t.entry, t.allowedMask);
    });
    p.irqs.forEach((l) => region(l.entry, l.cpuMask));
    // A design's softirq handler runs only where its vector may be raised:
    // start with none, and grow to a fixpoint (handlers may raise vectors).
    const handlers = [...p.softirqEntry].map((entry, vec) => ({ entry, vec })).filter((h) => h.entry >= p.designStart);
    for (const h of handlers) region(h.entry, 0);
    for (let changed = true; changed; ) {
      changed = false;
      const raisable = this.raisable(ninsn);
      for (const h of handlers) {
        let mask = 0;
        for (let c = 0; c < p.ncpu; c++) if (raisable[c]! & (1 << h.vec)) mask |= 1 << c;
        if ((this.insnCpus[h.entry / INSN_WIDTH]! | mask) !== this.insnCpus[h.entry / INSN_WIDTH]!) {
          region(h.entry, this.insnCpus[h.entry / INSN_WIDTH]! | mask);
          changed = true;
        }
      }
    }

    // Events each CPU can be offered.
    this.events = [];
    this.sourceOn = [];
    for (let c = 0; c < p.ncpu; c++) {
      const fp = newFootprint(items);
      const sources: { source: (typeof CHOICE_SOURCES)[number]; kind: number; fp: Footprint }[] = [];
      CHOICE_SOURCES.forEach((src, k) => {
        if (src.active && !src.active(p)) return;
        const rec = new Recorder(items, p, c, this.tasksOn(c));
        const coarse = SOURCE_MECHANISM.get(src)?.defaultFootprint;
        if (src.footprint) src.footprint(rec, p, c);
        else if (coarse) coarse(rec);
        else rec.everything();
        this.finish(rec.fp);
        orInto(fp, rec.fp);
        sources.push({ source: src, kind: k + 1, fp: rec.fp });
      });
      this.events.push(fp);
      this.sourceOn.push(sources);
    }

    // Everything that can happen on each CPU.
    this.onCpu = [];
    for (let c = 0; c < p.ncpu; c++) {
      const fp = newFootprint(items);
      orInto(fp, this.events[c]!);
      for (let k = 0; k < ninsn; k++) {
        if ((this.insnCpus[k]! & (1 << c)) === 0) continue;
        orInto(fp, this.insn(k * INSN_WIDTH, c, -1));
      }
      for (const [kind, id] of this.exitsOn(c)) orInto(fp, this.exit(kind, id, c));
      this.onCpu.push(fp);
    }

    this.protectedBy = this.lockProtection();
  }

  /**
   * The context exits that can happen on `cpu`, as [frame kind, X_ID]: a
   * task's, a hardirq's; and any other kind a mechanism gives an exit to.
   * (Softirq and ksoftirqd frames have no exit: their loop pops them.)
   */
  exitsOn(cpu: number): [number, number][] {
    const out: [number, number][] = [];
    for (const kind of Object.keys(EXIT_MECHANISM).map(Number)) {
      if (kind === FrameKind.Task) for (const t of this.tasksOn(cpu)) out.push([kind, t]);
      else if (kind === FrameKind.Hardirq) this.p.irqs.forEach((l, id) => { if (l.cpuMask & (1 << cpu)) out.push([kind, id]); });
      else out.push([kind, cpu]);
    }
    return out;
  }

  /** Per CPU: the softirq vectors the code that can run there (so far) and its events may raise. */
  private raisable(ninsn: number): number[] {
    const p = this.p;
    const out: number[] = [];
    for (let c = 0; c < p.ncpu; c++) {
      let mask = 0;
      for (let k = 0; k < ninsn; k++) if (this.insnCpus[k]! & (1 << c)) mask |= this.insn(k * INSN_WIDTH, c, -1).raises;
      const events = new Recorder(this.items, p, c, this.tasksOn(c));
      for (const src of CHOICE_SOURCES) {
        if (src.active && !src.active(p)) continue;
        const coarse = SOURCE_MECHANISM.get(src)?.defaultFootprint;
        if (src.footprint) src.footprint(events, p, c);
        else if (coarse) coarse(events);
        else events.everything();
      }
      mask |= events.fp.raises;
      for (const [kind, id] of this.exitsOn(c)) mask |= this.exit(kind, id, c).raises;
      out.push(mask);
    }
    return out;
  }

  /** Tasks that may run on `cpu`. */
  tasksOn(cpu: number): number[] {
    const out: number[] = [];
    this.p.tasks.forEach((t, i) => {
      if (t.allowedMask & (1 << cpu)) out.push(i);
    });
    return out;
  }

  /**
   * The footprint of the instruction at `pc` run on `cpu` by task `task`
   * (-1: a frame, or not known). `ret` here is a return from called code;
   * a context's exit is exit().
   */
  insn(pc: number, cpu: number, task: number): Footprint {
    const flat = this.insnKey(pc, cpu, task);
    const hit = this.flatCache[flat];
    if (hit !== undefined) return hit;
    const key = ((pc / INSN_WIDTH) * 16 + cpu) * 1024 + task + 1;
    const known = this.cache.get(key);
    if (known) {
      this.flatCache[flat] = known;
      return known;
    }
    const p = this.p;
    const rec = new Recorder(this.items, p, cpu, task >= 0 ? [task] : this.tasksOn(cpu), task >= 0);
    const opcode = p.code[pc]!;
    const [a, b, c] = [p.code[pc + 1]!, p.code[pc + 2]!, p.code[pc + 3]!];
    if (opcode === OP_JMP || opcode === OP_RET) {
      // Private: pc, call stack.
    } else if (opcode === OP_BRZ || opcode === OP_WHILE) {
      rec.expr(a);
    } else {
      const op = OPS[opcode]!;
      const coarse = OP_MECHANISM[opcode]!.defaultFootprint;
      if (op.footprint) op.footprint(rec, a, b, c);
      else if (coarse) coarse(rec);
      else rec.everything();
    }
    // The lifetime guard reads the structs whose members the instruction touches.
    const structs = p.insnStructs[pc / INSN_WIDTH]!;
    if (structs !== 0) for (let sid = 0; sid < 31; sid++) if (structs & (1 << sid)) rec.read(this.items.object('struct', sid));
    this.finish(rec.fp);
    this.cache.set(key, rec.fp);
    return rec.fp;
  }

  /** A dense number for (instruction, cpu, task), the key of insn()'s cache. */
  insnKey(pc: number, cpu: number, task: number): number {
    return ((pc / INSN_WIDTH) * this.p.ncpu + cpu) * (this.p.tasks.length + 1) + task + 1;
  }

  /** The key of exit()'s cache. */
  exitKey(kind: number, id: number, cpu: number): number {
    return (kind * 256 + id) * 16 + cpu;
  }

  /** The footprint of a context's exit: frame kind `kind`, X_ID `id`, on `cpu`. */
  exit(kind: number, id: number, cpu: number): Footprint {
    const key = this.exitKey(kind, id, cpu);
    const known = this.exitCache.get(key);
    if (known) return known;
    const rec = new Recorder(this.items, this.p, cpu, kind === 1 ? [id] : [], kind === 1);
    const fn = EXIT_FOOTPRINTS[kind];
    const coarse = EXIT_MECHANISM[kind]?.defaultFootprint;
    if (fn) fn(rec, this.p, cpu, id);
    else if (coarse) coarse(rec);
    else rec.everything();
    this.finish(rec.fp);
    this.exitCache.set(key, rec.fp);
    return rec.fp;
  }

  /** A transition that may write what an `always` invariant reads reads all of it (see the file comment). */
  private finish(fp: Footprint): void {
    if (this.hooked) {
      fp.all = true;
      fp.raises = -1;
    }
    const inv = this.invariantItems;
    let writesInvariant = fp.all;
    for (let i = 0; i < inv.length && !writesInvariant; i++) if ((fp.w[i]! & inv[i]!) !== 0) writesInvariant = true;
    if (writesInvariant) for (let i = 0; i < inv.length; i++) fp.r[i] = fp.r[i]! | inv[i]!;
  }

  /**
   * For each lock, the data items that every access in the program makes
   * while holding it: a forward must-hold analysis over the compiled code
   * (a region's entry holds nothing; a join holds what every path holds).
   * Items touched by an event, a frame exit or an `always` invariant are
   * never protected, nor is anything if some footprint is "everything",
   * nor by a lock some instruction may reset (FootprintBuilder.resets).
   */
  private lockProtection(): Uint32Array[] {
    const p = this.p;
    const items = this.items;
    const nlocks = p.locks.length;
    const out = Array.from({ length: nlocks }, () => new Uint32Array(items.words));
    if (nlocks === 0 || nlocks > 31) return out;
    const ninsn = p.code.length / INSN_WIDTH;
    const ALL = nlocks === 31 ? 0x7fffffff : (1 << nlocks) - 1;
    const held = new Int32Array(ninsn).fill(ALL);
    const preds: number[][] = Array.from({ length: ninsn }, () => []);
    for (let k = 0; k < ninsn; k++) for (const t of successors(p.code, k * INSN_WIDTH, p.designStart)) preds[t / INSN_WIDTH]!.push(k);
    const effect = (k: number): Footprint => this.insn(k * INSN_WIDTH, 0, -1);
    for (let k = 0; k < ninsn; k++) if (preds[k]!.length === 0) held[k] = 0;
    for (let changed = true; changed; ) {
      changed = false;
      for (let k = 0; k < ninsn; k++) {
        if (preds[k]!.length === 0) continue;
        let h = ALL;
        for (const q of preds[k]!) {
          const e = effect(q);
          let out2 = held[q]!;
          for (const l of e.rel) out2 &= ~(1 << l);
          for (const l of e.acq) out2 |= 1 << l;
          h &= out2;
        }
        if (h !== held[k]) {
          held[k] = h;
          changed = true;
        }
      }
    }
    // Intersect, per data item, the locks held at every access to it.
    const guard = new Int32Array(items.size).fill(ALL);
    const touched = (fp: Footprint, i: number) => hasBit(fp.r, i) || hasBit(fp.w, i);
    for (let k = 0; k < ninsn; k++) {
      if (this.insnCpus[k] === 0) continue;
      const fp = this.insn(k * INSN_WIDTH, 0, -1);
      if (fp.all) return out;
      for (let i = items.dataFrom; i < items.dataTo; i++) if (touched(fp, i)) guard[i] = guard[i]! & held[k]!;
    }
    // Per-CPU footprints differ only in which CPU's copy they name: check the others too.
    for (let c = 1; c < p.ncpu; c++) {
      for (let k = 0; k < ninsn; k++) {
        if (this.insnCpus[k] === 0) continue;
        const fp = this.insn(k * INSN_WIDTH, c, -1);
        for (let i = items.dataFrom; i < items.dataTo; i++) if (touched(fp, i)) guard[i] = guard[i]! & held[k]!;
      }
    }
    // A lock some live instruction may reset (a *_init) can be taken by another context while it is held: it protects nothing.
    const reset = new Set<number>();
    for (let k = 0; k < ninsn; k++) if (this.insnCpus[k] !== 0) for (const l of this.insn(k * INSN_WIDTH, 0, -1).rst) reset.add(l);
    for (const l of reset) guard.forEach((g, i) => { guard[i] = g & ~(1 << l); });
    const unprotectable = newFootprint(items);
    for (const e of this.events) orInto(unprotectable, e);
    for (let c = 0; c < p.ncpu; c++) for (const [kind, id] of this.exitsOn(c)) orInto(unprotectable, this.exit(kind, id, c));
    if (unprotectable.all) return out;
    for (let i = items.dataFrom; i < items.dataTo; i++) {
      if (touched(unprotectable, i) || hasBit(this.invariantItems, i)) continue;
      for (let l = 0; l < nlocks; l++) if (guard[i]! & (1 << l)) setBit(out[l]!, i);
    }
    return out;
  }
}

/** PartialOrder.conflicts(): not asked yet, no conflict, a conflict no lock can lift, or NEEDS + an index of locks needed. */
const UNKNOWN = 0;
const FREE = 1;
const NEVER = 2;
const NEEDS = 3;

/** Statistics of the reduction over one search. */
export interface ReductionStats {
  /** States whose expansion was reduced. */
  reducedStates: number;
  /** Enabled transitions not explored in those states. */
  prunedTransitions: number;
  /** Reduced states expanded fully again by the stack proviso. */
  provisoExpansions: number;
}

/**
 * Chooses, in each state, the ample subset of the enabled choices (see the
 * file comment). One instance per search; not reentrant.
 */
export class PartialOrder {
  readonly fp: StaticFootprints;
  readonly stats: ReductionStats = { reducedStates: 0, prunedTransitions: 0, provisoExpansions: 0 };
  private readonly words: number;
  /** Scratch of dynamic(): what a CPU can do now, as item bitsets. */
  private readonly dynR: Uint32Array;
  private readonly dynW: Uint32Array;
  /** Per CPU: how many of the state's choices are its own. */
  private readonly perCpu: Int32Array;
  /** Per CPU: bit k set if choice kind k is enabled there now (kind 0 runs the top context). */
  private readonly kinds: Int32Array;
  /** Scratch: the pruned choices (ample). */
  private rest = new Int32Array(64);
  /** Per CPU, in the current state: the CPUs whose static footprint interferes with what it can do now (interference()), or -1 until asked. */
  private readonly interfNow: Int32Array;
  /**
   * interference()'s answers by what decides them: by the CPU's top
   * context's next step (footprint id + 1, 0 for none), then by the events
   * that count, the locks held by contexts only it can run and the CPU. A
   * state's answer is then a lookup: few such combinations recur over
   * millions of states.
   */
  private readonly interfMemo: (Map<number, number> | undefined)[] = [];
  /** The memo's inner key is ((events · heldRange) + held) · 16 + cpu; null where that would not be a small integer (no memo). */
  private readonly heldRange: number | null;
  /** alone(): per instruction (StaticFootprints.insnKey) what it conflicts with on other CPUs (UNKNOWN until asked; see conflicts()). */
  private readonly insnAlone: Int32Array;
  /** The same for exits, by StaticFootprints.exitKey. */
  private readonly exitAlone = new Map<number, number>();
  /** The lock masks conflicts() found needed, by NEEDS + index. */
  private readonly needs: Int32Array[] = [];
  /** alone(): scratch for the events offered on a CPU, after a sentinel (never emptied: see Machine.enabledInto). */
  private readonly offered: number[] = [0];

  constructor(private readonly m: Machine, footprints?: StaticFootprints) {
    this.fp = footprints ?? new StaticFootprints(m.p);
    this.words = this.fp.items.words;
    const n = m.p.ncpu;
    this.dynR = new Uint32Array(this.words);
    this.dynW = new Uint32Array(this.words);
    this.interfNow = new Int32Array(n);
    this.perCpu = new Int32Array(n);
    this.kinds = new Int32Array(n);
    const sourceBits = Math.max(0, ...this.fp.sourceOn.map((x) => x.length));
    const heldBits = Math.min(31, m.p.locks.length);
    this.heldRange = sourceBits + heldBits + 4 <= 30 ? 1 << heldBits : null;
    this.insnAlone = new Int32Array(this.fp.insnKey(m.p.code.length, 0, -1));
  }

  /**
   * Reorder `enabled` (the machine's current state's choices) so that the
   * ample ones come first, keeping each part in the machine's order, and
   * return how many are ample (enabled.length if nothing is pruned).
   */
  ample(enabled: number[]): number {
    const m = this.m;
    const n = m.p.ncpu;
    if (n === 1 || enabled.length <= 1) return enabled.length;
    const perCpu = this.perCpu;
    const kinds = this.kinds;
    // Loops, not fill(): a builtin call costs more than a few stores (ample runs for every state).
    for (let c = 0; c < n; c++) {
      perCpu[c] = 0;
      kinds[c] = 0;
    }
    for (let i = 0; i < enabled.length; i++) {
      const c = enabled[i]!;
      const cpu = choiceCpu(c);
      perCpu[cpu]!++;
      kinds[cpu] = kinds[cpu]! | (1 << choiceKind(c));
    }
    if (this.rest.length < enabled.length) this.rest = new Int32Array(enabled.length * 2);
    let active = 0;
    for (let c = 0; c < n; c++) if (perCpu[c]! > 0) active++;
    if (active <= 1) return enabled.length;
    // What interferes with each CPU now: computed when a closure first needs it.
    for (let c = 0; c < n; c++) this.interfNow[c] = -1;

    // Smallest closed set seeded by each CPU with enabled transitions.
    let bestMask = -1;
    let bestCount = enabled.length;
    for (let seed = 0; seed < n; seed++) {
      if (perCpu[seed] === 0) continue;
      const mask = this.closure(seed, bestCount);
      if (mask < 0) continue;
      let count = 0;
      for (let c = 0; c < n; c++) if (mask & (1 << c)) count += perCpu[c]!;
      if (count < bestCount) {
        bestCount = count;
        bestMask = mask;
        if (count === 1) break;
      }
    }
    if (bestMask < 0) return enabled.length;
    // Ample choices first, the rest after (for the stack proviso), each in order.
    const rest = this.rest;
    let na = 0;
    let nr = 0;
    for (let i = 0; i < enabled.length; i++) {
      const c = enabled[i]!;
      if (bestMask & (1 << choiceCpu(c))) enabled[na++] = c;
      else rest[nr++] = c;
    }
    for (let i = 0; i < nr; i++) enabled[na + i] = rest[i]!;
    this.stats.reducedStates++;
    this.stats.prunedTransitions += nr;
    return na;
  }

  /**
   * The closed set of CPUs containing `seed` as a bit mask, or -1 if it
   * would hold at least `limit` enabled transitions (no better than the
   * best found).
   */
  private closure(seed: number, limit: number): number {
    let mask = 1 << seed;
    let count = this.perCpu[seed]!;
    let todo = mask;
    while (todo !== 0) {
      const c = 31 - Math.clz32(todo & -todo);
      todo &= todo - 1;
      let add = this.interference(c) & ~mask;
      mask |= add;
      todo |= add;
      for (; add !== 0; add &= add - 1) {
        count += this.perCpu[31 - Math.clz32(add & -add)]!;
        if (count >= limit) return -1;
      }
    }
    return mask;
  }

  /**
   * The CPUs that can, before `c` moves, conflict with what `c` can do now
   * (dynamic()), as a bit mask: each other CPU whose static footprint
   * (everything it can ever do) writes an item `c` reads or writes, or
   * reads an item `c` writes. Asked once per CPU and state, and answered
   * from interfMemo where the same step, events and held locks were met.
   */
  private interference(c: number): number {
    const known = this.interfNow[c]!;
    if (known >= 0) return known;
    const m = this.m;
    // Events offered here now, or that another CPU could make offered before this one moves.
    const kinds = this.kinds[c]!;
    const sources = this.fp.sourceOn[c]!;
    let events = 0;
    for (let k = 0; k < sources.length; k++) {
      const src = sources[k]!;
      if ((kinds & (1 << src.kind)) === 0 && src.source.quiet && src.source.quiet(m, c)) continue;
      events |= 1 << k;
    }
    const top = this.topFootprint(c);
    const held = this.heldHere(c);
    let mask: number | undefined;
    if (this.heldRange === null) mask = this.interferingWith(c, events, top, held);
    else {
      const id = top === null ? 0 : top.id + 1;
      const key = (events * this.heldRange + held) * 16 + c;
      const memo = (this.interfMemo[id] ??= new Map());
      mask = memo.get(key);
      if (mask === undefined) memo.set(key, (mask = this.interferingWith(c, events, top, held)));
    }
    this.interfNow[c] = mask;
    return mask;
  }

  /** interference()'s answer, computed: the other CPUs whose static footprint conflicts with dynamic(). */
  private interferingWith(c: number, events: number, top: Footprint | null, held: number): number {
    const all = this.dynamic(c, events, top, held);
    const r = this.dynR;
    const w = this.dynW;
    let mask = 0;
    for (let other = 0; other < this.m.p.ncpu; other++) {
      if (other === c) continue;
      const st = this.fp.onCpu[other]!;
      let hit = all || st.all;
      for (let i = 0; i < this.words && !hit; i++) hit = (w[i]! & (st.r[i]! | st.w[i]!)) !== 0 || (r[i]! & st.w[i]!) !== 0;
      if (hit) mask |= 1 << other;
    }
    return mask;
  }

  /**
   * What CPU `c` can do from the current state, into dynR/dynW: its top
   * context's next instruction, or that context's exit (`top`); the events
   * it can be offered now, or that another CPU could make offered before
   * it moves (`events`, by index in sourceOn[c]); minus the data protected
   * by the locks `held` by contexts only `c` can run. Returns whether it
   * is everything.
   */
  private dynamic(c: number, events: number, top: Footprint | null, held: number): boolean {
    const r = this.dynR;
    const w = this.dynW;
    const words = this.words;
    r.fill(0);
    w.fill(0);
    let all = false;
    const sources = this.fp.sourceOn[c]!;
    for (let k = 0; k <= sources.length; k++) {
      const fp = k < sources.length ? ((events & (1 << k)) !== 0 ? sources[k]!.fp : null) : top;
      if (fp === null) continue;
      if (fp.all) all = true;
      for (let i = 0; i < words; i++) {
        r[i] = r[i]! | fp.r[i]!;
        w[i] = w[i]! | fp.w[i]!;
      }
    }
    if (all) return true;
    for (let l = 0; held >>> l !== 0; l++) {
      if ((held & (1 << l)) === 0) continue;
      const prot = this.fp.protectedBy[l]!;
      for (let i = 0; i < words; i++) {
        r[i] = r[i]! & ~prot[i]!;
        w[i] = w[i]! & ~prot[i]!;
      }
    }
    return false;
  }

  /** The footprint of CPU `c`'s top context's next step in the current state (its exit if it is at its end), or null if `c` runs none. */
  private topFootprint(c: number): Footprint | null {
    const m = this.m;
    const ctx = m.top(c);
    if (ctx < 0) return null;
    const s = m.s;
    const o = m.ctxOff(ctx);
    const pc = s[o + X_PC]!;
    return this.atExit(o, pc) ? this.fp.exit(s[o + X_KIND]!, s[o + X_ID]!, c) : this.fp.insn(pc, c, ctx < m.L.ntasks ? ctx : -1);
  }

  /** Whether the context at state offset `o`, at `pc`, takes its exit next: a `ret` with no call to return from. */
  private atExit(o: number, pc: number): boolean {
    return this.m.code[pc] === OP_RET && this.m.s[o + X_CALLS] === 0;
  }

  /**
   * Whether CPU `c`'s next step is, by itself, an ample set of the current
   * state, whatever the other CPUs have enabled: every event on `c` is
   * quiet, its top context's instruction is enabled with one outcome, and
   * nothing any other CPU can ever do conflicts with that instruction (or
   * that exit), but on data a lock protects that a context only `c` can
   * run holds now (as dynamic() discounts it). Then ample() would give
   * this step alone (the closure seeded by `c` is {c}, and `c` has one
   * transition), so the search may take it without computing the enabled
   * set: the forced steps of a hardirq handler on data only its CPU
   * touches (pan's d_step for a hardirq), of a softirq under the lock of
   * the data it works on.
   */
  alone(c: number): boolean {
    const m = this.m;
    const ctx = m.top(c);
    if (ctx < 0) return false;
    const s = m.s;
    const o = m.ctxOff(ctx);
    const pc = s[o + X_PC]!;
    const code = m.code;
    const opcode = code[pc]!;
    // What the step touches, against what the other CPUs can ever do: decided once per instruction or exit.
    let need: number;
    if (this.atExit(o, pc)) {
      const kind = s[o + X_KIND]!;
      const id = s[o + X_ID]!;
      const key = this.fp.exitKey(kind, id, c);
      let known = this.exitAlone.get(key);
      if (known === undefined) this.exitAlone.set(key, (known = this.conflicts(this.fp.exit(kind, id, c), c)));
      need = known;
    } else {
      const task = ctx < m.L.ntasks ? ctx : -1;
      const key = this.fp.insnKey(pc, c, task);
      need = this.insnAlone[key]!;
      if (need === UNKNOWN) this.insnAlone[key] = need = this.conflicts(this.fp.insn(pc, c, task), c);
    }
    if (need === NEVER) return false;
    if (need !== FREE && !this.covered(this.needs[need - NEEDS]!, c)) return false;
    const op = OPS[opcode]!;
    const a = code[pc + 1]!, b = code[pc + 2]!, x = code[pc + 3]!;
    if (op.ready && !op.ready(m, c, ctx, a, b, x)) return false;
    if (op.variants && op.variants(m, c, ctx, a, b, x) !== 1) return false;
    const sources = this.fp.sourceOn[c]!;
    const offered = this.offered;
    for (let k = 0; k < sources.length; k++) {
      const src = sources[k]!.source;
      if (!src.quiet || !src.quiet(m, c)) return false;
      // Quiet says no other CPU can make it offer anything here; that it offers nothing now is asked apart.
      src.collect(m, c, offered);
      if (offered.length > 1) {
        offered.length = 1;
        return false;
      }
    }
    return true;
  }

  /**
   * What a footprint on CPU `c` conflicts with among everything the other
   * CPUs can ever do: FREE (nothing), NEVER (an item no lock protects), or
   * NEEDS + k: needs[k] lists, per conflicting item, the locks that
   * protect it (one of them must be held by a context only `c` can run).
   */
  private conflicts(f: Footprint, c: number): number {
    if (f.all) return NEVER;
    const items = new Uint32Array(this.words);
    for (let other = 0; other < this.m.p.ncpu; other++) {
      if (other === c) continue;
      const st = this.fp.onCpu[other]!;
      if (st.all) return NEVER;
      for (let i = 0; i < this.words; i++) items[i] = items[i]! | (f.w[i]! & (st.r[i]! | st.w[i]!)) | (f.r[i]! & st.w[i]!);
    }
    const masks = new Set<number>();
    for (let i = 0; i < this.words * 32; i++) {
      if ((items[i >>> 5]! & (1 << (i & 31))) === 0) continue;
      let mask = 0;
      this.fp.protectedBy.forEach((prot, l) => { if (prot[i >>> 5]! & (1 << (i & 31))) mask |= 1 << l; });
      if (mask === 0) return NEVER;
      masks.add(mask);
    }
    if (masks.size === 0) return FREE;
    this.needs.push(Int32Array.from(masks));
    return NEEDS + this.needs.length - 1;
  }

  /**
   * Whether each of `masks` names a lock held now by a context only CPU `c`
   * can run (the lock protection dynamic() applies). The stepping context
   * itself holds every lock that protects what its instruction touches
   * (that is what protection means), so where alone() asks this the answer
   * is that context's being bound to `c`, which its CPU's quiet migration
   * events already imply; it is checked all the same, as dynamic() does.
   */
  private covered(masks: Int32Array, c: number): boolean {
    const held = this.heldHere(c);
    for (let k = 0; k < masks.length; k++) if ((masks[k]! & held) === 0) return false;
    return true;
  }

  /**
   * The locks held now by a context only CPU `c` can run, as a mask (of the
   * first 31: no lock past them protects anything, see lockProtection).
   */
  private heldHere(c: number): number {
    const m = this.m;
    const s = m.s;
    let held = 0;
    for (let l = 0, n = Math.min(31, m.p.locks.length); l < n; l++) {
      const owner = s[m.lockOff(l) + L_OWNER]! - 1;
      if (owner >= 0 && this.boundTo(owner, c)) held |= 1 << l;
    }
    return held;
  }

  /** Whether only CPU `c` can run context `ctx`: one of its frames, or a task pinned to it. */
  private boundTo(ctx: number, c: number): boolean {
    const m = this.m;
    if (ctx >= m.L.ntasks) return m.cpuOfCtx(ctx) === c;
    const s = m.s;
    if (s[m.ctxOff(ctx) + X_STATUS] === ContextStatus.Free) return false;
    return m.p.tasks[ctx]!.allowedMask === 1 << c;
  }
}

