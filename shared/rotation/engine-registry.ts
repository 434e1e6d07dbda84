/**
 * Engine strategies by family, so `createRotationHandler({ engine: 'mysql' })` works without this module
 * naming any engine. Why a registry and not an import: a static `require('../engines/mysql')` anywhere in
 * the Postgres Lambda's import graph would put mysql2 into its bundle (and pg into MySQL's). Each engine
 * module registers itself when loaded; the Lambda entries pass their strategy object directly.
 */
import type { EngineFamily } from '../database-secret';
import { ConfigError } from '../errors';
import type { EngineStrategy } from './engine-strategy';

const strategies = new Map<EngineFamily, EngineStrategy>();

export function registerEngineStrategy(strategy: EngineStrategy): void {
  strategies.set(strategy.family, strategy);
}

export function registeredEngineStrategy(family: EngineFamily): EngineStrategy {
  const strategy = strategies.get(family);
  if (strategy === undefined) {
    throw new ConfigError(
      `No rotation strategy is loaded for ${family}: import shared/engines/${family} or pass the strategy object as \`engine\``,
    );
  }
  return strategy;
}
