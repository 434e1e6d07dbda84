/**
 * Alternating users on PostgreSQL, as the master: the alternate role is a member of the current one and
 * starts its sessions as it, so both see and own the same objects. One transaction: a crash leaves
 * either nothing or everything.
 */
import type { AlternateUserChange, ServerInfo, SqlSession } from '../rotation/engine-strategy';
import { storedPassword } from './postgres-passwords';
import { MEMBERSHIP_SQL, ROLE_EXISTS_SQL, createRoleSql, defaultRoleSql, grantMembershipSql, setPasswordAsMasterSql } from './postgres-sql';

async function inTransaction(session: SqlSession, work: () => Promise<void>): Promise<void> {
  await session.query('BEGIN');
  try {
    await work();
    await session.query('COMMIT');
  } catch (err) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Creates or updates the alternate role and its membership; safe to re-run after a crash. */
export async function syncPostgresAlternateUser(session: SqlSession, server: ServerInfo, change: AlternateUserChange): Promise<void> {
  const { currentUsername, alternateUsername, password } = change;
  const hash = await storedPassword(session, alternateUsername, password);
  await inTransaction(session, async () => {
    const exists = (await session.query(ROLE_EXISTS_SQL, [alternateUsername])).length > 0;
    await session.query(exists ? setPasswordAsMasterSql(alternateUsername, hash) : createRoleSql(alternateUsername, hash));
    const membership = (await session.query(MEMBERSHIP_SQL, [currentUsername, alternateUsername]))[0] ?? {};
    // The role that existed first owns everything; the other is its member and starts its sessions as
    // it. When the alternate already owns the current user (a later rotation), nothing changes.
    if (membership.role_of_member === true) return;
    if (membership.member_of_role !== true) await session.query(grantMembershipSql(currentUsername, alternateUsername, server));
    await session.query(defaultRoleSql(alternateUsername, currentUsername));
  });
}
