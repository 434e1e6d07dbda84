#!/usr/bin/env node
/** `npm run rotation:status -- --secret-id X`: labels, configuration and whether a rotation is stuck. */
import { runMain } from '../local/operator/cli-main';
import { runRotationStatusCli } from '../local/operator/operator-cli';

runMain(runRotationStatusCli);
