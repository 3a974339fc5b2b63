import Redis, { Cluster } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { HejieConfig } from './config/hejie-config';

/** One Redis or a Redis Cluster (REDIS_CLUSTER_NODES): everything that talks to Redis takes this. */
export type RedisClient = Redis | Cluster;

/**
 * The one place a Redis connection is made. With REDIS_CLUSTER_NODES an ioredis Cluster seeded
 * from those nodes (it discovers the rest and follows fail-overs: a MOVED reply re-reads the
 * slot map); otherwise the single Redis of REDIS_URL.
 */
export function createRedis(config: HejieConfig, options: RedisOptions = {}): RedisClient {
  const nodes = config.scale.redisClusterNodes;
  if (!nodes) return new Redis(config.redisUrl, options);
  const { enableOfflineQueue, ...redisOptions } = options;
  return new Cluster(nodes, {
    redisOptions,
    // A cluster client must queue commands until it has read the slot map.
    enableOfflineQueue: enableOfflineQueue ?? true,
    slotsRefreshTimeout: 2000,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
  });
}

/**
 * BullMQ's connection. On a single Redis, options (BullMQ makes and closes its connections);
 * on a cluster, one Cluster client shared by the queues (BullMQ duplicates it for blocking
 * reads). `maxRetriesPerRequest: null` is what BullMQ's workers require.
 */
export function bullConnection(
  config: HejieConfig,
): { url: string; maxRetriesPerRequest: null } | Cluster {
  if (!config.scale.redisClusterNodes) {
    return { url: config.redisUrl, maxRetriesPerRequest: null };
  }
  return createRedis(config, { maxRetriesPerRequest: null }) as Cluster;
}

/**
 * BullMQ's Lua scripts touch several keys of a queue at once, which Redis Cluster allows only
 * within one hash slot: on a cluster the prefix is a hash tag (`{hejie}`), so every queue key
 * lands in the same slot. On a single Redis the prefix is used as it is.
 */
export function queueKeyPrefix(config: HejieConfig): string {
  const p = config.queuePrefix;
  return config.scale.redisClusterNodes && !/\{.+\}/.test(p) ? `{${p}}` : p;
}
