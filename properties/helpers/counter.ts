/**
 * A self-re-arming work item that counts its runs: every run is a new
 * state, without end. The tests of bounded-out verdicts and their likely
 * cause use it (properties/explore/bounds.test.ts, shard.test.ts).
 */
import { defineDesign, inc, schedule_work } from '../../model/index.ts';

export const rearmingCounter = defineDesign({
  name: 'rearming-counter',
  cpus: 1,
  vars: { count: 0 },
  works: { w: { func: 'tick' } },
  functions: { tick: [inc('count'), schedule_work('w')] },
  tasks: [{ name: 'starter', cpu: 0, body: [schedule_work('w')] }],
});
