/**
 * HTTP conventions shared by every module: route access declarations, the principal on the request,
 * the request context for audit, and cursor pagination.
 */
import type {} from '@fastify/swagger';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { RequestContext } from './audit.ts';
import { commonErrors } from './errors.ts';

/** Every route declares exactly one of these in `config.access`; a route without one fails to register. */
export type RouteAccess =
  | { public: true }
  /** Any signed-in principal (staff or customer), e.g. `/auth/me`. */
  | { authenticated: true }
  /** Staff holding this permission (`module:action`). */
  | { permission: string; allowCustomer?: false }
  /** Customers acting on their own resources; staff need the permission. */
  | { permission: string; allowCustomer: true };

/**
 * Who signs in: staff users, customers, and agent operators (the tellers of an agent's store, added by the agents
 * module; their permissions are the agent-network ones, scoped to their own agent and store).
 */
export const PRINCIPAL_TYPES = ['user', 'customer', 'agent_operator'] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

export interface Principal {
  type: PrincipalType;
  id: string;
  /** Session (refresh-token family) the access token belongs to. */
  sessionId: string;
  tokenId: string;
  tokenExpiresAt: number;
  permissions: ReadonlySet<string>;
  roles: readonly string[];
  /** A temporary or expired password: only the password-change routes are open until it is changed. */
  passwordChangeRequired: boolean;
  /** Staff MFA is required and none is enrolled: only enrolment is open. */
  mfaEnrollmentRequired: boolean;
  /**
   * The channel the session was opened on, from the signed token (set at sign-in by what authenticated it: the
   * customer app's PIN sign-in, a staff sign-in, later the USSD gateway or an agent device). Never from a header.
   */
  channel: Channel;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** Reachable by a user who must change their password first (me, logout, password change). */
    allowPendingPasswordChange?: boolean;
    /** Reachable by a user who must enrol a second factor first (me, logout, the 2fa routes). */
    allowPendingMfaEnrollment?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw commonErrors.unauthorized();
  return request.principal;
}

/**
 * The ownership rule every customer-facing route uses: a customer reaches only their own resources, and anyone
 * else's answer 404, as if they did not exist. Staff pass (their permission was checked by the guard).
 */
export function assertOwnership(
  principal: Pick<Principal, 'type' | 'id'>,
  customerId: string,
  entity = 'Customer',
): void {
  if (principal.type === 'customer' && principal.id !== customerId) throw commonErrors.notFound(entity);
}

export function contextOf(request: FastifyRequest): RequestContext {
  const principal = request.principal;
  return {
    actor: principal ? { type: principal.type, id: principal.id } : { type: 'anonymous', id: null },
    ip: request.ip ?? null,
    userAgent: request.headers['user-agent']?.slice(0, 512) ?? null,
    requestId: request.id,
  };
}

export const PageQuery = Type.Object({
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Page size (1–100)' }),
  ),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'Opaque cursor from `next_cursor`' })),
});

export function pageOf<T extends ReturnType<typeof Type.Object>>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    next_cursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as `cursor` for the next page',
    }),
  });
}

/** What each cursor key may hold: ids are UUIDs, sequence numbers and journal entries digits. */
const CURSOR_SHAPES: Record<string, RegExp> = {
  id: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  // 18 digits always fit a PostgreSQL bigint.
  seq: /^\d{1,18}$/,
  entry: /^\d{1,18}$/,
};
const ANY_CURSOR_VALUE = /^[\x21-\x7e]{1,256}$/;

/** Cursors are opaque to clients: base64url JSON of the last row's sort key. */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<K extends string>(
  cursor: string | undefined,
  keys: readonly K[],
): Record<K, string> | null {
  if (!cursor) return null;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    const position = {} as Record<K, string>;
    for (const key of keys) {
      const value = parsed[key];
      if (typeof value !== 'string' && typeof value !== 'number') throw new Error('bad cursor');
      // A forged cursor must fail here as a 422, not later as a database cast error.
      if (!(CURSOR_SHAPES[key] ?? ANY_CURSOR_VALUE).test(String(value))) throw new Error('bad cursor');
      position[key] = String(value);
    }
    return position;
  } catch {
    throw commonErrors.validation('Invalid cursor', {
      errors: [{ field: 'query.cursor', message: 'is not a cursor' }],
    });
  }
}

/** Splits a fetched `limit + 1` rows into the page and the next cursor. */
export function paginate<T>(
  rows: T[],
  limit: number,
  positionOf: (row: T) => Record<string, string | number>,
): { items: T[]; next_cursor: string | null } {
  if (rows.length <= limit) return { items: rows, next_cursor: null };
  const items = rows.slice(0, limit);
  return { items, next_cursor: encodeCursor(positionOf(items[items.length - 1]!)) };
}

export const CHANNELS = ['web', 'mobile', 'ussd', 'agent', 'api'] as const;
export type Channel = (typeof CHANNELS)[number];

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);
}

/**
 * The channel of a request, for feature gates and limits: the signed-in principal's session channel (see
 * `Principal.channel`). A client-sent `X-Channel` header is ignored, so a client cannot pick a channel with wider
 * features or limits. `fallback` applies only to a request without a principal.
 */
export function channelOf(request: FastifyRequest, fallback: Channel = 'web'): Channel {
  return request.principal?.channel ?? fallback;
}

/**
 * Narrows a principal to staff or customer for use cases that only those two reach (the access guard already keeps
 * agent operators out of them: their permissions are the agent network's). A 403 if an operator gets here anyway.
 */
export function staffOrCustomer<P extends { type: PrincipalType }>(
  principal: P,
): P & { type: Exclude<PrincipalType, 'agent_operator'> } {
  if (principal.type === 'agent_operator') throw commonErrors.forbidden();
  return principal as P & { type: Exclude<PrincipalType, 'agent_operator'> };
}
