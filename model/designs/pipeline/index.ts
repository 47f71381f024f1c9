/** The combined design of every deferred-work mechanism, with its buggy twin. */
import type { Design } from '../../dsl/design.ts';
import { deferredWorkPipeline, deferredWorkPipelineBuggy } from './pipeline.ts';

export const PIPELINE_DESIGNS: readonly Design[] = [deferredWorkPipelineBuggy, deferredWorkPipeline];
