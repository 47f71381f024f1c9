/**
 * The exhaustive search on worker threads (node:worker_threads).
 *
 * The scheme is the cluster's (shard.ts), run in one process: the search
 * is cut into SHARDS_PER_WORKER·W prefix shards, a queue hands the shards
 * out in index order to the W workers as each becomes free, and the pool
 * merges the shards' results here. Each shard is searched on its own with
 * its own visited set, so its result depends on the design, the options
 * and the shard only, never on which worker ran it or when. The merged
 * result is therefore the same whatever the threads' timing:
 *  - a violation: the one of the smallest shard index that has one (the
 *    pool waits for every shard below it; shards above it are cut short
 *    and ignored), with the states of shards 0..that one summed;
 *  - else bounded-out if a shard is (the first such shard's reason, which
 *    names the bound and the shard), else verified; the states of all
 *    shards summed.
 * States reachable from prefixes of several shards are counted once per
 * shard, so the sum is more than a one-thread search stores.
 *
 * Small searches do not pay for threads: the pool first searches in the
 * calling thread, up to SERIAL_STATES states; a search that ends there is
 * exactly the one-thread search (the same result as --workers 1). Only a
 * search that outgrows it is sharded.
 *
 * A worker costs a moment to start (it loads the model; from the sources,
 * through tsx, a second or two), so a pool is made once, lazily, and serves
 * design after design.
 */
import { Worker } from 'node:worker_threads';
import type { Program } from '../kernel/program.ts';
import { DEFAULT_MAX_STATES, exhaustive, type ExhaustiveOptions } from './exhaustive.ts';
import type { SearchResult, SearchStats } from './outcome.ts';
import { memoryGuard } from './memory.ts';
import type { FromShardWorker, ShardJob, ToShardWorker } from './shard-worker.ts';

/**
 * The default number of worker threads: one, the calling thread. Prefix
 * shards share no visited set, and on the designs measured every shard
 * stores most of what a whole search stores (backlog at 3 CPUs, 617k
 * states: each of 2 shards 612k-617k; deferred-work-pipeline, 115k: each
 * of 2 shards 89k-97k), so two threads take about as long as one and twice
 * the CPU time and memory. `--workers` (or `defaultWorkers` as a constant
 * of the cores, `os.availableParallelism()`) is there for designs that split
 * better, and for the day the threads share one visited set.
 */
export function defaultWorkers(): number {
  return 1;
}

/**
 * Shards per worker thread. More shards balance the load better, but every
 * shard explores much of what its neighbours do (measured on
 * deferred-work-pipeline, 115k states: each of 2 shards stores 80% of
 * them, each of 4 shards 80% too), so the total work grows with the shard
 * count: one shard per worker is the fastest.
 */
export const SHARDS_PER_WORKER = 1;

/** A search that stores at most this many states runs in the calling thread. */
export const SERIAL_STATES = 50_000;

/**
 * The worker's entry: compiled (dist/, the installed kdefer), shard-worker.js
 * itself; from the TypeScript sources (a checkout: tests, tsx), a small
 * JavaScript entry that loads TypeScript through tsx (a dev dependency) first.
 */
const WORKER_ENTRY = import.meta.url.endsWith('.ts')
  ? new URL('./shard-worker.mjs', import.meta.url)
  : new URL('./shard-worker.js', import.meta.url);

