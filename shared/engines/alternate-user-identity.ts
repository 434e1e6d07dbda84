/**
 * Whether an alternate user that already exists is the copy of the current user that alternating
 * users rotation may take over: one made by this toolkit or by AWS's multi-user function, or one this
 * secret handed out before. A user of that name may be something else: another application's account
 * that happens to be called `app_clone`, or the copy of a different user. The sync makes the alternate
 * equal to the original, so taking such a user over would change its password (locking out whoever
 * uses it), take away the rights it holds alone, and give the application whatever it keeps.
 *
 * What counts as proof (names and flags from the catalogs, never a password):
 * - PostgreSQL: a direct membership between the two roles, either way (`GRANT app TO app_clone` is what
 *   both the toolkit and AWS's function run when they create the clone);
 * - MySQL/MariaDB, which has no such link: nothing would be taken away, i.e. every host entry of the
 *   alternate is one the original has and every right it holds the original holds too (a clone the
 *   original has since gained rights over, or one a crash left half-made, passes);
 * - on both: the secret's AWSPREVIOUS names the alternate user on the same host, so it was this
 *   secret's login before (a clone whose original lost a right since, or whose membership a DBA cut).
 * Otherwise the rotation is refused before any change with `AlternateUserNotACloneError`.
 */
import { DatabaseError, type ErrorContext } from '../errors';

/**
 * Code `DATABASE`, reason `not-a-clone`: the alternate user exists and nothing shows it is a copy of
 * the current user; nothing was changed. The message names what differs (names only) and the ways out.
 */
export class AlternateUserNotACloneError extends DatabaseError {
  override readonly name: string = 'AlternateUserNotACloneError';
  /** Stable, for branching and alarms. */
  readonly reason = 'not-a-clone' as const;
  /** The existing user the rotation would have taken over. */
  readonly alternate: string;
  /** The user the secret names, whose copy the alternate would have become. */
  readonly original: string;

  /**
   * @param engine the product, as it starts the message (`PostgreSQL`, `MySQL`)
   * @param alternate the existing alternate user
   * @param original the secret's current user
   * @param evidence what the catalogs show, in words (names only)
   * @param adopt the statement(s) a DBA runs when the user IS meant to be the copy
   */
  constructor(engine: string, alternate: string, original: string, evidence: string, adopt: string, context: ErrorContext = {}) {
    super(
      `${engine}: user ${alternate} already exists and nothing shows it is the alternate of ${original}: ${evidence}. Taking it over ` +
        `would change its password and leave it and the application with one set of rights. If it is meant to be the alternate, ${adopt} and rotate ` +
        `again; to rotate two separately managed users, name the other one in the secret's alternateusername key (a pre-created ` +
        `pair: only passwords change); otherwise rename or drop it. Nothing was changed`,
      context,
    );
    this.alternate = alternate;
    this.original = original;
  }
}
