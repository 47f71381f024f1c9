/**
 * What every worker thread of the explorers does the same way (the random
 * search's random-worker.ts, the exhaustive search's search-worker.ts):
 * answer the main thread's messages one at a time, a thrown error sent
 * back as an `error` answer, and say `ready` once loaded; compile the
 * design it is sent and check that it is the main thread's program.
 */
import { parentPort } from 'node:worker_threads';
import { compile } from '../dsl/compile.ts';
import type { Design } from '../dsl/design.ts';
import type { Program } from '../kernel/program.ts';

/** Answer every message with `answer`'s reply (or `{ type: 'error' }`), then say `ready`. */
export function serve<In, Out extends { readonly type: string }>(answer: (message: In) => Out | { readonly type: 'error'; readonly message: string }): void {
  parentPort!.on('message', (message: In) => {
    let reply;
    try {
      reply = answer(message);
    } catch (e) {
      reply = { type: 'error', message: (e as Error).stack ?? String(e) };
    }
    parentPort!.postMessage(reply);
  });
  parentPort!.postMessage({ type: 'ready' });
}

/** `design` compiled here; it must have the main thread's program fingerprint (`who` names this worker in the error). */
export function compileAs(design: Design, fingerprint: string, who: string): Program {
  const p = compile(design);
  if (p.fingerprint !== fingerprint) {
    throw new Error(`${who} compiled design '${design.name}' to fingerprint ${p.fingerprint}, the main thread to ${fingerprint}`);
  }
  return p;
}
