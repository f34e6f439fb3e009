import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { seededRandom } from '../util/random.js';
import { measureIngestThroughput } from './ingestThroughput.js';
import { measureQueryLatency } from './queryLatency.js';

/** A 12-megapixel phone photo, landscape as the sensor stores it. */
export const PHONE_WIDTH = 4032;
export const PHONE_HEIGHT = 3024;
/** Grain added to the enlarged photos: without it they would be smoother, smaller and faster to decode than real ones. */
const GRAIN = 12;

/**
 * Phone-size JPEGs made at run time from `sources` (no such photos in git): each enlarged to 4032×3024 with
 * sensor-like grain, JPEG quality 90 with 4:2:0 chroma as phones write, and every other one stored as a portrait
 * shot is (landscape pixels, EXIF orientation 6).
 */
export async function writePhonePhotos(sources: readonly string[], dir: string): Promise<string[]> {
  const random = seededRandom(12);
  const files: string[] = [];
  for (const [i, source] of sources.entries()) {
    const { data, info } = await sharp(source).rotate().resize(PHONE_WIDTH, PHONE_HEIGHT, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    for (let p = 0; p < data.length; p++) data[p] = Math.max(0, Math.min(255, data[p]! + Math.round((random() - 0.5) * 2 * GRAIN)));
    const jpeg = sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).jpeg({ quality: 90, chromaSubsampling: '4:2:0' });
    const file = join(dir, `phone-${String(i).padStart(3, '0')}.jpg`);
    await writeFile(file, await (i % 2 === 1 ? jpeg.withMetadata({ orientation: 6 }) : jpeg).toBuffer());
    files.push(file);
  }
  return files;
}

export interface PhonePhotoFigures {
  readonly images: number;
  readonly width: number;
  readonly height: number;
  /** Ingest of the phone photos (the pipeline's own rate), and that of the corpus photos measured in the same run. */
  readonly ingestImagesPerSecond: number;
  readonly corpusIngestImagesPerSecond: number;
  /** Phone-photo ingest rate / corpus-photo ingest rate. */
  readonly ingestRatio: number;
  readonly ingestRatioTarget: number;
  /** Upload query p50 (decode, embed, search, certificate) of the phone photos, and of the corpus photos. */
  readonly uploadP50Ms: number;
  readonly corpusUploadP50Ms: number;
  /** Phone-photo upload p50 / corpus-photo upload p50. */
  readonly uploadRatio: number;
  readonly uploadRatioTarget: number;
  readonly meetsTargets: boolean;
}

export const PHONE_INGEST_RATIO_TARGET = 0.7;
export const PHONE_UPLOAD_RATIO_TARGET = 2;

export interface PhonePhotoOptions {
  readonly phonePhotos: readonly string[];
  readonly repeats: number;
  readonly workDir: string;
  /** The corpus index the uploads search, and the corpus figures measured earlier in the run. */
  readonly indexDir: string;
  readonly corpusIngestImagesPerSecond: number;
  readonly corpusUploadP50Ms: number;
  readonly modelsDir?: string;
}

/** Ingest and upload-query speed on phone-size photos against the corpus photos of the same run (issue #15). */
export async function measurePhonePhotos(options: PhonePhotoOptions): Promise<PhonePhotoFigures> {
  const { phonePhotos, repeats, workDir, modelsDir } = options;
  const { figures } = await measureIngestThroughput({ images: phonePhotos, repeats, batchSize: 32, workDir, modelsDir });
  const query = await measureQueryLatency({ index: options.indexDir, uploads: phonePhotos, repeats, modelsDir });
  const ingestImagesPerSecond = figures.ingestImagesPerSecond.median;
  const ingestRatio = ingestImagesPerSecond / options.corpusIngestImagesPerSecond;
  const uploadP50Ms = query.byUpload.total.p50Ms;
  const uploadRatio = uploadP50Ms / options.corpusUploadP50Ms;
  return {
    images: phonePhotos.length,
    width: PHONE_WIDTH,
    height: PHONE_HEIGHT,
    ingestImagesPerSecond,
    corpusIngestImagesPerSecond: options.corpusIngestImagesPerSecond,
    ingestRatio,
    ingestRatioTarget: PHONE_INGEST_RATIO_TARGET,
    uploadP50Ms,
    corpusUploadP50Ms: options.corpusUploadP50Ms,
    uploadRatio,
    uploadRatioTarget: PHONE_UPLOAD_RATIO_TARGET,
    meetsTargets: ingestRatio >= PHONE_INGEST_RATIO_TARGET && uploadRatio <= PHONE_UPLOAD_RATIO_TARGET,
  };
}
