/**
 * Every TypeScript snippet in README.md and docs/*.md compiles against the real exports, as a reader
 * pastes it: `db-secret-rotation-toolkit` resolves to `lib/index.ts` and `.../shared` to
 * `shared/index.ts`. A snippet is a fragment, so each is compiled as its own module with what the
 * surrounding prose assumes: the package names it uses but does not import (from `.` first, then
 * `./shared`), the aws-cdk-lib modules it names (`rds`, `secretsmanager`, `Tags`…), the stack objects the
 * prose describes (`db`, `appSecret`, `vpc`… typed below), and a body run as a construct (`this`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import * as lib from '../../lib';
import * as shared from '../../shared';

const ROOT = join(__dirname, '..', '..');
const PACKAGE = 'db-secret-rotation-toolkit';

/** The objects the prose around the snippets names, with the types it implies. */
const CONTEXT: Record<string, string> = {
  db: 'rds.DatabaseInstance',
  dbInstance: 'rds.DatabaseInstance',
  cluster: 'rds.DatabaseCluster',
  readerInstanceArn: 'string',
  vpc: 'ec2.IVpc',
  secretsManagerEndpoint: 'ec2.IInterfaceVpcEndpoint',
  secret: 'secretsmanager.ISecret',
  appSecret: 'secretsmanager.ISecret',
  readerSecret: 'secretsmanager.ISecret',
  a: 'secretsmanager.ISecret',
  b: 'secretsmanager.ISecret',
  alarmTopic: 'sns.ITopic',
  refreshPools: 'lambda.IFunction',
  platformBus: 'events.IEventBus',
  cache: 'SecretCache',
};

/** aws-cdk-lib names a snippet may use without importing them. */
const CDK_IMPORTS: Record<string, string> = {
  rds: "import * as rds from 'aws-cdk-lib/aws-rds';",
  ec2: "import * as ec2 from 'aws-cdk-lib/aws-ec2';",
  secretsmanager: "import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';",
  sns: "import * as sns from 'aws-cdk-lib/aws-sns';",
  lambda: "import * as lambda from 'aws-cdk-lib/aws-lambda';",
  events: "import * as events from 'aws-cdk-lib/aws-events';",
  Tags: "import { Tags } from 'aws-cdk-lib';",
  Duration: "import { Duration } from 'aws-cdk-lib';",
};

interface Snippet {
  readonly where: string;
  readonly code: string;
}

function snippets(): Snippet[] {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((f) => join('docs', f))].filter((f) => f.endsWith('.md'));
  const out: Snippet[] = [];
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
      const start = i + 1;
      while (i + 1 < lines.length && !lines[i + 1]!.startsWith('```')) i++;
      out.push({ where: `${file}:${start}`, code: lines.slice(start, i + 1).join('\n') });
      i++;
    }
  }
  return out;
}

/** The snippet as a module: its imports on top, then what it leaves undeclared, its body in a construct's method. */
function asModule(code: string, undeclared: ReadonlySet<string>): string {
  const lines = code.split('\n');
  const imports = lines.filter((l) => /^import\b/.test(l));
  const body = lines.filter((l) => !/^import\b/.test(l));
  const context = Object.entries(CONTEXT).filter(([name]) => undeclared.has(name));
  // A context object's type may name a module or an export the snippet does not.
  const wanted = new Set([...undeclared, ...context.flatMap(([, type]) => type.split('.', 1))]);
  const head: string[] = ["import type { Construct } from 'constructs';"];
  for (const [name, line] of Object.entries(CDK_IMPORTS)) if (wanted.has(name)) head.push(line);
  const libNames = Object.keys(lib).filter((n) => wanted.has(n));
  const sharedNames = Object.keys(shared).filter((n) => wanted.has(n) && !libNames.includes(n));
  if (libNames.length > 0) head.push(`import { ${libNames.join(', ')} } from '${PACKAGE}';`);
  if (sharedNames.length > 0) head.push(`import { ${sharedNames.join(', ')} } from '${PACKAGE}/shared';`);
  const declarations = context.map(([name, type]) => `  const ${name} = undefined as unknown as ${type};`);
  return [...head, ...imports, 'export async function snippet(this: Construct): Promise<void> {', ...declarations, ...body, '}', ''].join(
    '\n',
  );
}

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  lib: ['lib.es2022.d.ts'],
  types: ['node'],
  strict: true,
  esModuleInterop: true,
  skipLibCheck: true,
  noEmit: true,
  baseUrl: ROOT,
  paths: { [PACKAGE]: ['lib/index.ts'], [`${PACKAGE}/shared`]: ['shared/index.ts'] },
};

/** Compiles the given in-memory modules (path to text) beside the repository's own files. */
function compile(files: ReadonlyMap<string, string>, oldProgram?: ts.Program): ts.Program {
  const host = ts.createCompilerHost(OPTIONS);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    files.has(name) ? ts.createSourceFile(name, files.get(name)!, version) : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => files.has(name) || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  return ts.createProgram([...files.keys()], OPTIONS, host, oldProgram);
}

/** "Cannot find name" (also with "Did you mean"), "Cannot find namespace", "No value exists in scope for the shorthand property". */
const UNDECLARED = new Set([2304, 2552, 2503, 18004]);

describe('TypeScript snippets in README.md and docs/', () => {
  const all = snippets();

  it('finds the snippets', () => {
    expect(all.length).toBeGreaterThanOrEqual(8);
  });

  it('each compiles against the real exports', () => {
    const paths = all.map((_s, i) => join(ROOT, `__snippet_${i}.ts`));
    // First as written, to learn which names the prose supplies; then with those names declared.
    const first = compile(new Map(paths.map((p, i) => [p, asModule(all[i]!.code, new Set())])));
    const undeclared = paths.map(
      (p) =>
        new Set(
          first
            .getSemanticDiagnostics(first.getSourceFile(p))
            .filter((d) => UNDECLARED.has(d.code) && d.start !== undefined)
            .map((d) => d.file!.text.slice(d.start, d.start! + d.length!)),
        ),
    );
    const files = new Map(paths.map((p, i) => [p, asModule(all[i]!.code, undeclared[i]!)]));
    const program = compile(files, first);
    const problems = paths.flatMap((p, i) =>
      ts.getPreEmitDiagnostics(program, program.getSourceFile(p)).map((d) => {
        const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
        return `${all[i]!.where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}\n    ${files.get(p)!.split('\n')[line - 1] ?? ''}`;
      }),
    );
    expect(problems).toEqual([]);
  });
});
