import type { NextFunction, Request, Response } from 'express';
import { ChatError, ERROR_CODES, isChatError } from '../actors/errors';
import { httpErrorAnswer } from './http-error-answer';
import { cutText } from './text-cut';
import type { GatewayLogger } from './observability-hooks';

/**
 * The one error mapping: ChatError → its spec's HTTP status; body-parser errors → 400/413; a path
 * parameter that is not valid percent-encoding → 400; anything else → 500 without internals. The answer's body and
 * headers are http-error-answer.ts's.
 */
export function createErrorHandler(logger: GatewayLogger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const chatErr = toChatError(err, req.headers['content-encoding']);
    if (chatErr.code === 'GATEWAY_ERR_INTERNAL') logger.error({ err: err instanceof Error ? err.stack : String(err) }, 'request failed');
    const { status, body, headers } = httpErrorAnswer(chatErr);
    res.set(headers).status(status).json(body);
  };
}

/** zlib's errors: `Z_DATA_ERROR`, `Z_BUF_ERROR` (gzip, deflate), `ERR__ERROR_FORMAT_...`, `ERR_BROTLI_...` (br). */
function isDecompressionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR__ERROR_') || code.startsWith('ERR_BROTLI'));
}

/**
 * Body-parser errors carry a `type`; the router's path-parameter decode failure is a URIError with status 400;
 * everything unrecognised becomes an internal error (message hidden).
 */
function toChatError(err: unknown, contentEncoding: string | undefined): ChatError {
  if (isChatError(err)) return err;
  // body-parser hands on zlib's own error for a body that does not decompress as its Content-Encoding says: the
  // client's mistake, which was a 500 with an error log line (and its stack) per request anyone could send.
  if (isDecompressionError(err)) {
    return new ChatError(
      'GATEWAY_ERR_BAD_REQUEST',
      `request body is not valid ${cutText(contentEncoding ?? '', 32)} data (Content-Encoding)`,
    );
  }
  // express decodes every `:param` before the route runs, so a bad %-escape never reaches idParam(); it is the
  // client's mistake, not ours (no 500, no error log). The router's message quotes the raw value: not echoed.
  if (err instanceof URIError && (err as { status?: unknown }).status === 400) {
    return new ChatError('GATEWAY_ERR_BAD_REQUEST', 'invalid path parameter: not valid percent-encoding');
  }
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large') return new ChatError('GATEWAY_ERR_FRAME_TOO_LARGE', 'request body is too large');
  if (type === 'entity.parse.failed') {
    return isJson((err as { body?: unknown }).body)
      ? new ChatError('GATEWAY_ERR_BAD_REQUEST', 'body must be a JSON object')
      : new ChatError('GATEWAY_ERR_MALFORMED_JSON', 'request body is not valid JSON');
  }
  // What body-parser cannot decode is a media type we do not take (415), not a broken request.
  if (type === 'charset.unsupported') {
    const charset = cutText(String((err as { charset?: unknown }).charset ?? ''), 32);
    return new ChatError(
      'GATEWAY_ERR_UNSUPPORTED_MEDIA_TYPE',
      `request body charset "${charset}" is not supported: send UTF-8 (or no charset)`,
    );
  }
  if (type === 'encoding.unsupported') {
    return new ChatError(
      'GATEWAY_ERR_UNSUPPORTED_MEDIA_TYPE',
      `Content-Encoding "${cutText(contentEncoding ?? '', 32)}" is not supported: send gzip, deflate, br or identity`,
    );
  }
  if (typeof type === 'string' && type.startsWith('entity.')) {
    return new ChatError('GATEWAY_ERR_BAD_REQUEST', 'request body could not be read');
  }
  return new ChatError('GATEWAY_ERR_INTERNAL', ERROR_CODES.GATEWAY_ERR_INTERNAL.message);
}

/**
 * Whether a body body-parser refused in strict mode is JSON all the same (`null`, `"text"`, `1`): strict mode takes
 * objects and arrays only, and such a body is a wrong shape, as `[]` is told, not malformed JSON.
 */
function isJson(body: unknown): boolean {
  if (typeof body !== 'string') return false;
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}
