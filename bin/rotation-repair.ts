#!/usr/bin/env node
/** `npm run rotation:repair -- --secret-id X [--yes]`: shows, then (with --yes) fixes and verifies, a stuck rotation. */
import { runMain } from '../operator/cli-main';
import { runRotationRepairCli } from '../operator/operator-cli';

runMain(runRotationRepairCli);
