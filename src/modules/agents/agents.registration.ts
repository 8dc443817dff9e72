/**
 * Agent-assisted customer registration: an operator (agent_op:transact) registers the customer at the counter through
 * the onboarding module's rules (`onboarding.agent`), recorded with channel `agent`, the operator's agent and the
 * operator as registrar. The operator types the details from the customer's ID, the customer reads back the phone
 * OTP sent to their phone, and the customer sets the PIN themselves on USSD (the operator never sees it). An operator
 * reaches only their own agent's registrations (another agent's is a 404).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RequestContext } from '../../platform/audit.ts';
import { contextOf, type Principal, requirePrincipal } from '../../platform/http.ts';
import {
  type AgentRegistrationRefusal,
  type AgentRegistrationView,
  agentRegistrationView,
  type OnboardingApi,
} from '../onboarding/index.ts';
import { agentsErrors } from './agents.errors.ts';
import type { AgentDirectory, OperatorScope, OperatorScopes } from './agents.ports.ts';

const TAGS = ['agents'];
const ACCESS = { permission: 'agent_op:transact' } as const;
/** What resolving and checking the operator may answer. */
const OPERATOR = [
  'FORBIDDEN',
  'AGENT_SCOPE_REQUIRED',
  'AGENT_OPERATOR_NOT_FOUND',
  'AGENT_NOT_FOUND',
  'AGENT_STORE_NOT_FOUND',
  'AGENT_NOT_ACTIVE',
] as const;

export const RegisterCustomerBody = Type.Object(
  {
    phone: Type.String({
      minLength: 6,
      maxLength: 20,
      description: 'The customer’s mobile number (E.164 or national)',
    }),
    full_name: Type.String({ minLength: 3, maxLength: 200, description: 'As on the ID: two names at least' }),
    national_id: Type.String({ minLength: 4, maxLength: 30 }),
    date_of_birth: Type.String({ format: 'date', description: 'YYYY-MM-DD' }),
    language: Type.Union([Type.Literal('en'), Type.Literal('fr'), Type.Literal('sw')], {
      description: 'The customer’s language (messages, USSD)',
    }),
  },
  { additionalProperties: false },
);

export const AgentRegistrationViewSchema = Type.Object({
  registration_id: Type.String({ format: 'uuid' }),
  state: Type.String({
    description:
      'The onboarding state: identity_* (waiting for the phone code), email_verified (waiting for the customer to ' +
      'set the PIN on USSD), completed or in_review',
  }),
  phone: Type.String({ description: 'Masked' }),
  registrar_agent_id: Type.String({ format: 'uuid' }),
  registrar_operator_id: Type.String({ format: 'uuid' }),
  created_at: Type.String({ format: 'date-time' }),
});

export const RegistrationStarted = Type.Object({
  registration: AgentRegistrationViewSchema,
  otp: Type.Object({
    challenge_id: Type.String(),
    expires_at: Type.String({ format: 'date-time' }),
    sent_to: Type.String({ description: 'The masked phone the code was sent to' }),
  }),
});

export const VerifyPhoneBody = Type.Object(
  {
    challenge_id: Type.String({ minLength: 1, maxLength: 100 }),
    code: Type.String({ pattern: '^[0-9]{6}$', description: 'The code the customer read from their phone' }),
  },
  { additionalProperties: false },
);

const RegistrationParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

function refusal(reason: AgentRegistrationRefusal) {
  switch (reason) {
    case 'exists':
      return agentsErrors.AGENT_REGISTRATION_CUSTOMER_EXISTS();
    case 'not_eligible':
      return agentsErrors.AGENT_REGISTRATION_NOT_ELIGIBLE();
    case 'invalid_details':
      return agentsErrors.AGENT_REGISTRATION_DETAILS_INVALID();
    case 'in_progress':
      return agentsErrors.AGENT_REGISTRATION_IN_PROGRESS();
    case 'unavailable':
      return agentsErrors.AGENT_REGISTRATION_UNAVAILABLE();
  }
}

export class AgentRegistrations {
  readonly #onboarding: OnboardingApi;
  readonly #scopes: OperatorScopes;
  readonly #directory: AgentDirectory;

  constructor(options: { onboarding: OnboardingApi; scopes: OperatorScopes; directory: AgentDirectory }) {
    this.#onboarding = options.onboarding;
    this.#scopes = options.scopes;
    this.#directory = options.directory;
  }

