import { type ErrorRequestHandler, type Request, type Response, Router } from 'express';
import type { SearchResult } from '../../search/types.js';
import { countOf } from '../../util/words.js';
import type { AppContext } from '../app.js';
import { budgetView } from '../budgetPictures.js';
import { ApiError, logUnexpected, toApiError } from '../errors.js';
import { certificateClaims, certificateSummary, copyLegend, copyVerdict, epsilonReading } from '../guaranteeWords.js';
import { barScale, bar, formState, pager, scopeBadges, timingText } from '../pageModels.js';
import { DEFAULT_EPSILON, PAGE_MAX_EPSILON, parseImageId, parsePage, parseSearchParams, parseSha256, type SearchParams } from '../params.js';
import { imageDto, imageUrls, searchDto, type SearchDto } from '../presenters.js';
import { imageUpload } from '../upload.js';
import { formatNumber as num } from '../views.js';
import { searchParamsOf } from './searchHandlers.js';

const GALLERY_PER_PAGE = 48;
const DETAIL_NEIGHBOURS = 12;
/** Error codes of a bad upload: the page shows the form again with the message. */
const UPLOAD_ERRORS = new Set([
  'invalid_image',
  'image_too_large',
  'payload_too_large',
  'unsupported_media_type',
  'missing_image',
  'empty_image',
  'unexpected_field',
  'bad_upload',
  'upload_expired',
  'upload_not_found',
]);

const fixed = (value: number) => value.toFixed(4);

/** Which pixels the plain sentences count, and why their grey levels hold for the image itself too (certificates.md §6). */
const SPACE_NOTE =
  'Pixels are counted in the 224×224 picture the model sees. The grey levels on every pixel hold for the image’s own pixels too: ' +
  'its crop and resize only average pixels, so no value of the picture changes more than the image’s pixels did.';

/** Layout data every page shares (footer: corpus size and model). */
async function layoutData(ctx: AppContext) {
  const stats = await ctx.corpus.stats();
  return {
    footer: {
      corpusSize: countOf(stats.searchable, 'image'),
      modelName: ctx.card.name,
      modelVersion: ctx.card.version,
      modelShort: ctx.card.version.slice(0, 12),
    },
  };
}

function queryString(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined) params.set(key, String(value));
  return params.toString();
}

/** Where a search came from, as URL parameters (the results page, its ε form and its pager share them). */
function querySource(dto: SearchDto): Record<string, string> {
  if (dto.query.kind === 'image') return { id: String(dto.query.id) };
  if (dto.query.kind === 'upload') return { upload: dto.query.sha256 };
  return {};
}

function resultsView(dto: SearchDto, ctx: AppContext) {
  const source = querySource(dto);
  const scale = barScale(dto.results.map((r) => r.bound.upper));
  const copy = copyVerdict(dto);
  const copyIds = new Set(copy?.copies.map((c) => c.id) ?? []);
  const query =
    dto.query.kind === 'image'
      ? {
          imageUrl: dto.query.urls.file,
          alt: `Query: corpus image #${dto.query.id}`,
          caption: `Corpus image #${dto.query.id} · ${dto.query.width}×${dto.query.height}`,
          detailUrl: dto.query.urls.page,
        }
      : dto.query.kind === 'upload'
        ? {
            imageUrl: dto.query.urls.file,
            alt: 'Query: your uploaded image',
            caption: `Your upload · ${dto.query.width}×${dto.query.height} ${dto.query.format}`,
          }
        : { imageUrl: '', alt: '', caption: 'A raw vector' };
  const page = Math.floor(dto.offset / dto.k) + 1;
  const pages = Math.max(1, Math.ceil(dto.corpusSize / dto.k));
  const first = dto.results[0]?.rank ?? 0;
  const last = dto.results.at(-1)?.rank ?? 0;
  const attackBase = { ...source, epsilon: dto.epsilon };
  return {
    title: dto.query.kind === 'upload' ? 'Results for your image' : `Results for image #${source.id}`,
    heading: dto.query.kind === 'upload' ? 'Images like your upload' : `Images like #${source.id}`,
    query,
    budget: budgetView(dto),
    form: formState(ctx.maxUploadBytes, { k: dto.k, epsilon: dto.epsilon }),
    hidden: Object.entries({ ...source, k: String(dto.k), offset: String(dto.offset) }).map(([name, value]) => ({ name, value })),
    epsilonText: epsilonReading(dto.epsilon),
    badges: scopeBadges(dto),
    claims: certificateClaims(dto),
    summary: certificateSummary(dto),
    spaceNote: dto.certificate ? `${SPACE_NOTE} Radii ${dto.certificate.spaceNote.replace(/^radii /, '')}.` : '',
    copy,
    attackUrl: `/attack?${queryString(attackBase)}`,
    resultsTitle: !dto.results.length ? 'Results' : first === last ? `Result ${first} of ${dto.corpusSize}` : `Results ${first}–${last} of ${dto.corpusSize}`,
    timingText: timingText(dto.timings),
    scaleText: num(scale),
    copyLegend: copyIds.size ? copyLegend(dto.certificate?.copyCheck?.epsilon ?? dto.epsilon) : '',
    results: dto.results.map((r) => ({
      ...r,
      alt: `Result ${r.rank}: corpus image #${r.id}`,
      distanceText: num(r.distance),
      cosineText: fixed(r.cosine),
      lowerText: num(r.bound.lower),
      upperText: num(r.bound.upper),
      bar: bar(r.distance, r.bound.lower, r.bound.upper, scale),
      isCopy: copyIds.has(r.id),
      attackUrl: `/attack?${queryString({ ...attackBase, target: r.id })}`,
    })),
    pager: pager('Result pages', page, pages, (p) => `/search?${queryString({ ...source, k: dto.k, epsilon: dto.epsilon, offset: (p - 1) * dto.k })}`),
  };
}

