import { type CopyCheck, explainRadius } from '../certify/index.js';
import type { ModelCard } from '../model/card.js';
import { INPUT_SIZE } from '../model/preprocess.js';
import type { Radii, SearchCertificate, SearchResult } from '../search/types.js';
import type { ImageRecord } from '../store/types.js';
import type { ImageBody, SearchResponse, StatsBody } from './responseSchemas.js';

/** Values of the model input (3×224×224), for the "grey levels" reading of a radius. */
export const MODEL_INPUT_VALUES = 3 * INPUT_SIZE * INPUT_SIZE;

/** URLs of a corpus image that need only its id. */
export function idUrls(id: number) {
  return {
    record: `/api/images/${id}`,
    neighbours: `/api/images/${id}/neighbours`,
    page: `/images/${id}`,
    search: `/search?id=${id}`,
  };
}

/** All URLs of a corpus image. File URLs carry the content hash: they are safe to cache forever. */
export function imageUrls(record: Pick<ImageRecord, 'id' | 'sha256'>) {
  const { id, sha256 } = record;
  return {
    file: `/api/images/${id}/file?v=${sha256}`,
    thumbnail: `/api/images/${id}/thumbnail?v=${sha256}`,
    ...idUrls(id),
  };
}

export function uploadUrls(sha256: string) {
  return {
    file: `/api/uploads/${sha256}/file`,
    neighbours: `/api/uploads/${sha256}/neighbours`,
    search: `/search?upload=${sha256}`,
  };
}

export function imageDto(record: ImageRecord): ImageBody {
  return {
    id: record.id,
    sha256: record.sha256,
    width: record.width,
    height: record.height,
    bytes: record.bytes,
    format: record.format,
    addedAt: record.addedAt,
    mtime: new Date(record.mtimeMs).toISOString(),
    paths: [...record.paths],
    urls: imageUrls(record),
  };
}

/** JSON has no Infinity: an unbounded radius (no rival can overtake) is written as null. */
const finiteOrNull = (value: number) => (Number.isFinite(value) ? value : null);

function radiiDto(radii: Radii, values: number) {
  const explain = (r: number) => (Number.isFinite(r) ? explainRadius(r, values) : null);
  return {
    top1: finiteOrNull(radii.top1),
    topkSet: finiteOrNull(radii.topkSet),
    topkOrder: finiteOrNull(radii.topkOrder),
    /** The same radii as the change of every value, evenly spread (also the certified ℓ∞ radii). */
    perValue: { top1: explain(radii.top1), topkSet: explain(radii.topkSet), topkOrder: explain(radii.topkOrder) },
  };
}

function copyCheckDto(check: CopyCheck & { complete: boolean }) {
  return {
    scope: check.scope,
    epsilon: check.epsilon,
    distanceThreshold: check.distanceThreshold,
    possibleCopies: check.possibleCopies.map((c) => ({ ...c, urls: idUrls(c.id) })),
    listComplete: check.complete,
    provenNoCopy: check.provenNoCopy,
    epsilonProvenNoCopy: check.epsilonProvenNoCopy === null ? null : finiteOrNull(check.epsilonProvenNoCopy),
  };
}

export function certificateDto(certificate: SearchCertificate, query: SearchResult['query']) {
  const pixels = certificate.imagePixels;
  return {
    scope: certificate.scope,
    space: 'model-input' as const,
    spaces: pixels ? ['model-input' as const, 'image-pixels' as const] : ['model-input' as const],
    spaceNote:
      query.kind === 'upload'
        ? 'radii hold in model-input space (224×224 crop, values in [0, 1]) and, divided by the resize norm, in the uploaded image’s own pixels'
        : 'radii hold in model-input space (224×224 crop, values in [0, 1]) only: a stored image’s own pixels are not part of the query',
    compared: certificate.compared,
    indexRecall: certificate.indexRecall,
    answerSize: certificate.answerSize,
    radii: radiiDto(certificate.modelInput, MODEL_INPUT_VALUES),
    imagePixels:
      pixels && query.kind === 'upload'
        ? {
            resizeNorm: pixels.resizeNorm,
            width: pixels.width,
            height: pixels.height,
            reducedOnLoad: pixels.width !== query.width || pixels.height !== query.height,
            radii: radiiDto(pixels, 3 * pixels.width * pixels.height),
          }
        : null,
    limitedBy: certificate.limitedBy,
    otherDistanceLowerBound: certificate.otherDistanceLowerBound,
    epsilon: certificate.epsilon,
    copyCheck: certificate.copyCheck && copyCheckDto(certificate.copyCheck),
  };
}

function queryDto(query: SearchResult['query']) {
  switch (query.kind) {
    case 'image':
      return { kind: query.kind, id: query.id, width: query.image.width, height: query.image.height, urls: imageUrls(query.image) };
    case 'upload':
      return { ...query, urls: uploadUrls(query.sha256) };
    case 'vector':
      return { kind: query.kind };
  }
}

/** The JSON answer of every search route (its schema: responseSchemas.ts). */
export type SearchDto = SearchResponse;

export function searchDto(result: SearchResult): SearchDto {
  const { k, offset, epsilon, copyCheck } = result.options;
  return {
    query: queryDto(result.query),
    k,
    offset,
    epsilon,
    copyCheck,
    model: result.model,
    modelVersion: result.model.version,
    corpusSize: result.corpusSize,
    results: result.hits.map((hit) => ({
      id: hit.id,
      rank: hit.rank,
      distance: hit.distance,
      cosine: hit.cosine,
      bound: { epsilon, lower: hit.bound.lower, upper: hit.bound.upper },
      width: hit.image.width,
      height: hit.image.height,
      format: hit.image.format,
      sha256: hit.image.sha256,
      paths: [...hit.image.paths],
      urls: imageUrls(hit.image),
    })),
    certificate: result.certificate && certificateDto(result.certificate, result.query),
    timings: result.timings,
  };
}


/** The public part of the model card: what it is, its version, and what its certificates rest on. */
export function modelCardDto(card: ModelCard): StatsBody['model'] {
  return {
    name: card.name,
    version: card.version,
    robust: card.robust,
    embeddingDim: card.embeddingDim,
    parameters: card.parameters,
    lipschitz: card.lipschitz,
    input: (card.input as Record<string, unknown> | undefined) ?? null,
    output: (card.output as Record<string, unknown> | undefined) ?? null,
  };
}
