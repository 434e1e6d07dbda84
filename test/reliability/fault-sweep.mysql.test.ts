/** A failure at every external call of a full rotation, on mysql (see fault-sweep.ts). */
import { describeFaultSweep } from '../support/fault-sweep';
import { COMBINATIONS } from '../support/rotation-rig';

describeFaultSweep(COMBINATIONS.filter((c) => c.engine === 'mysql'));
