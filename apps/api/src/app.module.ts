import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DatabaseModule } from '@app/database';
import { DirectoryModule } from '@app/directory';
import { ReceiptsModule } from '@app/receipts';
import { HEJIE_CONFIG, HejieConfigModule, loadConfig } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { DevTokenController } from './auth/dev-token.controller';
import { MerchantsController } from './directory/merchants.controller';
import { OfficesController } from './directory/offices.controller';
import { AuthGuard } from './http/auth';
import { ProblemFilter } from './http/problem.filter';
import { OpsController } from './ops/ops.controller';
import { RedisCloser, redisProvider } from './ops/redis.provider';
import { ReceiptsController } from './receipts/receipts.controller';

export function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
}

@Module({
  imports: [
    HejieConfigModule,
    LoggerModule.forRootAsync({
      inject: [HEJIE_CONFIG],
      useFactory: (config: HejieConfig) => ({
        pinoHttp: {
          level: config.logLevel,
          // Fastify assigns the id (see app.factory); pino-http reuses it so every line carries it.
          genReqId: (req: IncomingMessage & { id?: string }) => req.id ?? requestId(req),
          customAttributeKeys: { reqId: 'requestId' },
          redact: ['req.headers.authorization', 'req.headers["x-hejie-signature"]'],
          autoLogging: {
            ignore: (req: IncomingMessage) =>
              req.url === '/metrics' || req.url?.startsWith('/health') === true,
          },
        },
      }),
    }),
    JwtModule.registerAsync({
      global: true,
      inject: [HEJIE_CONFIG],
      useFactory: (config: HejieConfig) => ({
        secret: config.jwtSecret,
        signOptions: { algorithm: 'HS256' },
      }),
    }),
    DatabaseModule,
    DirectoryModule,
    ReceiptsModule,
  ],
  controllers: [
    OpsController,
    DevTokenController,
    MerchantsController,
    OfficesController,
    ReceiptsController,
  ],
  providers: [
    redisProvider,
    RedisCloser,
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_FILTER, useClass: ProblemFilter },
  ],
})
export class AppModule {}

export { loadConfig };
