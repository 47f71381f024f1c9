/**
 * A worker thread of a parallel exhaustive search (workers.ts). Told a
 * design, the search's options, its order among the threads and the
 * shared visited set's buffers, it compiles the design (once per
 * fingerprint) and searches from the initial state (exhaustive.ts with
 * `shared`), storing into and skipping what the set holds; a thread that
 * ends the search (a violation, the state limit, the memory bound) raises
 * the shared `stop` word and the others stop. Started through
 * search-worker.mjs from the TypeScript sources, or as search-worker.js when
 * compiled.
 */
import { parentPort } from 'node:worker_threads';
import { compile } from '../dsl/compile.ts';
import type { Design } from '../dsl/design.ts';
import type { Program } from '../kernel/program.ts';
import type { SearchResult } from './outcome.ts';
import { LockdepObserver, type LockdepObserverData } from '../check/lockdep.ts';
import { exhaustive } from './exhaustive.ts';
import { StateSampler, type SamplerData } from './hint.ts';
import { Machine } from '../kernel/machine.ts';
import { memoryGuard } from './memory.ts';
import { SharedVisitedSet, type SharedVisitedBuffers } from './shared-visited.ts';
import { ParallelismMeter } from './parallelism.ts';

/**
 * One thread's part of a search that all the pool's threads make from the
 * initial state with one shared visited set (workers.ts, shared-visited.ts).
 */
export interface SharedJob {
  readonly design: Design;
  readonly fingerprint: string;
  readonly buffers: SharedVisitedBuffers;
  /** This thread's order among the threads (dfs.ts DfsOptions.order). */
  readonly order: number;
  readonly maxStates: number;
  readonly por: boolean;
  readonly fusion: boolean;
  readonly symmetry: boolean;
  readonly parallelism: boolean;
  /** Sample the states stored for a bounded-out search's likely cause (hint.ts) and send the samples back. */
  readonly sample: boolean;
  /** Observe the transitions with lockdep's prediction (check/lockdep.ts) and send back what it collected. */
  readonly lockdep: boolean;
  /** One Int32 word: set to 1 by the thread that ends the search (a violation, a state or memory bound); the others stop. */
  readonly stop: SharedArrayBuffer;
  readonly maxMemory?: number;
  readonly progress: boolean;
}

/** Main thread → worker. */
export type ToSearchWorker = { readonly type: 'shared'; readonly job: SharedJob };
/** Worker → main thread: one answer per message, in order. */
export type FromSearchWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly states: number; readonly depth: number }
  | { readonly type: 'result'; readonly result: SearchResult; readonly most: number[] | null; readonly cancelled: boolean; readonly lockdep?: LockdepObserverData; readonly sampler?: SamplerData }
  | { readonly type: 'error'; readonly message: string };

/** Why a thread of a shared search stopped: another one ended it (its result is the one reported). */
export const STOPPED = 'stopped: another thread ended the search';

let program: Program | null = null;

/** The job's design, compiled once per fingerprint. */
function programOf(job: { readonly design: Design; readonly fingerprint: string }): Program {
  if (program === null || program.fingerprint !== job.fingerprint) {
    program = compile(job.design);
    if (program.fingerprint !== job.fingerprint) {
      throw new Error(`a worker compiled design '${job.design.name}' to fingerprint ${program.fingerprint}, the main thread to ${job.fingerprint}`);
    }
  }
  return program;
}

/** At most ten progress messages a second: the main thread sums them into its progress line. */
function progressSender(): (st: { states: number; maxDepth: number }) => void {
  let sentAt = 0;
  return (st) => {
    const now = performance.now();
    if (now - sentAt < 100) return;
    sentAt = now;
    parentPort!.postMessage({ type: 'progress', states: st.states, depth: st.maxDepth } satisfies FromSearchWorker);
  };
}

function answerShared(job: SharedJob): FromSearchWorker {
  const set = new SharedVisitedSet(job.buffers);
  try {
    const p = programOf(job);
    const stop = new Int32Array(job.stop);
    const meter = job.parallelism ? new ParallelismMeter(p) : null;
    const lockdep = job.lockdep ? new LockdepObserver(p) : null;
    const sampler = job.sample ? new StateSampler(new Machine(p)) : null;
    const guard = job.maxMemory !== undefined ? memoryGuard(job.maxMemory) : null;
    let stopped = false;
    const result = exhaustive(p, {
      maxStates: job.maxStates,
      por: job.por,
      fusion: job.fusion,
      symmetry: job.symmetry,
      ...(meter || sampler ? {
        observe: (m: Machine, s: Int32Array) => {
          meter?.observe(m, s);
          sampler?.observe(s);
        },
      } : {}),
      ...(guard ? { memoryCheck: (bytes, stats) => guard(bytes, stats) } : {}),
      ...(job.progress ? { progress: progressSender() } : {}),
      ...(lockdep ? { transitions: lockdep } : {}),
      shared: {
        set,
        order: job.order,
        stop: () => {
          if (Atomics.load(stop, 0) === 0) return null;
          stopped = true;
          return STOPPED;
        },
      },
    });
    // This thread ends the search for all: a violation, or a bound that stops it (not a loop bound, which it explores past).
    if (!stopped && (result.status === 'violation' || (result.status === 'bounded-out' && result.boundedOut !== null && isStopBound(result)))) Atomics.store(stop, 0, 1);
    return { type: 'result', result, most: meter ? Array.from(meter.most) : null, cancelled: stopped, ...(lockdep ? { lockdep: lockdep.toData() } : {}), ...(sampler ? { sampler: sampler.toData() } : {}) };
  } finally {
    set.leave();
  }
}

/** Whether a bounded-out result stopped its search (the state limit, the memory bound) rather than ran it to its end. */
const isStopBound = (r: SearchResult): boolean => r.stopped === true;

function answer(message: ToSearchWorker): FromSearchWorker {
  return answerShared(message.job);
}

parentPort!.on('message', (message: ToSearchWorker) => {
  let reply: FromSearchWorker;
  try {
    reply = answer(message);
  } catch (e) {
    reply = { type: 'error', message: (e as Error).stack ?? String(e) };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage({ type: 'ready' } satisfies FromSearchWorker);
