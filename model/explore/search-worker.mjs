// Entry of an exhaustive-search worker thread (workers.ts) when kdefer runs
// from its TypeScript sources: loads TypeScript through tsx's API (a dev
// dependency), whatever loader the main thread runs under (tsx, vitest),
// then starts search-worker.ts. Compiled kdefer (dist/) starts
// search-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./search-worker.ts');
