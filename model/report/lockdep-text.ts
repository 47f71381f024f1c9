/**
 * lockdep's report texts (kernel/locking/lockdep.c print_*_bug;
 * shared/lockdep-selftests.md §4.4), written once for both reports that
 * print them: a counterexample's (lockdep.ts, from the schedule replayed)
 * and a prediction's (lockdep-predict.ts, from lockdep's books over every
 * explored execution). What the two tell differently (how a trace reads, a
 * held lock, a class's key, where the usage bits come from) each says in
 * its subclass of LockdepPrinter; the rest, line for line, is here.
 */
import type { Program } from '../kernel/program.ts';
import { bitOf, ENABLED, HARDIRQ, SOFTIRQ, USAGE_BITS, USAGE_STR, USED_IN } from './lockdep-view.ts';

/** Separator width that is not the header's own (print_bad_irq_dependency prints a fixed row). */
export const BAD_IRQ_DEPENDENCY_WIDTH = 53;

/** The second column of a two-CPU scenario (print_circular_lock_scenario, print_irq_lock_scenario). */
export const SCENARIO_COL = ' '.repeat(31);

/** print_kernel_ident(): here, which model this is. */
export const ident = (p: Program): string => `kdefer model of ${p.design.name} (profile ${p.design.profile ?? 'modern'}), not a kernel`;

/** A report's opening: blank line, `=` row as wide as the title, title, identity, `-` row. */
export function header(p: Program, title: string, width = title.length): string[] {
  return ['', '='.repeat(width), title, ident(p), '-'.repeat(width)];
}

/** `lock` or `rlock`, as lockdep's scenarios print an acquisition. */
export const lockOp = (read: boolean): string => (read ? 'rlock' : 'lock');

/** The one-CPU scenario of print_deadlock_bug (a recursive acquisition), through its closing lines. */
export function recursiveScenario(prev: string, next: string): string[] {
  return [
    'other info that might help us debug this:',
    ' Possible unsafe locking scenario:',
    '',
    '       CPU0',
    '       ----',
    `  ${prev};`,
    `  ${next};`,
    '',
    ' *** DEADLOCK ***',
    '',
    ' May be due to missing lock nesting notation',
    '',
  ];
}

/** The one-CPU scenario of print_usage_bug: a lock, then an interrupt taking it. */
export function usageScenario(name: string): string[] {
  return [
    '',
    'other info that might help us debug this:',
    ' Possible unsafe locking scenario:',
    '',
    '       CPU0',
    '       ----',
    `  lock(${name});`,
    '  <Interrupt>',
    `    lock(${name});`,
    '',
    ' *** DEADLOCK ***',
    '',
  ];
}

/** print_circular_bug's opening, down to the dependency chain's title. */
export function circularHead(who: string, next: string, prev: string): string[] {
  return [
    `${who} is trying to acquire lock:`,
    next,
    '',
    'but task is already holding lock:',
    prev,
    '',
    'which lock already depends on the new lock.',
    '',
    '',
    'the existing dependency chain (in reverse order) is:',
  ];
}

/** print_circular_lock_scenario()'s two columns, the closing acquisition last. */
export function circularScenario(prev: string, parent: string, prevName: string, next: string): string[] {
  return [
    '       CPU0                    CPU1',
    '       ----                    ----',
    `  ${prev};`,
    `${SCENARIO_COL}lock(${parent});`,
    `${SCENARIO_COL}lock(${prevName});`,
    `  ${next};`,
  ];
}

/** `Chain exists of:` for a chain of more than two locks (print_circular_lock_scenario, print_irq_lock_scenario). */
export const chainExists = (a: string, b: string, c: string): string[] => ['Chain exists of:', `  ${a} --> ${b} --> ${c}`, ''];

/** What print_bad_irq_dependency prints of one dependency: the lock lines, the classes, where each became safe and unsafe. */
export interface BadIrqDependency {
  /** `comm/pid [HC0[0]:SC0[0]:HE0:SE1]` */
  readonly who: string;
  readonly cls: string;
  readonly nextLine: string;
  readonly prevLine: string;
  readonly prevClass: string;
  readonly nextClass: string;
  readonly safeClass: string;
  readonly safeTrace: string;
  readonly unsafeClass: string;
  readonly unsafeTrace: string;
}

/** print_bad_irq_dependency()'s opening, down to `other info that might help us debug this:`. */
export function badIrqDependencyHead(d: BadIrqDependency): string[] {
  return [
    `${d.who} is trying to acquire:`,
    d.nextLine,
    '',
    'and this task is already holding:',
    d.prevLine,
    'which would create a new lock dependency:',
    ` ${d.prevClass} -> ${d.nextClass}`,
    '',
    `but this new dependency connects a ${d.cls}-irq-safe lock:`,
    ` ${d.safeClass}`,
    '',
    `... which became ${d.cls}-irq-safe at:`,
    d.safeTrace,
    '',
    `to a ${d.cls}-irq-unsafe lock:`,
    ` ${d.unsafeClass}`,
    '',
    `... which became ${d.cls}-irq-unsafe at:`,
    '...',
    d.unsafeTrace,
    '',
    'other info that might help us debug this:',
    '',
  ];
}

