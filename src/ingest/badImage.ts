/** A file that is not a usable image; the message is the reason shown to the user. */
export class BadImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadImageError';
  }
}
