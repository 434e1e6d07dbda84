#!/usr/bin/env node
/** `npm run rotation:status -- --secret-id X`: labels, configuration and whether a rotation is stuck. */
import { runMain } from '../operator/cli-main';
import { runRotationStatusCli } from '../operator/operator-cli';

runMain(runRotationStatusCli);
