/** The alternating-users naming rule of the AWS templates: `name` <-> `name_clone`. */

export const CLONE_SUFFIX = '_clone';

export function alternateUsername(username: string): string {
  return username.endsWith(CLONE_SUFFIX) ? username.slice(0, -CLONE_SUFFIX.length) : `${username}${CLONE_SUFFIX}`;
}
