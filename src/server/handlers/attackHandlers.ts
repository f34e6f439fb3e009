import express, { type Request, type RequestHandler, type Response, Router } from 'express';
import { AttackQueueFullError, AttackRequestError } from '../../attack/index.js';
import type { ComparisonImageName, ComparisonStatus } from '../../compare/types.js';
import type { AppContext } from '../app.js';
import { DEFAULT_ATTACK_EPSILON, DEFAULT_ATTACK_K, DEFAULT_ATTACK_STEPS, MAX_ATTACK_K, MAX_ATTACK_PAGE_STEPS, parseAttackStart } from '../attackParams.js';
import { type AttackFormValues, attackFormView, attackJobView } from '../attackPageModels.js';
import { comparisonDto } from '../attackPresenters.js';
import { ApiError, badRequest, notFound, toApiError } from '../errors.js';
import { field } from '../requestFields.js';
import { imageUpload } from '../upload.js';
import { renderPage } from './pageHandlers.js';

type Raw = Record<string, unknown>;

/** Seconds a client refused with 429 should wait: about one short attack. */
const RETRY_AFTER_S = 10;
/** SSE comment lines keep idle proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

const bodyOf = (req: Request): Raw => (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? req.body : {});

/** A JSON body, or a multipart form whose `image` field is optional (the query may be named by id instead). */
function attackBody(maxUploadBytes: number): RequestHandler[] {
  const json = express.json({ limit: '16kb', strict: true });
  const [multipart, collect] = imageUpload(maxUploadBytes, { optional: true });
  const parse: RequestHandler = (req, res, next) => {
    if (req.is('application/json')) return json(req, res, next);
    if (req.is('multipart/form-data')) return multipart(req, res, next);
    next(new ApiError(415, 'unsupported_media_type', 'send a JSON body, or multipart/form-data with an optional image in the field "image"'));
  };
  const upload: RequestHandler = (req, res, next) => (req.is('multipart/form-data') ? collect(req, res, next) : next());
  return [parse, upload];
}

/**
 * Validates a start request and starts the comparison. The query is an image file (it wins when sent), else
 * `id` or `upload`; a file goes through the search engine's upload path first (checked, decoded, cached).
 */
async function startComparison(ctx: AppContext, req: Request, res: Response): Promise<string> {
  const body = bodyOf(req);
  const start = parseAttackStart(body);
  const { options } = start;
  let { query } = start;
  if (req.imageUpload) {
    const result = await ctx.search.byUpload(req.imageUpload.bytes, { k: 1, offset: 0, epsilon: 0, copyCheck: false });
    if (result.query.kind !== 'upload') throw new Error('upload search returned another query kind');
    query = { kind: 'upload', sha256: result.query.sha256 };
  }
  if (!query) {
    throw badRequest('missing_query', 'say what to attack: id (a corpus image), upload (the sha256 of an earlier upload) or an image file in the field "image"');
  }
  try {
    return await ctx.attacks.start({ ...options, query });
  } catch (err) {
    if (err instanceof AttackQueueFullError) {
      res.set('Retry-After', String(RETRY_AFTER_S));
      throw new ApiError(429, 'attack_queue_full', err.message);
    }
    if (err instanceof AttackRequestError) throw badRequest('invalid_attack', err.message);
    throw err;
  }
}

function comparisonOf(ctx: AppContext, id: unknown): ComparisonStatus {
  const status = typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id) ? ctx.attacks.get(id) : undefined;
  if (!status) throw notFound('no attack with this id: the server keeps the most recent attacks only, and none across restarts');
  return status;
}

const IMAGE_FILE = /^(clean|(?:lipsim|baseline)-(?:adversarial|perturbation))\.png$/;

