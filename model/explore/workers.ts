/**
 * The exhaustive search on several threads (node:worker_threads): the
 * calling thread and size − 1 worker threads.
 *
 * Every thread searches the whole graph from the initial state with one
 * visited set they share (shared-visited.ts): a state one thread stored is
 * skipped by the others, so they split the graph between them as they go,
 * each exploring the choices of a state in its own order (dfs.ts
 * DfsOptions.order) so that they spread apart. The search is over when
 * every thread's is: a thread skips only states another has stored and
 * will explore to the end. The stack proviso of the partial-order
 * reduction asks whether a state is on any thread's stack (ACTIVE in the
 * shared set), a superset of one thread's stack, so it stays sound.
 *
 * The result does not depend on the threads' timing where it matters:
 *  - a violation: the pool searches again in the calling thread and
 *    reports that search's (the one-thread verdict and schedule: which
 *    thread meets a bug first is a matter of timing);
 *  - a bound that stops the search (the state limit, the memory bound):
 *    bounded-out with the first thread's reason, by thread index;
 *  - bounds the search explores past (a loop's, the kernel model's): the
 *    least of the threads' first ones;
 *  - a sweep for lockdep (ParallelOptions.sweep), which goes on past every
 *    violation: the violations each thread met, which lockdep's
 *    confirmation merges in a fixed order (lockdep-confirm.ts
 *    Candidates.absorb: it asks whether one of a kind on a set of lock
 *    classes was met, which the reductions keep, then searches for the
 *    shortest; the one met is shown only where that search runs out of
 *    states, and may then differ from run to run);
 *  - else verified. States are the distinct states the threads stored
 *    (each once); with the partial-order reduction a few more than one
 *    thread stores, as the shared proviso expands a few more states, and
 *    the count may vary by a few from run to run; transitions are summed.
 *
 * Small searches do not pay for threads: the pool first searches in the
 * calling thread, up to SERIAL_STATES states; a search that ends there is
 * exactly the one-thread search (the same result as --workers 1).
 *
 * A worker costs a moment to start (it loads the model; from the sources,
 * through tsx, a second or two), so a pool is made once, lazily, and serves
 * design after design.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Program } from '../kernel/program.ts';
import { DEFAULT_MAX_STATES, exhaustive, type ExhaustiveOptions } from './exhaustive.ts';
import type { SearchResult, SearchStats } from './outcome.ts';
import { memoryGuard } from './memory.ts';
import { LockdepObserver } from '../check/lockdep.ts';
import { Candidates, type CandidateData } from '../check/lockdep-confirm.ts';
import type { DfsStats } from './dfs.ts';
import type { SamplerData } from './hint.ts';
import { SharedVisitedSet } from './shared-visited.ts';
import type { FromSearchWorker, ToSearchWorker } from './search-worker.ts';
import { searchShared, type SharedAnswer, type SharedJob } from './shared-search.ts';

/**
 * The default number of threads searching (the calling one and the
 * workers): the cores (os.availableParallelism()).
 * Measured on 2 cores (npm run bench, compiled): irq_lock N=4 K=3 takes
 * 4.9 s on 2 threads against 7.8 s on one, backlog N=4 6.5 s against
 * 10.1 s. Searches under 100,000 states or so gain about nothing (the
 * worker's start costs what it saves), and those under SERIAL_STATES
 * never start one.
 */
export function defaultWorkers(): number {
  return availableParallelism();
}

/** A search in the calling thread that reaches this many states starts the threads, in case it outgrows SERIAL_STATES. */
export const WARM_STATES = 2_000;

/** A search that stores at most this many states runs in the calling thread. */
export const SERIAL_STATES = 10_000;

/**
 * The worker's entry: compiled (dist/, the installed kdefer), search-worker.js
 * itself; from the TypeScript sources (a checkout: tests, tsx), a small
 * JavaScript entry that loads TypeScript through tsx (a dev dependency) first.
 */
const WORKER_ENTRY = import.meta.url.endsWith('.ts')
  ? new URL('./search-worker.mjs', import.meta.url)
  : new URL('./search-worker.js', import.meta.url);

