/**
 * Shared set-up for the CDK template tests: apps that skip bundling (esbuild is exercised once, by the
 * bundling test), a stub handler entry, and small readers over synthesized templates.
 */
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

export const STUB_ENTRY = path.join(__dirname, '..', 'cdk', 'fixtures', 'stub-rotation-handler.ts');

/** An app whose NodejsFunctions are not bundled: template tests stay fast and need no esbuild run. */
export function unbundledApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

export function unbundledStack(id = 'Test'): Stack {
  return new Stack(unbundledApp(), id);
}

type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] };

export function resourcesOfType(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

/** Every IAM statement of the template's AWS::IAM::Policy resources, keyed by the policy's logical id. */
export function policyStatements(template: Template): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [id, policy] of Object.entries(resourcesOfType(template, 'AWS::IAM::Policy'))) {
    const document = (policy.Properties as { PolicyDocument: { Statement: unknown[] } }).PolicyDocument;
    out[id] = document.Statement;
  }
  return out;
}

/** Every statement whose Resource is exactly "*", as `action list` strings, sorted. */
export function wildcardActions(template: Template): string[] {
  const actions: string[] = [];
  for (const statements of Object.values(policyStatements(template))) {
    for (const s of statements as { Action: string | string[]; Resource: unknown }[]) {
      if (s.Resource === '*') actions.push(...(Array.isArray(s.Action) ? s.Action : [s.Action]));
    }
  }
  return actions.sort();
}
