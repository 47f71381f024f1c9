/**
 * A worker thread of a parallel exhaustive search (workers.ts). Told a
 * design, the search's options and a shard, it compiles the design (once
 * per fingerprint), computes the partition (once per shard count) and
 * searches the shard (shard.ts), answering with the shard's SearchResult.
 * A search whose shard can no longer matter (a shard with a smaller index
 * found a violation) is cut short through the shared `cancel` word, and
 * its result is thrown away by the pool. Started through shard-worker.mjs
 * from the TypeScript sources, or as shard-worker.js when compiled.
 */
import { parentPort } from 'node:worker_threads';
import { compile } from '../dsl/compile.ts';
import type { Design } from '../dsl/design.ts';
import type { Program } from '../kernel/program.ts';
import type { SearchResult } from './outcome.ts';
import { memoryGuard } from './memory.ts';
import { ParallelismMeter } from './parallelism.ts';
import { partition, searchShard, type Partition, type ShardSpec } from './shard.ts';

/** The options of one shard's search, as sent to a worker (plain data). */
export interface ShardJob {
  readonly design: Design;
  readonly fingerprint: string;
  readonly shard: ShardSpec;
  readonly maxStates: number;
  readonly por: boolean;
  readonly fusion: boolean;
  readonly symmetry: boolean;
  /** Measure parallelism (ParallelismMeter) and send back its per-handler figures. */
  readonly parallelism: boolean;
  /** One Int32 word: the smallest shard index known to have a violation; shards above it stop. */
  readonly cancel: SharedArrayBuffer;
  /** The process's memory bound (memory.ts memoryGuard, on the whole process's RSS); absent: none. */
  readonly maxMemory?: number;
  /** Send progress messages while searching. */
  readonly progress: boolean;
}

/** Main thread → worker. */
export type ToShardWorker = { readonly type: 'search'; readonly job: ShardJob };
/** Worker → main thread: one answer per message, in order. */
export type FromShardWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly states: number; readonly depth: number }
  | { readonly type: 'result'; readonly result: SearchResult; readonly most: number[] | null; readonly cancelled: boolean }
  | { readonly type: 'error'; readonly message: string };

/** Why a cancelled search stopped (never reported: the pool discards its result). */
export const CANCELLED = 'cancelled: a shard with a smaller index found a violation';

let program: Program | null = null;
let parts = new Map<string, Partition>();

function answer(message: ToShardWorker): FromShardWorker {
  const { job } = message;
  if (program === null || program.fingerprint !== job.fingerprint) {
    program = compile(job.design);
    parts = new Map();
    if (program.fingerprint !== job.fingerprint) {
      throw new Error(`a worker compiled design '${job.design.name}' to fingerprint ${program.fingerprint}, the main thread to ${job.fingerprint}`);
    }
  }
  const p = program;
  const key = `${job.shard.count}/${job.symmetry}`;
  let part = parts.get(key);
  if (!part) {
    part = partition(p, { count: job.shard.count, symmetry: job.symmetry });
    parts.set(key, part);
  }
  const cancel = new Int32Array(job.cancel);
  let cancelled = false;
  const meter = job.parallelism ? new ParallelismMeter(p) : null;
  const guard = job.maxMemory !== undefined ? memoryGuard(job.maxMemory) : null;
  let sentAt = 0;
  const result = searchShard(p, part, job.shard, {
    maxStates: job.maxStates,
    por: job.por,
    fusion: job.fusion,
    symmetry: job.symmetry,
    ...(meter ? { observe: (m, s) => meter.observe(m, s) } : {}),
    memoryCheck: (bytes, stats) => {
      if (Atomics.load(cancel, 0) < job.shard.index) {
        cancelled = true;
        return CANCELLED;
      }
      return guard ? guard(bytes, stats) : null;
    },
    ...(job.progress ? {
      progress: (st: { states: number; maxDepth: number }) => {
        // At most ten a second: the main thread sums them into its progress line.
        const now = performance.now();
        if (now - sentAt < 100) return;
        sentAt = now;
        parentPort!.postMessage({ type: 'progress', states: st.states, depth: st.maxDepth } satisfies FromShardWorker);
      },
    } : {}),
  });
  return { type: 'result', result, most: meter ? Array.from(meter.most) : null, cancelled };
}

parentPort!.on('message', (message: ToShardWorker) => {
  let reply: FromShardWorker;
  try {
    reply = answer(message);
  } catch (e) {
    reply = { type: 'error', message: (e as Error).stack ?? String(e) };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage({ type: 'ready' } satisfies FromShardWorker);
