/**
 * The PostgreSQL SQLSTATEs the engine acts on, by their names in PostgreSQL's errcodes table: one place,
 * so a refusal, a password change and the alternate user's sync read the same code the same way.
 */

/** invalid_password: a wrong password, an expired role, a missing role or one without a password. */
export const INVALID_PASSWORD = '28P01';
/** invalid_authorization_specification: no pg_hba.conf line admits the login, or the role may not log in. */
export const INVALID_AUTHORIZATION = '28000';
/** too_many_connections: a CONNECTION LIMIT or max_connections is reached. */
export const TOO_MANY_CONNECTIONS = '53300';
/** invalid_catalog_name: the database asked for does not exist. */
export const INVALID_CATALOG_NAME = '3D000';
/**
 * insufficient_privilege: at login, no CONNECT on the database; on a statement, a right the session
 * lacks (RDS's restricted password commands, a setting only a superuser may set).
 */
export const INSUFFICIENT_PRIVILEGE = '42501';
/** object_not_in_prerequisite_state: at login, a database that accepts no connections. */
export const OBJECT_NOT_IN_PREREQUISITE_STATE = '55000';
/** protocol_violation: at login, a connection pooler (PgBouncer) refusing a startup parameter it does not pass on. */
export const PROTOCOL_VIOLATION = '08P01';
