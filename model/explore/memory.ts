/**
 * The memory bound of a check (--max-memory, CheckOptions.maxMemory): the
 * search ends as bounded-out, naming the bound, before the process would
 * run out of memory, never with a crash.
 *
 * What is counted: the process's resident memory (process.memoryUsage.rss:
 * the JS heap, the visited set's typed arrays, everything), plus, when the
 * visited set is about to double (it does at half full, see visited.ts),
 * the new table it would allocate. The exhaustive search asks every 65,536
 * stored states (dfs.ts memoryCheck), so a growth that may happen before the
 * next question is counted in advance.
 *
 * The default is a quarter of the machine's memory, at most 4 GiB: the
 * visited set doubles (old and new tables live at once while it is
 * copied), the machine is shared (other checks, the editor, the build), and
 * past a few GiB a single search is better split into shards or bounded.
 */
import { totalmem } from 'node:os';
import { bytesText } from './bytes.ts';
import type { DfsStats } from './dfs.ts';

const GiB = 1024 ** 3;

export { parseSize } from './bytes.ts';

/** The default memory bound: a quarter of the machine's memory, at most 4 GiB. */
export function defaultMaxMemory(): number {
  return Math.min(Math.floor(totalmem() / 4), 4 * GiB);
}

/** Stored states between two memory checks of the exhaustive search (dfs.ts). */
const CHECK_EVERY = 65_536;

/**
 * A memoryCheck for exhaustive(): null while the process fits in `maxBytes`,
 * else why the search stops (the bound named, what it held, what to try).
 */
export function memoryGuard(maxBytes: number): (visitedBytes: number, stats: DfsStats) => string | null {
  return (visitedBytes, stats) => {
    const rss = process.memoryUsage.rss();
    const growsSoon = (stats.states + CHECK_EVERY) * 2 > visitedBytes / 8;
    const growth = growsSoon ? visitedBytes * 2 : 0;
    if (rss + growth <= maxBytes) return null;
    const heap = process.memoryUsage().heapUsed;
    return `memory bound reached: the search holds ${bytesText(rss)} (visited set ${bytesText(visitedBytes)}, JS heap ${bytesText(heap)})` +
      (growth > 0 ? ` and its visited set is about to grow by ${bytesText(growth)}` : '') +
      `, against the bound of ${bytesText(maxBytes)}, after ${stats.states} states ` +
      '(raise the bound: --max-memory on the command line, maxMemory in the API; or shrink the bounds: fewer CPUs, interrupts, ticks or loop iterations)';
  };
}
