#!/usr/bin/env node
/**
 * One kdefer configuration of `npm run bench`, run on the compiled kdefer
 * (dist/, as the installed `kdefer` command runs it; scripts/build.mjs
 * builds it first): compile the scenario, search it exhaustively on
 * kdefer's default threads (the cores; `workers` to choose), print
 * one JSON line { verdict, states, transitions, ms, peakMB, note? }.
 * Plain JavaScript, so that nothing is transformed on the way: SPIN's side
 * is a compiled pan, kdefer's the JavaScript a user runs.
 *
 *   node scripts/bench-child.mjs '{"c":{"scenario":"irq_lock","cpus":2,"k":2,"buggy":false},"maxStates":5000000,"maxSeconds":240}'
 */
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'model');
const load = (path) => import(pathToFileURL(join(DIST, path)).href);
const [{ BENCH_SCENARIOS }, { compile }, { defaultWorkers, ExhaustiveWorkers }] = await Promise.all([
  load('designs/bench/index.js'), load('dsl/compile.js'), load('explore/workers.js'),
]);

const { c, maxStates, maxSeconds, workers } = JSON.parse(process.argv[2]);
const t0 = performance.now();
const p = compile(BENCH_SCENARIOS[c.scenario]({ cpus: c.cpus, k: c.k, buggy: c.buggy }));
// The time limit: past it, the run is bounded-out (the threads' search cannot be asked, so the process ends here).
const limit = setTimeout(() => {
  console.log(JSON.stringify({ verdict: 'bounded-out', states: 0, transitions: 0, ms: performance.now() - t0, peakMB: process.resourceUsage().maxRSS / 1024, note: `time limit reached: more than ${maxSeconds} s (bench --max-seconds)` }));
  process.exit(0);
}, maxSeconds * 1000);
// kdefer's exhaustive search as the command runs it: in this thread up to SERIAL_STATES (10,000) states, then on the threads (workers.ts).
const pool = new ExhaustiveWorkers(workers ?? defaultWorkers());
const { result: r } = await pool.search(p, { maxStates });
const ms = performance.now() - t0;
clearTimeout(limit);
await pool.close();
const peakMB = process.resourceUsage().maxRSS / 1024;
const verdict = r.status === 'violation' ? r.violation.kind : r.status;
const note = r.status === 'bounded-out' ? (r.boundedOut ?? '') : r.status === 'violation' ? r.violation.message : undefined;
console.log(JSON.stringify({ verdict, states: r.stats.states, transitions: r.stats.transitions, ms, peakMB, ...(note ? { note } : {}) }));
