/**
 * What each USSD gateway puts on the wire (INTEGRATIONS.md §2), from the gateway's side: the request it POSTs to our
 * callback for one step of a session, and how it reads our answer. The simulator speaks exactly this so that a demo or
 * a benchmark goes through the same adapter code a real gateway reaches; nothing here knows about the engine.
 */

export const SIM_GATEWAYS = ['at', 'hubtel', 'arkesel', 'nalo'] as const;
export type SimGateway = (typeof SIM_GATEWAYS)[number];

export function isSimGateway(value: unknown): value is SimGateway {
  return typeof value === 'string' && (SIM_GATEWAYS as readonly string[]).includes(value);
}

/** One HTTP request as a gateway sends it (path relative to the API's origin). */
export interface WireRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface WireResponse {
  status: number;
  body: string;
}

/** What the subscriber's handset shows after a step: a screen waiting for input, or the last one. */
export interface SimScreen {
  continue: boolean;
  message: string;
}

/** Where a step sits in its session, as the gateway sees it. */
export interface StepFacts {
  sessionId: string;
  /** E.164 with the plus (`+254712345678`). */
  phone: string;
  serviceCode: string;
  network: string;
  /** Every input the subscriber typed in this session so far, this step's included (empty on the dial). */
  inputs: readonly string[];
  /** 1 on the dial, then +1 per request of the session (Hubtel numbers its requests). */
  sequence: number;
  /** `dial`: the first request; `input`: the latest of `inputs`; `release`/`timeout`: the handset left (Hubtel). */
  kind: 'dial' | 'input' | 'release' | 'timeout';
}

/** The gateways outside Kenya send the number without the plus (Ghana: `233…`). */
const bare = (phone: string) => phone.replace(/^\+/, '');

const json = (value: unknown) => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

/** The request body a gateway sends for one step. */
export function encodeStep(gateway: SimGateway, step: StepFacts): Omit<WireRequest, 'method' | 'path'> {
  const latest = step.kind === 'input' ? (step.inputs[step.inputs.length - 1] ?? '') : '';
  switch (gateway) {
    case 'at':
      // Africa's Talking sends the whole path every time: `""` on the dial, then every input joined by `*`.
      return {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          sessionId: step.sessionId,
          serviceCode: step.serviceCode,
          phoneNumber: step.phone,
          networkCode: step.network,
          text: step.inputs.join('*'),
        }).toString(),
      };
    case 'hubtel':
      return json({
        Type:
          step.kind === 'dial'
            ? 'Initiation'
            : step.kind === 'release'
              ? 'Release'
              : step.kind === 'timeout'
                ? 'Timeout'
                : 'Response',
        // On initiation Hubtel sends the string the subscriber dialled; afterwards the latest input only.
        Message: step.kind === 'dial' ? step.serviceCode : latest,
        ServiceCode: step.serviceCode.replace(/^\*|#$/g, ''),
        Operator: step.network,
        ClientState: '',
        Mobile: bare(step.phone),
        SessionId: step.sessionId,
        Sequence: step.sequence,
      });
    case 'arkesel':
      return json({
        sessionID: step.sessionId,
        userID: 'codeforge-sim',
        newSession: step.kind === 'dial',
        msisdn: bare(step.phone),
        userData: step.kind === 'dial' ? step.serviceCode : latest,
        network: step.network,
      });
    case 'nalo':
      // Nalo has no session id: the session is the account's and the number's (MSGTYPE true on the dial).
      return json({
        USERID: 'codeforge-sim',
        MSISDN: bare(step.phone),
        MSGTYPE: step.kind === 'dial',
        USERDATA: step.kind === 'dial' ? step.serviceCode : latest,
        NETWORK: step.network,
      });
  }
}

export class WireError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(message: string, status: number, body: string) {
    super(message);
    this.name = 'WireError';
    this.status = status;
    this.body = body;
  }
}

function parseJson(body: string, status: number): Record<string, unknown> {
  try {
    const value = JSON.parse(body) as unknown;
    if (value && typeof value === 'object') return value as Record<string, unknown>;
  } catch {}
  throw new WireError(`the answer is not a JSON object: ${body.slice(0, 120)}`, status, body);
}

/**
 * Reads our answer the way the gateway does. A non-2xx status, or a body the gateway would not understand, is what
 * a real gateway turns into an ended session; the simulator reports it as an error instead so that a demo or a test
 * sees the fault rather than a blank screen.
 */
export function decodeReply(gateway: SimGateway, response: WireResponse): SimScreen {
  const { status, body } = response;
  if (status < 200 || status >= 300)
    throw new WireError(`the API answered ${status}: ${body.slice(0, 200)}`, status, body);
  switch (gateway) {
    case 'at': {
      const kind = body.slice(0, 4);
      if (kind !== 'CON ' && kind !== 'END ')
        throw new WireError(
          `an Africa's Talking answer starts with CON or END: ${body.slice(0, 120)}`,
          status,
          body,
        );
      return { continue: kind === 'CON ', message: body.slice(4) };
    }
    case 'hubtel': {
      const reply = parseJson(body, status);
      const type = String(reply.Type ?? '').toLowerCase();
      if (type !== 'response' && type !== 'release')
        throw new WireError(
          `a Hubtel answer has Type response or release: ${body.slice(0, 120)}`,
          status,
          body,
        );
      return { continue: type === 'response', message: String(reply.Message ?? '') };
    }
    case 'arkesel': {
      const reply = parseJson(body, status);
      if (typeof reply.continueSession !== 'boolean')
        throw new WireError(
          `an Arkesel answer has a boolean continueSession: ${body.slice(0, 120)}`,
          status,
          body,
        );
      return { continue: reply.continueSession, message: String(reply.message ?? '') };
    }
    case 'nalo': {
      const reply = parseJson(body, status);
      if (typeof reply.MSGTYPE !== 'boolean')
        throw new WireError(`a Nalo answer has a boolean MSGTYPE: ${body.slice(0, 120)}`, status, body);
      return { continue: reply.MSGTYPE, message: String(reply.MSG ?? '') };
    }
  }
}