/** One worker thread, answering one message at a time. */
class SearchWorker {
  private readonly worker: Worker;
  private readonly waiting: { resolve: (m: FromSearchWorker) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;
  private readonly started: Promise<FromSearchWorker>;

  constructor(readonly index: number) {
    // No inherited loader flags: the entry loads what it needs itself.
    this.worker = new Worker(WORKER_ENTRY, { execArgv: [] });
    this.started = this.next();
    // A pool closed before a thread said it was ready (warm() started it, and the search ended in the
    // calling thread): its start-up is rejected with 'stopped', which nobody awaits. Not an error.
    this.started.catch(() => {});
    this.worker.on('message', (m: FromSearchWorker) => this.waiting.shift()?.resolve(m));
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`exhaustive-search worker ${index} exited (code ${code})`)));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  private next(): Promise<FromSearchWorker> {
    return new Promise((resolve, reject) => {
      if (this.failure) reject(this.failure);
      else this.waiting.push({ resolve, reject });
    });
  }

  /**
   * Send a job and wait for its answer. The job is posted at once, even to
   * a thread still starting (node queues it until the thread listens): the
   * calling thread goes on with its own part of the search, and the answer
   * comes after the thread's 'ready'.
   */
  async ask(message: ToSearchWorker): Promise<Extract<FromSearchWorker, { type: 'result' }>> {
    const started = this.started;
    const reply = this.next();
    // A thread that fails to start rejects both; the start's rejection is the one thrown.
    reply.catch(() => {});
    this.worker.postMessage(message);
    await started;
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
  /** Whether the search went on in the worker threads (false: it ended in the calling thread). */
  readonly sharded: boolean;
  /** With ParallelOptions.lockdep: lockdep's observer of the search whose result this is. */
  readonly lockdep: LockdepObserver | null;
  /** With ParallelOptions.sample, of a search on the threads: each thread's samples. */
  readonly samples?: readonly SamplerData[];
  /** With ParallelOptions.sweep: each thread's candidates (Candidates.absorb merges them). */
  readonly candidates?: readonly (readonly CandidateData[])[];
}