/**
 * The lines of one report, and lockdep's ways of printing a lock class. A
 * subclass says how its locks are named and used, how a trace reads and
 * what a class's key is.
 */
export abstract class LockdepPrinter<TSite> {
  readonly lines: string[] = [];

  push(...lines: string[]): void {
    this.lines.push(...lines);
  }

  /** The class's name as lockdep prints it (`&dev->lock`, `&dev->lock/1`). */
  abstract name(cls: number): string;
  /** Whether the class has usage bit `bit` (model/check/lockdep.ts USAGE_STR). */
  abstract has(cls: number, bit: number): boolean;
  /** Where usage bit `bit` of the class was first set, or null. */
  abstract usageSite(cls: number, bit: number): TSite | null;
  /** The class's wait type (print_lock_name's -{outer:inner}). */
  abstract waitInner(cls: number): number;
  /** The `... key      at:` of print_lock_class_header. */
  abstract key(cls: number): string;
  /** A trace: where something happened, indented as lockdep indents its stack traces. */
  abstract trace(site: TSite | null, spaces: number): string;

  /** get_usage_chars(): hardirq write, hardirq read, softirq write, softirq read. */
  usage(cls: number): string {
    let out = '';
    for (const state of [HARDIRQ, SOFTIRQ]) {
      for (const read of [0, 1]) {
        const used = this.has(cls, bitOf(state, USED_IN, read));
        const enabled = this.has(cls, bitOf(state, ENABLED, read));
        out += enabled ? (used ? '?' : '+') : used ? '-' : '.';
      }
    }
    return out;
  }

  /** print_lock_name(): ` (name){usage}-{outer:inner}` without the leading space. */
  classLine(cls: number): string {
    const w = this.waitInner(cls);
    return `(${this.name(cls)}){${this.usage(cls)}}-{${w}:${w}}`;
  }

  /** lockdep_print_held_locks(): the count, then a line each (`lines`). */
  heldLines(comm: string, pid: number, lines: readonly string[]): void {
    const n = lines.length;
    if (n === 0) {
      this.push(`no locks held by ${comm}/${pid}.`);
      return;
    }
    this.push(`${n} lock${n === 1 ? '' : 's'} held by ${comm}/${pid}:`);
    lines.forEach((line, i) => this.push(` #${i}: ${line}`));
  }

  /** print_irq_lock_scenario() */
  irqScenario(safe: number, unsafe: number, middle: number): void {
    if (middle !== unsafe) this.push(...chainExists(this.name(safe), this.name(middle), this.name(unsafe)));
    this.push(
      ' Possible interrupt unsafe locking scenario:',
      '',
      '       CPU0                    CPU1',
      '       ----                    ----',
      `  lock(${this.name(unsafe)});`,
      `${SCENARIO_COL}local_irq_disable();`,
      `${SCENARIO_COL}lock(${this.name(safe)});`,
      `${SCENARIO_COL}lock(${this.name(middle)});`,
      '  <Interrupt>',
      `    lock(${this.name(safe)});`,
      '',
      ' *** DEADLOCK ***',
      '',
    );
  }

  /** print_lock_class_header(): a class, every usage bit it has and where it was set. */
  classBlock(cls: number, depth: number): void {
    const pad = ' '.repeat(depth);
    this.push(`${pad}-> ${this.classLine(cls)} {`);
    // Every bit below LOCK_TRACE_STATES (kernel/locking/lockdep_internals.h): the irq usage bits and
    // LOCK_USED, LOCK_USED_READ ("INITIAL USE", "INITIAL READ USE"), USAGE_BITS here.
    for (let bit = 0; bit < USAGE_BITS; bit++) {
      if (!this.has(cls, bit)) continue;
      this.push(`${pad}   ${USAGE_STR[bit]} at:`, this.trace(this.usageSite(cls, bit), depth + 5));
    }
    this.push(`${pad} }`, `${pad} ... key      at: ${this.key(cls)}`);
  }

  /**
   * print_shortest_lock_dependencies(): each class of a path, the far end
   * first, down to `root` at depth 0, with where its edge was made. The
   * `edges` run towards the root (`towards`: leaf → … → root, each edge's
   * source printed) or away from it (`away`: root → … → leaf, each edge's
   * target).
   */
  dependencies<E>(
    edges: readonly E[], edge: (e: E) => { readonly from: number; readonly to: number; readonly site: TSite | null },
    root: number, rootSite: TSite | null, direction: 'towards' | 'away',
  ): void {
    const entries = direction === 'towards'
      ? edges.map((e) => ({ cls: edge(e).from, site: edge(e).site }))
      : [...edges].reverse().map((e) => ({ cls: edge(e).to, site: edge(e).site }));
    entries.push({ cls: root, site: rootSite });
    entries.forEach((e, i) => {
      const depth = entries.length - 1 - i;
      this.classBlock(e.cls, depth);
      this.push(`${' '.repeat(depth)} ... acquired at:`, this.trace(e.site, 2), '');
    });
  }

  /** The report, each line ended. */
  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
