/** The slices of a Perfetto trace, checked for the B/E discipline ui.perfetto.dev needs. */
import { expect } from 'vitest';
import type { PerfettoTrace, TraceEvent } from '../../model/report/perfetto.ts';

export interface Slice {
  readonly tid: number;
  readonly name: string;
  readonly begin: number;
  readonly end: number;
  /** Slices open below it on its track. */
  readonly depth: number;
}

/**
 * Check B/E discipline per track: every E closes the innermost open B of
 * its tid with the same name, time never goes back within a track, and
 * nothing is left open. Returns the slices as `tid name [begin, end]`.
 */
export function slicesOf(t: PerfettoTrace): Slice[] {
  const open = new Map<number, TraceEvent[]>();
  const last = new Map<number, number>();
  const slices: Slice[] = [];
  for (const e of t.traceEvents) {
    if (e.ph !== 'B' && e.ph !== 'E') continue;
    expect(e.ts, `time goes back on tid ${e.tid}`).toBeGreaterThanOrEqual(last.get(e.tid) ?? 0);
    last.set(e.tid, e.ts);
    const stack = open.get(e.tid) ?? [];
    open.set(e.tid, stack);
    if (e.ph === 'B') {
      stack.push(e);
      continue;
    }
    const b = stack.pop();
    expect(b, `E '${e.name}' with nothing open on tid ${e.tid}`).toBeDefined();
    expect(e.name, `E closes '${b!.name}' on tid ${e.tid}`).toBe(b!.name);
    slices.push({ tid: e.tid, name: b!.name, begin: b!.ts, end: e.ts, depth: stack.length });
  }
  for (const [tid, stack] of open) expect(stack.map((b) => b.name), `left open on tid ${tid}`).toEqual([]);
  return slices;
}