/** What ExhaustiveWorkers.search needs beyond exhaustive()'s options. */
export interface ParallelOptions {
  readonly maxStates?: number;
  readonly por?: boolean;
  readonly fusion?: boolean;
  readonly symmetry?: boolean;
  /** Also measure parallelism (model/explore/parallelism.ts) in every state explored. */
  readonly parallelism?: boolean;
  /**
   * Also observe every transition with lockdep's prediction
   * (check/lockdep.ts): ParallelResult.lockdep holds what the search's
   * threads collected, merged (LockdepObserver.absorb).
   */
  readonly lockdep?: boolean;
  /**
   * A violation found on the threads is searched for again in the calling
   * thread, whose result is returned (default); false: the threads' first
   * is returned as it is, for a caller that searches again itself.
   */
  readonly violationHere?: boolean;
  /** Also sample the states stored (hint.ts StateSampler): ParallelResult.samples holds every thread's samples. */
  readonly sample?: boolean;
  /**
   * A sweep for lockdep's prediction (with `lockdep`): every thread goes on
   * past each violation (shared-search.ts SharedJob.sweep); the result is
   * verified or bounded-out, ParallelResult.candidates the violations met.
   */
  readonly sweep?: boolean;
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

/**
 * A pool for exhaustive searches on `size` threads: the calling thread and
 * size − 1 worker threads, started on first use; close() it when done.
 */
export class ExhaustiveWorkers {
  private pool: SearchWorker[] | null = null;

  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`exhaustive search: workers must be a whole number ≥ 1, not ${size}`);
  }

  /**
   * Start the threads now (they load the model, a moment each) if they are
   * not running yet: a caller whose search in this thread is growing calls
   * it, so that the threads are ready if the search outgrows it.
   */
  warm(): void {
    if (this.size > 1) this.pool ??= Array.from({ length: this.size - 1 }, (_, i) => new SearchWorker(i + 1));
  }

  /**
   * exhaustive(p, opts) on the pool (see the file comment). With one
   * worker, or a search that ends within SERIAL_STATES, it is exhaustive()
   * in this thread.
   */
  async search(p: Program, opts: ParallelOptions = {}): Promise<ParallelResult> {
    if (opts.sweep && !opts.lockdep) throw new RangeError('exhaustive search: a sweep is for lockdep (ParallelOptions.lockdep)');
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
    if (this.size === 1) return { ...here(p, base, maxStates, opts), most: null, sharded: false };
    const serialCap = Math.min(maxStates, opts.serialStates ?? SERIAL_STATES);
    if (serialCap > 0) {
      const serial = here(p, { ...base, progress: (st) => this.warmAt(st.states, base.progress, st) }, serialCap, opts);
      const capped = serial.result.status === 'bounded-out' && serial.result.stats.states > serialCap;
      if (!capped || serialCap === maxStates) return { ...serial, most: null, sharded: false };
    }
    return this.shared(p, maxStates, opts, base);
  }

  /** A progress callback of a search in this thread: warm() the pool once it has stored WARM_STATES states. */
  warmAt(states: number, progress: ((st: DfsStats) => void) | undefined, st: DfsStats): void {
    if (states >= WARM_STATES) this.warm();
    progress?.(st);
  }

  /** Every thread searches from the initial state with one shared visited set (see the file comment). */
  private async shared(p: Program, maxStates: number, opts: ParallelOptions, base: ExhaustiveOptions): Promise<ParallelResult> {
    const started = performance.now();
    // A worker gets the design as data (structured clone) and compiles it
    // itself; it checks that its program's fingerprint is the main thread's.
    try {
      structuredClone(p.design);
    } catch (e) {
      throw new Error(`kdefer limit: design '${p.design.name}' cannot be sent to a worker thread (${(e as Error).message}); search it with --workers 1`);
    }
    this.warm();
    const pool = this.pool!;
    // A search here has outgrown SERIAL_STATES: start the table at 2^20 slots (9 MiB), past the
    // first growths, each of which rehashes in one thread while the others wait.
    const set = SharedVisitedSet.create(this.size, 1 << 20);
    const stop = new SharedArrayBuffer(4);
    const job = (order: number): SharedJob => ({
      design: p.design,
      fingerprint: p.fingerprint,
      buffers: set.buffers,
      order,
      maxStates,
      por: opts.por !== false,
      fusion: opts.fusion !== false,
      symmetry: opts.symmetry !== false,
      parallelism: opts.parallelism === true,
      lockdep: opts.lockdep === true,
      sample: opts.sample === true,
      ...(opts.sweep ? { sweep: true } : {}),
      stop,
      ...(opts.maxMemory !== undefined ? { maxMemory: opts.maxMemory } : {}),
    });
    // Progress: the states every thread stored (the shared set's size), from the calling thread's search.
    let deepest = 0;
    const progress = opts.progress
      ? (st: { maxDepth: number }) => {
        deepest = Math.max(deepest, st.maxDepth);
        opts.progress!(set.size, deepest);
      }
      : undefined;
    // Thread 0 is the calling thread (its code is compiled already, and one thread fewer starts);
    // threads 1.. are the workers, each sent its job before the calling thread starts its own part.
    const asked = pool.map((w) => w.ask({ type: 'shared', job: job(w.index) }));
    let mine: SharedAnswer;
    try {
      mine = searchShared(p, job(0), progress);
    } catch (e) {
      Atomics.store(new Int32Array(stop), 0, 1);
      await Promise.allSettled(asked);
      throw e;
    }
    const answers = [mine, ...(await Promise.all(asked))];
    const results = answers.map((a) => a.result);
    // A violation: the one-thread search's, found again in this thread, so that the verdict and
    // its schedule are the same whatever the threads' timing (which thread meets a bug first is not).
    const violating = results.find((r) => r.status === 'violation');
    if (violating) return opts.violationHere === false ? { result: violating, most: null, sharded: true, lockdep: null } : { ...here(p, base, maxStates, opts), most: null, sharded: true };
    const stats: SearchStats = { states: set.size, transitions: 0, ms: Math.round(performance.now() - started), maxDepth: 0, transient: 0, visitedBytes: set.bytes };
    for (const r of results) {
      stats.transitions += r.stats.transitions;
      stats.transient! += r.stats.transient ?? 0;
      stats.maxDepth = Math.max(stats.maxDepth, r.stats.maxDepth);
    }
    const reductions = results[0]!.stats.reductions;
    if (reductions) {
      const sum = (k: 'reducedStates' | 'prunedTransitions' | 'provisoExpansions'): number => results.reduce((a, r) => a + (r.stats.reductions?.[k] ?? 0), 0);
      stats.reductions = { ...reductions, ...(reductions.por ? { reducedStates: sum('reducedStates'), prunedTransitions: sum('prunedTransitions'), provisoExpansions: sum('provisoExpansions') } : {}) };
    }
    const most = opts.parallelism ? mostOf(answers.map((a) => a.most ?? undefined)) : null;
    const samples = answers.flatMap((a) => (a.sampler ? [a.sampler] : []));
    let lockdep: LockdepObserver | null = null;
    if (opts.lockdep) {
      lockdep = new LockdepObserver(p);
      for (const a of answers) if (a.lockdep) lockdep.absorb(a.lockdep);
    }
    /** What every outcome below carries besides its result. */
    const rest = { most, sharded: true, lockdep, samples, ...(opts.sweep ? { candidates: answers.map((a) => a.candidates ?? []) } : {}) };
    // A bound that cut the search short (the state limit, memory): the first thread's, by index, that met it.
    const cut = answers.find((a) => !a.cancelled && a.result.stopped);
    if (cut) return { result: { status: 'bounded-out', violation: null, boundedOut: cut.result.boundedOut, stopped: true, stats }, ...rest };
    // Bounds explored past (a loop's, the kernel model's): every thread's first, the least of them,
    // so that the message does not depend on which thread met which bound first.
    const passed = results.map((r) => r.boundedOut).filter((b): b is string => b !== null).sort();
    if (passed.length > 0) return { result: { status: 'bounded-out', violation: null, boundedOut: passed[0]!, stats }, ...rest };
    return { result: { status: 'verified', violation: null, boundedOut: null, stats }, ...rest };
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool) await Promise.all(pool.map((w) => w.stop()));
  }
}

/** exhaustive() in the calling thread, observed by lockdep if asked for (and a sweep for it, if asked for). */
function here(p: Program, base: ExhaustiveOptions, maxStates: number, opts: ParallelOptions): { result: SearchResult; lockdep: LockdepObserver | null; candidates?: CandidateData[][] } {
  const lockdep = opts.lockdep ? new LockdepObserver(p) : null;
  const candidates = opts.sweep && lockdep ? new Candidates(lockdep.facts) : null;
  const result = exhaustive(p, { ...base, maxStates, ...(lockdep ? { transitions: lockdep } : {}), ...(candidates ? { onViolation: candidates.record } : {}) });
  return { result, lockdep, ...(candidates ? { candidates: [candidates.toData()] } : {}) };
}

/** Per region, the largest figure of any thread. */
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
