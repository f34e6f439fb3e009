import { statSync } from 'node:fs';
import sharp from 'sharp';
import { THUMBNAIL_SIZE } from '../../ingest/thumbnails.js';
import type { ModelCard } from '../../model/card.js';
import type { IndexReader } from '../../search/indexReader.js';
import { SearchError, unknownImage } from '../../search/searchErrors.js';
import type { ImageRecord } from '../../store/types.js';

const GENERATED_THUMBNAILS_KEPT = 512;

export interface CorpusPage {
  readonly images: ImageRecord[];
  readonly page: number;
  readonly pages: number;
  readonly total: number;
}

export interface CorpusStats {
  readonly images: number;
  readonly searchable: number;
  readonly ingestErrors: number;
  readonly scope: 'exact' | 'index';
  readonly loadedAt: string;
  readonly index: { readonly modelName: string; readonly modelVersion: string; readonly dim: number } | null;
  readonly modelMatches: boolean;
}

/** Formats every browser shows as an <img> and that cannot carry script (unlike SVG), by sharp's name. */
const WEB_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
};

/** How to send an image to a browser: as it is, or (TIFF, HEIF, SVG, ...) as a PNG rendition. */
export interface WebImage {
  readonly type: string;
  /** undefined: send the original bytes unchanged. */
  readonly rendition?: Buffer;
}

export async function webImage(input: Buffer | string, format: string): Promise<WebImage> {
  const type = WEB_TYPES[format];
  if (type) return { type };
  const rendition = await sharp(input, { failOn: 'none', pages: 1 }).rotate().png().toBuffer();
  return { type: 'image/png', rendition };
}

/**
 * The corpus as the UI browses it: pages of images, records, the original files and thumbnails. Files are
 * found by image id only (paths come from the store, never from a request), so no request can name a path.
 */
export class CorpusService {
  private readonly generated = new Map<string, Buffer>();

  constructor(
    private readonly reader: IndexReader,
    private readonly card: ModelCard,
  ) {}

  async page(page: number, perPage: number): Promise<CorpusPage> {
    await this.reader.current();
    const total = await this.reader.store.count();
    const pages = Math.max(1, Math.ceil(total / perPage));
    const images = await this.reader.store.listImages((page - 1) * perPage, perPage);
    return { images, page, pages, total };
  }

  async image(id: number): Promise<ImageRecord> {
    await this.reader.current();
    const record = await this.reader.store.getImage(id);
    if (!record) throw unknownImage(id);
    return record;
  }

  /**
   * The path of an image's original file, if one of its recorded paths still holds the indexed content
   * (same size and mtime): a file changed since the ingest is not served under the image's content address.
   */
  originalPath(record: ImageRecord): string {
    const path = record.paths.find((p) => {
      const stat = statSync(p, { throwIfNoEntry: false });
      return stat?.isFile() && stat.size === record.bytes && Math.abs(stat.mtimeMs - record.mtimeMs) < 1;
    });
    if (!path) {
      throw new SearchError('gone', 'original_unavailable', `the original file of image ${record.id} was moved or changed since it was indexed`);
    }
    return path;
  }

  /** The ingest's WebP thumbnail, or one made here (kept in a small in-memory cache) when it is missing. */
  async thumbnail(record: ImageRecord): Promise<Buffer> {
    const stored = await this.reader.thumbnail(record.sha256);
    if (stored) return stored;
    let bytes = this.generated.get(record.sha256);
    if (!bytes) {
      bytes = await sharp(this.originalPath(record), { failOn: 'none', pages: 1 })
        .rotate()
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 78 })
        .toBuffer();
      if (this.generated.size >= GENERATED_THUMBNAILS_KEPT) this.generated.delete(this.generated.keys().next().value!);
      this.generated.set(record.sha256, bytes);
    }
    return bytes;
  }

  async stats(): Promise<CorpusStats> {
    const snapshot = await this.reader.current();
    const meta = snapshot.meta;
    return {
      images: await this.reader.store.count(),
      searchable: snapshot.vectorCount,
      ingestErrors: await this.reader.store.countErrors(),
      scope: snapshot.matrix || snapshot.vectorCount === 0 ? 'exact' : 'index',
      loadedAt: snapshot.loadedAt.toISOString(),
      index: meta ? { modelName: meta.modelName, modelVersion: meta.modelVersion, dim: meta.dim } : null,
      modelMatches: !meta || meta.modelVersion === this.card.version,
    };
  }
}
