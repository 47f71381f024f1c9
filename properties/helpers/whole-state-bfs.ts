/**
 * The reference for model/explore/shortest.ts: the breadth-first search it
 * replaced, which keeps every frontier state whole (a copy per
 * transition) and parent links in plain arrays. Simple enough to trust;
 * too costly for the checker. properties/explore/shortest.test.ts checks
 * that the new search finds the same schedules.
 */
import type { ViolationKind } from '../../model/check/violation.ts';
import { H_VIOL_KIND } from '../../model/kernel/layout.ts';
import { Machine } from '../../model/kernel/machine.ts';
import type { Program } from '../../model/kernel/program.ts';
import { compareSchedules } from '../../model/explore/minimize.ts';
import { boundHit, boundMessage, endViolation, stepViolation, type SearchResult, type Violation } from '../../model/explore/outcome.ts';
import { fingerprint, VisitedSet } from '../../model/explore/visited.ts';

/**
 * the first found is a shortest one. With `kind`, only violations of that
 * kind count (others end their path); among the shortest, the schedule
 * with the fewest interrupts and preemptions, then the fewest CPUs, wins
 * (see minimize.ts compareSchedules). Keeps every state's parent, so it
 * costs more memory than DFS; use it for counterexamples, DFS for proofs.
 */
export function wholeStateBfs(p: Program, opts: { readonly kind?: ViolationKind; readonly maxStates?: number } = {}): SearchResult {
  const maxStates = opts.maxStates ?? 5_000_000;
  const started = performance.now();
  const m = new Machine(p);
  const visited = new VisitedSet();
  const h = new Uint32Array(2);
  const stats = { states: 1, transitions: 0, ms: 0, maxDepth: 0 };
  const parents: number[] = [-1];
  const via: number[] = [0];
  const pathTo = (index: number, last: number): number[] => {
    const path = [last];
    for (let i = index; i > 0; i = parents[i]!) path.push(via[i]!);
    return path.reverse();
  };
  const finish = (status: SearchResult['status'], violation: Violation | null, boundedOut: string | null): SearchResult => {
    stats.ms = Math.round(performance.now() - started);
    return { status, violation, boundedOut, stats };
  };
  const wanted = (v: Violation | null): v is Violation => v !== null && (opts.kind === undefined || v.kind === opts.kind);
  const init = m.initial();
  fingerprint(init, h);
  visited.add(h[0]!, h[1]!);
  {
    const end = m.enabled(init).length === 0 ? endViolation(m, init, []) : null;
    if (wanted(end)) return finish('violation', end, null);
  }
  let frontier: { s: Int32Array; index: number }[] = [{ s: init, index: 0 }];
  let firstBound: string | null = null;
  while (frontier.length > 0) {
    const next: { s: Int32Array; index: number }[] = [];
    let best: Violation | null = null;
    const consider = (v: Violation): void => {
      if (best === null || compareSchedules(v.choices, best.choices) < 0) best = v;
    };
    stats.maxDepth++;
    for (const { s, index } of frontier) {
      for (const choice of m.enabled(s)) {
        const t = m.step(s, choice);
        stats.transitions++;
        if (t[H_VIOL_KIND] !== 0) {
          const v = stepViolation(m, t, pathTo(index, choice));
          if (wanted(v)) consider(v);
          continue;
        }
        fingerprint(t, h);
        if (!visited.add(h[0]!, h[1]!)) continue;
        stats.states++;
        parents.push(index);
        via.push(choice);
        const tIndex = parents.length - 1;
        const loop = boundHit(t);
        if (loop >= 0) {
          firstBound ??= boundMessage(m, loop);
          continue;
        }
        if (m.enabled(t).length === 0) {
          const end = endViolation(m, t, pathTo(index, choice));
          if (wanted(end)) consider(end);
          continue;
        }
        if (stats.states >= maxStates) {
          return finish('bounded-out', null, `state limit reached: more than ${maxStates} distinct states (raise the state limit or shrink the bounds)`);
        }
        next.push({ s: t, index: tIndex });
      }
    }
    if (best) return finish('violation', best, null);
    frontier = next;
  }
  return finish(firstBound ? 'bounded-out' : 'verified', null, firstBound);
}
