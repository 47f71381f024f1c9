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
import type { Design } from '../dsl/design.ts';
import type { Program } from '../kernel/program.ts';
import { searchShared, type SharedAnswer, type SharedJob } from './shared-search.ts';
import { compileAs, serve } from './worker-thread.ts';

/** Main thread → worker. */
export type ToSearchWorker = { readonly type: 'shared'; readonly job: SharedJob };
/** Worker → main thread: one answer per message, in order. */
export type FromSearchWorker =
  | { readonly type: 'ready' }
  | ({ readonly type: 'result' } & SharedAnswer)
  | { readonly type: 'error'; readonly message: string };

let program: Program | null = null;

/** The job's design, compiled once per fingerprint. */
function programOf(job: { readonly design: Design; readonly fingerprint: string }): Program {
  if (program === null || program.fingerprint !== job.fingerprint) program = compileAs(job.design, job.fingerprint, 'a worker');
  return program;
}

function answer(message: ToSearchWorker): FromSearchWorker {
  const job = message.job;
  return { type: 'result', ...searchShared(programOf(job), job) };
}

serve(answer);
