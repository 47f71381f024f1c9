/**
 * The visited set worker threads share (model/explore/shared-visited.ts):
 * all 64 bits of a fingerprint kept, the zero fingerprint included, through
 * growth; a state stays ACTIVE until its thread leaves it; and two real
 * threads inserting overlapping keys while the table grows under them store
 * each key exactly once (one add() of each returns true) and lose none; at
 * its largest size, more than half full, a search on it stops bounded-out.
 */
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { catalogueDesign } from '../../model/designs/index.ts';
import { compile } from '../../model/dsl/compile.ts';
import { exhaustive } from '../../model/explore/exhaustive.ts';
import { SharedVisitedSet } from '../../model/explore/shared-visited.ts';

describe('SharedVisitedSet', () => {
  it('never merges fingerprints that differ only in their low or their high 32 bits', () => {
    fc.assert(fc.property(fc.integer(), fc.integer(), fc.integer(), (lo, hi, other) => {
      fc.pre(other !== lo && other !== hi);
      const set = SharedVisitedSet.create(1, 4);
      expect(set.add(lo, hi)).toBe(true);
      expect(set.add(lo, other)).toBe(true);
      expect(set.add(other, hi)).toBe(true);
      expect(set.add(lo, hi)).toBe(false);
      expect([set.has(lo, hi), set.has(lo, other), set.has(other, hi), set.size]).toEqual([true, true, true, 3]);
    }), { seed: 3, numRuns: 300 });
  });

  it('keeps the zero fingerprint, and everything through growth; ACTIVE until finished', () => {
    const set = SharedVisitedSet.create(1, 2);
    expect(set.add(0, 0)).toBe(true);
    expect(set.add(0, 1)).toBe(true);
    expect(set.add(0, 0)).toBe(false);
    for (let i = 0; i < 20_000; i++) set.add(i, 7);
    let found = 0;
    for (let i = 0; i < 20_000; i++) if (set.has(i, 7)) found++;
    expect([found, set.has(3, 8), set.has(0, 0), set.size]).toEqual([20_000, false, true, 2 + 20_000]);
    expect(set.active(5, 7)).toBe(true);
    set.finish(5, 7);
    expect([set.active(5, 7), set.has(5, 7), set.active(6, 7)]).toEqual([false, true, true]);
  });

  it('two threads inserting overlapping keys while the table grows: each key stored once, none lost', async () => {
    const set = SharedVisitedSet.create(2, 16);
    // The compiled module (npm test builds dist/ first), as the pool's workers load it.
    const url = new URL('../../dist/model/explore/shared-visited.js', import.meta.url).href;
    // Thread t inserts keys t·N/2 .. t·N/2 + N - 1: the middle N/2 by both, in opposite orders.
    const N = 60_000;
    const code = `
      import { workerData, parentPort } from 'node:worker_threads';
      const { SharedVisitedSet } = await import(workerData.url);
      const set = new SharedVisitedSet(workerData.buffers);
      const mine = [];
      const from = workerData.t * ${N / 2};
      for (let k = 0; k < ${N}; k++) {
        const key = workerData.t === 0 ? from + k : from + ${N} - 1 - k;
        if (set.add(key, key ^ 0x5555)) mine.push(key);
      }
      set.leave();
      parentPort.postMessage(mine);
    `;
    const run = (t: number) => new Promise<number[]>((resolve, reject) => {
      const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { workerData: { url, buffers: set.buffers, t } });
      w.once('message', (m: number[]) => {
        resolve(m);
        void w.terminate();
      });
      w.once('error', reject);
    });
    const [a, b] = await Promise.all([run(0), run(1)]);
    const distinct = N + N / 2;
    expect(set.size).toBe(distinct);
    // Every key stored by exactly one thread.
    expect(a.length + b.length).toBe(distinct);
    expect(new Set([...a, ...b]).size).toBe(distinct);
    for (let key = 0; key < distinct; key++) expect(set.has(key, key ^ 0x5555)).toBe(true);
  });
});

describe('a shared visited set at its largest size', () => {
  it('is full past half, and a search on it ends bounded-out naming it, never a hang', () => {
    const set = SharedVisitedSet.create(1, 4, 4);
    for (let i = 0; i < 8; i++) set.add(i, 1);
    expect(set.full).toBe(false);
    set.add(8, 1);
    expect([set.full, set.size]).toEqual([true, 9]);
    // A search of more states than 2^4 slots hold at half full.
    const r = exhaustive(compile(catalogueDesign('bench-irq_lock-fixed-n2-k2')!), {
      shared: { set: SharedVisitedSet.create(1, 4, 5), order: 0, stop: () => null },
    });
    expect([r.status, r.stopped]).toEqual(['bounded-out', true]);
    expect(r.boundedOut).toMatch(/^memory bound reached: the threads' shared visited set is full \(17 states, its largest size\): search with --workers 1/);
  });
});
