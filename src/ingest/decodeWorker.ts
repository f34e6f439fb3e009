/**
 * Worker thread of the decode pool: decode + model-input resample + thumbnail, the CPU-heavy JavaScript part
 * of ingestion, kept off the main thread so that it overlaps with inference.
 */
import { parentPort } from 'node:worker_threads';
import { ImageDecodeError, decodeImage, toModelInput } from '../model/preprocess.js';
import type { DecodeJob, DecodeResult } from './decodePool.js';
import { encodeThumbnail, writeThumbnail } from './thumbnails.js';

async function run(job: DecodeJob): Promise<{ result: DecodeResult; transfer: ArrayBuffer[] }> {
  try {
    const image = await decodeImage(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength), job.maxPixels);
    const { pixels } = toModelInput(image);
    let thumbnail: Uint8Array | undefined;
    if (job.thumbnail === undefined) thumbnail = new Uint8Array(await encodeThumbnail(image));
    else await writeThumbnail(job.thumbnail, image);
    const result: DecodeResult = {
      id: job.id, ok: true, pixels, width: image.photo.width, height: image.photo.height, format: image.format, thumbnail,
    };
    return { result, transfer: [pixels.buffer as ArrayBuffer] };
  } catch (err) {
    const reason = err instanceof ImageDecodeError ? err.message : `cannot process image: ${(err as Error).message}`;
    return { result: { id: job.id, ok: false, reason }, transfer: [] };
  }
}

parentPort!.on('message', (job: DecodeJob) => {
  void run(job).then(({ result, transfer }) => parentPort!.postMessage(result, transfer));
});
