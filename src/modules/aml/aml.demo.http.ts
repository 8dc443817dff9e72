/**
 * How the AML demo dataset talks to the bank: through its HTTP routes only (the CLI is a client of the running API,
 * since the quick start's embedded database allows one process; the test passes `app.inject`). `DemoClient` wraps
 * the calls the dataset needs: staff, customers with a PIN, wallets, teller deposits, transfers (with the one-time
 * code read from the development message sink when the amount asks for one), and an agent's tellers.
 */
import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';

export interface DemoRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface DemoResponse {
  status: number;
  body: unknown;
}

/** One HTTP exchange with the API. */
export type DemoTransport = (request: DemoRequest) => Promise<DemoResponse>;

/** The transport of the CLI: `fetch` against a running API. */
export function fetchTransport(baseUrl: string): DemoTransport {
  const base = baseUrl.replace(/\/+$/, '');
  return async (request) => {
    try {
      return await exchange(request);
    } catch (error) {
      throw new DemoError(
        `${request.method} ${request.path}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };
  async function exchange(request: DemoRequest): Promise<DemoResponse> {
    const headers: Record<string, string> = { ...request.headers };
    if (request.token) headers.authorization = `Bearer ${request.token}`;
    if (request.body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${base}${request.path}`, {
      method: request.method,
      headers,
      // A request the API does not answer in a minute stops the demo (with the route) instead of hanging.
      signal: AbortSignal.timeout(60_000),
      ...(request.body === undefined
        ? {}
        : {
            body:
              typeof request.body === 'string' || Buffer.isBuffer(request.body)
                ? request.body
                : JSON.stringify(request.body),
          }),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      // not JSON (an XML download): kept as text
    }
    return { status: response.status, body };
  }
}

export class DemoError extends Error {}

/** The user agent of the customers' usual phone; a sign-in with another one is a new device. */
export const USUAL_PHONE = 'CodeForgeApp/3.2 (Android 14; aml-demo usual phone)';

type Json = Record<string, unknown>;

export interface DemoCustomer {
  id: string;
  name: string;
  phone: string;
  walletId: string;
  token: string;
}

export interface DemoTeller {
  storeId: string;
  token: string;
  /** The store's point: the teller's device fix is taken there. */
  point: { lat: number; lon: number };
}

export const DEMO_PIN = '5827';
const TELLER_PIN = '482915';

export class DemoClient {
  readonly #send: DemoTransport;
  readonly #wait: (ms: number) => Promise<void>;
  /** The administrator's (or any staff with the demo's permissions) bearer token. */
  readonly staff: string;

  constructor(send: DemoTransport, staffToken: string, wait: (ms: number) => Promise<void>) {
    this.#send = send;
    this.staff = staffToken;
    this.#wait = wait;
  }

  /** A call that must answer one of `ok` (default 200/201/202/204); anything else stops the demo with the answer. */
  async call<T = Json>(request: DemoRequest, ok: readonly number[] = [200, 201, 202, 204]): Promise<T> {
    const response = await this.raw(request);
    if (!ok.includes(response.status))
      throw new DemoError(
        `${request.method} ${request.path} answered ${response.status}: ${JSON.stringify(response.body)}`,
      );
    return response.body as T;
  }

  /** One exchange; a 429 RATE_LIMITED (a sign-in limit on a second run) is retried after the time it names. */
  async raw(request: DemoRequest): Promise<DemoResponse> {
    for (let tries = 0; ; tries++) {
      const response = await this.#send(request);
      const answer = response.body as {
        error_code?: string;
        details?: { retry_after_seconds?: number };
      } | null;
      const wait = answer?.details?.retry_after_seconds;
      if (
        response.status !== 429 ||
        answer?.error_code !== 'RATE_LIMITED' ||
        wait === undefined ||
        tries >= 5
      )
        return response;
      await this.#wait((wait + 1) * 1000);
    }
  }

  staffCall<T = Json>(method: DemoRequest['method'], path: string, body?: unknown, headers?: Json) {
    return this.call<T>({
      method,
      path,
      token: this.staff,
      ...(body === undefined ? {} : { body }),
      ...(headers ? { headers: headers as Record<string, string> } : {}),
    });
  }

  async login(username: string, password: string): Promise<string> {
    const body = await this.call<{ access_token: string }>({
      method: 'POST',
      path: '/api/v1/auth/login',
      body: { username, password },
    });
    return body.access_token;
  }

  async customerLogin(phone: string, userAgent = USUAL_PHONE): Promise<string> {
    const body = await this.call<{ access_token: string }>({
      method: 'POST',
      path: '/api/v1/auth/customer/login',
      body: { phone, pin: DEMO_PIN },
      headers: { 'user-agent': userAgent },
    });
    return body.access_token;
  }

  /** A customer with a PIN, signed in once from the usual phone, and a KES wallet. */
  async customer(
    first: string,
    last: string,
    phone: string,
    extra: { nationality?: string; date_of_birth?: string; signIn?: boolean } = {},
  ): Promise<DemoCustomer> {
    const created = await this.staffCall<{ id: string }>('POST', '/api/v1/customer/customer/add', {
      first_name: first,
      last_name: last,
      phone,
      ...(extra.nationality ? { nationality: extra.nationality } : {}),
      ...(extra.date_of_birth ? { date_of_birth: extra.date_of_birth } : {}),
    });
    const wallet = await this.staffCall<{ id: string }>('POST', '/api/v1/wallet/wallet/create', {
      customer_id: created.id,
      currency: 'KES',
    });
    let token = '';
    if (extra.signIn !== false) {
      await this.staffCall('POST', '/api/v1/customer/credentials/pin', {
        customer_id: created.id,
        pin: DEMO_PIN,
      });
      token = await this.customerLogin(phone);
    }
    return { id: created.id, name: `${first} ${last}`, phone, walletId: wallet.id, token };
  }

  /** Cash paid in at the counter by the staff member (a teller deposit). */
  deposit(walletId: string, amountMinor: number) {
    return this.staffCall<{ id: string; status: string }>(
      'POST',
      '/api/v1/wallet/transaction/deposit',
      { wallet_id: walletId, amount: amountMinor, currency: 'KES' },
      { 'idempotency-key': `aml-demo-${randomUUID()}` },
    );
  }

  /**
   * A customer's transfer with the PIN; at or above the one-time-code threshold the first call answers 428 and the
   * code is read from the development message sink (`settle` lets the notifications go out first).
   */
  async transfer(
    from: DemoCustomer,
    to: DemoCustomer,
    amountMinor: number,
    settle: () => Promise<void>,
  ): Promise<{ id: string; status: string }> {
    const key = `aml-demo-${randomUUID()}`;
    const body: Json = { to_phone: to.phone, amount: amountMinor, currency: 'KES', pin: DEMO_PIN };
    const request = (payload: Json): DemoRequest => ({
      method: 'POST',
      path: '/api/v1/wallet/transaction/transfer',
      token: from.token,
      body: payload,
      headers: { 'idempotency-key': key, 'user-agent': USUAL_PHONE },
    });
    const before = await this.#messages(from.phone);
    let first = await this.raw(request(body));
    for (let tries = 0; first.status === 429 && tries < 3; tries++) {
      // OTP_COOLDOWN: a code went to this customer moments ago; the answer says how long to wait.
      const wait = (first.body as { details?: { retry_after_seconds?: number } }).details
        ?.retry_after_seconds;
      if (wait === undefined) break;
      await this.#wait((wait + 1) * 1000);
      first = await this.raw(request(body));
    }
    if (first.status === 201) return first.body as { id: string; status: string };
    const answer = first.body as { error_code?: string; details?: { challenge_id?: string } };
    if (first.status !== 428 || !answer.details?.challenge_id)
      throw new DemoError(`transfer answered ${first.status}: ${JSON.stringify(first.body)}`);
    const code = await this.#otp(from.phone, before, settle);
    return this.call(request({ ...body, otp: { challenge_id: answer.details.challenge_id, code } }), [201]);
  }

  /** The SMS the development message sink holds for `phone` (each as its JSON, to tell a new one). */
  async #messages(phone: string): Promise<{ key: string; body: string }[]> {
    const messages = await this.staffCall<{ items: { body: string }[] }>(
      'GET',
      `/api/v1/dev/messages?to=${encodeURIComponent(phone)}&channel=sms`,
    );
    return messages.items.map((item) => ({ key: JSON.stringify(item), body: item.body }));
  }

  /** The code of the newest SMS with six digits that was not there `before`. */
  async #otp(phone: string, before: { key: string }[], settle: () => Promise<void>): Promise<string> {
    const seen = new Set(before.map((item) => item.key));
    for (let attempt = 0; attempt < 60; attempt++) {
      await settle();
      const code = (await this.#messages(phone))
        .filter((item) => !seen.has(item.key))
        .map((item) => /\b([0-9]{6})\b/.exec(item.body)?.[1])
        .find(Boolean);
      if (code) return code;
      await this.#wait(500);
    }
    throw new DemoError(
      `no one-time code reached the development message sink for ${phone} (is DEV_MESSAGE_SINK on?)`,
    );
  }

  /**
   * Moves a customer up to the Standard tier the way a branch does: the customer asks (initiate), uploads a national
   * ID and a selfie and submits; staff verify both documents and the phone, and approve. Standard sends up to
   * KES 150,000 a payment (Basic: KES 70,000), which the beneficiary screening needs (KES 100,000 and more).
   */
  async upgradeToStandard(customer: DemoCustomer): Promise<void> {
    const asCustomer = <T = Json>(path: string, body: unknown) =>
      this.call<T>({ method: 'POST', path, token: customer.token, body });
    const started = await asCustomer<{ application: { id: string } }>('/api/v1/customer/kyc/initiate', {
      customer_id: customer.id,
      target_tier: 'standard',
    });
    const documents: string[] = [];
    for (const [type, file] of [
      ['national_id', PDF],
      ['selfie', PNG],
    ] as const) {
      const form = multipart({ customer_id: customer.id, document_type: type }, file);
      const uploaded = await this.call<{ id: string }>({
        method: 'POST',
        path: '/api/v1/document/document/upload',
        token: customer.token,
        body: form.body,
        headers: { 'content-type': form.contentType },
      });
      documents.push(uploaded.id);
    }
    await asCustomer('/api/v1/customer/kyc/submit', { application_id: started.application.id });
    for (const id of documents)
      await this.staffCall('POST', '/api/v1/document/document/review', {
        document_id: id,
        decision: 'verified',
      });
    await this.staffCall('POST', '/api/v1/customer/phone/verify', { customer_id: customer.id });
    await this.staffCall('POST', '/api/v1/customer/kyc/review', {
      application_id: started.application.id,
      decision: 'approve',
    });
  }

  /** A runtime setting's value and whether it is overridden (`/api/v1/admin/config/{key}`). */
  setting<T>(key: string) {
    return this.staffCall<{ value: T; overridden: boolean; version: number }>(
      'GET',
      `/api/v1/admin/config/${key}`,
    );
  }

  async setSetting(key: string, value: unknown, overridden = true): Promise<void> {
    if (overridden) await this.staffCall('PATCH', `/api/v1/admin/config/${key}`, { value });
    else await this.call({ method: 'DELETE', path: `/api/v1/admin/config/${key}`, token: this.staff });
  }

  /** A teller at `storeId` with a bound Ed25519 device, signed in (challenge, signed nonce and PIN). */
  async teller(
    agentId: string,
    storeId: string,
    phone: string,
    name: string,
    point: { lat: number; lon: number },
  ): Promise<DemoTeller> {
    const operator = await this.staffCall<{ id: string }>('POST', '/api/v1/agent/operator/add', {
      agent_id: agentId,
      store_id: storeId,
      role: 'teller',
      full_name: name,
      phone,
      pin: TELLER_PIN,
    });
    const device = `till-${randomUUID().slice(0, 8)}`;
    const keys = generateKeyPairSync('ed25519');
    await this.staffCall('POST', `/api/v1/agent/operator/${operator.id}/device`, {
      device_id: device,
      public_key: keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    });
    return { storeId, point, token: await this.#tellerLogin(phone, device, keys.privateKey) };
  }

  async #tellerLogin(phone: string, device: string, key: KeyObject): Promise<string> {
    const { nonce } = await this.call<{ nonce: string }>({
      method: 'POST',
      path: '/api/v1/agent/auth/challenge',
      body: { phone, device_id: device },
    });
    const signature = sign(null, Buffer.from(`agent-login:${nonce}:${device}`), key).toString('base64');
    const session = await this.call<{ access_token: string }>({
      method: 'POST',
      path: '/api/v1/agent/auth/login',
      body: { phone, device_id: device, pin: TELLER_PIN, nonce, signature },
    });
    return session.access_token;
  }
}

/** The teller's device fix: inside the demo stores' fence, taken now. */
export function fixAt(point: { lat: number; lon: number }) {
  return { lat: point.lat, lon: point.lon, accuracy_m: 10, fix_at: new Date().toISOString() };
}

/** The smallest files the documents module takes as an ID scan (PDF) and a selfie (PNG). */
const PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('IHDR-aml-demo-selfie'),
  Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]),
]);

/** A multipart/form-data body: the fields, then the file part `file`. */
function multipart(fields: Record<string, string>, file: Buffer): { body: Buffer; contentType: string } {
  const boundary = `----aml-demo-${randomUUID()}`;
  const parts: Buffer[] = Object.entries(fields).map((entry) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${entry[0]}"\r\n\r\n${entry[1]}\r\n`),
  );
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="scan"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
