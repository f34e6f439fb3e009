import { z } from 'zod';

/**
 * The JSON the search and corpus routes answer with. The presenters are typed by these schemas (so the compiler
 * holds them to it), the OpenAPI document is generated from them, and the API tests validate real answers
 * against them: an undocumented field is refused (strict objects).
 */

const integer = () => z.int();
const dateTime = () => z.string().meta({ format: 'date-time' });
/** JSON has no Infinity: an unbounded radius is written as null. */
const radius = (description: string) => z.number().nullable().describe(description);

export const ErrorBody = z.strictObject({
  error: z.strictObject({ code: z.string().describe('stable, machine-readable'), message: z.string().describe('for people') }),
});

const ImageUrls = z.strictObject({
  file: z.string(),
  thumbnail: z.string(),
  record: z.string(),
  neighbours: z.string(),
  page: z.string(),
  search: z.string(),
});
const IdUrls = ImageUrls.omit({ file: true, thumbnail: true });

export const ImageBody = z.strictObject({
  id: integer(),
  sha256: z.string(),
  width: integer(),
  height: integer(),
  bytes: integer(),
  format: z.string(),
  addedAt: dateTime(),
  mtime: dateTime(),
  paths: z.array(z.string()).describe('every path the same content was found under, first-seen first'),
  urls: ImageUrls,
});

export const ImagePage = z.strictObject({ page: integer(), pages: integer(), total: integer(), images: z.array(ImageBody) });

const RadiusExplained = z
  .strictObject({
    l2: z.number(),
    perValue: z.number().describe('change of every value of the input, spread evenly ([0, 1] units)'),
    greyLevels: z.number().describe('the same in grey levels of 255'),
    onePixelGreyLevels: z.number().describe('grey levels of one pixel, when all of it is spent there'),
    wholePixels: integer().describe('pixels that can change completely'),
  })
  .nullable();

const Radii = z
  .strictObject({
    top1: radius('the first result stays first for every perturbation smaller than this'),
    topkSet: radius('the set of the first answerSize results stays the same'),
    topkOrder: radius('the first answerSize results keep their order'),
    perValue: z
      .strictObject({ top1: RadiusExplained, topkSet: RadiusExplained, topkOrder: RadiusExplained })
      .describe('each radius in plain terms (null when unbounded); docs/certificates.md §6'),
  })
  .describe('certified ℓ₂ radii; null means unbounded (no rival can overtake)');

const LimitingPair = z.strictObject({ ahead: integer(), behind: integer().nullable() }).nullable();

const scope = () => z.enum(['exact', 'index']).describe('exact: compared with every stored vector; index: with the index candidates only');

const CopyCheckBody = z.strictObject({
  scope: scope(),
  epsilon: z.number(),
  distanceThreshold: z.number().describe('ε²/2'),
  possibleCopies: z.array(z.strictObject({ id: integer(), distance: z.number(), urls: IdUrls })),
  listComplete: z.boolean(),
  provenNoCopy: z.boolean().describe('true: the query is provably not an ε-perturbation of any corpus image'),
  epsilonProvenNoCopy: z.number().nullable(),
});

export const CertificateBody = z.strictObject({
  scope: scope(),
  space: z.literal('model-input'),
  spaces: z.array(z.enum(['model-input', 'image-pixels'])),
  spaceNote: z.string(),
  compared: integer(),
  indexRecall: z.number().nullable(),
  answerSize: integer().describe('the set and order radii cover results 1..answerSize (offset + k)'),
  radii: Radii,
  imagePixels: z
    .strictObject({
      resizeNorm: z.number(),
      width: integer().describe('the size the upload was decoded at: its own, or reduced on load when its shorter side is 896 pixels or more'),
      height: integer(),
      reducedOnLoad: z.boolean().describe('true: the radii hold in the pixels of the reduced decoding, not of the full-size photo'),
      radii: Radii,
    })
    .nullable()
    .describe("uploads only: the radii in the uploaded image's pixels as decoded (model-input radius ÷ resizeNorm)"),
  limitedBy: z
    .strictObject({ top1: LimitingPair, topkSet: LimitingPair, topkOrder: LimitingPair })
    .describe('the pair of images that sets each radius (behind null: an unscored image)'),
  otherDistanceLowerBound: z.number().nullable().describe('D: every image outside the scored list is at least this far'),
  epsilon: z.number(),
  copyCheck: CopyCheckBody.nullable(),
});

