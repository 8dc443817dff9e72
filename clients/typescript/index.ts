/**
 * Typed client for the CodeForge Suite API: openapi-fetch over the types that openapi-typescript generates from
 * openapi/openapi.json into schema.ts (`npm run client:generate`). Paths, parameters, bodies and answers are
 * checked by the compiler; each call resolves to `{ data, error, response }`, `error` being the standard error body.
 *
 *   const api = createCodeForgeClient({ baseUrl: 'https://api.bank.example' });
 *   const { data } = await api.POST('/api/v1/auth/customer/login', { body: { phone, pin } });
 *   if (data && 'access_token' in data) api.setToken(data.access_token);
 */
import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema.ts';

export type { components, operations, paths };

/** The body of every error answer: `status_code`, `error_code`, `message`, `details`, `request_id`. */
export type ApiError = components['schemas']['ErrorBody'];

export interface CodeForgeClientOptions extends ClientOptions {
  /** A bearer access token sent on every request; `setToken` changes it later. */
  token?: string;
}

export interface CodeForgeClient extends Client<paths> {
  /** Sets the bearer access token sent on later requests; `undefined` sends none. */
  setToken(token: string | undefined): void;
}

export function createCodeForgeClient(options: CodeForgeClientOptions = {}): CodeForgeClient {
  const { token: initialToken, ...clientOptions } = options;
  let token = initialToken;
  const client = createClient<paths>(clientOptions);
  const bearer: Middleware = {
    onRequest({ request }) {
      // A per-call `headers: { authorization }` wins over the client's token.
      if (token && !request.headers.has('authorization')) {
        request.headers.set('authorization', `Bearer ${token}`);
      }
      return request;
    },
  };
  client.use(bearer);
  return Object.assign(client, {
    setToken(next: string | undefined) {
      token = next;
    },
  });
}

/**
 * A `bodySerializer` for multipart operations (document upload): the text fields first, then the files, as the
 * API reads fields only before the file part.
 *
 *   api.POST('/api/v1/document/document/upload', { body: { customer_id, document_type, file }, bodySerializer: formData })
 */
export function formData(body: Record<string, string | Blob>): FormData {
  const form = new FormData();
  const entries = Object.entries(body);
  for (const [name, value] of entries) if (typeof value === 'string') form.append(name, value);
  for (const [name, value] of entries) if (typeof value !== 'string') form.append(name, value);
  return form;
}
