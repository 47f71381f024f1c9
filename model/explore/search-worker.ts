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
import { searchShared, type SharedAnswer, type SharedJob } from './shared-search.ts';

/** Main thread → worker. */
export type ToSearchWorker = { readonly type: 'shared'; readonly job: SharedJob };
/** Worker → main thread: one answer per message, in order. */
export type FromSearchWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly states: number; readonly depth: number }
  | ({ readonly type: 'result' } & SharedAnswer)
  | { readonly type: 'error'; readonly message: string };

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

function answer(message: ToSearchWorker): FromSearchWorker {
  const job = message.job;
  return { type: 'result', ...searchShared(programOf(job), job, job.progress ? progressSender() : undefined) };
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
