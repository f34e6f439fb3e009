/** A database that cannot be used: one line for the user, no stack trace. */
export class DatabaseError extends Error {
  override name = 'DatabaseError';
}
