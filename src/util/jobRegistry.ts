export type JobListener<Status> = (status: Status) => void;

export interface JobRegistryOptions<Job, Status> {
  /** Ended jobs kept readable (least recently read dropped first), so a job's link keeps working a while. */
  readonly keepFinished: number;
  readonly status: (job: Job) => Status;
  readonly isFinished: (job: Job) => boolean;
}

/**
 * Long-running jobs by id and the subscribers to their status: the bookkeeping shared by the services that run
 * jobs (attacks, comparisons), which own what a job does and when its status changes.
 */
export class JobRegistry<Job extends { readonly id: string }, Status> {
  private readonly jobs = new Map<string, Job>();
  private readonly listeners = new Map<string, Set<JobListener<Status>>>();
  /** Ended job ids, least recently read first. */
  private readonly endedIds = new Set<string>();

  constructor(private readonly options: JobRegistryOptions<Job, Status>) {
    const { keepFinished } = options;
    if (!(Number.isInteger(keepFinished) && keepFinished >= 1)) throw new RangeError('keepFinished must be ≥ 1');
  }

  add(job: Job): void {
    this.jobs.set(job.id, job);
  }

  /** The job itself (for its owner), or undefined when unknown or dropped. */
  job(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  all(): IterableIterator<Job> {
    return this.jobs.values();
  }

  /** The status of a job, or undefined; reading an ended job keeps it longer. */
  get(id: string): Status | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    if (this.endedIds.delete(id)) this.endedIds.add(id);
    return this.options.status(job);
  }

  /** Calls `listener` now and on every change until the job ends. Returns the unsubscribe function, or undefined for an unknown job. */
  subscribe(id: string, listener: JobListener<Status>): (() => void) | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    listener(this.options.status(job));
    if (this.options.isFinished(job)) return () => {};
    let listeners = this.listeners.get(id);
    if (!listeners) this.listeners.set(id, (listeners = new Set()));
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /** Tells the subscribers of a job its status (the last time, when it has ended). */
  notify(job: Job): void {
    const listeners = this.listeners.get(job.id);
    if (!listeners) return;
    const status = this.options.status(job);
    for (const listener of [...listeners]) listener(status);
    if (this.options.isFinished(job)) this.listeners.delete(job.id);
  }

  /** Call once a job has ended: tells its subscribers, keeps it readable, drops the least recently read beyond keepFinished. */
  ended(job: Job): void {
    this.notify(job);
    this.endedIds.add(job.id);
    for (const oldest of this.endedIds) {
      if (this.endedIds.size <= this.options.keepFinished) break;
      this.endedIds.delete(oldest);
      this.jobs.delete(oldest);
    }
  }
}
