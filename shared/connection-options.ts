/**
 * TODO(foundation): the connection-options mapper.
 */
export type TlsMode = 'verify-full' | 'require' | 'prefer' | 'disable';
