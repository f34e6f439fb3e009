import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

export type Device = 'cpu' | 'cuda' | 'auto';

export interface SessionOptions {
  readonly device?: Device;
  /** onnxruntime intra-op threads; default: onnxruntime's choice (all cores). */
  readonly threads?: number;
  /**
   * Whether onnxruntime's threads spin while waiting for work (its default, best for a process that only
   * runs the model). Set it false when other CPU work shares the cores: ingest's decode workers get the
   * cycles the spinning would burn.
   */
  readonly spinWait?: boolean;
}

export class DeviceUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceUnavailableError';
  }
}

/**
 * onnxruntime-node loads its CUDA provider from libonnxruntime_providers_cuda.so beside its own native
 * binding; the npm package does not ship it (see README, "GPU hosts").
 */
export function cudaProviderPath(): string {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(root, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
}

export interface OpenedSession {
  readonly session: ort.InferenceSession;
  readonly device: 'cpu' | 'cuda';
}

/** Opens an ONNX model on the requested device: cuda fails loudly when unavailable, auto falls back to cpu. */
export async function openSession(modelPath: string, options: SessionOptions = {}): Promise<OpenedSession> {
  const device = options.device ?? 'auto';
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    ...(options.spinWait === false
      ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }
      : {}),
  };
  if (device !== 'cpu') {
    const providerFile = cudaProviderPath();
    if (!existsSync(providerFile)) {
      if (device === 'cuda') {
        throw new DeviceUnavailableError(
          `CUDA was requested but onnxruntime's CUDA provider is not installed (${providerFile} is missing); ` +
            'see README, "GPU hosts", or use --device cpu',
        );
      }
    } else {
      try {
        const session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cuda'] });
        return { session, device: 'cuda' };
      } catch (err) {
        if (device === 'cuda') {
          throw new DeviceUnavailableError(`CUDA was requested but could not be used: ${(err as Error).message}`);
        }
      }
    }
  }
  const session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] });
  return { session, device: 'cpu' };
}
