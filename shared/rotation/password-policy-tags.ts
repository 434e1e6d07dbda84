/**
 * Per-secret password policy: tags on the secret override, rule by rule, the policy of the function's
 * environment (aws-samples/aws-secrets-manager-rotation-lambdas #51). One function can then rotate
 * secrets whose databases or clients need different passwords.
 *
 * Why tags: the handler's gate already made DescribeSecret, which returns them, so reading the policy
 * costs no request; and a tag is metadata, not part of the secret's value, so it is not copied from
 * version to version nor shown to the applications that read the secret.
 *
 * The tag names are GetRandomPassword's parameter names under the `dbrotation:` prefix (AWS's own
 * tags look alike, e.g. `aws:rds:primarydbinstancearn`; the `aws:` prefix itself is reserved):
 *
 * | tag                                | value                                         |
 * |------------------------------------|-----------------------------------------------|
 * | `dbrotation:PasswordLength`        | a whole number, 1–4096                        |
 * | `dbrotation:ExcludeCharacters`     | the characters never used (replaces the function's set; empty = none) |
 * | `dbrotation:ExcludeNumbers`        | `true` / `false`                              |
 * | `dbrotation:ExcludePunctuation`    | `true` / `false`                              |
 * | `dbrotation:ExcludeUppercase`      | `true` / `false`                              |
 * | `dbrotation:ExcludeLowercase`      | `true` / `false`                              |
 * | `dbrotation:RequireEachIncludedType` | `true` / `false`                            |
 *
 * Tag keys are matched without regard to case, as AWS's templates match the `aws:rds:` tags. Any other
 * key under the prefix is refused (a misspelt rule must not be ignored silently). Booleans also take
 * `yes`/`no`, `y`/`n`, `1`/`0`; anything else is refused, unlike the environment's lenient parsing,
 * because a tag is set by hand per secret and a typo must not weaken the policy.
 *
 * Secrets Manager stores any character in a tag value, but tagging tools shared across services may
 * accept only letters, digits, spaces and `+ - = . _ : / @`: an ExcludeCharacters tag with quotes or a
 * backslash may have to be set through the Secrets Manager API itself.
 */
import type { Tag } from '@aws-sdk/client-secrets-manager';
import type { EngineFamily } from '../database-secret';
import { SecretValidationError, type ErrorContext, type ValidationIssue } from '../errors';
import { resolvePasswordPolicy, validatePasswordPolicy, type PasswordPolicy, type ResolvedPasswordPolicy } from './password-policy';

/** The prefix of every password-policy tag. */
export const PASSWORD_POLICY_TAG_PREFIX = 'dbrotation:';

/** Each policy rule's tag name, keyed by the rule it sets. */
export const PASSWORD_POLICY_TAGS: Readonly<Record<keyof PasswordPolicy, string>> = {
  length: `${PASSWORD_POLICY_TAG_PREFIX}PasswordLength`,
  excludeCharacters: `${PASSWORD_POLICY_TAG_PREFIX}ExcludeCharacters`,
  excludeNumbers: `${PASSWORD_POLICY_TAG_PREFIX}ExcludeNumbers`,
  excludePunctuation: `${PASSWORD_POLICY_TAG_PREFIX}ExcludePunctuation`,
  excludeUppercase: `${PASSWORD_POLICY_TAG_PREFIX}ExcludeUppercase`,
  excludeLowercase: `${PASSWORD_POLICY_TAG_PREFIX}ExcludeLowercase`,
  requireEachIncludedType: `${PASSWORD_POLICY_TAG_PREFIX}RequireEachIncludedType`,
};

const TRUE_WORDS = ['true', 'yes', 'y', '1'];
const FALSE_WORDS = ['false', 'no', 'n', '0'];

/**
 * The rules the secret's tags set, without the function's defaults. Unknown or duplicated prefixed
 * keys and unreadable values are collected as issues (named by tag, never quoting the value).
 */
export function passwordPolicyTagOverrides(tags: readonly Tag[] | undefined): { policy: PasswordPolicy; issues: ValidationIssue[] } {
  const byLowerName = new Map(
    Object.entries(PASSWORD_POLICY_TAGS).map(([rule, name]) => [name.toLowerCase(), rule as keyof PasswordPolicy]),
  );
  const policy: Record<string, unknown> = {};
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const tag of tags ?? []) {
    const key = tag.Key ?? '';
    if (!key.toLowerCase().startsWith(PASSWORD_POLICY_TAG_PREFIX)) continue;
    const rule = byLowerName.get(key.toLowerCase());
    const path = `tag ${key}`;
    if (rule === undefined) {
      issues.push({ path, problem: `is not a password-policy tag (known: ${Object.values(PASSWORD_POLICY_TAGS).join(', ')})` });
      continue;
    }
    if (seen.has(rule)) {
      issues.push({ path, problem: `sets ${PASSWORD_POLICY_TAGS[rule]} a second time (tag keys differing only in case)` });
      continue;
    }
    seen.add(rule);
    const value = tag.Value ?? '';
    if (rule === 'excludeCharacters') {
      policy[rule] = value;
    } else if (rule === 'length') {
      if (!/^\s*\d+\s*$/.test(value)) issues.push({ path, problem: 'must be a whole number' });
      else policy[rule] = Number(value.trim());
    } else {
      const word = value.trim().toLowerCase();
      if (TRUE_WORDS.includes(word)) policy[rule] = true;
      else if (FALSE_WORDS.includes(word)) policy[rule] = false;
      else issues.push({ path, problem: 'must be true or false' });
    }
  }
  return { policy: policy as PasswordPolicy, issues };
}

/**
 * The policy for one secret: the function's (already resolved from its environment), with each rule
 * its tags set replaced. The result is checked as a whole, so a tag that makes the combination
 * unusable (a length shorter than the required types) is refused too.
 *
 * @throws SecretValidationError naming every offending tag, before any password is generated.
 * @example
 *   // tags [{ Key: 'dbrotation:PasswordLength', Value: '48' }] on a function whose policy is length 32
 *   secretPasswordPolicy(description.Tags, settings.passwordPolicy, 'postgres', ctx).length; // 48
 */
export function secretPasswordPolicy(
  tags: readonly Tag[] | undefined,
  functionPolicy: ResolvedPasswordPolicy,
  family: EngineFamily,
  context: ErrorContext,
): ResolvedPasswordPolicy {
  const { policy: overrides, issues } = passwordPolicyTagOverrides(tags);
  if (issues.length === 0 && Object.keys(overrides).length === 0) return functionPolicy;
  const merged: PasswordPolicy = { ...functionPolicy, ...overrides };
  if (issues.length === 0) {
    const named = Object.keys(overrides)
      .map((rule) => PASSWORD_POLICY_TAGS[rule as keyof PasswordPolicy])
      .join(', ');
    for (const problem of validatePasswordPolicy(merged, family)) issues.push({ path: `tags ${named}`, problem });
  }
  if (issues.length > 0) {
    throw new SecretValidationError("The secret's password-policy tags are invalid; nothing was written", issues, context);
  }
  return resolvePasswordPolicy(merged, family);
}
