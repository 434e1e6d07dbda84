/**
 * Secrets Manager's staging labels, the names the service, its rotation contract and this toolkit share:
 * AWSCURRENT (the version applications read), AWSPENDING (the next version, during a rotation) and
 * AWSPREVIOUS (the version AWSCURRENT left, moved there by the service).
 */
export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';