/** The JSON API of attack comparisons: start, status, live events, cancel, images. */
export function attackApiRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/attacks', ...attackBody(ctx.maxUploadBytes), async (req, res) => {
    const id = await startComparison(ctx, req, res);
    res.status(202).location(`/api/attacks/${id}`).json(comparisonDto(comparisonOf(ctx, id)));
  });

  router.get('/attacks/:id', (req, res) => {
    res.json(comparisonDto(comparisonOf(ctx, req.params.id)));
  });

  // Server-sent events: one `status` event (the same JSON as GET /attacks/:id) per change, until it ends.
  router.get('/attacks/:id/events', (req, res) => {
    const { id } = comparisonOf(ctx, req.params.id);
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const stop = () => {
      clearInterval(heartbeat);
      unsubscribe?.();
    };
    const unsubscribe = ctx.attacks.subscribe(id, (status) => {
      const dto = comparisonDto(status);
      res.write(`event: status\ndata: ${JSON.stringify(dto)}\n\n`);
      if (dto.finished) {
        clearInterval(heartbeat);
        res.end();
      }
    });
    res.on('close', stop); // the client left, or the stream ended
  });

  router.post('/attacks/:id/cancel', (req, res) => {
    const { id, state } = comparisonOf(ctx, req.params.id);
    if (!ctx.attacks.cancel(id) && ['done', 'failed', 'cancelled'].includes(state)) {
      throw new ApiError(409, 'already_finished', `this attack has already finished (${state})`);
    }
    res.status(202).json(comparisonDto(comparisonOf(ctx, id)));
  });

  router.get('/attacks/:id/images/:file', (req, res) => {
    const { id } = comparisonOf(ctx, req.params.id);
    const name = IMAGE_FILE.exec(req.params.file)?.[1] as ComparisonImageName | undefined;
    const png = name && ctx.attacks.image(id, name);
    if (!png) throw notFound('no such image of this attack (adversarial images exist once that attack has finished)');
    res.set('Cache-Control', 'private, max-age=86400, immutable');
    if (req.query.download !== undefined) res.attachment(`lipsearch-attack-${id.slice(0, 8)}-${name}.png`);
    res.type('image/png').send(png);
  });

  return router;
}

/** Form values from a query string or a failed form post, leniently: a bad value falls back to the default. */
function formValues(source: Raw): AttackFormValues {
  const text = (name: string) => {
    try {
      return field(source, name);
    } catch {
      return undefined;
    }
  };
  const whole = (name: string, fallback: number, max: number) => {
    const value = Number(text(name));
    return Number.isInteger(value) && value >= 1 && value <= max ? value : fallback;
  };
  const norm = text('norm') === 'linf' ? 'linf' : 'l2';
  const target = /^\d{1,15}$/.test(text('target') ?? '') ? text('target') : undefined;
  const goal = text('goal') === 'untargeted' || (text('goal') !== 'targeted' && !target) ? 'untargeted' : 'targeted';
  const epsilon = text('epsilon');
  const fallbackEpsilon = norm === 'linf' ? `${Math.round(DEFAULT_ATTACK_EPSILON.linf * 255)}/255` : String(DEFAULT_ATTACK_EPSILON.l2);
  return {
    id: /^\d{1,15}$/.test(text('id') ?? '') ? text('id') : undefined,
    upload: /^[0-9a-f]{64}$/.test(text('upload') ?? '') ? text('upload') : undefined,
    goal,
    target,
    norm,
    // Links from the results page carry ε as a long decimal: shown rounded.
    epsilon: epsilon === undefined ? fallbackEpsilon : /^[\d.]+$/.test(epsilon) ? String(Number(Number(epsilon).toFixed(6))) : epsilon,
    steps: whole('steps', DEFAULT_ATTACK_STEPS, MAX_ATTACK_PAGE_STEPS),
    k: whole('k', DEFAULT_ATTACK_K, MAX_ATTACK_K),
  };
}

/** The attack pages: the form (prefilled from links), a comparison's live page, and no-JavaScript cancel. */
export function attackPageRoutes(ctx: AppContext): Router {
  const router = Router();
  const maxUploadMiB = Math.round(ctx.maxUploadBytes / (1024 * 1024));
  const renderForm = (res: Response, values: AttackFormValues, error?: string, status = 200) =>
    renderPage(ctx, res, 'attack', { title: 'Attack', nav: 'attack', ...attackFormView(values, maxUploadMiB, ctx.attacks.baselineStatus(), error) }, status);

  router.get('/attack', async (req, res) => {
    await renderForm(res, formValues(req.query as Raw));
  });

  // Post/redirect/get: the comparison has a page of its own, linkable while it is kept.
  router.post('/attack', ...attackBody(ctx.maxUploadBytes), async (req, res) => {
    try {
      res.redirect(303, `/attack/jobs/${await startComparison(ctx, req, res)}`);
    } catch (err) {
      const apiError = toApiError(err);
      if (apiError.status >= 500) throw err;
      const again = req.imageUpload ? ' Choose the image again.' : '';
      await renderForm(res, formValues(bodyOf(req)), `${apiError.message}.${again}`, apiError.status);
    }
  });

  router.get('/attack/jobs/:id', async (req, res) => {
    const view = attackJobView(comparisonDto(comparisonOf(ctx, req.params.id)));
    await renderPage(ctx, res, 'attackJob', { nav: 'attack', ...view });
  });

  router.post('/attack/jobs/:id/cancel', (req, res) => {
    const { id } = comparisonOf(ctx, req.params.id);
    ctx.attacks.cancel(id);
    res.redirect(303, `/attack/jobs/${id}`);
  });

  return router;
}
