/**
 * Each package entry point exports what its audience calls and nothing else: the constructs from `.`,
 * the rotation handler factory, the engines, the reader and the errors from `./shared`. Internals stay
 * reachable by deep path only, so they can change without breaking a consumer.
 */
import * as lib from '../../lib';
import * as shared from '../../shared';

const MAX_RUNTIME_NAMES = 40;

describe('package entry points', () => {
  it.each([
    ['.', lib],
    ['./shared', shared],
  ])('%s exports at most 40 runtime names', (_name, exports) => {
    expect(Object.keys(exports).length).toBeLessThanOrEqual(MAX_RUNTIME_NAMES);
  });

  it('./shared keeps parser, cache and registry internals out', () => {
    for (const internal of ['ownValue', 'toRecord', 'registerEngineStrategy', 'payloadToSecretValue', 'passwordPolicyFromEnv']) {
      expect(shared).not.toHaveProperty(internal);
    }
  });

  it('./shared still offers the former engine names to scripts written against them', () => {
    expect(shared.postgresStrategy).toBe(shared.postgresEngine);
    expect(shared.mysqlStrategy).toBe(shared.mysqlEngine);
  });

  it('. keeps IAM action lists and the example stack out', () => {
    for (const internal of ['VPC_NETWORK_INTERFACE_ACTIONS', 'ExampleDatabaseStack', 'EXAMPLE_SECRET_PREFIX', 'rotationEnvironment']) {
      expect(lib).not.toHaveProperty(internal);
    }
  });
});
