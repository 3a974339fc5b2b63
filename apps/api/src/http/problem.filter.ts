import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ErrorCode } from '@app/shared';
import { MALFORMED_BODY_CODE } from './content-parsers';
import { ProblemBody, problemFromDomain, problemFromFastifyError, problemOf } from './problem';

const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

/** The one place where anything thrown becomes an RFC 9457 problem with a contract code. */
export function toProblem(exception: unknown, logger: Logger): ProblemBody {
  if (exception instanceof DomainError) return problemFromDomain(exception);
  if (exception instanceof ThrottlerException)
    return problemOf('RATE_LIMITED', 'too many requests; retry later');
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = HTTP_STATUS_CODES[status];
    if (code) {
      const detail = status === 404 ? 'no such resource' : exception.message;
      return problemOf(code, detail);
    }
  }
  const fe = exception as { code?: unknown; statusCode?: unknown };
  // Body-parsing errors reach Nest's exception layer too (Nest installs Fastify's error
  // handler at init): Fastify's own, and our content parsers' malformed-body error.
  if (
    typeof fe?.code === 'string' &&
    (fe.code.startsWith('FST_') || fe.code === MALFORMED_BODY_CODE)
  ) {
    return problemFromFastifyError(
      exception as { code: string; statusCode?: number; message?: string },
    );
  }
  logger.error(exception instanceof Error ? exception.stack : String(exception));
  return problemOf('INTERNAL_ERROR', 'internal error');
}

export function sendProblem(reply: FastifyReply, problem: ProblemBody): void {
  void reply
    .status(problem.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send(JSON.stringify(problem));
}

/**
 * WeChat Pay expects failures as 4xx/5xx with `{ code: "FAIL", message }` (and retries them);
 * our own code rides along as `reason`.
 */
export function sendWechatpayFailure(reply: FastifyReply, problem: ProblemBody): void {
  void reply
    .status(problem.status)
    .header('content-type', 'application/json; charset=utf-8')
    .send({ code: 'FAIL', message: problem.detail, reason: problem.code });
}

const WECHATPAY_NOTIFY_URL = /^\/v1\/receipts\/wechatpay\/?(?:\?|$)/;

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const problem = toProblem(exception, this.logger);
    if (problem.code === 'RATE_LIMITED' && !reply.getHeader('retry-after')) {
      void reply.header('retry-after', '60');
    }
    if (problem.status >= 500)
      this.logger.error({ reqId: request.id, url: request.url }, 'request failed');
    // Errors raised before the route's own filter runs (body parsing, size limit, media type)
    // land here: the WeChat Pay route still answers in WeChat Pay's format.
    if (WECHATPAY_NOTIFY_URL.test(request.url)) return sendWechatpayFailure(reply, problem);
    sendProblem(reply, problem);
  }
}
