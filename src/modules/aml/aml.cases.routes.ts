/**
 * Case routes (`/api/v1/aml/cases`): staff with `aml:read` read the queue and a case (its alerts, evidence and audit
 * trail); `aml:investigate` works it; `aml:decide` decides it and asks for a restriction to be lifted. Customers,
 * agent operators and staff without these permissions get 403 on every route (tipping-off).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import { ApprovalViewSchema } from '../approvals/index.ts';
import type { CaseDecisions } from './aml.cases.decide.ts';
import {
  AssignBody,
  AttachBody,
  CaseDetail,
  CaseIdParams,
  CaseListQuery,
  CasePage,
  DecideBody,
  NoteBody,
  ReasonBody,
  SnoozeBody,
} from './aml.cases.schemas.ts';
import type { CaseWork } from './aml.cases.ts';

const TAGS = ['aml'];
const BASE = '/api/v1/aml/cases';

export function caseRoutes(work: CaseWork, decisions: CaseDecisions): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      BASE,
      {
        config: { access: { permission: 'aml:read' } },
        schema: {
          operationId: 'listAmlCases',
          tags: TAGS,
          summary:
            'The case queue, newest first (filters: state, priority, assignee, customer, agent, breached)',
          description: 'Cases whose snooze is still running are left out unless `include_snoozed` is true.',
          querystring: CaseListQuery,
          response: { 200: CasePage },
        },
      },
      async (request) => work.list(request.query),
    );

    app.get(
      `${BASE}/:id`,
      {
        config: { access: { permission: 'aml:read' } },
        schema: {
          operationId: 'getAmlCase',
          tags: TAGS,
          summary: 'A case with its alerts (their evidence and rule versions) and its audit trail',
          params: CaseIdParams,
          response: { 200: CaseDetail },
        },
      },
      async (request) => work.get(request.params.id),
    );

    app.post(
      `${BASE}/:id/claim`,
      {
        config: { access: { permission: 'aml:investigate' } },
        schema: {
          operationId: 'claimAmlCase',
          tags: TAGS,
          summary: 'Take an unassigned case (open → assigned to the caller)',
          params: CaseIdParams,
          response: { 200: CaseDetail },
        },
      },
      async (request) => work.claim(request.params.id, contextOf(request)),
    );

    app.post(
      `${BASE}/:id/assign`,
      {
        config: { access: { permission: 'aml:investigate' } },
        schema: {
          operationId: 'assignAmlCase',
          tags: TAGS,
          summary: 'Give a case to a staff user who holds aml:investigate',
          params: CaseIdParams,
          body: AssignBody,
          response: { 200: CaseDetail },
        },
      },
      async (request) => work.assign(request.params.id, request.body.assignee_id, contextOf(request)),
    );

    app.post(
      `${BASE}/:id/investigate`,
      {
        config: { access: { permission: 'aml:investigate' } },
        schema: {
          operationId: 'startAmlCaseInvestigation',
          tags: TAGS,
          summary: 'Start investigating an assigned case, or resume an escalated one',
          params: CaseIdParams,
          response: { 200: CaseDetail },
        },
      },
      async (request) => work.investigate(request.params.id, contextOf(request)),
    );

    app.post(
      `${BASE}/:id/escalate`,
      {
        config: { access: { permission: 'aml:investigate' } },
        schema: {
          operationId: 'escalateAmlCase',
          tags: TAGS,
          summary: 'Escalate a case under investigation, with the reason',
          params: CaseIdParams,
          body: ReasonBody,
          response: { 200: CaseDetail },
        },
      },
      async (request) => work.escalate(request.params.id, request.body.reason, contextOf(request)),
    );

    app.post(
      `${BASE}/:id/notes`,
      {
        config: { access: { permission: 'aml:investigate' } },
        schema: {
          operationId: 'addAmlCaseNote',
          tags: TAGS,
          summary: 'Add a note to the case’s trail',
          params: CaseIdParams,
          body: NoteBody,
          response: { 200: CaseDetail },
        },
      },
      async (request) => work.note(request.params.id, request.body.text, contextOf(request)),
    );

    app.post(
      `${BASE}/:id/attachments`,
      {
        config: { access: { permission: 'aml:investigate' } },
        schema: {
          operationId: 'attachAmlCaseDocument',
          tags: TAGS,
          summary:
            'Attach an existing document of the customer, or upload one (base64) through the documents module',
          description:
            'Uploads are checked by their bytes (PDF, JPEG or PNG) and stored encrypted by the documents module; the ' +
            'caller needs `document:upload` for that too.',
          params: CaseIdParams,
          body: AttachBody,
          response: { 200: CaseDetail },
        },
      },
      async (request) =>
        work.attach(request.params.id, request.body, requirePrincipal(request), contextOf(request)),
    );

    app.post(
      `${BASE}/:id/snooze`,
      {
        config: { access: { permission: 'aml:investigate' } },
        schema: {
          operationId: 'snoozeAmlCase',
          tags: TAGS,
          summary: 'Hide a case from the default queue until a time (at most 90 days), with the reason',
          description: 'The SLA keeps running while a case is snoozed.',
          params: CaseIdParams,
          body: SnoozeBody,
          response: { 200: CaseDetail },
        },
      },
      async (request) =>
        work.snooze(request.params.id, new Date(request.body.until), request.body.reason, contextOf(request)),
    );

    app.post(
      `${BASE}/:id/decide`,
      {
        config: { access: { permission: 'aml:decide' } },
        schema: {
          operationId: 'decideAmlCase',
          tags: TAGS,
          summary: 'Decide a case: false_positive, monitor, restrict (freezes the wallets) or file_str',
          description:
            'A false positive for a customer rated at or above `aml.false_positive_four_eyes_band` is proposed by ' +
            'one analyst (the case stays open with `pending_close_by`) and closed when a different analyst decides ' +
            'it again. `restrict` freezes the customer’s active wallets and closes; `file_str` writes the goAML STR ' +
            'and closes in the same transaction.',
          params: CaseIdParams,
          body: DecideBody,
          response: { 200: CaseDetail },
        },
      },
      async (request) =>
        decisions.decide(request.params.id, request.body, requirePrincipal(request), contextOf(request)),
    );

    app.post(
      `${BASE}/:id/unfreeze`,
      {
        config: { access: { permission: 'aml:decide' } },
        schema: {
          operationId: 'requestAmlCaseUnfreeze',
          tags: TAGS,
          summary: 'Ask for a restricted case’s wallets to be unfrozen (a second staff member approves)',
          description:
            'Files the `aml.unfreeze_customer` approval request (202). A checker with `approval:decide` and ' +
            '`aml:decide`, not the maker, approves it at `/api/v1/policy/approval/approve`.',
          params: CaseIdParams,
          response: { 202: ApprovalViewSchema },
        },
      },
      async (request, reply) =>
        reply.code(202).send(await decisions.requestUnfreeze(request.params.id, contextOf(request))),
    );
  };
}
