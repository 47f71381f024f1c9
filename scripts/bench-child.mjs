#!/usr/bin/env node
/**
 * One kdefer configuration of `npm run bench`, run on the compiled kdefer
 * (dist/, as the installed `kdefer` command runs it; scripts/build.mjs
 * builds it first): compile the scenario, search it exhaustively, print
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
const [{ BENCH_SCENARIOS }, { compile }, { exhaustive }] = await Promise.all([
  load('designs/bench/index.js'), load('dsl/compile.js'), load('explore/exhaustive.js'),
]);

const { c, maxStates, maxSeconds } = JSON.parse(process.argv[2]);
const t0 = performance.now();
const p = compile(BENCH_SCENARIOS[c.scenario]({ cpus: c.cpus, k: c.k, buggy: c.buggy }));
const deadline = t0 + maxSeconds * 1000;
const r = exhaustive(p, {
  maxStates,
  memoryCheck: () => (performance.now() > deadline ? `time limit reached: more than ${maxSeconds} s (bench --max-seconds)` : null),
});
const ms = performance.now() - t0;
const peakMB = process.resourceUsage().maxRSS / 1024;
const verdict = r.status === 'violation' ? r.violation.kind : r.status;
const note = r.status === 'bounded-out' ? (r.boundedOut ?? '') : r.status === 'violation' ? r.violation.message : undefined;
console.log(JSON.stringify({ verdict, states: r.stats.states, transitions: r.stats.transitions, ms, peakMB, ...(note ? { note } : {}) }));
