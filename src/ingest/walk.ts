import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

/** Extensions of the formats we ingest: JPEG, PNG, WebP, GIF (first frame), TIFF, AVIF. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif',
]);

export interface FoundFile {
  /** Absolute path as found (through symlinks, not resolved). */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface WalkFailure {
  readonly path: string;
  readonly reason: string;
}

export interface WalkResult {
  /** Image files, sorted by path. */
  readonly files: FoundFile[];
  /** Files that are not images by extension: skipped quietly, but counted. */
  readonly skipped: number;
  /** Paths that could not be listed or stat'ed (unreadable folders, broken links). */
  readonly failures: WalkFailure[];
}

export function isImagePath(path: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase());
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'broken symbolic link or vanished file';
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied';
  if (e.code === 'ELOOP') return 'symbolic link loop';
  return `cannot read: ${e.code ?? e.message}`;
}

/**
 * Finds the image files under `roots` (files or folders), recursively. Symbolic links are followed, but each
 * real folder is visited once, so link loops terminate. Folders under `exclude` (the index itself) are skipped.
 */
export async function walkImages(roots: readonly string[], exclude: readonly string[] = []): Promise<WalkResult> {
  const files: FoundFile[] = [];
  const failures: WalkFailure[] = [];
  const visited = new Set<string>();
  const excluded = exclude.map((p) => resolve(p));
  let skipped = 0;

  const isExcluded = (path: string) => excluded.some((e) => path === e || path.startsWith(e + sep));

  const consider = (path: string, info: Stats) => {
    if (!info.isFile()) return;
    if (!isImagePath(path)) skipped++;
    else files.push({ path, size: info.size, mtimeMs: info.mtimeMs });
  };

  const visit = async (dir: string, info: Stats): Promise<void> => {
    const key = `${info.dev}:${info.ino}`;
    if (visited.has(key) || isExcluded(dir)) return;
    visited.add(key);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      failures.push({ path: dir, reason: describe(err) });
      return;
    }
    const children = await Promise.all(
      entries.map(async (entry) => {
        const path = join(dir, entry.name);
        try {
          return { path, info: await stat(path) }; // stat follows symbolic links
        } catch (err) {
          failures.push({ path, reason: describe(err) });
          return undefined;
        }
      }),
    );
    for (const child of children) {
      if (!child) continue;
      if (child.info.isDirectory()) await visit(child.path, child.info);
      else consider(child.path, child.info);
    }
  };

  for (const root of roots) {
    const path = resolve(root);
    let info: Stats;
    try {
      info = await stat(path);
    } catch (err) {
      failures.push({ path, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : describe(err) });
      continue;
    }
    if (info.isDirectory()) await visit(path, info);
    else consider(path, info);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  // The same file given twice (overlapping roots) is one file.
  const unique = files.filter((f, i) => i === 0 || files[i - 1].path !== f.path);
  return { files: unique, skipped, failures };
}
