/**
 * Counterexamples of catalogue designs for the report suites: each named
 * design is compiled and explored once per test file, and its violation's
 * schedule is what the reports replay.
 */
import { check, compile, type Program, type VerdictViolation } from '../../model/index.ts';
import { catalogueDesign } from '../../model/designs/index.ts';

export interface Counterexample {
  readonly program: Program;
  readonly violation: VerdictViolation;
}

const cache = new Map<string, Counterexample>();

/** The counterexample of the buggy catalogue design `name`; throws if it has none. */
export function counterexample(name: string): Counterexample {
  const hit = cache.get(name);
  if (hit) return hit;
  const design = catalogueDesign(name);
  if (!design) throw new Error(`no catalogue design named '${name}'`);
  const verdict = check(design);
  if (!verdict.violation) throw new Error(`catalogue design '${name}' has no violation (${verdict.status})`);
  const cx = { program: compile(design), violation: verdict.violation };
  cache.set(name, cx);
  return cx;
}

/** The lines of `text` starting at the first line equal to `first`, `count` of them. */
export function linesFrom(text: string, first: string, count: number): string[] {
  const lines = text.split('\n');
  const i = lines.indexOf(first);
  return i < 0 ? [] : lines.slice(i, i + count);
}