/** One worker thread, answering one message at a time. */
class ShardWorker {
  private readonly worker: Worker;
  private readonly waiting: { resolve: (m: FromShardWorker) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;
  private readonly started: Promise<FromShardWorker>;

  /** Where the current search's progress messages go. */
  onProgress: ((states: number, depth: number) => void) | null = null;

  constructor(readonly index: number) {
    // No inherited loader flags: the entry loads what it needs itself.
    this.worker = new Worker(WORKER_ENTRY, { execArgv: [] });
    this.started = this.next();
    this.worker.on('message', (m: FromShardWorker) => {
      if (m.type === 'progress') this.onProgress?.(m.states, m.depth);
      else this.waiting.shift()?.resolve(m);
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`exhaustive-search worker ${index} exited (code ${code})`)));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  private next(): Promise<FromShardWorker> {
    return new Promise((resolve, reject) => {
      if (this.failure) reject(this.failure);
      else this.waiting.push({ resolve, reject });
    });
  }

  async ask(message: ToShardWorker): Promise<Extract<FromShardWorker, { type: 'result' }>> {
    await this.started;
    const reply = this.next();
    this.worker.postMessage(message);
    const m = await reply;
    if (m.type === 'error') throw new Error(`kdefer internal error in exhaustive-search worker ${this.index}: ${m.message}`);
    if (m.type !== 'result') throw new Error(`kdefer internal error: exhaustive-search worker ${this.index} answered '${m.type}'`);
    return m;
  }

  async stop(): Promise<void> {
    this.failure ??= new Error('stopped');
    await this.worker.terminate();
  }
}

/** A parallel search's result, with the ParallelismMeter figures (per handler region) when asked for. */
export interface ParallelResult {
  readonly result: SearchResult;
  /** Per handler region (ParallelismMeter.regions), the most CPUs seen in it; null unless asked for. */
  readonly most: readonly number[] | null;
  /** Whether the search was sharded over the threads (false: it ended in the calling thread). */
  readonly sharded: boolean;
}

/** What ExhaustiveWorkers.search needs beyond exhaustive()'s options. */
export interface ParallelOptions {
  readonly maxStates?: number;
  readonly por?: boolean;
  readonly fusion?: boolean;
  readonly symmetry?: boolean;
  /** Also measure parallelism (model/explore/parallelism.ts) in every state explored. */
  readonly parallelism?: boolean;
  /** Called with each state of the calling thread's search (a ParallelismMeter for its part). */
  readonly observe?: ExhaustiveOptions['observe'];
  /** A search that stores at most this many states runs in the calling thread (default SERIAL_STATES; 0: always sharded). */
  readonly serialStates?: number;
  /**
   * The memory bound (bytes) of the whole process, threads included
   * (memory.ts memoryGuard: it reads the process's RSS); a shard that
   * passes it ends bounded-out naming the bound. Default: no bound.
   */
  readonly maxMemory?: number;
  /** Called now and then with the states stored so far (every thread's, summed) and the deepest depth. */
  readonly progress?: (states: number, depth: number) => void;
}

/** A pool of worker threads for exhaustive searches, started on first use; close() it when done. */
export class ExhaustiveWorkers {
  private pool: ShardWorker[] | null = null;

  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`exhaustive search: workers must be a whole number ≥ 1, not ${size}`);
  }

  /**
   * exhaustive(p, opts) on the pool (see the file comment). With one
   * worker, or a search that ends within SERIAL_STATES, it is exhaustive()
   * in this thread.
   */
  async search(p: Program, opts: ParallelOptions = {}): Promise<ParallelResult> {
    const maxStates = opts.maxStates ?? DEFAULT_MAX_STATES;
    const guard = opts.maxMemory !== undefined ? memoryGuard(opts.maxMemory) : null;
    const progress = opts.progress;
    const base = {
      ...(opts.por !== undefined ? { por: opts.por } : {}),
      ...(opts.fusion !== undefined ? { fusion: opts.fusion } : {}),
      ...(opts.symmetry !== undefined ? { symmetry: opts.symmetry } : {}),
      ...(opts.observe ? { observe: opts.observe } : {}),
      ...(guard ? { memoryCheck: guard } : {}),
      ...(progress ? { progress: (st: { states: number; maxDepth: number }) => progress(st.states, st.maxDepth) } : {}),
    };
    if (this.size === 1) return { result: exhaustive(p, { ...base, maxStates }), most: null, sharded: false };
    const serialCap = Math.min(maxStates, opts.serialStates ?? SERIAL_STATES);
    if (serialCap > 0) {
      const serial = exhaustive(p, { ...base, maxStates: serialCap });
      const capped = serial.status === 'bounded-out' && serial.stats.states > serialCap;
      if (!capped || serialCap === maxStates) return { result: serial, most: null, sharded: false };
    }
    return this.sharded(p, maxStates, opts);
  }

  /** The search cut into shards over the pool, merged (see the file comment). */
  private async sharded(p: Program, maxStates: number, opts: ParallelOptions): Promise<ParallelResult> {
    const started = performance.now();
    // A worker gets the design as data (structured clone) and compiles it
    // itself; it checks that its program's fingerprint is the main thread's.
    try {
      structuredClone(p.design);
    } catch (e) {
      throw new Error(`kdefer limit: design '${p.design.name}' cannot be sent to a worker thread (${(e as Error).message}); search it with --workers 1`);
    }
    this.pool ??= Array.from({ length: this.size }, (_, i) => new ShardWorker(i));
    const count = this.size * SHARDS_PER_WORKER;
    const cancel = new SharedArrayBuffer(4);
    const lowest = new Int32Array(cancel);
    lowest[0] = count;
    const results: (SearchResult | null)[] = new Array(count).fill(null);
    const most: number[][] = [];
    let next = 0;
    const job = (index: number): ShardJob => ({
      design: p.design,
      fingerprint: p.fingerprint,
      shard: { index, count },
      maxStates,
      por: opts.por !== false,
      fusion: opts.fusion !== false,
      symmetry: opts.symmetry !== false,
      parallelism: opts.parallelism === true,
      ...(opts.maxMemory !== undefined ? { maxMemory: opts.maxMemory } : {}),
      progress: opts.progress !== undefined,
      cancel,
    });
    // Progress: every worker's latest count, summed.
    const counts = new Array<number>(this.pool.length).fill(0);
    let deepest = 0;
    for (const w of this.pool) {
      w.onProgress = opts.progress
        ? (states, depth) => {
          counts[w.index] = states;
          deepest = Math.max(deepest, depth);
          opts.progress!(counts.reduce((a, b) => a + b, 0), deepest);
        }
        : null;
    }
    // Each worker takes the next shard in index order as soon as it is free.
    await Promise.all(this.pool.map(async (w) => {
      for (;;) {
        const index = next++;
        if (index >= count) return;
        if (Atomics.load(lowest, 0) < index) continue;
        const answer = await w.ask({ type: 'search', job: job(index) });
        counts[w.index] = 0;
        if (answer.cancelled) continue;
        results[index] = answer.result;
        if (answer.most) most[index] = answer.most;
        if (answer.result.status === 'violation' && index < Atomics.load(lowest, 0)) Atomics.store(lowest, 0, index);
      }
    }));
    const upTo = Atomics.load(lowest, 0);
    const counted = results.slice(0, Math.min(upTo + 1, count));
    if (counted.some((r) => r === null)) throw new Error('kdefer internal error: a shard below the first violation has no result');
    const merged = mergeResults(counted as SearchResult[], Math.round(performance.now() - started));
    const figures = opts.parallelism ? mostOf(most.slice(0, counted.length)) : null;
    return { result: merged, most: figures, sharded: true };
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool) await Promise.all(pool.map((w) => w.stop()));
  }
}

