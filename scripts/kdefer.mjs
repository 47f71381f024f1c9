#!/usr/bin/env node
/**
 * The `kdefer` bin entry: registers tsx so node can load TypeScript (the
 * command line and the design files it imports), then runs scripts/kdefer.ts.
 */
import { register } from 'tsx/esm/api';

register();
await import('./kdefer.ts');
