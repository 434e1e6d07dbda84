/**
 * The LocalStack path cannot run here (no Docker), so the compose file is checked for what the loop
 * relies on: one network shared by LocalStack, PostgreSQL and MySQL; LocalStack's Lambda containers put
 * on that same network; service names equal to the hosts `rotate:local` writes into the secrets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PORTS } from '../../shared/database-secret';
import { localStackReleaseFor, ROTATION_RUNTIME } from '../../lib/runtime';
import { needsAuthToken, parseRelease, releaseAtLeast } from '../../local/rotate-local/localstack';
import { COMPOSE_DATABASE_HOSTS } from '../../local/rotate-local/scenarios';
import { parseYamlSubset, type YamlValue } from '../support/yaml-subset';

type Obj = { [key: string]: YamlValue };

const asObj = (v: YamlValue | undefined): Obj => {
  if (v === undefined || typeof v === 'string' || Array.isArray(v)) throw new Error('expected a mapping');
  return v;
};
const asList = (v: YamlValue | undefined): YamlValue[] => {
  if (!Array.isArray(v)) throw new Error('expected a sequence');
  return v;
};

const compose = asObj(parseYamlSubset(readFileSync(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8')));
const services = asObj(compose.services);

describe('docker-compose.yml', () => {
  it('runs LocalStack and both databases', () => {
    expect(Object.keys(services).sort()).toEqual(['localstack', 'mysql', 'postgres']);
    expect(String(asObj(services.localstack).image)).toMatch(/^localstack\/localstack:/);
  });

  it("pins a LocalStack release that runs the functions' runtime (lib/runtime.ts decides both)", () => {
    const image = String(asObj(services.localstack).image);
    // Either a plain pin or `${LOCALSTACK_VERSION:-<pin>}`: the default is what a user gets.
    const match = /^localstack\/localstack:(?:\$\{LOCALSTACK_VERSION:-([^}]+)\}|([^$]+))$/.exec(image);
    expect(match).not.toBeNull();
    const pinned = match![1] ?? match![2]!;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(parseRelease(pinned)).toBeDefined();
    expect(releaseAtLeast(pinned, localStackReleaseFor(ROTATION_RUNTIME))).toBe(true);
    // The default starts without an account; a newer LOCALSTACK_VERSION needs the token passed below.
    expect(needsAuthToken(pinned)).toBe(false);
  });

  it('passes LOCALSTACK_AUTH_TOKEN through from the shell, empty when unset (never a value in the file)', () => {
    expect(asObj(asObj(services.localstack).environment).LOCALSTACK_AUTH_TOKEN).toBe('${LOCALSTACK_AUTH_TOKEN:-}');
  });

  it('names the database services as the hosts rotate:local writes into the secrets', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(Object.values(COMPOSE_DATABASE_HOSTS)));
    expect(asList(asObj(services[COMPOSE_DATABASE_HOSTS.postgres]).ports)[0]).toMatch(new RegExp(`:${DEFAULT_PORTS.postgres}$`));
    expect(asList(asObj(services[COMPOSE_DATABASE_HOSTS.mysql]).ports)[0]).toMatch(new RegExp(`:${DEFAULT_PORTS.mysql}$`));
  });

  it("puts LocalStack's Lambda containers on the network every service shares", () => {
    const networks = asObj(compose.networks);
    const [key] = Object.keys(networks);
    const networkName = String(asObj(networks[key!]).name);
    for (const service of Object.values(services)) {
      expect(asList(asObj(service).networks)).toEqual([key]);
    }
    expect(asObj(asObj(services.localstack).environment).LAMBDA_DOCKER_NETWORK).toBe(networkName);
  });

  it('gives LocalStack the Docker socket it starts Lambda containers through', () => {
    expect(asList(asObj(services.localstack).volumes)).toContain('/var/run/docker.sock:/var/run/docker.sock');
  });

  it('publishes ports on loopback only and takes admin passwords from PGPASSWORD / MYSQL_PASSWORD', () => {
    for (const service of Object.values(services)) {
      for (const port of asList(asObj(service).ports)) expect(port).toMatch(/^127\.0\.0\.1:/);
    }
    expect(asObj(asObj(services.postgres).environment).POSTGRES_PASSWORD).toMatch(/^\$\{PGPASSWORD:-/);
    expect(asObj(asObj(services.mysql).environment).MYSQL_ROOT_PASSWORD).toMatch(/^\$\{MYSQL_PASSWORD:-/);
  });

  it('has a health check on every service, so `docker compose up --wait` means ready', () => {
    for (const service of Object.values(services)) expect(asList(asObj(asObj(service).healthcheck).test)[0]).toBe('CMD');
  });
});

describe('the YAML subset reader', () => {
  it('refuses what it does not understand instead of misreading it', () => {
    expect(() => parseYamlSubset('a: &anchor 1\n')).toThrow(/subset/);
    expect(() => parseYamlSubset('a:\n  - x\n   - y\n')).toThrow(/indentation/);
    expect(() => parseYamlSubset('a: 1\na: 2\n')).toThrow(/duplicate/);
  });

  it('reads nested mappings, sequences and quoted scalars', () => {
    expect(parseYamlSubset('# c\na:\n  b: "x: y"\n  c:\n    - "1"\n    - two\n  d: ["e", "f"]\n')).toEqual({
      a: { b: 'x: y', c: ['1', 'two'], d: ['e', 'f'] },
    });
  });
});
