/** The shape every gateway adapter (`ussd.gateways.ts`) turns its wire format into, and what the engine answers. */

export const GATEWAYS = ['at', 'hubtel', 'arkesel', 'nalo'] as const;
export type GatewayName = (typeof GATEWAYS)[number];

export interface UssdRequest {
  gateway: GatewayName;
  sessionId: string;
  /** E.164 (`+254712345678`), normalised by the adapter. */
  msisdn: string;
  serviceCode: string | null;
  /** The network code or name the gateway reported, or null. */
  network: string | null;
  /** The gateway says this is the session's first request (Africa's Talking: `text` is empty). */
  isNew: boolean;
  /**
   * Africa's Talking sends every input so far joined by `*` (`path`); the others send the latest input only
   * (`latest`). The engine works out the latest input of a path from what it already consumed (an input may itself
   * contain `*`).
   */
  input: { latest: string } | { path: string };
  /** Where the gateway numbers the steps (Hubtel's `Sequence`, 1 on initiation), that number; null otherwise. */
  sequence: number | null;
  /** The gateway closed the session (Hubtel `Release` or `Timeout`): the engine forgets it and answers an end. */
  closed: boolean;
}

/** The engine's answer, which the adapter renders in its wire format. */
export interface UssdReply {
  continue: boolean;
  message: string;
}
