import { parseRotateLocalArgs } from '../../local/rotate-local/args';
import { parseCommandLine } from '../../operator/cli-args';
import { formatDuration, renderTable } from '../../operator/text-table';
import { rotationFunctionArn, selectScenarios, demoUsername } from '../../local/rotate-local/scenarios';
import { ConfigError } from '../../shared/errors';

describe('rotate:local arguments', () => {
  it('defaults to every scenario, one rotation, a table, the embedded endpoint', () => {
    expect(parseRotateLocalArgs([])).toEqual({ rotations: 1, json: false, skipSetup: false, help: false });
  });

  it('reads every flag in both spellings', () => {
    expect(
      parseRotateLocalArgs([
        '--engine',
        'mysql',
        '--strategy=alternating-users',
        '--rotations',
        '3',
        '--json',
        '--endpoint',
        'http://127.0.0.1:4566/',
      ]),
    ).toEqual({
      engine: 'mysql',
      strategy: 'alternating-users',
      rotations: 3,
      json: true,
      skipSetup: false,
      help: false,
      endpoint: 'http://127.0.0.1:4566',
    });
    expect(parseRotateLocalArgs(['--', '--secret-id', 'app/db'])).toMatchObject({ secretId: 'app/db' });
  });

  it.each([
    [['--engine', 'oracle'], /--engine/],
    [['--strategy', 'multi'], /--strategy/],
    [['--rotations', '0'], /--rotations/],
    [['--rotations', '2.5'], /--rotations/],
    [['--endpoint', 'ftp://x'], /http/],
    [['--endpoint', 'http://user:pw@host'], /credentials/],
    [['--engin', 'mysql'], /unknown flag --engin; known: --engine, --strategy/],
    [['mysql'], /unexpected argument "mysql"/],
    [['--engine'], /--engine needs a value/],
    [['--engine='], /--engine needs a value/],
    [['--json=yes'], /--json takes no value/],
    [['--', '--', '--json'], /unexpected argument/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseRotateLocalArgs(argv)).toThrow(ConfigError);
    expect(() => parseRotateLocalArgs(argv)).toThrow(message);
  });

  it('refuses a flag that takes a value given twice, which would otherwise act on the last one alone', () => {
    const specs = { 'secret-id': { type: 'string' }, json: { type: 'boolean' } } as const;
    expect(() => parseCommandLine(['--secret-id', 'prod/a', '--json', '--secret-id=prod/b'], specs)).toThrow(
      new ConfigError('--secret-id is given more than once'),
    );
    expect(() => parseRotateLocalArgs(['--engine', 'postgres', '--engine', 'mysql'])).toThrow(/--engine is given more than once/);
    // A switch twice says the same thing twice.
    expect(parseCommandLine(['--json', '--json'], specs)).toEqual({ help: false, flags: { json: true } });
  });

  it('does not take the next flag as a value', () => {
    const specs = { 'secret-id': { type: 'string' }, json: { type: 'boolean' } } as const;
    expect(() => parseCommandLine(['--secret-id', '--json'], specs)).toThrow(/--secret-id needs a value/);
  });

  it('--help (or -h) wins over everything else on the line, even a bad flag', () => {
    expect(parseRotateLocalArgs(['--engine', 'oracle', '--help'])).toMatchObject({ help: true });
    expect(parseRotateLocalArgs(['--nope', '-h'])).toMatchObject({ help: true });
    expect(parseRotateLocalArgs(['--json', '--help'])).toMatchObject({ help: true });
    // After a `--`, "--help" is a stray word, not a request for usage.
    expect(() => parseRotateLocalArgs(['--', '--json', '--', '--help'])).toThrow(ConfigError);
  });
});

describe('scenarios', () => {
  it('filters by engine and strategy in a fixed order', () => {
    expect(selectScenarios()).toHaveLength(4);
    expect(selectScenarios('mysql')).toEqual([
      { engine: 'mysql', strategy: 'single-user' },
      { engine: 'mysql', strategy: 'alternating-users' },
    ]);
    expect(selectScenarios(undefined, 'alternating-users').map((s) => s.engine)).toEqual(['postgres', 'mysql']);
  });

  it('uses the fixed function ARNs the standalone endpoint registers', () => {
    expect(rotationFunctionArn('postgres', 'alternating-users')).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:postgres-alternating-users-rotation',
    );
  });

  it("keeps demo user names short enough for MySQL's 32 characters with _clone", () => {
    for (const s of selectScenarios()) expect(`${demoUsername(s)}_clone`.length).toBeLessThanOrEqual(32);
  });
});

describe('text table', () => {
  it('pads columns, right-aligns numbers and keeps each row on one line', () => {
    const out = renderTable(
      [{ header: 'name' }, { header: 'ms', align: 'right' }],
      [
        ['a', '5'],
        ['long\nname', '1234'],
      ],
    );
    expect(out.split('\n')).toEqual(['name         ms', '---------  ----', 'a             5', 'long name  1234']);
  });

  it('formats durations', () => {
    expect(formatDuration(12.4)).toBe('12 ms');
    expect(formatDuration(1250)).toBe('1.3 s');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
    expect(formatDuration(Number.NaN)).toBe('-');
  });
});
