/**
 * Why a search ran out of room: which words of the state took the most
 * distinct values over the explored states. An unbounded counter (a
 * self-re-arming work item that increments a variable on every run) makes
 * every state new, and the search runs into its state or memory bound; the
 * word that keeps changing names the cause.
 *
 * Cheap by construction: the first 1024 explored states and then every
 * 64th are sampled, and each
 * word keeps a set of the values it took, capped at 1000 (a word at the
 * cap is reported as "≥1000"). The words are named from the layout
 * (model/kernel/layout.ts): design variables, per-CPU variables, registers
 * of each context, queues, and each mechanism's objects, locks, CPUs and
 * interrupt lines.
 */
import {
  C_BH, C_CURTASK, C_DEPTH, C_HARDIRQ, C_IRQS_OFF, C_KSOFTIRQD, C_NMI, C_PENDING, C_PREEMPT, C_SERVING, CPU_SIZE,
  H_JIFFIES, H_TICKED, I_BUDGET, I_RUNNING, IRQ_SIZE, LOCK_SIZE, X_CPU, X_PC, X_REGS, X_STATUS, type Layout,
} from '../kernel/layout.ts';
import type { Machine } from '../kernel/machine.ts';

/** Sample one explored state in this many (after the first FIRST_SAMPLED, which are all sampled). */
const SAMPLE_EVERY = 64;
const FIRST_SAMPLED = 1024;
/** Distinct values kept per word; a word at the cap is reported as "≥ cap". */
export const DISTINCT_CAP = 1000;

/** A named word of the state and how many distinct values it took (capped). */
export interface WordSpread {
  readonly name: string;
  /** The mechanism (or part of the state) the word belongs to. */
  readonly mechanism: string;
  readonly distinct: number;
  /** The count reached the cap: the word may take many more values. */
  readonly capped: boolean;
  /**
   * The word looks unbounded: it reached the cap, or it took a new value
   * in at least one sampled state of four (at least MIN_GROWING values),
   * as a counter that grows along every path does.
   */
  readonly growing: boolean;
}

/** Fewest distinct values for a word to look unbounded before it reaches the cap. */
const MIN_GROWING = 64;

/** What the sampler points at: the words that varied most, and the mechanism whose words did. */
export interface BoundHint {
  /** One line for the text report. */
  readonly text: string;
  /** The design's variables and registers that took the most distinct values, most first. */
  readonly words: readonly WordSpread[];
  /** The mechanism whose words took the most distinct values in all. */
  readonly mechanism: { readonly name: string; readonly distinct: number } | null;
  readonly sampled: number;
}

interface WordName {
  readonly name: string;
  readonly mechanism: string;
  /** A design variable, register or queue: what a user wrote, so a likely cause to name. */
  readonly user: boolean;
}

const CPU_FIELDS: Readonly<Record<number, string>> = {
  [C_IRQS_OFF]: 'irqs_disabled', [C_PREEMPT]: 'preempt count', [C_BH]: 'bh-disable count', [C_SERVING]: 'serving softirq',
  [C_HARDIRQ]: 'hardirq count', [C_NMI]: 'nmi count', [C_PENDING]: 'pending softirqs', [C_CURTASK]: 'current task',
  [C_DEPTH]: 'interrupt frames', [C_KSOFTIRQD]: 'ksoftirqd woken',
};

/** The name of every word of the state vector. */
function wordNames(m: Machine): WordName[] {
  const p = m.p;
  const L: Layout = m.L;
  const names: WordName[] = new Array(L.size);
  for (let i = 0; i < L.size; i++) names[i] = { name: `word ${i}`, mechanism: 'kernel bookkeeping', user: false };
  names[H_JIFFIES] = { name: 'jiffies', mechanism: 'timer ticks', user: false };
  names[H_TICKED] = { name: 'tick bits', mechanism: 'timer ticks', user: false };
  p.irqs.forEach((line, l) => {
    names[L.irqBase + l * IRQ_SIZE + I_BUDGET] = { name: `irq ${line.name} arrivals left`, mechanism: 'interrupt lines', user: false };
    names[L.irqBase + l * IRQ_SIZE + I_RUNNING] = { name: `irq ${line.name} in progress`, mechanism: 'interrupt lines', user: false };
  });
  for (let c = 0; c < p.ncpu; c++) {
    for (let f = 0; f < CPU_SIZE; f++) names[L.cpuBase + c * CPU_SIZE + f] = { name: `cpu${c} ${CPU_FIELDS[f] ?? `field ${f}`}`, mechanism: 'CPU state (irq, softirq, preempt counts)', user: false };
  }
  for (let ctx = 0; ctx < L.nctx; ctx++) {
    const o = L.ctxBase + ctx * L.ctxSize;
    const who = ctx < L.ntasks ? `task ${p.tasks[ctx]!.name}` : `cpu${Math.floor((ctx - L.ntasks) / L.maxFrames)} interrupt frame ${(ctx - L.ntasks) % L.maxFrames}`;
    for (let f = 0; f < X_REGS; f++) {
      const field = f === X_PC ? 'pc' : f === X_STATUS ? 'status' : f === X_CPU ? 'cpu' : `field ${f}`;
      names[o + f] = { name: `${who} ${field}`, mechanism: 'contexts (pc, status)', user: false };
    }
    p.regs.forEach((reg, r) => {
      names[o + X_REGS + r] = { name: `register ${reg} of ${who}`, mechanism: 'registers', user: true };
    });
  }
  p.locks.forEach((lock, l) => {
    for (let f = 0; f < LOCK_SIZE; f++) names[L.lockBase + l * LOCK_SIZE + f] = { name: `lock ${lock.name}`, mechanism: 'locks', user: false };
  });
  p.vars.forEach((v, i) => {
    names[L.varBase + i] = { name: `var ${v}`, mechanism: 'design variables', user: true };
  });
  p.percpu.forEach((v, i) => {
    for (let c = 0; c < p.ncpu; c++) names[L.percpuBase + i * p.ncpu + c] = { name: `per-CPU var ${v} of cpu${c}`, mechanism: 'design variables', user: true };
  });
  p.queues.forEach((q, i) => {
    for (let k = 0; k <= q.capacity; k++) names[L.queueBase[i]! + k] = { name: `queue ${q.name}`, mechanism: 'queues', user: true };
  });
  for (const [kind, list] of Object.entries(p.objects)) {
    let off = L.objBase[kind]!;
    for (const obj of list) {
      for (let k = 0; k < obj.init.length; k++) names[off + k] = { name: `${kind} ${obj.name} word ${k}`, mechanism: kind, user: false };
      off += obj.init.length;
    }
  }
  return names;
}