const UploadUrls = z.strictObject({ file: z.string(), neighbours: z.string(), search: z.string() });

const QueryBody = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('image'), id: integer(), width: integer(), height: integer(), urls: ImageUrls }),
  z.strictObject({
    kind: z.literal('upload'),
    sha256: z.string(),
    width: integer(),
    height: integer(),
    format: z.string(),
    decoded: z.strictObject({ width: integer(), height: integer() }).describe('the size the upload was decoded at (reduced on load when large)'),
    resizeNorm: z.number().describe('ℓ₂ operator norm of the resize from the decoded upload to the model input'),
    urls: UploadUrls,
  }),
  z.strictObject({ kind: z.literal('vector') }),
]);

const ResultBody = z.strictObject({
  id: integer(),
  rank: integer().describe('1-based, offset included'),
  distance: z.number().describe('exact cosine distance 1 − ⟨f(q), f(y)⟩ in [0, 2]'),
  cosine: z.number(),
  bound: z
    .strictObject({ epsilon: z.number(), lower: z.number(), upper: z.number() })
    .describe('the distance stays in [lower, upper] for every perturbation of the query with ‖δ‖₂ ≤ epsilon (model input)'),
  width: integer(),
  height: integer(),
  format: z.string(),
  sha256: z.string(),
  paths: z.array(z.string()),
  urls: ImageUrls,
});

export const SearchResponse = z.strictObject({
  query: QueryBody,
  k: integer(),
  offset: integer(),
  epsilon: z.number(),
  copyCheck: z.boolean(),
  model: z.strictObject({ name: z.string(), version: z.string() }),
  modelVersion: z.string().describe('sha256 of the embedding model the answer was computed with'),
  corpusSize: integer(),
  results: z.array(ResultBody),
  certificate: CertificateBody.nullable(),
  timings: z
    .strictObject({
      embedMs: z.number().describe('decoding and embedding the query image (0 for a stored or raw vector)'),
      embeddedEarlier: z.boolean().describe('the embedding was done by the upload itself; embedMs is what it took then'),
      searchMs: z.number(),
      certifyMs: z.number(),
      totalMs: z.number(),
    })
    .describe('milliseconds; totalMs = embedMs + searchMs + certifyMs'),
});

export const ModelCardBody = z.strictObject({
  name: z.string(),
  version: z.string(),
  robust: z.boolean(),
  embeddingDim: integer(),
  parameters: integer(),
  lipschitz: z.looseObject({ constant: z.number().nullable() }).describe('the Lipschitz proof: constant, bounds checked on export'),
  input: z.looseObject({}).nullable().describe('input format: size, resize, value range'),
  output: z.looseObject({}).nullable(),
});

export const StatsBody = z.strictObject({
  corpus: z.strictObject({
    images: integer(),
    searchable: integer(),
    ingestErrors: integer(),
    scope: scope(),
    loadedAt: dateTime(),
    index: z.strictObject({ modelName: z.string(), modelVersion: z.string(), dim: integer() }).nullable(),
    modelMatches: z.boolean(),
  }),
  model: ModelCardBody.describe('the model card: name, version, Lipschitz proof, input format'),
});

export type SearchResponse = z.output<typeof SearchResponse>;
export type ImageBody = z.output<typeof ImageBody>;
export type StatsBody = z.output<typeof StatsBody>;
