/** A failure at every external call of a full rotation, on postgres (see fault-sweep.ts). */
import { describeFaultSweep } from './fault-sweep';
import { COMBINATIONS } from './rotation-rig';

describeFaultSweep(COMBINATIONS.filter((c) => c.engine === 'postgres'));
