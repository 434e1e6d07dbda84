#!/usr/bin/env node
/** `npm run rotation:repair -- --secret-id X [--yes]`: shows, then (with --yes) fixes and verifies, a stuck rotation. */
import { runMain } from '../local/operator/cli-main';
import { runRotationRepairCli } from '../local/operator/operator-cli';

runMain(runRotationRepairCli);
