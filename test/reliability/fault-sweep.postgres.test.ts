/** A failure at every external call of a full rotation, on postgres (see fault-sweep.ts). */
import { describeFaultSweep } from '../support/fault-sweep';
import { COMBINATIONS } from '../support/rotation-rig';

describeFaultSweep(COMBINATIONS.filter((c) => c.engine === 'postgres'));