/** Per region, the largest figure of any shard. */
function mostOf(lists: readonly (readonly number[] | undefined)[]): number[] {
  const out: number[] = [];
  for (const list of lists) list?.forEach((n, r) => (out[r] = Math.max(out[r] ?? 0, n)));
  return out;
}

/**
 * The results of shards 0..k-1 of one partition as one result: the
 * violation of the first shard that has one (the caller passes shards up
 * to it), else bounded-out naming the first bounded-out shard's bound, else
 * verified; states and transitions summed, depth the deepest.
 */
export function mergeResults(results: readonly SearchResult[], ms: number): SearchResult {
  const stats: SearchStats = { states: 0, transitions: 0, ms, maxDepth: 0, transient: 0, visitedBytes: 0 };
  for (const r of results) {
    stats.states += r.stats.states;
    stats.transitions += r.stats.transitions;
    stats.maxDepth = Math.max(stats.maxDepth, r.stats.maxDepth);
    stats.transient! += r.stats.transient ?? 0;
    stats.visitedBytes = Math.max(stats.visitedBytes!, r.stats.visitedBytes ?? 0);
  }
  const reductions = results[0]?.stats.reductions;
  if (reductions) stats.reductions = { por: reductions.por, fusion: reductions.fusion, ...(reductions.symmetry ? { symmetry: reductions.symmetry } : {}) };
  const violating = results.find((r) => r.status === 'violation');
  if (violating) return { status: 'violation', violation: violating.violation, boundedOut: null, stats };
  const bounded = results.find((r) => r.status === 'bounded-out');
  if (bounded) return { status: 'bounded-out', violation: null, boundedOut: bounded.boundedOut, stats };
  return { status: 'verified', violation: null, boundedOut: null, stats };
}

/**
 * exhaustive(p, opts) on `workers` threads (1: in this thread), for one
 * search; a caller with many designs keeps one ExhaustiveWorkers instead.
 */
export async function exhaustiveParallel(p: Program, opts: ParallelOptions, workers: number): Promise<ParallelResult> {
  const pool = new ExhaustiveWorkers(workers);
  try {
    return await pool.search(p, opts);
  } finally {
    await pool.close();
  }
}
