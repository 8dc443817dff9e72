/**
 * The clients' HTTP call against an API process: real sockets (fetch), a timeout, and an answer that keeps the exact
 * bytes and the `Idempotent-Replayed` header, or names the network error (the "unknown outcome" cases).
 */

export type Answer =
  | {
      kind: 'http';
      status: number;
      body: string;
      replayed: boolean;
      headers: Headers;
    }
  | { kind: 'error'; error: string };

export interface CallOptions {
  token?: string;
  body?: unknown;
  key?: string;
  timeoutMs?: number;
}

export async function call(
  baseUrl: string,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  options: CallOptions = {},
): Promise<Answer> {
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.key === undefined ? {} : { 'idempotency-key': options.key }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    return {
      kind: 'http',
      status: response.status,
      body: text,
      replayed: response.headers.get('idempotent-replayed') === 'true',
      headers: response.headers,
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    const name = (error as Error).name;
    return { kind: 'error', error: name === 'TimeoutError' ? 'timeout' : (cause?.code ?? name ?? 'error') };
  }
}

export function errorCode(body: string | undefined): string | undefined {
  try {
    return (JSON.parse(body ?? '') as { error_code?: string }).error_code;
  } catch {
    return undefined;
  }
}

/** The answer as a short label for histograms: `201`, `201 replay`, `422 INSUFFICIENT_BALANCE`, `net:ECONNRESET`. */
export function label(answer: Answer): string {
  if (answer.kind === 'error') return `net:${answer.error}`;
  if (answer.replayed) return `${answer.status} replay`;
  const code = answer.status >= 400 ? errorCode(answer.body) : undefined;
  return code ? `${answer.status} ${code}` : String(answer.status);
}
