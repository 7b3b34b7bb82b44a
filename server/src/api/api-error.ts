import { ErrorCodes } from '@portcullis/shared';
/**
 * Errors the REST API answers with: a stable code, an HTTP status and a message for people.
 * Anything else that escapes a handler is answered as a generic 500 and logged, never shown.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) => new ApiError(400, ErrorCodes.BAD_REQUEST, message, details);
export const unauthorized = (message = 'authentication required') => new ApiError(401, ErrorCodes.UNAUTHENTICATED, message);
export const forbidden = (message: string) => new ApiError(403, ErrorCodes.FORBIDDEN, message);
export const notFound = (what: string) => new ApiError(404, ErrorCodes.NOT_FOUND, `${what} not found`);
export const conflict = (message: string) => new ApiError(409, ErrorCodes.CONFLICT, message);
