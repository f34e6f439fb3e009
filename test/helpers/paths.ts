import { join } from 'node:path';
import { sharedDataDir } from '../../src/config.js';

/** Real photos for tests, from the shared data folder (LIPSEARCH_DATA overrides ../shared/data). */
export const DATA_DIR = sharedDataDir();
export const COCO_DIR = join(DATA_DIR, 'coco', 'images');

export function dataFile(relative: string): string {
  return join(DATA_DIR, relative);
}
