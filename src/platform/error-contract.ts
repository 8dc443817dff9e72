/**
 * The error contract, checked at run time in tests: every answer's `error_code` must be one its route may answer
 * (`routeErrorCodes`: the generic codes and the route's declared `config.errors`), which is what the OpenAPI document
 * lists for it. The test harness passes a recorder to buildApp and fails the test file when any answer broke it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { routeErrorCodes } from './api-contract.ts';
import type { ErrorCode } from './error-catalogue.ts';

export interface ErrorContractViolation {
  route: string;
  code: string;
  status: number;
}

/** Records the answers that broke the contract: a code the route does not declare, or one not in the catalogue. */
export class ErrorContractRecorder {
  readonly violations: ErrorContractViolation[] = [];

  check(request: FastifyRequest, status: number, code: string): void {
    const options = request.routeOptions;
    if (!options.url) return; // no route matched: the not-found handler's 404
    if ((options.schema as { hide?: boolean } | undefined)?.hide) return; // not in the document (/docs)
    const allowed = routeErrorCodes({ method: options.method, url: options.url, config: options.config });
    // Declared codes are catalogue codes (typed), so a code outside every catalogue is never allowed.
    if (allowed.has(code as ErrorCode)) return;
    const route = `${request.method} ${options.url}`;
    if (!this.violations.some((known) => known.route === route && known.code === code))
      this.violations.push({ route, code, status });
  }

  /** A readable account of the violations, or null when there are none. */
  report(): string | null {
    if (this.violations.length === 0) return null;
    const lines = this.violations.map(({ route, code, status }) => `  ${route} answered ${status} ${code}`);
    return (
      'Error contract broken: these routes answered error codes they do not declare. Add each code to the ' +
      `operation's entry in src/api-errors.ts (and to its module's *.errors.ts if it is new):\n${lines.join('\n')}`
    );
  }
}

function answeredCode(reply: FastifyReply, payload: unknown): string | null {
  if (reply.statusCode < 400 || typeof payload !== 'string' || !payload.startsWith('{')) return null;
  try {
    const code = (JSON.parse(payload) as { error_code?: unknown }).error_code;
    return typeof code === 'string' ? code : null;
  } catch {
    return null;
  }
}

/** Checks every error answer (thrown, replayed or sent by a hook) against the route's declared codes. */
export function registerErrorContract(app: FastifyInstance, recorder: ErrorContractRecorder): void {
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const code = answeredCode(reply, payload);
    if (code) recorder.check(request, reply.statusCode, code);
    return payload;
  });
}
