/**
 * HTTP routes of collections: cases (`/api/v1/loan/collectioncase/*`, `loan:collect`), and reschedule, write-off
 * (maker-checker, 202 with the approval request) and recovery on a loan (`/api/v1/loan/loan/*`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import type { ApprovalService } from '../approvals/index.ts';
import { ApprovalViewSchema } from '../approvals/index.ts';
import type { ReschedulePayload, WriteOffPayload } from './loans.collections.actions.ts';
import {
  AssignBody,
  CaseIdParams,
  CasePage,
  CaseQuery,
  CaseView,
  CloseBody,
  NoteBody,
  PromiseBody,
  PromiseView,
  RecoveryBody,
  RecoveryView,
  RescheduleBody,
  WriteOffBody,
} from './loans.collections.schemas.ts';
import type { CollectionsService } from './loans.collections.ts';

export function collectionRoutes(
  cases: CollectionsService,
  approvals: ApprovalService,
): FastifyPluginAsyncTypebox {
  const { workouts } = cases;
  return async (app) => {
    app.get(
      '/api/v1/loan/collectioncase',
      {
        config: { access: { permission: 'loan:collect' }, errors: [] },
        schema: {
          operationId: 'listLoanCollectionCases',
          tags: ['loans'],
          summary: 'Collection cases, newest first (filter by status, assignee, loan)',
          querystring: CaseQuery,
          response: { 200: CasePage },
        },
      },
      async (request) => cases.list(request.query),
    );

    app.get(
      '/api/v1/loan/collectioncase/:id',
      {
        config: { access: { permission: 'loan:collect' }, errors: [] },
        schema: {
          operationId: 'getLoanCollectionCase',
          tags: ['loans'],
          summary: 'One collection case with its notes and promises to pay',
          params: CaseIdParams,
          response: { 200: CaseView },
        },
      },
      async (request) => cases.get(request.params.id),
    );

    app.post(
      '/api/v1/loan/collectioncase/assign',
      {
        config: { access: { permission: 'loan:collect' }, errors: ['NOT_FOUND', 'LOAN_CASE_CLOSED'] },
        schema: {
          operationId: 'assignLoanCollectionCase',
          tags: ['loans'],
          summary: 'Assign an open collection case to a staff member',
          body: AssignBody,
          response: { 200: CaseView },
        },
      },
      async (request) => cases.assign(request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/loan/collectioncase/note',
      {
        config: { access: { permission: 'loan:collect' }, errors: ['NOT_FOUND'] },
        schema: {
          operationId: 'noteLoanCollectionCase',
          tags: ['loans'],
          summary: 'Add a note to a collection case',
          body: NoteBody,
          response: { 200: CaseView },
        },
      },
      async (request) => cases.note(request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/loan/collectioncase/promise',
      {
        config: { access: { permission: 'loan:collect' }, errors: ['NOT_FOUND', 'LOAN_CASE_CLOSED'] },
        schema: {
          operationId: 'addLoanPromiseToPay',
          tags: ['loans'],
          summary: 'Record a promise to pay (a date from today to 90 days ahead, and an amount)',
          description:
            'The customer is reminded the day before the date. Close of business settles the promise: `kept` once ' +
            'repayments since it was made reach the amount, `broken` when the date passes short of it.',
          body: PromiseBody,
          response: { 201: PromiseView },
        },
      },
      async (request, reply) => reply.code(201).send(await cases.promise(request.body, contextOf(request))),
    );

    app.post(
      '/api/v1/loan/collectioncase/close',
      {
        config: { access: { permission: 'loan:collect' }, errors: ['NOT_FOUND', 'LOAN_CASE_CLOSED'] },
        schema: {
          operationId: 'closeLoanCollectionCase',
          tags: ['loans'],
          summary: 'Close a collection case (its pending promises are cancelled)',
          body: CloseBody,
          response: { 200: CaseView },
        },
      },
      async (request) => cases.close(request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/loan/loan/reschedule',
      {
        config: {
          access: { permission: 'loan:reschedule' },
          idempotency: 'optional',
          errors: [
            'LOAN_NOT_FOUND',
            'LOAN_WRONG_STATE',
            'LOAN_RESCHEDULE_INVALID',
            'APPROVAL_ALREADY_PENDING',
          ],
        },
        schema: {
          operationId: 'rescheduleLoan',
          tags: ['loans'],
          summary:
            'Reschedule an active loan: a new term (and rate) from its outstanding principal (maker-checker: 202)',
          description:
            'Files a `loan.reschedule` request; once a second staff member approves it, instalments fully paid ' +
            'stay, a partly paid one keeps what was paid, and the unpaid principal gets a new schedule of `term` ' +
            'instalments from that day at `annual_rate` (default the loan’s). Recognised unpaid interest, fees ' +
            'and penalties fall due with the first new instalment; the next close of business finds the loan current.',
          body: RescheduleBody,
          response: { 202: ApprovalViewSchema },
        },
      },
      async (request, reply) => {
        const loan = await workouts.checkReschedule(request.body);
        const context = contextOf(request);
        const payload: ReschedulePayload = {
          loan_id: loan.id,
          term: request.body.term,
          ...(request.body.annual_rate ? { annual_rate: request.body.annual_rate } : {}),
          reason: request.body.reason,
          requested_by: requirePrincipal(request).id,
        };
        const outcome = await approvals.run<ReschedulePayload, unknown>(
          'loan.reschedule',
          payload,
          {
            summary: `Reschedule loan ${loan.number} over ${request.body.term} instalments`,
            entityType: 'loan',
            entityId: loan.id,
          },
          context,
          { always: true, claim: request.idempotency },
        );
        if (outcome.kind !== 'pending') throw new Error('loan.reschedule ran without approval');
        return reply.code(202).send(outcome.request);
      },
    );

    app.post(
      '/api/v1/loan/loan/write-off',
      {
        config: {
          access: { permission: 'loan:write_off' },
          idempotency: 'optional',
          errors: ['LOAN_NOT_FOUND', 'LOAN_WRONG_STATE', 'APPROVAL_ALREADY_PENDING'],
        },
        schema: {
          operationId: 'writeOffLoan',
          tags: ['loans'],
          summary: 'Write a loan off (maker-checker: 202)',
          description:
            'Files a `loan.write_off` request; once a second staff member approves it, the loan’s outstanding ' +
            'principal, interest, fees and penalties post to write-off expense, the loan becomes `written_off` ' +
            'and its collection case closes. Money received later is a recovery.',
          body: WriteOffBody,
          response: { 202: ApprovalViewSchema },
        },
      },
      async (request, reply) => {
        const loan = await workouts.checkWriteOff(request.body.loan_id);
        const payload: WriteOffPayload = {
          loan_id: loan.id,
          reason: request.body.reason,
          requested_by: requirePrincipal(request).id,
        };
        const outcome = await approvals.run<WriteOffPayload, unknown>(
          'loan.write_off',
          payload,
          { summary: `Write off loan ${loan.number}`, entityType: 'loan', entityId: loan.id },
          contextOf(request),
          { always: true, claim: request.idempotency },
        );
        if (outcome.kind !== 'pending') throw new Error('loan.write_off ran without approval');
        return reply.code(202).send(outcome.request);
      },
    );

    app.post(
      '/api/v1/loan/loan/recovery',
      {
        config: {
          access: { permission: 'loan:write_off' },
          idempotency: 'required',
          errors: ['LOAN_NOT_FOUND', 'LOAN_WRONG_STATE', 'LOAN_RECOVERY_INSUFFICIENT_FUNDS'],
        },
        schema: {
          operationId: 'recoverLoan',
          tags: ['loans'],
          summary: 'Record money recovered on a written-off loan (wallet, cash or bank)',
          description:
            'Requires an Idempotency-Key. Posts Dr the customer’s wallet (never overdrawn: 409 ' +
            'LOAN_RECOVERY_INSUFFICIENT_FUNDS) or bank settlement / Cr recovery income. Never more than was ' +
            'written off and not yet recovered (422).',
          body: RecoveryBody,
          response: { 201: RecoveryView },
        },
      },
      async (request, reply) => {
        const principal = requirePrincipal(request);
        const key = String(request.headers['idempotency-key']);
        const result = await workouts.recover(
          request.body,
          `${principal.id}:${key}`,
          request.idempotency,
          contextOf(request),
        );
        return reply.code(201).send(result);
      },
    );
  };
}
