/**
 * The USSD channel's HTTP routes: one callback per gateway behind a secret path segment (the gateways sign nothing),
 * Africa's Talking's end-of-session notification, and the staff reports of those notifications. A gateway is never
 * answered 500: an engine failure is logged and rendered as an END screen, since any other answer makes the gateway
 * show its own error.
 */
import { parse as parseQuery } from 'node:querystring';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { commonErrors } from '../../platform/errors.ts';
import { invalidGatewayRequest, ussdErrors } from './ussd.errors.ts';
import { GATEWAYS, type UssdReply, type UssdRequest } from './ussd.gateway.types.ts';
import {
  addressAllowed,
  allGatewaySettings,
  type GatewayRouteConfig,
  type GatewaySettings,
  secretMatches,
} from './ussd.gateways.config.ts';
import {
  GatewayBody,
  GatewayParams,
  GatewayReply,
  SecretParams,
  SessionReportBody,
  SessionReportPage,
  SessionReportQuery,
  SessionReportSummary,
  SummaryQuery,
} from './ussd.gateways.schemas.ts';
import { gatewayAdapters } from './ussd.gateways.ts';
import type { UssdReports } from './ussd.reports.ts';

export interface UssdEngineLike {
  handle(request: UssdRequest): Promise<UssdReply>;
}

const tags = ['ussd'];

/**
 * The gateways' callbacks (a session step, Africa's Talking's session report): public behind the secret path
 * segment (kept out of the logs) and the address allowlist. Gateways call from a few addresses for every subscriber,
 * so the per-client rate limit would throttle the whole channel.
 */
const GATEWAY_CALLBACK = {
  access: { public: true },
  secretParams: ['secret'],
  rateLimit: false,
  errors: ['NOT_FOUND', 'USSD_GATEWAY_REQUEST_INVALID', 'USSD_GATEWAY_ADDRESS_NOT_ALLOWED'],
} as const;

/** The screen a gateway shows when the service failed; the session ends. */
export const UNAVAILABLE_MESSAGE = 'Sorry, the service is unavailable. Please try again later.';

/**
 * The gateway's settings when the secret is one of its own and the caller's address is allowed. A gateway that is
 * off and a wrong secret answer the same 404 as a path that does not exist, so probing learns nothing; the address
 * is checked only after the secret, for the same reason.
 */
function admit(
  settings: Partial<Record<string, GatewaySettings>>,
  gateway: string,
  secret: string,
  request: FastifyRequest,
): GatewaySettings {
  const found = Object.hasOwn(settings, gateway) ? settings[gateway] : undefined;
  if (!found || !secretMatches(found, secret)) throw commonErrors.notFound('Route');
  if (!addressAllowed(found, request.ip)) throw ussdErrors.USSD_GATEWAY_ADDRESS_NOT_ALLOWED();
  return found;
}

function field(fields: Record<string, unknown>, name: string, max: number): string | null {
  const value = fields[name];
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string') throw invalidGatewayRequest('at', name, 'is not one text value');
  if (value.length > max) throw invalidGatewayRequest('at', name, `is longer than ${max} characters`);
  return value;
}

