// Entry of a random-search worker thread (random-workers.ts): loads
// TypeScript through tsx's API, whatever loader the main thread runs under
// (tsx, vitest, a build), then starts random-worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./random-worker.ts');
