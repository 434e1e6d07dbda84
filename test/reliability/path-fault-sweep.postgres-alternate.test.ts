/** A fault at every call of the PostgreSQL alternate-user paths (see path-fault-sweep.ts, postgres-path-scenarios.ts). */
import { describePathSweep } from '../support/path-fault-sweep';
import { cloneOwnRights } from '../support/postgres-path-scenarios';

describePathSweep([cloneOwnRights()]);