function count(fields: Record<string, unknown>, name: string): number | null {
  const value = field(fields, name, 15);
  if (value === null) return null;
  if (!/^\d+$/.test(value.trim())) throw invalidGatewayRequest('at', name, 'is not a whole number');
  return Number(value.trim());
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The reports' day range: `from` after `to` is the caller's mistake (400), not an empty answer. */
function assertDayRange(from: string, to: string): void {
  if (from > to)
    throw commonErrors.validation('from is after to', {
      errors: [{ field: 'query.from', message: 'must not be after to', rule: 'range' }],
    });
}

export function ussdGatewayRoutes(
  engine: UssdEngineLike,
  config: GatewayRouteConfig,
  reports: UssdReports,
): FastifyPluginAsyncTypebox {
  const settings: Partial<Record<string, GatewaySettings>> = allGatewaySettings(config);
  return async (app) => {
    for (const gateway of GATEWAYS)
      if (settings[gateway]?.secrets.length === 0)
        app.log.info(
          { gateway },
          'USSD gateway off: no USSD_<GATEWAY>_SECRET (dev-ussd-secret is ignored in production)',
        );
    // Africa's Talking posts forms; scoped to these routes (the JSON parser is the application's).
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_request, body, done) => done(null, parseQuery(String(body))),
    );

    app.post(
      '/api/v1/ussd/:gateway/:secret',
      {
        config: GATEWAY_CALLBACK,
        // The body is documented per content type and read by the gateway's adapter, which answers 400 itself.
        attachValidation: true,
        schema: {
          operationId: 'ussdGatewayRequest',
          tags,
          summary:
            'A USSD gateway’s step (Africa’s Talking, Hubtel, Arkesel, Nalo), answered with the next screen',
          description:
            `Gateways: ${GATEWAYS.join(', ')}. Africa’s Talking posts a form and gets \`CON \`/\`END \` text; the ` +
            'others post JSON and get JSON. A gateway that is off (no USSD_<GATEWAY>_SECRET in production) or a ' +
            'wrong secret answers 404; a caller outside USSD_<GATEWAY>_ALLOWED_IPS 403; a body that is not the ' +
            'gateway’s format 400 USSD_GATEWAY_REQUEST_INVALID. When the service fails the answer is still 200, ' +
            'an END screen saying to try again later.',
          params: GatewayParams,
          body: GatewayBody,
          response: { 200: GatewayReply },
        },
      },
      async (request, reply) => {
        const { gateway } = admit(settings, request.params.gateway, request.params.secret, request);
        const adapter = gatewayAdapters[gateway];
        const parsed = adapter.parse(request.body);
        let answer: UssdReply;
        try {
          answer = await engine.handle(parsed);
        } catch (error) {
          request.log.error({ err: error, gateway }, 'ussd step failed; the session ends with a notice');
          answer = { continue: false, message: UNAVAILABLE_MESSAGE };
        }
        const rendered = adapter.render(parsed, answer);
        return reply.code(200).type(rendered.contentType).send(rendered.body);
      },
    );

    app.post(
      '/api/v1/ussd/at/:secret/events',
      {
        config: GATEWAY_CALLBACK,
        attachValidation: true,
        schema: {
          operationId: 'ussdSessionReport',
          tags,
          summary: 'Africa’s Talking end-of-session notification (stored once per session for analytics)',
          description:
            'Behind USSD_AT_SECRET and USSD_AT_ALLOWED_IPS like the session callback. Stored once per session (a ' +
            'redelivery answers 200 and changes nothing). `input` (every answer of the session, the PIN among ' +
            'them) and `lastAppResponse` are not stored.',
          params: SecretParams,
          body: SessionReportBody,
          response: {
            200: {
              description: 'Received (an empty body), also for a notification received before',
              content: { 'text/plain': { schema: Type.String({ maxLength: 0 }) } },
            },
          },
        },
      },
      async (request, reply) => {
        admit(settings, 'at', request.params.secret, request);
        const body = request.body;
        if (!body || typeof body !== 'object' || Array.isArray(body))
          throw invalidGatewayRequest('at', 'body', 'is not a form');
        const fields = body as Record<string, unknown>;
        const sessionId = field(fields, 'sessionId', 200);
        if (!sessionId) throw invalidGatewayRequest('at', 'sessionId', 'is missing');
        const status = field(fields, 'status', 40);
        if (!status) throw invalidGatewayRequest('at', 'status', 'is missing');
        await reports.record({
          gateway: 'at',
          sessionId,
          serviceCode: field(fields, 'serviceCode', 200),
          networkCode: field(fields, 'networkCode', 200),
          phoneNumber: field(fields, 'phoneNumber', 40),
          status,
          cost: field(fields, 'cost', 40),
          durationMs: count(fields, 'durationInMillis'),
          hopsCount: count(fields, 'hopsCount'),
          errorMessage: field(fields, 'errorMessage', 1000),
          date: field(fields, 'date', 40),
        });
        return reply.code(200).type('text/plain; charset=utf-8').send('');
      },
    );

    app.get(
      '/api/v1/ussd/reports',
      {
        config: { access: { permission: 'ussd:read' }, errors: [] },
        schema: {
          operationId: 'listUssdSessionReports',
          tags,
          summary: 'USSD end-of-session reports, latest first, by status and day range',
          querystring: SessionReportQuery,
          response: { 200: SessionReportPage },
        },
      },
      async (request) => {
        const { from, to } = request.query;
        if (from && to) assertDayRange(from, to);
        return reports.list(request.query);
      },
    );

    app.get(
      '/api/v1/ussd/reports/summary',
      {
        config: { access: { permission: 'ussd:read' }, errors: [] },
        schema: {
          operationId: 'ussdSessionReportSummary',
          tags,
          summary: 'USSD sessions between two days: counts by status, average duration, cost per currency',
          querystring: SummaryQuery,
          response: { 200: SessionReportSummary },
        },
      },
      async (request) => {
        const to = request.query.to ?? isoDay(new Date());
        const from = request.query.from ?? isoDay(new Date(Date.parse(`${to}T00:00:00Z`) - 30 * 86_400_000));
        assertDayRange(from, to);
        return reports.summary(from, to);
      },
    );
  };
}
