import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

/** Extensions of the formats we ingest: JPEG, PNG, WebP, GIF (first frame), TIFF, AVIF. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif',
]);

/** Vector formats we recognise and refuse: rendering one could read other files (and they are not photos). */
const REFUSED_EXTENSIONS: ReadonlySet<string> = new Set(['.svg', '.svgz']);

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
  /**
   * Paths that could not be listed or stat'ed (unreadable folders, broken links, link loops), and image paths
   * that cannot be ingested as found (not a regular file, a refused format, a name that is not UTF-8).
   */
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
  if (e.code === 'ENAMETOOLONG') return 'path too long for the file system';
  return `cannot read: ${e.code ?? e.message}`;
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a file';
}

/** A name as the file system holds it, and as text; the text is lossy (U+FFFD) when the bytes are not UTF-8. */
function decodeName(raw: Buffer): { text: string; utf8: boolean } {
  const text = raw.toString('utf8');
  return { text, utf8: Buffer.from(text, 'utf8').equals(raw) };
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
    const extension = extname(path).toLowerCase();
    const image = IMAGE_EXTENSIONS.has(extension);
    if (!image && !REFUSED_EXTENSIONS.has(extension)) {
      if (info.isFile()) skipped++;
    } else if (!info.isFile()) {
      failures.push({ path, reason: `${kindOf(info)}, not a regular file` });
    } else if (!image) {
      failures.push({ path, reason: 'SVG drawings are not ingested (rendering one could read other files); convert it to PNG' });
    } else {
      files.push({ path, size: info.size, mtimeMs: info.mtimeMs });
    }
  };

  /** A file or folder whose name is not UTF-8: it cannot be named in the index, so it is reported, not read. */
  const considerUnnamable = (path: string, info: Stats) => {
    if (info.isDirectory()) failures.push({ path, reason: 'folder name is not valid UTF-8; rename it to ingest what it holds' });
    else if (isImagePath(path)) failures.push({ path, reason: 'file name is not valid UTF-8; rename it to ingest it' });
    else if (info.isFile()) skipped++;
  };

  const visit = async (dir: string, info: Stats): Promise<void> => {
    const key = `${info.dev}:${info.ino}`;
    if (visited.has(key) || isExcluded(dir)) return;
    visited.add(key);
    let names: Buffer[];
    try {
      names = await readdir(dir, { encoding: 'buffer' });
    } catch (err) {
      failures.push({ path: dir, reason: describe(err) });
      return;
    }
    const children = await Promise.all(
      names.map(async (raw) => {
        const name = decodeName(raw);
        const path = join(dir, name.text);
        try {
          // stat follows symbolic links; the raw bytes reach files whose names are not UTF-8.
          const info = await stat(name.utf8 ? path : Buffer.concat([Buffer.from(dir + sep), raw]));
          return { path, info, utf8: name.utf8 };
        } catch (err) {
          failures.push({ path, reason: describe(err) });
          return undefined;
        }
      }),
    );
    for (const child of children) {
      if (!child) continue;
      if (!child.utf8) considerUnnamable(child.path, child.info);
      else if (child.info.isDirectory()) await visit(child.path, child.info);
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
