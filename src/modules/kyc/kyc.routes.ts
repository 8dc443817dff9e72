/** HTTP routes of `/api/v1/customer/kyc`: tiers, features, and starting an upgrade. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { assertOwnership, contextOf, requirePrincipal } from '../../platform/http.ts';
import { type ApprovalService, ApprovalViewSchema } from '../approvals/index.ts';
import {
  ApplicationList,
  ApplicationQuery,
  ApplicationRef,
  ApplicationView,
  FeatureList,
  FeatureQuery,
  InitiateBody,
  InitiateResult,
  ReviewBody,
  TierList,
  TierParams,
  TierUpdate,
  TierView,
} from './kyc.schemas.ts';
import type { KycService } from './kyc.service.ts';

export function kycRoutes(kyc: KycService, approvals: ApprovalService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/customer/kyc/tier',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'listKycTiers',
          tags: ['kyc'],
          summary: 'KYC tiers with requirements, limits and features',
          response: { 200: TierList },
        },
      },
      async () => kyc.listTiers(),
    );
    app.get(
      '/api/v1/customer/kyc/tier/:code',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'getKycTier',
          tags: ['kyc'],
          summary: 'One KYC tier',
          params: TierParams,
          response: { 200: TierView },
        },
      },
      async (request) => kyc.getTier(request.params.code),
    );
    app.patch(
      '/api/v1/customer/kyc/tier/:code',
      {
        config: { access: { permission: 'policy:manage' } },
        schema: {
          operationId: 'updateKycTier',
          tags: ['kyc'],
          summary:
            'Change a tier’s requirements, balance cap, features or validity (limits: /api/v1/policy/transaction)',
          params: TierParams,
          body: TierUpdate,
          response: { 200: TierView },
        },
      },
      async (request) => kyc.updateTier(request.params.code, request.body, contextOf(request)),
    );
    app.get(
      '/api/v1/customer/kyc/features',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'listKycFeatures',
          tags: ['kyc'],
          summary: 'Features a tier opens on a channel',
          querystring: FeatureQuery,
          response: { 200: FeatureList },
        },
      },
      async (request) => ({
        tier: request.query.tier,
        channel: request.query.channel,
        features: await kyc.features(request.query.tier, request.query.channel),
      }),
    );
    app.post(
      '/api/v1/customer/kyc/initiate',
      {
        config: { access: { permission: 'kyc:submit', allowCustomer: true } },
        schema: {
          operationId: 'initiateKyc',
          tags: ['kyc'],
          summary: 'Start an upgrade to a higher tier; returns the application and its checklist',
          body: InitiateBody,
          response: { 200: InitiateResult },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        assertOwnership(principal, request.body.customer_id);
        return kyc.initiate(
          request.body.customer_id,
          request.body.target_tier,
          principal,
          contextOf(request),
        );
      },
    );
    app.post(
      '/api/v1/customer/kyc/submit',
      {
        config: { access: { permission: 'kyc:submit', allowCustomer: true } },
        schema: {
          operationId: 'submitKyc',
          tags: ['kyc'],
          summary: 'Hand in an application once every required document is uploaded',
          body: ApplicationRef,
          response: { 200: ApplicationView },
        },
      },
      async (request) =>
        kyc.submit(request.body.application_id, requirePrincipal(request), contextOf(request)),
    );
    app.post(
      '/api/v1/customer/kyc/review',
      {
        config: { access: { permission: 'kyc:review' } },
        schema: {
          operationId: 'reviewKyc',
          tags: ['kyc'],
          summary:
            'Approve (moves the customer to the tier) or reject (with a reason) a submitted application',
          body: ReviewBody,
          response: { 200: ApplicationView, 202: ApprovalViewSchema },
        },
      },
      async (request, reply) => {
        const { application_id, decision, reason } = request.body;
        const principal = requirePrincipal(request);
        if (decision === 'reject')
          return kyc.review(application_id, decision, reason, principal, contextOf(request));
        // Approval may be held for a second staff member (maker-checker on kyc.approve).
        const outcome = await approvals.run<
          { application_id: string; reason?: string },
          Awaited<ReturnType<KycService['review']>>
        >(
          'kyc.approve',
          { application_id, ...(reason ? { reason } : {}) },
          {
            summary: `Approve KYC application ${application_id}`,
            entityType: 'kyc_application',
            entityId: application_id,
          },
          contextOf(request),
        );
        return outcome.kind === 'pending'
          ? reply.code(202).send(outcome.request)
          : reply.code(200).send(outcome.result);
      },
    );
    app.get(
      '/api/v1/customer/kyc/application',
      {
        config: { access: { permission: 'kyc:read', allowCustomer: true } },
        schema: {
          operationId: 'listKycApplications',
          tags: ['kyc'],
          summary: 'A customer’s KYC applications, newest first',
          querystring: ApplicationQuery,
          response: { 200: ApplicationList },
        },
      },
      async (request) => {
        assertOwnership(requirePrincipal(request), request.query.customer_id);
        return kyc.applications(request.query.customer_id);
      },
    );
  };
}
