/**
 * Random search on worker threads (node:worker_threads), for designs too
 * large for exhaustive search, where runs are long and many are needed.
 *
 * The search is the one of random.ts, epoch by epoch: every worker gets
 * each epoch's job and executes every `workers`-th run of it (worker w runs
 * first + w, first + w + workers, …), stopping at its own first violation;
 * the main thread puts the outcomes back in run order and feeds them to the
 * same epoch logic, which stops at the first violation by run index, then
 * shrinks it here. Each run depends on the seed, its index and the epoch
 * state only, so the result (verdict, run index, schedule, path, stats) is
 * the same for any number of workers, and the same as randomSearch's.
 *
 * A worker costs a moment to start (it loads the model; from the sources,
 * through tsx, a second or two), so a pool is made once and serves design
 * after design.
 */
import { Worker } from 'node:worker_threads';
import type { Program } from '../kernel/program.ts';
import { Corpus } from './guided.ts';
import { finishSearch, RandomSession, randomSearch, searchEpochs, type RandomOptions, type RandomResult, type RunOutcome } from './random.ts';
import type { FromWorker, ToWorker } from './random-worker.ts';

/**
 * The worker's entry: compiled (dist/, the installed kdefer), random-worker.js
 * itself; from the TypeScript sources (a checkout: tests, tsx), a small
 * JavaScript entry that loads TypeScript through tsx (a dev dependency) first.
 */
const WORKER_ENTRY = import.meta.url.endsWith('.ts')
  ? new URL('./random-worker.mjs', import.meta.url)
  : new URL('./random-worker.js', import.meta.url);

/** One worker thread, answering one message at a time. */
class SearchWorker {
  private readonly worker: Worker;
  private readonly waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;
  private readonly started: Promise<FromWorker>;

  constructor(readonly index: number) {
    // No inherited loader flags: the entry loads what it needs itself.
    this.worker = new Worker(WORKER_ENTRY, { execArgv: [] });
    this.started = this.next();
    this.worker.on('message', (m: FromWorker) => this.waiting.shift()?.resolve(m));
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`random-search worker ${index} exited (code ${code})`)));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  private next(): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      if (this.failure) reject(this.failure);
      else this.waiting.push({ resolve, reject });
    });
  }

  async ask(message: ToWorker): Promise<FromWorker> {
    await this.started;
    const reply = this.next();
    this.worker.postMessage(message);
    const m = await reply;
    if (m.type === 'error') throw new Error(`kdefer internal error in random-search worker ${this.index}: ${m.message}`);
    return m;
  }

  async stop(): Promise<void> {
    this.failure ??= new Error('stopped');
    await this.worker.terminate();
  }
}

/** A pool of worker threads for random searches; close() it when done. */
export class RandomWorkers {
  private readonly pool: SearchWorker[];

  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size < 2) throw new RangeError(`random search: a worker pool needs at least 2 workers, not ${size}`);
    this.pool = Array.from({ length: size }, (_, i) => new SearchWorker(i));
  }

  /** randomSearch(p, opts), its runs spread over the pool; the same result. */
  async search(p: Program, opts: RandomOptions): Promise<RandomResult> {
    const session = new RandomSession(p, opts);
    const started = performance.now();
    const corpus = session.keepsCoverage ? new Corpus() : null;
    await Promise.all(this.pool.map((w) => w.ask({
      type: 'setup', setup: { design: p.design, fingerprint: p.fingerprint, options: session.settings, index: w.index, workers: this.size },
    })));
    // Runs per second count the runs, not the workers' start.
    const running = performance.now();
    const search = searchEpochs(session, corpus);
    let step = search.next();
    while (!step.done) {
      const job = step.value;
      const answers = await Promise.all(this.pool.map((w) => w.ask({ type: 'epoch', job })));
      const outcomes: RunOutcome[] = answers.flatMap((a) => (a.type === 'outcomes' ? a.outcomes : [])).sort((a, b) => a.run - b.run);
      step = search.next(outcomes);
    }
    return finishSearch(session, step.value, corpus, performance.now() - running, started);
  }

  async close(): Promise<void> {
    await Promise.all(this.pool.map((w) => w.stop()));
  }
}

/**
 * Random search on `workers` threads (1: in this thread). The result is
 * randomSearch's, whatever the number of workers.
 */
export async function randomSearchParallel(p: Program, opts: RandomOptions, workers: number): Promise<RandomResult> {
  if (!Number.isSafeInteger(workers) || workers < 1) throw new RangeError(`random search: workers must be a whole number ≥ 1, not ${workers}`);
  if (workers === 1) return randomSearch(p, opts);
  const pool = new RandomWorkers(workers);
  try {
    return await pool.search(p, opts);
  } finally {
    await pool.close();
  }
}
