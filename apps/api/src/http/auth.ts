import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  applyDecorators,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Actor, DomainError, HEJIE_CONFIG, ROLES, Role } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { verifyToken } from '../auth/verify-token';

const PUBLIC = 'hejie:public';
const ROLES_KEY = 'hejie:roles';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Actor;
    /** When the bearer token of this request expires (ms since the epoch). */
    tokenExpiresAtMs?: number;
  }
}

/** No token needed (provider callbacks, health, public credit scores). */
export const Public = () => SetMetadata(PUBLIC, true);

/** Only these roles; others get 403 FORBIDDEN. */
export const Roles = (...roles: Role[]) =>
  applyDecorators(SetMetadata(ROLES_KEY, roles), ApiBearerAuth());

export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<FastifyRequest>().actor;
  if (!actor) throw new DomainError('UNAUTHENTICATED', 'a bearer token is required');
  return actor;
});

/** Merchant staff see only their own merchant (its stores, deliveries…); others are "not found". */
export function assertOwnMerchant(actor: Actor, merchantId: string): void {
  if (actor.role === 'merchant' && actor.merchantId !== merchantId)
    throw new DomainError('NOT_FOUND', 'no such resource');
}

interface Claims {
  sub?: unknown;
  role?: unknown;
  merchantId?: unknown;
  officeId?: unknown;
  exp?: unknown;
  iat?: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The id claim a role's token must carry (merchantId, officeId): a directory id, a UUID. */
function idClaim(c: Claims, claim: 'merchantId' | 'officeId', missing: string): string {
  const id = c[claim];
  if (typeof id !== 'string' || !UUID.test(id)) throw new DomainError('UNAUTHENTICATED', missing);
  return id;
}

/** Claims → actor; merchantId and officeId must be the directory's ids (UUIDs). */
export function actorFromClaims(c: Claims): Actor {
  if (typeof c.exp !== 'number') throw new DomainError('UNAUTHENTICATED', 'token has no exp claim');
  if (typeof c.sub !== 'string' || !c.sub)
    throw new DomainError('UNAUTHENTICATED', 'token has no sub claim');
  if (typeof c.role !== 'string' || !(ROLES as readonly string[]).includes(c.role)) {
    throw new DomainError(
      'UNAUTHENTICATED',
      'token role is not one of consumer, merchant, regulator, admin',
    );
  }
  const actor: Actor = { role: c.role as Role, sub: c.sub };
  if (c.role === 'merchant') {
    actor.merchantId = idClaim(
      c,
      'merchantId',
      'a merchant token needs a merchantId claim (a merchant id)',
    );
  }
  if (c.role === 'regulator') {
    actor.officeId = idClaim(
      c,
      'officeId',
      'a regulator token needs an officeId claim (an office id)',
    );
  }
  return actor;
}

/** Global guard: HS256 bearer JWT (see verifyToken), then the route's roles. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly jwt: JwtService,
    private readonly reflector: Reflector,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!m) throw new DomainError('UNAUTHENTICATED', 'a bearer token is required');
    const { actor, exp } = verifyToken(this.jwt, this.config, m[1]);
    req.actor = actor;
    req.tokenExpiresAtMs = exp * 1000;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles && !roles.includes(req.actor.role)) {
      throw new DomainError('FORBIDDEN', `this action needs role ${roles.join(' or ')}`);
    }
    return true;
  }
}
