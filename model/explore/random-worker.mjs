// Entry of a random-search worker thread (random-workers.ts) when kdefer
// runs from its TypeScript sources: loads TypeScript through tsx's API (a
// dev dependency), whatever loader the main thread runs under (tsx,
// vitest), then starts random-worker.ts. Compiled kdefer (dist/) starts
// random-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./random-worker.ts');
