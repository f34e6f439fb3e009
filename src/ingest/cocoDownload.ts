import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { unzipSync } from 'fflate';
import { PROJECT_ROOT } from '../config.js';
import { isImagePath } from './walk.js';

/** The 500-image COCO retrieval set published with DreamSim. LIPSEARCH_COCO_URL overrides it. */
export const COCO_RETRIEVAL_URL = 'https://github.com/ssundaram21/dreamsim/releases/download/v0.1.0/retrieval_images.zip';

export function cocoUrl(): string {
  return process.env.LIPSEARCH_COCO_URL ?? COCO_RETRIEVAL_URL;
}

export function defaultCocoDownloadDir(): string {
  return join(PROJECT_ROOT, 'cache', 'coco-retrieval');
}

export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

/** Written last: a folder without it holds an interrupted download and is completed by the next one. */
const COMPLETE_MARKER = '.download-complete';

/**
 * Downloads the retrieval-set zip and unpacks its images (flat, by file name) into `to`; a complete earlier
 * download is reused without touching the network. Throws DownloadError with what to do when offline.
 */
export async function downloadCoco(to: string, url = cocoUrl()): Promise<{ dir: string; images: number; reused: boolean }> {
  const marker = join(to, COMPLETE_MARKER);
  if (existsSync(marker)) return { dir: to, images: (await readdir(to)).filter(isImagePath).length, reused: true };
  let zip: Uint8Array;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    zip = new Uint8Array(await response.arrayBuffer());
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new DownloadError(
      `could not download the COCO retrieval set from ${url} (${cause}). Is this machine offline? ` +
        `Download the zip on a connected machine, unzip it, and run: npm run ingest -- <folder with the images>`,
    );
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip, { filter: (file) => isImagePath(file.name) && !file.name.startsWith('__MACOSX/') });
  } catch (err) {
    throw new DownloadError(`the file downloaded from ${url} is not a valid zip: ${(err as Error).message}`);
  }
  await mkdir(to, { recursive: true });
  let images = 0;
  for (const [name, bytes] of Object.entries(entries)) {
    // Flattened to the base name: no entry can write outside `to` ("zip slip").
    const file = join(to, basename(name));
    await writeFile(`${file}.tmp`, bytes);
    await rename(`${file}.tmp`, file);
    images++;
  }
  if (images === 0) throw new DownloadError(`the zip downloaded from ${url} holds no images`);
  await writeFile(marker, `${url}\n`);
  return { dir: to, images, reused: false };
}
