/** PGD attacks on queries (to test certificates with real attacks), run off the request thread. */
export { benchmarkPgd, type PgdBenchmark, type PgdBenchmarkOptions } from './benchmark.js';
export { AttackQueueFullError, AttackRequestError } from './errors.js';
export { JobManager, type AttackJobListener, type AttackJobState, type AttackJobStatus, type JobManagerOptions } from './jobManager.js';
export { runPgd, type AttackProgress, type AttackResult, type AttackRunOptions, type AttackStopReason } from './pgd.js';
export { MAX_ATTACK_STEPS, type AttackGoal, type AttackNorm, type AttackRequest } from './request.js';
