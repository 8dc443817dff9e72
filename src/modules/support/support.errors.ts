/** The support module's closed set of error codes: support chat's refusals. */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';
import { commonErrors } from '../../platform/errors.ts';

const definitions = {
  CONVERSATION_CLOSED: {
    status: 409,
    message: 'The conversation is closed',
    description: 'The conversation is closed.',
  },
  CLIENT_ID_REUSED: {
    status: 409,
    message: 'This client_id was already used for a different message',
    description: 'This client_id was used for a different message.',
  },
  TOO_MANY_OPEN_CONVERSATIONS: {
    status: 409,
    message: 'At most {max} conversations may be open at once',
    description: 'Too many conversations are open at once.',
  },
} as const satisfies ErrorDefinitions;

type SupportErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends SupportErrorCodes {}
}

export const supportErrorCatalogue = defineErrors('support', definitions);
const codes = supportErrorCatalogue;

/** Support chat refusals (the chat service adds its validation ones). */
export const chatErrors = {
  notFound: () => commonErrors.notFound('Conversation'),
  customerNotFound: () => commonErrors.notFound('Customer'),
  closed: () => codes.CONVERSATION_CLOSED(),
  clientIdReused: () => codes.CLIENT_ID_REUSED(),
  tooManyOpen: (max: number) => codes.TOO_MANY_OPEN_CONVERSATIONS({ params: { max }, details: { max } }),
};
