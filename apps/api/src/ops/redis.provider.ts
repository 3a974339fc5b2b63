import { Inject, Injectable, OnApplicationShutdown, Provider } from '@nestjs/common';
import { createRedis, HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig, RedisClient } from '@app/shared';

export const REDIS = Symbol('REDIS');

export const redisProvider: Provider = {
  provide: REDIS,
  inject: [HEJIE_CONFIG],
  useFactory: (config: HejieConfig) =>
    createRedis(config, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: false,
    }),
};

@Injectable()
export class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
