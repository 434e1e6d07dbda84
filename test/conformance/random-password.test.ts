/** Conformance: GetRandomPassword's options, defaults and limits. Portable. */
import { GetRandomPasswordCommand, type GetRandomPasswordCommandInput } from '@aws-sdk/client-secrets-manager';
import { errorName, startTarget, type Target } from '../support/conformance-harness';

const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

let t: Target;
beforeAll(async () => {
  t = await startTarget();
});
afterAll(() => t.close());

async function password(input: GetRandomPasswordCommandInput = {}): Promise<string> {
  return (await t.client.send(new GetRandomPasswordCommand(input))).RandomPassword!;
}

test('defaults: 32 characters with a lowercase, an uppercase, a digit and a punctuation character', async () => {
  const pw = await password();
  expect(pw).toHaveLength(32);
  expect(pw).toMatch(/[a-z]/);
  expect(pw).toMatch(/[A-Z]/);
  expect(pw).toMatch(/[0-9]/);
  expect([...pw].some((c) => PUNCTUATION.includes(c))).toBe(true);
  expect(pw).not.toContain(' ');
});

test('the punctuation set is the 32 printable ASCII punctuation characters', async () => {
  const pw = await password({ PasswordLength: 4096, ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true });
  const distinct = new Set(pw);
  for (const c of distinct) expect(PUNCTUATION).toContain(c);
  // 4096 draws from 32 characters: missing one has probability ~32 * (31/32)^4096, i.e. never.
  expect(distinct.size).toBe(32);
});

test('honours PasswordLength and ExcludeCharacters', async () => {
  const pw = await password({ PasswordLength: 200, ExcludeCharacters: 'abcXYZ019/@"\\' });
  expect(pw).toHaveLength(200);
  expect(pw).not.toMatch(/[abcXYZ019/@"\\]/);
});

test('Exclude flags remove whole classes; IncludeSpace adds the space', async () => {
  const pw = await password({ PasswordLength: 300, ExcludePunctuation: true, ExcludeNumbers: true, IncludeSpace: true });
  expect(pw).toMatch(/^[A-Za-z ]{300}$/);
  expect(pw).toContain(' ');
});

test('RequireEachIncludedType=false may still use every class but need not', async () => {
  const pw = await password({ PasswordLength: 4, RequireEachIncludedType: false, ExcludeUppercase: true });
  expect(pw).toMatch(/^[^A-Z]{4}$/);
});

test('a length of 4 with the default rule has exactly one of each class', async () => {
  const pw = await password({ PasswordLength: 4 });
  expect(pw).toMatch(/[a-z]/);
  expect(pw).toMatch(/[A-Z]/);
  expect(pw).toMatch(/[0-9]/);
});

test('PasswordLength outside 1-4096 is refused', async () => {
  expect(await errorName(password({ PasswordLength: 4097 }))).toMatch(/^(ValidationException|InvalidParameterException)$/);
  expect(await errorName(password({ PasswordLength: 0 }))).toMatch(/^(ValidationException|InvalidParameterException)$/);
});

test('successive passwords differ', async () => {
  const [a, b] = await Promise.all([password(), password()]);
  expect(a).not.toBe(b);
});

test("ExcludeCharacters takes any characters up to 4096, a space included (aws-cdk-lib's default starts with one)", async () => {
  const cdkStyle = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\';
  const pw = await password({ PasswordLength: 300, ExcludeCharacters: cdkStyle, IncludeSpace: true });
  expect(pw).toHaveLength(300);
  for (const c of cdkStyle) expect(pw).not.toContain(c);
  expect(await password({ ExcludeCharacters: '~'.repeat(4096) })).toHaveLength(32);
});

test('ExcludeCharacters over 4096 characters is refused', async () => {
  expect(await errorName(password({ ExcludeCharacters: '~'.repeat(4097) }))).toMatch(/^(ValidationException|InvalidParameterException)$/);
});
