import type { JwtService } from '@nestjs/jwt';
import { DomainError } from '@app/shared';
import type { Actor, HejieConfig } from '@app/shared';
import { actorFromClaims } from '../http/auth';

/** A token issued this far in the future is refused (clock skew between issuer and API). */
const MAX_FUTURE_IAT_S = 60;

/**
 * The one check of a bearer JWT (the global guard, the stream-ticket and Bull Board session
 * exchanges all use it): HS256 with JWT_SECRET, `exp` required, `iat` required and not older
 * than JWT_MAX_AGE (jsonwebtoken's `maxAge` refuses a token without `iat`), `iss` / `aud`
 * required when JWT_ISSUER / JWT_AUDIENCE are set, then the role claims.
 */
export function verifyToken(
  jwt: JwtService,
  config: Pick<HejieConfig, 'jwtMaxAgeMs' | 'jwtIssuer' | 'jwtAudience'>,
  token: string,
  // Token lifetimes are wall-clock time, not the injected domain clock (CLOCK), which tests
  // move ahead to make ticket deadlines fall due.
  now: Date = new Date(),
): {
  actor: Actor;
  /** seconds since the epoch: when this token stops being accepted */ exp: number;
} {
  const clockTimestamp = Math.floor(now.getTime() / 1000);
  let claims: Record<string, unknown>;
  try {
    claims = jwt.verify<Record<string, unknown>>(token, {
      algorithms: ['HS256'],
      clockTimestamp,
      maxAge: `${Math.floor(config.jwtMaxAgeMs / 1000)}s`,
      ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
      ...(config.jwtAudience ? { audience: config.jwtAudience } : {}),
    });
  } catch (e) {
    throw new DomainError('UNAUTHENTICATED', `token rejected: ${(e as Error).message}`);
  }
  if (typeof claims.iat === 'number' && claims.iat > clockTimestamp + MAX_FUTURE_IAT_S) {
    throw new DomainError('UNAUTHENTICATED', 'token rejected: iat is in the future');
  }
  const actor = actorFromClaims(claims);
  // What outlives the request (an event stream, a Bull Board session) ends when the token
  // would be refused: at `exp`, or JWT_MAX_AGE after `iat` if that is sooner.
  const maxAgeEnd = (claims.iat as number) + Math.floor(config.jwtMaxAgeMs / 1000);
  return { actor, exp: Math.min(claims.exp as number, maxAgeEnd) };
}

/** Options for tokens this API mints itself (dev login): the claims verifyToken requires. */
export function signOptions(config: Pick<HejieConfig, 'jwtIssuer' | 'jwtAudience'>): {
  issuer?: string;
  audience?: string;
} {
  return {
    ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
    ...(config.jwtAudience ? { audience: config.jwtAudience } : {}),
  };
}
