/** Why the engine refused a query; the server maps each kind to an HTTP status. */
export type SearchErrorKind = 'invalid' | 'not_found' | 'gone' | 'conflict' | 'unavailable';

/** A refusal whose message is written for the user (no paths, no internals). */
export class SearchError extends Error {
  constructor(
    readonly kind: SearchErrorKind,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SearchError';
  }
}

export const unknownImage = (id: number) => new SearchError('not_found', 'not_found', `no image with id ${id}`);
