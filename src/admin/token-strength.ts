/**
 * How long an admin token must be; shared by the Worker and `npm start` (pure).
 */

/**
 * The shortest ADMIN_TOKEN the Worker accepts: 32 characters (`openssl rand -hex 16`
 * at the least) cannot be guessed through a rate-limited endpoint; a short one can.
 */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/** Why a configured token is refused, or null when it is long enough. */
export function weakTokenMessage(token: string, name = "ADMIN_TOKEN"): string | null {
  if (token.length >= MIN_ADMIN_TOKEN_LENGTH) return null;
  return `${name} is ${token.length} characters; it must be at least ${MIN_ADMIN_TOKEN_LENGTH} (generate one with \`openssl rand -hex 32\`)`;
}
