import { attackPaths, attackSchemas } from './openapiAttack.js';
import { DEFAULT_EPSILON, DEFAULT_K, DEFAULT_PER_PAGE, MAX_EPSILON, MAX_K, MAX_OFFSET, MAX_PER_PAGE } from './params.js';

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [String(s), { $ref: `#/components/responses/E${s}` }]),
  );

const searchQuery = [
  { name: 'k', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_K, default: DEFAULT_K }, description: 'results per page' },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0 }, description: 'results skipped (paging)' },
  {
    name: 'epsilon',
    in: 'query',
    schema: { type: 'string', default: String(DEFAULT_EPSILON), example: '36/255' },
    description: `ℓ₂ perturbation budget in model-input space for the distance intervals and the copy check: a number from 0 to ${MAX_EPSILON}, or a fraction such as 36/255`,
  },
  { name: 'copyCheck', in: 'query', schema: { type: 'boolean', default: false }, description: 'add the certified copy check for epsilon' },
];

const budgetQuery = {
  name: 'kind',
  in: 'query',
  schema: { type: 'string', enum: ['spread', 'patch'], default: 'spread' },
  description: 'spread: every value moved by r/√150528 in a checkerboard (amplified for visibility); patch: the same ℓ₂ size on a few central pixels, at true size',
};
const budgetPng = (summary: string, param: object) => ({
  get: {
    summary,
    parameters: [param, budgetQuery, ...searchQuery],
    responses: { '200': { description: 'a 224×224 PNG', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } }, ...errors(400, 404, 409, 410, 422) },
  },
});

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const shaParam = { name: 'sha256', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } };
const versionParam = {
  name: 'v',
  in: 'query',
  schema: { type: 'string' },
  description: "the image's sha256: when it matches, the response is cached as immutable",
};
const imageBody = { content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } };

const radii = {
  type: 'object',
  description: 'certified ℓ₂ radii; null means unbounded (no rival can overtake)',
  properties: {
    top1: { type: ['number', 'null'], description: 'the first result stays first for every perturbation smaller than this' },
    topkSet: { type: ['number', 'null'], description: 'the set of the first answerSize results stays the same' },
    topkOrder: { type: ['number', 'null'], description: 'the first answerSize results keep their order' },
    perValue: {
      type: 'object',
      description:
        'each radius in plain terms (null when unbounded): l2, perValue and greyLevels (spread evenly over every value), ' +
        'onePixelGreyLevels (all spent on one pixel), wholePixels (pixels that can change completely); docs/certificates.md §6',
    },
  },
};

