import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { sendWechatpayFailure, toProblem } from '../http/problem.filter';

/**
 * WeChat Pay expects failures as 4xx/5xx with `{ code: "FAIL", message }` (and retries them);
 * our own code rides along as `reason`.
 */
@Catch()
export class WechatpayFailureFilter implements ExceptionFilter {
  private readonly logger = new Logger('WechatpayFailureFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    sendWechatpayFailure(reply, toProblem(exception, this.logger));
  }
}
