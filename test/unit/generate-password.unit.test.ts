/**
 * The in-function generator follows GetRandomPassword's rules for every policy the rotation accepts:
 * drawn by fast-check over lengths, exclusion sets and type flags.
 */
import fc from 'fast-check';
import { ConfigError } from '../../shared/errors';
import {
  DIGITS,
  LOWERCASE,
  PUNCTUATION,
  UPPERCASE,
  generatePassword,
  includedCharacterTypes,
} from '../../shared/rotation/generate-password';
import type { ResolvedPasswordPolicy } from '../../shared/rotation/password-policy';

const PRINTABLE = [...`${LOWERCASE}${UPPERCASE}${DIGITS}${PUNCTUATION} `];

const policies: fc.Arbitrary<ResolvedPasswordPolicy> = fc.record({
  length: fc.integer({ min: 1, max: 200 }),
  excludeCharacters: fc.subarray(PRINTABLE).map((chars) => chars.join('')),
  excludeNumbers: fc.boolean(),
  excludePunctuation: fc.boolean(),
  excludeUppercase: fc.boolean(),
  excludeLowercase: fc.boolean(),
  requireEachIncludedType: fc.boolean(),
});

const possible = (p: ResolvedPasswordPolicy): boolean => {
  const types = includedCharacterTypes(p);
  return types.length > 0 && (!p.requireEachIncludedType || types.length <= p.length);
};

describe('generatePassword', () => {
  it('gives the length asked for, only included characters, and one of each type when required', () => {
    fc.assert(
      fc.property(policies.filter(possible), fc.boolean(), (policy, includeSpace) => {
        const password = generatePassword(policy, { includeSpace });
        const types = includedCharacterTypes(policy);
        const allowed = new Set(types.join('') + (includeSpace && !policy.excludeCharacters.includes(' ') ? ' ' : ''));
        expect([...password]).toHaveLength(policy.length);
        for (const ch of password) expect(allowed.has(ch)).toBe(true);
        for (const ch of policy.excludeCharacters) expect(password.includes(ch)).toBe(false);
        if (policy.requireEachIncludedType) {
          for (const type of types) expect([...password].some((ch) => type.includes(ch))).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuses, with a ConfigError, a policy that cannot produce a password', () => {
    fc.assert(
      fc.property(
        policies.filter((p) => !possible(p)),
        (policy) => {
          expect(() => generatePassword(policy)).toThrow(ConfigError);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never repeats a 32-character password and uses every character of the pool', () => {
    const policy: ResolvedPasswordPolicy = {
      length: 32,
      excludeCharacters: '',
      excludeNumbers: false,
      excludePunctuation: false,
      excludeUppercase: false,
      excludeLowercase: false,
      requireEachIncludedType: true,
    };
    const seen = new Set<string>();
    const used = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const password = generatePassword(policy);
      seen.add(password);
      for (const ch of password) used.add(ch);
    }
    expect(seen.size).toBe(500);
    expect(used.size).toBe(LOWERCASE.length + UPPERCASE.length + DIGITS.length + PUNCTUATION.length);
  });
});