  /** The operator, at an operational agent and store (an agent admin: the agent). */
  async #operator(principal: Principal): Promise<OperatorScope> {
    const scope = await this.#scopes.scopeOf(principal);
    const agent = await this.#directory.agent(scope.agentId);
    const store = scope.storeId ? await this.#directory.store(scope.storeId) : null;
    await this.#directory.assertOperational(agent, store);
    return scope;
  }

  async register(
    principal: Principal,
    body: {
      phone: string;
      full_name: string;
      national_id: string;
      date_of_birth: string;
      language: 'en' | 'fr' | 'sw';
    },
    context: RequestContext,
  ) {
    const scope = await this.#operator(principal);
    const answer = await this.#onboarding.agent.startFromAgent(
      {
        phone: body.phone,
        fullName: body.full_name,
        nationalId: body.national_id,
        dateOfBirth: body.date_of_birth,
        language: body.language,
        agentId: scope.agentId,
        operatorId: scope.operatorId,
      },
      context,
    );
    if (answer.outcome === 'refused') throw refusal(answer.reason);
    return { registration: answer.registration, otp: answer.otp };
  }

  async #own(principal: Principal, id: string) {
    const scope = await this.#operator(principal);
    const row = await this.#onboarding.agent.ofAgent(id, scope.agentId);
    if (!row) throw agentsErrors.AGENT_REGISTRATION_NOT_FOUND();
    return row;
  }

  async verifyPhone(
    principal: Principal,
    id: string,
    body: { challenge_id: string; code: string },
    context: RequestContext,
  ): Promise<AgentRegistrationView> {
    const row = await this.#own(principal, id);
    return this.#onboarding.agent.verifyFromAgent(row, body, context);
  }

  async get(principal: Principal, id: string): Promise<AgentRegistrationView> {
    return agentRegistrationView(await this.#own(principal, id));
  }
}

export function registrationRoutes(registrations: AgentRegistrations): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/agent/customer/register',
      {
        config: {
          access: ACCESS,
          errors: [
            ...OPERATOR,
            'AGENT_REGISTRATION_CUSTOMER_EXISTS',
            'AGENT_REGISTRATION_NOT_ELIGIBLE',
            'AGENT_REGISTRATION_DETAILS_INVALID',
            'AGENT_REGISTRATION_IN_PROGRESS',
            'AGENT_REGISTRATION_UNAVAILABLE',
            'OTP_COOLDOWN',
            'OTP_RATE_LIMITED',
          ],
        },
        schema: {
          operationId: 'agentRegisterCustomer',
          tags: TAGS,
          summary:
            'Agent-assisted registration: the customer’s details, and a code sent to the customer’s phone',
          description:
            'Onboarding’s rules apply (served mobile number, deny list, not a customer yet, national ID by the bank ' +
            'or declared). The registration records channel `agent` and the registrar (agent and operator). Next: ' +
            'the customer reads the code back (verify-phone), then sets the PIN on USSD from that phone.',
          body: RegisterCustomerBody,
          response: { 201: RegistrationStarted },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await registrations.register(requirePrincipal(request), request.body, contextOf(request))),
    );

    app.post(
      '/api/v1/agent/customer/register/:id/verify-phone',
      {
        config: {
          access: ACCESS,
          errors: [
            ...OPERATOR,
            'AGENT_REGISTRATION_NOT_FOUND',
            'REGISTRATION_STEP_OUT_OF_ORDER',
            'REGISTRATION_EXPIRED',
            'OTP_INVALID',
            'OTP_LOCKED',
          ],
        },
        schema: {
          operationId: 'agentVerifyRegistrationPhone',
          tags: TAGS,
          summary:
            'The code the customer read from their phone: the phone is verified, the customer sets the PIN on USSD',
          params: RegistrationParams,
          body: VerifyPhoneBody,
          response: { 200: AgentRegistrationViewSchema },
        },
      },
      async (request) =>
        registrations.verifyPhone(
          requirePrincipal(request),
          request.params.id,
          request.body,
          contextOf(request),
        ),
    );

    app.get(
      '/api/v1/agent/customer/register/:id',
      {
        config: { access: ACCESS, errors: [...OPERATOR, 'AGENT_REGISTRATION_NOT_FOUND'] },
        schema: {
          operationId: 'agentGetRegistration',
          tags: TAGS,
          summary:
            'One of the agent’s registrations: where it stands (completed once the customer set the PIN)',
          params: RegistrationParams,
          response: { 200: AgentRegistrationViewSchema },
        },
      },
      async (request) => registrations.get(requirePrincipal(request), request.params.id),
    );
  };
}
