/**
 * The geo area's routes: operators check in and out at their store (`/api/v1/agent/operator/*`, with a location
 * check each), staff read and acknowledge violation alerts and read an agent's location checks.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import {
  AlertPage,
  AlertQuery,
  AlertView,
  CheckPage,
  CheckQuery,
  IdParams,
  ShiftBody,
  ShiftResult,
} from './agents.location.schemas.ts';
import type { AgentShifts } from './agents.location.shifts.ts';

const TAGS = ['agents'];

/** What an operator route may answer from resolving the operator, their store and their agent. */
const OPERATOR_ERRORS = [
  'AGENT_SCOPE_REQUIRED',
  'AGENT_OPERATOR_NOT_FOUND',
  'AGENT_STORE_NOT_FOUND',
  'AGENT_NOT_FOUND',
] as const;

const LOCATION_NOTE =
  'The fix is checked against the store’s geofence: inside when its distance from the fence’s edge is at most the ' +
  'reported accuracy (capped); outside, or a fix older than the configured age, is refused with ' +
  '`GEOFENCE_VIOLATION` or allowed and flagged, by the agent’s geofence policy. The check is recorded either way, ' +
  'with its spoofing signals.';

export function agentLocationRoutes(shifts: AgentShifts): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/agent/operator/check-in',
      {
        config: {
          access: { permission: 'agent_op:transact' },
          errors: [...OPERATOR_ERRORS, 'AGENT_NOT_ACTIVE', 'AGENT_ALREADY_CHECKED_IN', 'GEOFENCE_VIOLATION'],
        },
        schema: {
          operationId: 'agentOperatorCheckIn',
          tags: TAGS,
          summary: 'Check in at the store (opening), with the device’s location',
          description: `Opens the operator’s shift (one at a time: 409 when one is open). ${LOCATION_NOTE}`,
          body: ShiftBody,
          response: { 201: ShiftResult },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await shifts.checkIn(requirePrincipal(request), request.body, contextOf(request))),
    );

    app.post(
      '/api/v1/agent/operator/check-out',
      {
        config: {
          access: { permission: 'agent_op:transact' },
          errors: [...OPERATOR_ERRORS, 'AGENT_NOT_CHECKED_IN', 'GEOFENCE_VIOLATION'],
        },
        schema: {
          operationId: 'agentOperatorCheckOut',
          tags: TAGS,
          summary: 'Check out of the store (closing), with the device’s location',
          description: `Closes the operator’s open shift (409 without one). ${LOCATION_NOTE}`,
          body: ShiftBody,
          response: { 200: ShiftResult },
        },
      },
      async (request) => shifts.checkOut(requirePrincipal(request), request.body, contextOf(request)),
    );

    app.get(
      '/api/v1/agent/alerts',
      {
        config: { access: { permission: 'agent:read' } },
        schema: {
          operationId: 'listAgentAlerts',
          tags: TAGS,
          summary: 'Geofence and spoofing alerts, newest first',
          description:
            '`geofence_repeated`: an operator’s violations (outside or stale) reached the configured count within ' +
            'the window; `spoofing`: a check carried a spoofing signal (implausible accuracy, a jump faster than ' +
            'the plausible speed, a mock-location device). At most one of each kind per operator per cooldown.',
          querystring: AlertQuery,
          response: { 200: AlertPage },
        },
      },
      async (request) => shifts.listAlerts(request.query),
    );

    app.post(
      '/api/v1/agent/alerts/:id/acknowledge',
      {
        config: { access: { permission: 'agent:manage' }, errors: ['AGENT_ALERT_NOT_FOUND'] },
        schema: {
          operationId: 'acknowledgeAgentAlert',
          tags: TAGS,
          summary: 'Mark an alert as seen (an acknowledged one is answered unchanged)',
          params: IdParams,
          response: { 200: AlertView },
        },
      },
      async (request) =>
        shifts.acknowledgeAlert(requirePrincipal(request), request.params.id, contextOf(request)),
    );

    app.get(
      '/api/v1/agent/agent/:id/location-checks',
      {
        config: { access: { permission: 'agent:read' }, errors: ['AGENT_NOT_FOUND'] },
        schema: {
          operationId: 'listAgentLocationChecks',
          tags: TAGS,
          summary: 'An agent’s location checks, newest first, with their spoofing signals',
          params: IdParams,
          querystring: CheckQuery,
          response: { 200: CheckPage },
        },
      },
      async (request) => shifts.locationChecks(request.params.id, request.query),
    );
  };
}