/** A StateSampler's values per word and its sample count, as plain data. */
export interface SamplerData {
  readonly values: readonly (readonly number[])[];
  readonly sampled: number;
}

/** Samples explored states (observe) and names the words that varied most (hint). */
export class StateSampler {
  private readonly m: Machine;
  private readonly values: Set<number>[];
  private calls = 0;
  private sampled = 0;

  constructor(m: Machine) {
    this.m = m;
    this.values = Array.from({ length: m.L.size }, () => new Set<number>());
  }

  /** Called with each explored state; samples one in SAMPLE_EVERY. */
  observe(s: Int32Array): void {
    if (++this.calls > FIRST_SAMPLED && this.calls % SAMPLE_EVERY !== 0) return;
    this.sampled++;
    const values = this.values;
    for (let i = 0; i < values.length; i++) {
      const set = values[i]!;
      if (set.size < DISTINCT_CAP) set.add(s[i]!);
    }
  }

  /** What was sampled, as plain data (a worker thread's part of a search, workers.ts). */
  toData(): SamplerData {
    return { values: this.values.map((set) => [...set]), sampled: this.sampled };
  }

  /** Add another sampler's values (the same program's): as if it had sampled those states too. */
  absorb(d: SamplerData): void {
    d.values.forEach((list, i) => {
      const set = this.values[i]!;
      for (const x of list) if (set.size < DISTINCT_CAP) set.add(x);
    });
    this.sampled += d.sampled;
  }

  /** The likely cause of a bounded-out search, or null if nothing was sampled or nothing varied. */
  hint(): BoundHint | null {
    if (this.sampled === 0) return null;
    const names = wordNames(this.m);
    const spreads = this.values.map((set, i): WordSpread & { user: boolean } => ({
      name: names[i]!.name, mechanism: names[i]!.mechanism, user: names[i]!.user, distinct: set.size, capped: set.size >= DISTINCT_CAP,
      growing: set.size >= DISTINCT_CAP || (set.size >= MIN_GROWING && 4 * set.size >= this.sampled),
    }));
    // The same name over several words (a queue, a lock): keep the word that varied most.
    const best = new Map<string, WordSpread & { user: boolean }>();
    for (const w of spreads) if ((best.get(w.name)?.distinct ?? 0) < w.distinct) best.set(w.name, w);
    const words = [...best.values()]
      .filter((w) => w.user && w.distinct > 1)
      .sort((a, b) => b.distinct - a.distinct)
      .slice(0, 3)
      .map(({ name, mechanism, distinct, capped, growing }) => ({ name, mechanism, distinct, capped, growing }));
    const byMechanism = new Map<string, number>();
    for (const w of spreads) byMechanism.set(w.mechanism, (byMechanism.get(w.mechanism) ?? 0) + w.distinct - 1);
    const top = [...byMechanism.entries()].sort((a, b) => b[1] - a[1])[0];
    const mechanism = top && top[1] > 0 ? { name: top[0], distinct: top[1] } : null;
    if (words.length === 0 && mechanism === null) return null;
    const count = (w: WordSpread) => `${w.capped ? '≥' : ''}${w.distinct}`;
    const parts: string[] = [];
    if (words.length > 0) {
      parts.push(`the state words that took the most distinct values are ${words.map((w) => `${w.name} (${count(w)})`).join(', ')}` +
        (words[0]!.growing ? `; ${words[0]!.name} looks unbounded (an ever-growing counter?): bound it, or reset it` : ''));
    }
    if (mechanism) parts.push(`the mechanism whose state varies most is ${mechanism.name} (${mechanism.distinct} distinct values over its words)`);
    return { text: `likely cause: ${parts.join('; ')} (sampled ${this.sampled} of the explored states)`, words, mechanism, sampled: this.sampled };
  }
}
