#!/usr/bin/env node
/**
 * The `kdefer` bin entry: registers tsx so node loads TypeScript (the command
 * line and the design files it imports), then runs scripts/kdefer.ts.
 *
 * Both of tsx's hooks are needed: a design file outside an ES-module package
 * (no "type": "module" above it, e.g. in /tmp) is loaded as CommonJS, and
 * with the ESM hook alone node 20 fails it with ERR_REQUIRE_CYCLE_MODULE.
 */
import { register } from 'tsx/esm/api';
import { register as registerCommonJs } from 'tsx/cjs/api';

register();
registerCommonJs();
await import('./kdefer.ts');
