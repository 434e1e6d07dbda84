#!/usr/bin/env node
/** `npm run rotate:local`: rotate real local database users end to end and verify from outside. */
import { runMain } from '../operator/cli-main';
import { runRotateLocalCli } from '../local/rotate-local/rotate-local';

runMain(runRotateLocalCli);
