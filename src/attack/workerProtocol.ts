import type { Device } from '../model/session.js';
import type { AttackProgress, AttackResult } from './pgd.js';
import type { AttackRequest } from './request.js';

/** What an attack worker is started with. */
export interface AttackWorkerConfig {
  readonly modelsDir?: string;
  readonly device: Device;
}

export type ToWorker =
  | { readonly type: 'run'; readonly jobId: string; readonly request: AttackRequest }
  | { readonly type: 'cancel'; readonly jobId: string }
  /** Stop the current job, release the models and exit (terminating a thread inside onnxruntime aborts the process). */
  | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'progress'; readonly jobId: string; readonly progress: AttackProgress }
  | { readonly type: 'done'; readonly jobId: string; readonly result: AttackResult }
  | { readonly type: 'failed'; readonly jobId: string; readonly message: string }
  | { readonly type: 'cancelled'; readonly jobId: string };