/** The OpenAPI 3.1 description of the JSON API (served at /api/openapi.json). */
export function openApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'lipsearch API',
      version,
      description:
        'Certified-robust image search. Every answer carries a certificate: distance intervals for a perturbation budget ε ' +
        'and radii within which the answer cannot change, for the 1-Lipschitz LipSim embedding. Errors are JSON {error:{code,message}}.',
    },
    servers: [{ url: '/' }],
    paths: {
      '/api/search': {
        post: {
          summary: 'Search by an uploaded image',
          description: 'Send the image as multipart/form-data (field "image") or as a raw image/* body. Upload size and decoded pixels are limited.',
          parameters: searchQuery,
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: { type: 'object', required: ['image'], properties: { image: { type: 'string', format: 'binary' }, k: { type: 'integer' }, epsilon: { type: 'string' } } },
              },
              ...imageBody.content,
            },
          },
          responses: { '200': { description: 'results and certificate', content: json(ref('SearchResponse')) }, ...errors(400, 409, 413, 415) },
        },
      },
      '/api/search/vector': {
        post: {
          summary: 'Search by a raw embedding (normalised to unit length; its dimension must match the model)',
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['vector'],
              properties: {
                vector: { type: 'array', items: { type: 'number' } },
                k: { type: 'integer' },
                offset: { type: 'integer' },
                epsilon: { type: ['number', 'string'] },
                copyCheck: { type: 'boolean' },
              },
            }),
          },
          responses: { '200': { description: 'results and certificate', content: json(ref('SearchResponse')) }, ...errors(400, 409, 413, 415) },
        },
      },
      '/api/images/{id}/neighbours': {
        get: {
          summary: 'Neighbours of a corpus image (its stored vector is the query; radii in model-input space only)',
          parameters: [idParam, ...searchQuery],
          responses: { '200': { description: 'results and certificate', content: json(ref('SearchResponse')) }, ...errors(400, 404, 409) },
        },
      },
      '/api/uploads/{sha256}/neighbours': {
        get: {
          summary: 'Search again with an earlier upload (kept in a bounded cache; 410 once evicted, 404 when this server has no record of it)',
          parameters: [shaParam, ...searchQuery],
          responses: { '200': { description: 'results and certificate', content: json(ref('SearchResponse')) }, ...errors(400, 404, 409, 410) },
        },
      },
      '/api/uploads/{sha256}/budget.png': budgetPng('An earlier upload\'s model input plus a change of exactly its certified top-1 radius', shaParam),
      '/api/uploads/{sha256}/file': {
        get: {
          summary: 'An earlier uploaded query image',
          parameters: [shaParam],
          responses: { '200': { description: 'the image', content: imageBody.content }, ...errors(404, 410) },
        },
      },
      '/api/images': {
        get: {
          summary: 'A page of corpus images, by id',
          parameters: [
            { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1, default: 1 } },
            { name: 'perPage', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PER_PAGE, default: DEFAULT_PER_PAGE } },
          ],
          responses: {
            '200': {
              description: 'images',
              content: json({
                type: 'object',
                properties: { page: { type: 'integer' }, pages: { type: 'integer' }, total: { type: 'integer' }, images: { type: 'array', items: ref('Image') } },
              }),
            },
            ...errors(400),
          },
        },
      },
      '/api/images/{id}': {
        get: { summary: 'A corpus image record', parameters: [idParam], responses: { '200': { description: 'the record', content: json(ref('Image')) }, ...errors(404) } },
      },
      '/api/images/{id}/file': {
        get: {
          summary: 'The original image file (formats browsers cannot show are sent as PNG)',
          parameters: [idParam, versionParam],
          responses: { '200': { description: 'the image', content: imageBody.content }, ...errors(404, 410) },
        },
      },
      '/api/images/{id}/budget.png': budgetPng('A corpus image\'s model input plus a change of exactly its certified top-1 radius', idParam),
      '/api/images/{id}/thumbnail': {
        get: {
          summary: 'A WebP thumbnail',
          parameters: [idParam, versionParam],
          responses: { '200': { description: 'the thumbnail', content: { 'image/webp': { schema: { type: 'string', format: 'binary' } } } }, ...errors(404, 410) },
        },
      },
      '/api/stats': {
        get: {
          summary: 'Corpus size, index state and the model card',
          responses: { '200': { description: 'statistics', content: json(ref('Stats')) } },
        },
      },
      ...attackPaths,
      '/api/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } } } },
    },
    components: {
      responses: Object.fromEntries(
        [
          [400, 'invalid parameter, malformed body or an upload that is not an image'],
          [404, 'no such image or route, or an upload this server has no record of (never made here, or before a restart)'],
          [409, 'the index was built with another model, the image is not embedded yet, or the attack has already finished'],
          [410, 'the uploaded query was kept and has been dropped since, or the original file is no longer available'],
          [413, 'upload larger than the byte or pixel limit'],
          [415, 'wrong content type'],
          [422, 'nothing to draw: the first result is not certified (radius 0) or no change can alter it (radius +∞)'],
          [429, 'every attack slot is busy: try again in a few seconds (see Retry-After)'],
        ].map(([status, description]) => [`E${status}`, { description, content: json(ref('Error')) }]),
      ),
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
        },
        Image: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            sha256: { type: 'string' },
            width: { type: 'integer' },
            height: { type: 'integer' },
            bytes: { type: 'integer' },
            format: { type: 'string' },
            addedAt: { type: 'string', format: 'date-time' },
            mtime: { type: 'string', format: 'date-time' },
            paths: { type: 'array', items: { type: 'string' } },
            urls: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
        Result: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            rank: { type: 'integer', description: '1-based, offset included' },
            distance: { type: 'number', description: 'exact cosine distance 1 − ⟨f(q), f(y)⟩ in [0, 2]' },
            cosine: { type: 'number' },
            bound: {
              type: 'object',
              description: 'the distance stays in [lower, upper] for every perturbation of the query with ‖δ‖₂ ≤ epsilon (model input)',
              properties: { epsilon: { type: 'number' }, lower: { type: 'number' }, upper: { type: 'number' } },
            },
            width: { type: 'integer' },
            height: { type: 'integer' },
            format: { type: 'string' },
            sha256: { type: 'string' },
            paths: { type: 'array', items: { type: 'string' } },
            urls: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
        Certificate: {
          type: 'object',
          properties: {
            scope: { enum: ['exact', 'index'], description: 'exact: compared with every stored vector; index: with the index candidates only' },
            space: { const: 'model-input' },
            spaces: { type: 'array', items: { enum: ['model-input', 'image-pixels'] } },
            spaceNote: { type: 'string' },
            compared: { type: 'integer' },
            indexRecall: { type: ['number', 'null'] },
            answerSize: { type: 'integer', description: 'the set and order radii cover results 1..answerSize (offset + k)' },
            radii,
            imagePixels: {
              type: ['object', 'null'],
              description: "uploads only: the radii in the uploaded image's own pixels (model-input radius ÷ resizeNorm)",
              properties: { resizeNorm: { type: 'number' }, width: { type: 'integer' }, height: { type: 'integer' }, radii },
            },
            limitedBy: { type: 'object', description: 'the pair of images that sets each radius (behind null: an unscored image)' },
            otherDistanceLowerBound: { type: ['number', 'null'], description: 'D: every image outside the scored list is at least this far' },
            epsilon: { type: 'number' },
            copyCheck: {
              type: ['object', 'null'],
              properties: {
                scope: { enum: ['exact', 'index'] },
                epsilon: { type: 'number' },
                distanceThreshold: { type: 'number', description: 'ε²/2' },
                possibleCopies: { type: 'array', items: { type: 'object' } },
                listComplete: { type: 'boolean' },
                provenNoCopy: { type: 'boolean', description: 'true: the query is provably not an ε-perturbation of any corpus image' },
                epsilonProvenNoCopy: { type: ['number', 'null'] },
              },
            },
          },
        },
        SearchResponse: {
          type: 'object',
          properties: {
            query: { type: 'object', properties: { kind: { enum: ['image', 'upload', 'vector'] } } },
            k: { type: 'integer' },
            offset: { type: 'integer' },
            epsilon: { type: 'number' },
            copyCheck: { type: 'boolean' },
            model: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' } } },
            modelVersion: { type: 'string', description: 'sha256 of the embedding model the answer was computed with' },
            corpusSize: { type: 'integer' },
            results: { type: 'array', items: ref('Result') },
            certificate: { oneOf: [ref('Certificate'), { type: 'null' }] },
            timings: {
              type: 'object',
              description: 'milliseconds; totalMs = embedMs + searchMs + certifyMs',
              properties: {
                embedMs: { type: 'number', description: 'decoding and embedding the query image (0 for a stored or raw vector)' },
                embeddedEarlier: { type: 'boolean', description: 'the embedding was done by the upload itself; embedMs is what it took then' },
                searchMs: { type: 'number' },
                certifyMs: { type: 'number' },
                totalMs: { type: 'number' },
              },
            },
          },
        },
        ...attackSchemas,
        Stats: {
          type: 'object',
          properties: {
            corpus: {
              type: 'object',
              properties: {
                images: { type: 'integer' },
                searchable: { type: 'integer' },
                ingestErrors: { type: 'integer' },
                scope: { enum: ['exact', 'index'] },
                loadedAt: { type: 'string' },
                index: { type: ['object', 'null'] },
                modelMatches: { type: 'boolean' },
              },
            },
            model: { type: 'object', description: 'the model card: name, version, Lipschitz proof, input format' },
          },
        },
      },
    },
  };
}
