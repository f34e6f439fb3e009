import type { ErrorRequestHandler } from 'express';
import multer from 'multer';
import { ImageDecodeError } from '../model/preprocess.js';
import { SearchError, type SearchErrorKind } from '../search/searchErrors.js';

/** An error whose message is safe to show to a client: no stack, no file-system path. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (code: string, message: string) => new ApiError(400, code, message);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);

/** The JSON body of every API error. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

const SEARCH_ERROR_STATUS: Record<SearchErrorKind, number> = {
  invalid: 400,
  not_found: 404,
  gone: 410,
  conflict: 409,
  unavailable: 503,
};

const MULTER_ERRORS: Record<string, [number, string, string]> = {
  LIMIT_FILE_SIZE: [413, 'payload_too_large', 'the uploaded file is larger than the upload limit'],
  LIMIT_UNEXPECTED_FILE: [400, 'unexpected_field', 'send the image in the multipart field "image"'],
  LIMIT_FILE_COUNT: [400, 'too_many_files', 'send exactly one image'],
  LIMIT_PART_COUNT: [400, 'too_many_parts', 'the multipart body has too many parts'],
  LIMIT_FIELD_COUNT: [400, 'too_many_fields', 'the multipart body has too many fields'],
  LIMIT_FIELD_VALUE: [400, 'field_too_long', 'a form field is too long'],
  LIMIT_FIELD_KEY: [400, 'field_too_long', 'a form field name is too long'],
};

/**
 * Maps anything thrown while handling a request to a client-safe ApiError. Unknown errors become a generic
 * 500 (the details go to the server log only), so no stack trace or path ever reaches a client.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof SearchError) return new ApiError(SEARCH_ERROR_STATUS[err.kind], err.code, err.message);
  if (err instanceof ImageDecodeError) {
    return /pixel limit/.test(err.message)
      ? new ApiError(413, 'image_too_large', err.message)
      : new ApiError(400, 'invalid_image', 'the upload is not an image we can read: the file is damaged or truncated');
  }
  if (err instanceof multer.MulterError) {
    const [status, code, message] = MULTER_ERRORS[err.code] ?? [400, 'bad_upload', 'the upload is malformed'];
    return new ApiError(status, code, message);
  }
  // body-parser / raw-body errors carry a status and a machine-readable type.
  const http = err as { status?: number; type?: string; expose?: boolean };
  if (http && typeof http.status === 'number' && http.status >= 400 && http.status < 500) {
    if (http.status === 413) return new ApiError(413, 'payload_too_large', 'the request body is larger than the upload limit');
    if (http.type === 'entity.parse.failed') return new ApiError(400, 'invalid_json', 'the request body is not valid JSON');
    if (/multipart|boundary/i.test(String((err as Error).message))) {
      return new ApiError(400, 'bad_upload', 'the multipart body is malformed');
    }
    return new ApiError(http.status, 'bad_request', 'the request is malformed');
  }
  return new ApiError(500, 'internal', 'something went wrong on our side; the request was not completed');
}

export function errorBody(err: ApiError): ErrorBody {
  return { error: { code: err.code, message: err.message } };
}

/** Last-resort logging of unexpected errors: the server log gets the detail the client never sees. */
export function logUnexpected(err: unknown, apiError: ApiError): void {
  if (apiError.status >= 500) console.error('[lipsearch] unexpected error:', err);
}

/** Error middleware for /api: always `{error:{code,message}}` JSON. */
export const apiErrorHandler: ErrorRequestHandler = (err, _req, res, next) => {
  if (res.headersSent) return next(err);
  const apiError = toApiError(err);
  logUnexpected(err, apiError);
  res.status(apiError.status).json(errorBody(apiError));
};
