/**
 * A worker thread of a parallel random search (random-workers.ts). Told a
 * design and the search's options, it compiles the design and builds the
 * same RandomSession as the main thread; told an epoch, it executes its
 * share of the epoch's runs (every `workers`-th run, starting at its index),
 * stopping at its first violation. Started through random-worker.mjs,
 * which loads TypeScript. One worker serves many searches in turn.
 */
import type { Design } from '../dsl/design.ts';
import { RandomSession, type EpochJob, type RandomOptions, type RunOutcome } from './random.ts';
import { compileAs, serve } from './worker-thread.ts';

/** The search a worker takes part in. */
export interface WorkerSetup {
  readonly design: Design;
  readonly fingerprint: string;
  readonly options: RandomOptions;
  readonly index: number;
  readonly workers: number;
}

/** Main thread → worker. */
export type ToWorker =
  | { readonly type: 'setup'; readonly setup: WorkerSetup }
  | { readonly type: 'epoch'; readonly job: EpochJob };
/** Worker → main thread: an answer to each message, in order. */
export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'outcomes'; readonly outcomes: readonly RunOutcome[] }
  | { readonly type: 'error'; readonly message: string };

let search: { readonly setup: WorkerSetup; readonly session: RandomSession } | null = null;

function answer(message: ToWorker): FromWorker {
  if (message.type === 'setup') {
    const { setup } = message;
    const p = compileAs(setup.design, setup.fingerprint, `worker ${setup.index}`);
    search = { setup, session: new RandomSession(p, setup.options) };
    return { type: 'ready' };
  }
  if (!search) throw new Error('an epoch before any setup');
  const { job } = message;
  const { setup, session } = search;
  const outcomes: RunOutcome[] = [];
  for (let run = job.first + setup.index; run < job.first + job.count; run += setup.workers) {
    const o = session.outcome(run, job.epoch);
    outcomes.push(o);
    if (o.kind !== null) break;
  }
  return { type: 'outcomes', outcomes };
}

serve(answer);
