/** A malformed attack request (the server answers 400). */
export class AttackRequestError extends Error {
  readonly code = 'BAD_ATTACK_REQUEST';
  constructor(message: string) {
    super(message);
    this.name = 'AttackRequestError';
  }
}

/** Every core is attacking and the queue is full (the server answers 429: try again later). */
export class AttackQueueFullError extends Error {
  readonly code = 'ATTACK_QUEUE_FULL';
  constructor(message: string) {
    super(message);
    this.name = 'AttackQueueFullError';
  }
}
