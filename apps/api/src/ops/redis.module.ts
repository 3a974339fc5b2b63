import { Global, Module } from '@nestjs/common';
import { REDIS, RedisCloser, redisProvider } from './redis.provider';

@Global()
@Module({ providers: [redisProvider, RedisCloser], exports: [REDIS] })
export class RedisModule {}
