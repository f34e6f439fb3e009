/**
 * Worker-thread entry: runs one attack at a time for the JobManager, on its own single-threaded gradient
 * sessions (opened once per model and kept), so that attacks never block the server's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelName } from '../model/card.js';
import { GradientModel } from '../model/gradient.js';
import { runPgd } from './pgd.js';
import type { AttackRequest } from './request.js';
import type { AttackWorkerConfig, FromWorker, ToWorker } from './workerProtocol.js';

const port = parentPort!;
const config = workerData as AttackWorkerConfig;
const models = new Map<ModelName, Promise<GradientModel>>();
let running: { jobId: string; controller: AbortController; finished: Promise<void> } | null = null;

function modelFor(name: ModelName): Promise<GradientModel> {
  let model = models.get(name);
  if (!model) {
    model = GradientModel.open({ model: name, modelsDir: config.modelsDir, device: config.device, threads: 1 });
    models.set(name, model);
    model.catch(() => models.delete(name)); // a failed open is retried by the next job
  }
  return model;
}

const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

async function run(jobId: string, request: AttackRequest, controller: AbortController): Promise<void> {
  try {
    const model = await modelFor(request.model);
    const result = await runPgd(model, request, {
      signal: controller.signal,
      onProgress: (progress) => send({ type: 'progress', jobId, progress }),
    });
    const buffers = [result.adversarial, result.cleanEmbedding, result.adversarialEmbedding].map((a) => a.buffer as ArrayBuffer);
    send({ type: 'done', jobId, result }, [...new Set(buffers)]);
  } catch (err) {
    if (controller.signal.aborted) send({ type: 'cancelled', jobId });
    else send({ type: 'failed', jobId, message: err instanceof Error ? err.message : String(err) });
  }
}

async function close(): Promise<void> {
  running?.controller.abort();
  await running?.finished;
  await Promise.all([...models.values()].map(async (model) => (await model.catch(() => null))?.close()));
  port.close(); // nothing left on the event loop: the thread exits
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'close') void close();
  else if (message.type === 'cancel') {
    if (running?.jobId === message.jobId) running.controller.abort();
  } else {
    const controller = new AbortController();
    const finished = run(message.jobId, message.request, controller).finally(() => {
      running = null;
    });
    running = { jobId: message.jobId, controller, finished };
  }
});