export async function renderPage(ctx: AppContext, res: Response, view: string, data: { title: string; [key: string]: unknown }, status = 200) {
  res.status(status).type('html').send(ctx.render(view, { ...(await layoutData(ctx)), ...data }));
}

/** Search values a failed form post still had, so the form comes back as the user left it. */
function keptFormValues(req: Request): { k?: number; epsilon?: number } {
  try {
    const { k, epsilon } = parseSearchParams(req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? req.body : {}, PAGE_MAX_EPSILON);
    return { k, epsilon };
  } catch {
    return {};
  }
}

/** Server-rendered pages: corpus gallery, results, image detail, about. Work without JavaScript. */
export function pageRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const { page } = parsePage(req.query);
    const corpus = await ctx.corpus.page(page, GALLERY_PER_PAGE);
    const stats = await ctx.corpus.stats();
    await renderPage(ctx, res, 'home', {
      title: 'Corpus',
      nav: 'corpus',
      corpus: { size: countOf(stats.searchable, 'image') },
      model: { name: ctx.card.name },
      form: formState(ctx.maxUploadBytes),
      gallery: corpus.images.map((image) => ({
        id: image.id,
        width: image.width,
        height: image.height,
        urls: imageUrls(image),
        alt: `Corpus image #${image.id} (${image.width}×${image.height})`,
      })),
      pager: pager('Corpus pages', corpus.page, corpus.pages, (p) => `/?page=${p}`),
    });
  });

  // Post/redirect/get: the upload is kept content-addressed, so the results page has a URL of its own.
  router.post('/search', ...imageUpload(ctx.maxUploadBytes), async (req, res) => {
    const params = searchParamsOf(req, PAGE_MAX_EPSILON);
    const result = await ctx.search.byUpload(req.imageUpload!.bytes, params);
    if (result.query.kind !== 'upload') throw new Error('upload search returned another query kind');
    res.redirect(303, `/search?${queryString({ upload: result.query.sha256, k: params.k, epsilon: params.epsilon })}`);
  });

  router.get('/search', async (req, res) => {
    const params: SearchParams = { ...parseSearchParams(req.query, PAGE_MAX_EPSILON), copyCheck: true };
    let result: SearchResult;
    if (req.query.id !== undefined) result = await ctx.search.byId(parseImageId(req.query.id), params);
    else if (req.query.upload !== undefined) result = await ctx.search.byCachedUpload(parseSha256(req.query.upload), params);
    else return res.redirect(303, '/');
    await renderPage(ctx, res, 'results', { nav: 'search', ...resultsView(searchDto(result), ctx) });
  });

  router.get('/images/:id', async (req, res) => {
    const image = imageDto(await ctx.corpus.image(parseImageId(req.params.id)));
    let neighbours: unknown[] = [];
    let neighboursError: string | undefined;
    try {
      const result = searchDto(
        await ctx.search.byId(image.id, { k: DETAIL_NEIGHBOURS + 1, offset: 0, epsilon: DEFAULT_EPSILON, copyCheck: false }),
      );
      neighbours = result.results
        .filter((r) => r.id !== image.id)
        .slice(0, DETAIL_NEIGHBOURS)
        .map((r) => ({ ...r, distanceText: num(r.distance), alt: `Neighbour ${r.rank - 1}: corpus image #${r.id}` }));
    } catch (err) {
      neighboursError = toApiError(err).message;
    }
    await renderPage(ctx, res, 'image', {
      title: `Image #${image.id}`,
      image,
      displayUrl: image.urls.file,
      addedText: new Date(image.addedAt).toUTCString(),
      mtimeText: new Date(image.mtime).toUTCString(),
      neighbours,
      neighboursError,
    });
  });

  router.get('/about', async (_req, res) => {
    await renderPage(ctx, res, 'about', { title: 'About the guarantees', nav: 'about', model: { name: ctx.card.name } });
  });

  router.use((_req, _res, next) => next(new ApiError(404, 'not_found', 'There is no page at this address.')));
  return router;
}

const HEADINGS: Record<number, string> = {
  400: 'That did not work',
  404: 'Page not found',
  409: 'The index does not match the model',
  410: 'No longer available',
  413: 'That image is too large',
  415: 'That is not an image',
};

/** HTML error pages; a bad upload shows the search form again, with the values the user had entered. */
export function pageErrorHandler(ctx: AppContext): ErrorRequestHandler {
  return async (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const apiError = toApiError(err);
    logUnexpected(err, apiError);
    const isUploadError = UPLOAD_ERRORS.has(apiError.code);
    const heading = isUploadError ? 'That upload did not work' : (HEADINGS[apiError.status] ?? 'Something went wrong');
    try {
      await renderPage(
        ctx,
        res,
        'error',
        {
          title: heading,
          heading,
          message: apiError.message,
          showForm: isUploadError,
          form: formState(ctx.maxUploadBytes, keptFormValues(req), isUploadError ? { title: `${heading}:`, message: apiError.message } : undefined),
        },
        apiError.status,
      );
    } catch (renderError) {
      logUnexpected(renderError, new ApiError(500, 'internal', ''));
      res.status(apiError.status).type('text').send(apiError.message);
    }
  };
}
