/**
 * The messages of `/api/v1/ws`: a client sends JSON objects with a string `type` (and an optional `ref`, echoed in
 * the answer); the server answers and pushes JSON frames, errors as `{ type: 'error', code, message }`.
 */
import type { RawData } from 'ws';
import type { AppError } from '../../platform/errors.ts';
import { frameError } from './realtime.errors.ts';

const TOKEN_MAX_LENGTH = 8192;
const REF_MAX_LENGTH = 64;

export type Frame = Record<string, unknown> & { type: string };
export type ClientMessage = Record<string, unknown> & { type: string };

export { frameError } from './realtime.errors.ts';

export function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** The message, or the error to answer it with. */
export function parseMessage(text: string | null): ClientMessage | AppError {
  if (text === null) return frameError('BAD_MESSAGE', 'Binary messages are not supported');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return frameError('INVALID_JSON', 'The message is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return frameError('BAD_MESSAGE', 'A message is a JSON object with a string "type"');
  const message = value as Record<string, unknown>;
  if (typeof message.type !== 'string')
    return frameError('BAD_MESSAGE', 'A message is a JSON object with a string "type"');
  return message as ClientMessage;
}

export function errorFrame(error: AppError): Frame {
  return { type: 'error', code: error.errorCode, message: error.message };
}

/** The `ref` the client gave the message, echoed in the answer; ignored unless a short string. */
export function refOf(message: ClientMessage): string | undefined {
  return typeof message.ref === 'string' && message.ref.length <= REF_MAX_LENGTH ? message.ref : undefined;
}

/** The access token of an `auth` message; null when it is missing or not a plausible token. */
export function tokenOf(message: ClientMessage): string | null {
  const token = message.token;
  if (typeof token !== 'string' || token.length === 0 || token.length > TOKEN_MAX_LENGTH) return null;
  return token;
}

export function channelOf(message: ClientMessage): string {
  const channel = message.channel;
  if (typeof channel !== 'string' || channel.length === 0 || channel.length > 200)
    throw frameError('VALIDATION_ERROR', '"channel" is required');
  return channel;
}
