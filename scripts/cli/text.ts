/**
 * The command line's plain pieces that more than one command prints or
 * needs: a table's columns, the bounds in a table cell, compiling a design
 * with its DesignError as bad input. Apart from check.ts so that `kdefer
 * list` loads the compiler and the kernel model, not the explorers.
 */
import { compile } from '../../model/dsl/compile.ts';
import type { Bounds } from '../../model/dsl/bounds.ts';
import type { Design } from '../../model/dsl/design.ts';
import type { Program } from '../../model/kernel/program.ts';
import { UsageError } from './errors.ts';

/** compile(), with a DesignError turned into bad input naming the file. */
export function compileOrExplain(d: Design, label: string): Program {
  try {
    return compile(d);
  } catch (e) {
    if (e instanceof Error && e.name === 'DesignError') throw new UsageError(`${label}: ${e.message}`, label === 'catalogue' ? null : label);
    throw e;
  }
}

/** "2 CPUs, eth0≤2, loops≤4, preempt": the bounds in a table cell (the profile has its own column). */
export function compactBounds(b: Bounds): string {
  const parts = [`${b.cpus} CPU${b.cpus === 1 ? '' : 's'}`, ...Object.entries(b.irqs).map(([line, k]) => `${line}≤${k}`)];
  if (b.ticks > 0) parts.push(`ticks≤${b.ticks}`);
  const loops = Object.values(b.loops);
  if (loops.length > 0) parts.push(`loops≤${Math.max(...loops)}`);
  if (b.preempt === 'full') parts.push('preempt');
  return parts.join(', ');
}

/** Columns padded to their widest cell; `right` columns are right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number>): string[] {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (right.has(i) ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
