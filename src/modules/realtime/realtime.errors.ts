/** The realtime module's closed set of error codes: the WebSocket's error frames (support chat's are support's). */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';
import { type AppError, commonErrors } from '../../platform/errors.ts';

const definitions = {
  UPGRADE_REQUIRED: {
    status: 426,
    message: 'This endpoint is a WebSocket: send an upgrade request',
    description: 'The endpoint is a WebSocket: send an upgrade request.',
  },
  // WebSocket error frames
  UNKNOWN_TYPE: {
    status: 400,
    message: 'Unknown message type',
    description: 'WebSocket: unknown message type.',
    websocket: true,
  },
  BAD_MESSAGE: {
    status: 400,
    message: 'A message is a JSON object with a string "type"',
    description: 'WebSocket: not a JSON object with a string `type` (or a binary message).',
    websocket: true,
  },
  INVALID_JSON: {
    status: 400,
    message: 'The message is not valid JSON',
    description: 'WebSocket: the message is not valid JSON.',
    websocket: true,
  },
  UNKNOWN_CHANNEL: {
    status: 400,
    message: 'Unknown channel',
    description: 'WebSocket: no such channel.',
    websocket: true,
  },
  TOO_MANY_SUBSCRIPTIONS: {
    status: 400,
    message: 'Too many subscriptions on this socket',
    description: 'WebSocket: the socket has the most subscriptions allowed.',
    websocket: true,
  },
} as const satisfies ErrorDefinitions;

type RealtimeErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends RealtimeErrorCodes {}
}

export const realtimeErrorCatalogue = defineErrors('realtime', definitions);
const codes = realtimeErrorCatalogue;

/** The codes a WebSocket error frame carries for a message the server cannot take. */
export type FrameErrorCode =
  | 'UNKNOWN_TYPE'
  | 'BAD_MESSAGE'
  | 'INVALID_JSON'
  | 'UNKNOWN_CHANNEL'
  | 'TOO_MANY_SUBSCRIPTIONS'
  | 'VALIDATION_ERROR';

export function frameError(code: FrameErrorCode, message: string): AppError {
  return code === 'VALIDATION_ERROR' ? commonErrors.validation(message) : codes[code]({ message });
}

export const realtimeErrors = {
  upgradeRequired: () => codes.UPGRADE_REQUIRED(),
};
