import express, { type RequestHandler } from 'express';
import multer from 'multer';
import { ApiError } from './errors.js';

export const DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

/** The image bytes of a request, wherever they came from. */
export interface ImageUpload {
  readonly bytes: Buffer;
}

declare module 'express-serve-static-core' {
  interface Request {
    imageUpload?: ImageUpload;
  }
}

const malformedMultipart = () => new ApiError(400, 'bad_upload', 'the multipart body is malformed: check its boundary and that it was sent whole');

/**
 * Accepts one image as the multipart field `image` (forms) or as a raw `image/*` body (scripts), in memory up
 * to `maxBytes`. Anything else is a 415; no file, or an empty one, is a 400 unless `optional` (then
 * req.imageUpload is unset). Other multipart fields land in req.body.
 */
export function imageUpload(maxBytes: number, { optional = false } = {}): RequestHandler[] {
  const multipart = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBytes, files: 1, fields: 20, parts: 21, fieldSize: 1024 },
  }).single('image');
  const raw = express.raw({ type: 'image/*', limit: maxBytes });

  const pick: RequestHandler = (req, _res, next) => {
    // The multipart parser's own errors (no boundary, a cut body, a broken part header) are the client's doing.
    if (req.is('multipart/form-data')) return multipart(req, _res, (err?: unknown) => next(err && !(err instanceof multer.MulterError) ? malformedMultipart() : err));
    if (req.is('image/*')) return raw(req, _res, next);
    next(
      new ApiError(
        415,
        'unsupported_media_type',
        'send the image as multipart/form-data (field "image") or as a raw body with an image/* content type',
      ),
    );
  };

  const collect: RequestHandler = (req, _res, next) => {
    const bytes = req.file?.buffer ?? (Buffer.isBuffer(req.body) ? req.body : undefined);
    if (bytes?.length) {
      req.imageUpload = { bytes };
      return next();
    }
    if (optional) return next();
    // A named file (or a raw body) with no content is not a missing file: saying so points at the file itself.
    // A nameless empty part is a form's file field left blank.
    const emptyFile = req.file ? req.file.originalname !== '' : bytes !== undefined;
    if (emptyFile) return next(new ApiError(400, 'empty_image', 'the file is empty (0 bytes): choose the image file again, or another one'));
    next(new ApiError(400, 'missing_image', 'no image received: attach a file in the field "image"'));
  };

  return [pick, collect];
}
