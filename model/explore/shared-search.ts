/**
 * One thread's part of a search that every thread of the pool makes from
 * the initial state with one shared visited set (workers.ts,
 * shared-visited.ts): the calling thread's, and each worker thread's
 * (search-worker.ts).
 */
import { LockdepObserver, type LockdepObserverData } from '../check/lockdep.ts';
import { Candidates, type CandidateData } from '../check/lockdep-confirm.ts';
import type { Design } from '../dsl/design.ts';
import { Machine } from '../kernel/machine.ts';
import type { Program } from '../kernel/program.ts';
import { exhaustive } from './exhaustive.ts';
import { StateSampler, type SamplerData } from './hint.ts';
import { memoryGuard } from './memory.ts';
import type { SearchResult } from './outcome.ts';
import { ParallelismMeter } from './parallelism.ts';
import { SharedVisitedSet, type SharedVisitedBuffers } from './shared-visited.ts';

/** One thread's part of a shared search, as data (a worker gets it as a message). */
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
  /** Sample the states stored for a bounded-out search's likely cause (hint.ts), for the answer. */
  readonly sample: boolean;
  /** Observe the transitions with lockdep's prediction (check/lockdep.ts), for the answer. */
  readonly lockdep: boolean;
  /**
   * A sweep for lockdep's prediction (with `lockdep`): go on past every
   * violation (dfs.ts DfsOptions.onViolation), and answer the violations
   * met as lockdep's candidates (check/lockdep-confirm.ts).
   */
  readonly sweep?: boolean;
  /** One Int32 word: set to 1 by the thread that ends the search (a violation, a state or memory bound); the others stop. */
  readonly stop: SharedArrayBuffer;
  readonly maxMemory?: number;
}

/** Why a thread of a shared search stopped: another one ended it (its result is the one reported). */
export const STOPPED = 'stopped: another thread ended the search';

/** What one thread's part found. */
export interface SharedAnswer {
  readonly result: SearchResult;
  readonly most: number[] | null;
  /** Stopped because another thread ended the search (its result is the one reported). */
  readonly cancelled: boolean;
  readonly lockdep?: LockdepObserverData;
  readonly sampler?: SamplerData;
  /** A sweep's: the violations it met, as lockdep's candidates. */
  readonly candidates?: CandidateData[];
}

/**
 * Search program `p` (the job's design, compiled) as thread `job.order` of
 * a shared search; `progress`, for the calling thread's part, is told the
 * search's counters now and then (the workers report none: the shared
 * set's size is every thread's count).
 */
export function searchShared(p: Program, job: SharedJob, progress?: (st: { states: number; maxDepth: number }) => void): SharedAnswer {
  const set = new SharedVisitedSet(job.buffers);
  try {
    const stop = new Int32Array(job.stop);
    const meter = job.parallelism ? new ParallelismMeter(p) : null;
    const lockdep = job.lockdep ? new LockdepObserver(p) : null;
    if (job.sweep && !lockdep) throw new Error('kdefer internal error: a sweep is for lockdep, which the job does not observe with');
    const candidates = job.sweep ? new Candidates(lockdep!.facts) : null;
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
      ...(progress ? { progress } : {}),
      ...(lockdep ? { transitions: lockdep } : {}),
      ...(candidates ? { onViolation: candidates.record } : {}),
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
    return {
      result, most: meter ? Array.from(meter.most) : null, cancelled: stopped,
      ...(lockdep ? { lockdep: lockdep.toData() } : {}), ...(sampler ? { sampler: sampler.toData() } : {}), ...(candidates ? { candidates: candidates.toData() } : {}),
    };
  } finally {
    set.leave();
  }
}

/** Whether a bounded-out result stopped its search (the state limit, the memory bound) rather than ran it to its end. */
const isStopBound = (r: SearchResult): boolean => r.stopped === true;
