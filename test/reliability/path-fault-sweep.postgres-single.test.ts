/** A fault at every call of the PostgreSQL single-user paths (see path-fault-sweep.ts, postgres-path-scenarios.ts). */
import { describePathSweep } from '../support/path-fault-sweep';
import { driftHealedByMaster, masterFallsBackToItsOwnDatabase, refusedProof } from '../support/postgres-path-scenarios';

describePathSweep([driftHealedByMaster(), refusedProof(), refusedProof({ brokenMaster: true }), masterFallsBackToItsOwnDatabase()]);
