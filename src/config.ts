import { join } from 'node:path';

/** Project root (this file lives in src/). */
export const PROJECT_ROOT = join(import.meta.dirname, '..');

/** The read-only data folder used for training, tests and the default corpus (never part of the product). */
export function sharedDataDir(): string {
  return process.env.LIPSEARCH_DATA ?? join(PROJECT_ROOT, '..', 'shared', 'data');
}

/** The default COCO retrieval-set corpus. */
export function defaultCorpusDir(): string {
  return process.env.LIPSEARCH_CORPUS ?? join(sharedDataDir(), 'coco', 'images');
}

/** Where `npm run ingest` writes and `npm start` reads an index unless told otherwise. */
export function defaultIndexDir(): string {
  return process.env.LIPSEARCH_INDEX ?? join(PROJECT_ROOT, 'index-data', 'default');
}

export function sharedTeacherDir(): string {
  return process.env.LIPSEARCH_TEACHER ?? join(PROJECT_ROOT, '..', 'shared', 'teacher');
}
