/** Contact sub-resources of a customer, and the fields customers may change about themselves. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { commonErrors } from '../../platform/errors.ts';
import { assertOwnership, contextOf, requirePrincipal } from '../../platform/http.ts';
import type { CustomerContacts } from './customers.contacts.ts';
import { IdParams, OwnProfileView, ownProfile } from './customers.schemas.ts';
import type { CustomersService } from './customers.service.ts';

const Kind = Type.Union([Type.Literal('phone'), Type.Literal('email'), Type.Literal('address')]);
const Contacts = Type.Object({
  phones: Type.Array(
    Type.Object({
      id: Type.String(),
      phone: Type.String(),
      primary: Type.Boolean(),
      verified: Type.Boolean(),
    }),
  ),
  emails: Type.Array(
    Type.Object({
      id: Type.String(),
      email: Type.String(),
      primary: Type.Boolean(),
      verified: Type.Boolean(),
    }),
  ),
  addresses: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.String(),
      line1: Type.String(),
      line2: Type.Union([Type.String(), Type.Null()]),
      city: Type.String(),
      region: Type.Union([Type.String(), Type.Null()]),
      postal_code: Type.Union([Type.String(), Type.Null()]),
      country: Type.String(),
      primary: Type.Boolean(),
    }),
  ),
});
const CustomerRef = {
  customer_id: Type.String({ format: 'uuid' }),
  primary: Type.Optional(Type.Boolean({ default: false })),
};
const PhoneAdd = Type.Object({ ...CustomerRef, phone: Type.String({ minLength: 8, maxLength: 20 }) });
const EmailAdd = Type.Object({ ...CustomerRef, email: Type.String({ format: 'email', maxLength: 254 }) });
const AddressAdd = Type.Object({
  ...CustomerRef,
  kind: Type.Union([
    Type.Literal('home'),
    Type.Literal('work'),
    Type.Literal('postal'),
    Type.Literal('business'),
  ]),
  line1: Type.String({ minLength: 1, maxLength: 200 }),
  line2: Type.Optional(Type.String({ maxLength: 200 })),
  city: Type.String({ minLength: 1, maxLength: 100 }),
  region: Type.Optional(Type.String({ maxLength: 100 })),
  postal_code: Type.Optional(Type.String({ maxLength: 20 })),
  country: Type.String({ pattern: '^[A-Z]{2}$' }),
});
const ContactRef = Type.Object({
  customer_id: Type.String({ format: 'uuid' }),
  kind: Kind,
  contact_id: Type.String({ format: 'uuid' }),
});
const SelfUpdate = Type.Object(
  {
    occupation: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
    income_band: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Null()])),
  },
  {
    minProperties: 1,
    description: 'Names, birth date, nationality and IDs change through staff, with evidence',
  },
);
const manage = { access: { permission: 'customer:update' } } as const;

export function contactRoutes(
  contacts: CustomerContacts,
  customers: CustomersService,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/customer/customer/:id/contacts',
      {
        config: { access: { permission: 'customer:read', allowCustomer: true } },
        schema: {
          operationId: 'listCustomerContacts',
          tags: ['customer'],
          summary: 'Phones, emails and addresses',
          params: IdParams,
          response: { 200: Contacts },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        assertOwnership(principal, request.params.id);
        return contacts.list(request.params.id);
      },
    );
    app.post(
      '/api/v1/customer/phone/add',
      {
        config: manage,
        schema: {
          operationId: 'addCustomerPhone',
          tags: ['customer'],
          summary: 'Add a phone (E.164)',
          body: PhoneAdd,
          response: { 200: Contacts },
        },
      },
      async (request) =>
        contacts.add(
          request.body.customer_id,
          'phone',
          request.body.phone,
          request.body.primary ?? false,
          contextOf(request),
        ),
    );
    app.post(
      '/api/v1/customer/email/add',
      {
        config: manage,
        schema: {
          operationId: 'addCustomerEmail',
          tags: ['customer'],
          summary: 'Add an email',
          body: EmailAdd,
          response: { 200: Contacts },
        },
      },
      async (request) =>
        contacts.add(
          request.body.customer_id,
          'email',
          request.body.email,
          request.body.primary ?? false,
          contextOf(request),
        ),
    );
    app.post(
      '/api/v1/customer/address/add',
      {
        config: manage,
        schema: {
          operationId: 'addCustomerAddress',
          tags: ['customer'],
          summary: 'Add an address',
          body: AddressAdd,
          response: { 200: Contacts },
        },
      },
      async (request) => {
        const { customer_id, primary, ...address } = request.body;
        return contacts.add(customer_id, 'address', address, primary ?? false, contextOf(request));
      },
    );
    app.post(
      '/api/v1/customer/contact/remove',
      {
        config: manage,
        schema: {
          operationId: 'removeCustomerContact',
          tags: ['customer'],
          summary: 'Remove a phone, email or address',
          body: ContactRef,
          response: { 200: Contacts },
        },
      },
      async (request) =>
        contacts.remove(
          request.body.customer_id,
          request.body.kind,
          request.body.contact_id,
          contextOf(request),
        ),
    );
    app.post(
      '/api/v1/customer/contact/primary',
      {
        config: manage,
        schema: {
          operationId: 'makeCustomerContactPrimary',
          tags: ['customer'],
          summary: 'Make a contact the primary one of its kind',
          body: ContactRef,
          response: { 200: Contacts },
        },
      },
      async (request) =>
        contacts.makePrimary(
          request.body.customer_id,
          request.body.kind,
          request.body.contact_id,
          contextOf(request),
        ),
    );
    app.patch(
      '/api/v1/customer/me',
      {
        config: { access: { permission: 'customer:update', allowCustomer: true } },
        schema: {
          operationId: 'updateMyProfile',
          tags: ['customer'],
          summary: 'Change the details customers may change themselves',
          body: SelfUpdate,
          response: { 200: OwnProfileView },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        if (principal.type !== 'customer') throw commonErrors.notFound('Customer');
        return ownProfile(await customers.update(principal.id, request.body, contextOf(request)));
      },
    );
  };
}
