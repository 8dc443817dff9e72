/** HTTP routes of loan products (`/api/v1/loan/product/*`). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import {
  ProductAddBody,
  ProductIdParams,
  ProductPage,
  ProductQuery,
  ProductRetireBody,
  ProductUpdateBody,
  ProductVersionList,
  ProductView,
} from './loans.products.schemas.ts';
import type { LoanProductsService } from './loans.products.ts';

const TAGS = ['loans'];

export function loanProductRoutes(products: LoanProductsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/loan/product/add',
      {
        config: {
          access: { permission: 'loan:product_manage' },
          errors: ['LOAN_PRODUCT_EXISTS'],
        },
        schema: {
          operationId: 'addLoanProduct',
          tags: TAGS,
          summary: 'Create a loan product (version 1 of its terms)',
          description:
            'Terms are checked as a whole: amount and term ranges in order, rates from 0 to 1000 percent, grace ' +
            'periods shorter than the shortest term, a deducted fee below the smallest amount, the allocation ' +
            'order naming each part once, a known KYC tier, a currency the installation offers wallets in. Each ' +
            'failed rule is a 422 VALIDATION_ERROR entry naming its field.',
          body: ProductAddBody,
          response: { 201: ProductView },
        },
      },
      async (request, reply) => reply.code(201).send(await products.add(request.body, contextOf(request))),
    );

    app.get(
      '/api/v1/loan/product/list',
      {
        config: { access: { permission: 'loan:read', allowCustomer: true } },
        schema: {
          operationId: 'listLoanProducts',
          tags: TAGS,
          summary: 'Loan products with their current terms, newest first (customers: active ones)',
          querystring: ProductQuery,
          response: { 200: ProductPage },
        },
      },
      async (request) => products.list(request.query, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/loan/product/:id',
      {
        config: {
          access: { permission: 'loan:read', allowCustomer: true },
          errors: ['LOAN_PRODUCT_NOT_FOUND'],
        },
        schema: {
          operationId: 'getLoanProduct',
          tags: TAGS,
          summary: 'One loan product with its current terms (customers: active ones)',
          params: ProductIdParams,
          response: { 200: ProductView },
        },
      },
      async (request) => products.get(request.params.id, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/loan/product/:id/versions',
      {
        config: { access: { permission: 'loan:read' }, errors: ['LOAN_PRODUCT_NOT_FOUND'] },
        schema: {
          operationId: 'listLoanProductVersions',
          tags: TAGS,
          summary: 'Every version of a product’s terms, oldest first',
          params: ProductIdParams,
          response: { 200: ProductVersionList },
        },
      },
      async (request) => products.versions(request.params.id),
    );

    app.post(
      '/api/v1/loan/product/update',
      {
        config: {
          access: { permission: 'loan:product_manage' },
          errors: ['LOAN_PRODUCT_NOT_FOUND', 'LOAN_PRODUCT_RETIRED'],
        },
        schema: {
          operationId: 'updateLoanProduct',
          tags: TAGS,
          summary: 'Change a product: changed terms make a new version',
          description:
            'Each field given in `terms` replaces the current one (`null` removes the upfront fee or the late ' +
            'penalty; `eligibility` is replaced whole), and the result is checked like a new product’s terms. ' +
            'Terms that differ make version n+1 and move `current_version`: new applications get it, while ' +
            'applications and loans made before keep the version they were made with. A name change alone makes ' +
            'no version.',
          body: ProductUpdateBody,
          response: { 200: ProductView },
        },
      },
      async (request) => products.update(request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/loan/product/retire',
      {
        config: {
          access: { permission: 'loan:product_manage' },
          errors: ['LOAN_PRODUCT_NOT_FOUND', 'LOAN_PRODUCT_RETIRED'],
        },
        schema: {
          operationId: 'retireLoanProduct',
          tags: TAGS,
          summary: 'Retire a product: no new applications; running loans keep their terms',
          body: ProductRetireBody,
          response: { 200: ProductView },
        },
      },
      async (request) => products.retire(request.body, contextOf(request)),
    );
  };
}
