/** Test helper (not used by the application): a WebSocket client of `/api/v1/ws` that awaits frames and closes. */
import { type ClientOptions, WebSocket } from 'ws';

export type Frame = Record<string, unknown> & { type?: string; channel?: string };

interface Waiter {
  match: (frame: Frame) => boolean;
  resolve: (frame: Frame) => void;
}

export class TestSocket {
  readonly ws: WebSocket;
  /** Every frame received, in order. */
  readonly received: Frame[] = [];
  /** Frames not yet taken by `next`. */
  readonly #pending: Frame[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    // Errors after the handshake surface as the close code; without a listener they would crash the test.
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      this.received.push(frame);
      for (const waiter of this.#waiters) {
        if (waiter.match(frame)) {
          this.#waiters.delete(waiter);
          waiter.resolve(frame);
          return;
        }
      }
      this.#pending.push(frame);
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
    );
  }

  static open(
    url: string,
    headers: Record<string, string> = {},
    options: ClientOptions = {},
  ): Promise<TestSocket> {
    const ws = new WebSocket(url, { ...options, headers });
    const socket = new TestSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('error', reject);
      ws.once('unexpected-response', (_request, response) =>
        reject(new Error(`unexpected response ${response.statusCode}`)),
      );
    });
  }

  /** Opens and authenticates (header or first message), returning once `ready` arrived. */
  static async ready(url: string, token: string, via: 'header' | 'message' = 'header'): Promise<TestSocket> {
    const socket = await TestSocket.open(url, via === 'header' ? { authorization: `Bearer ${token}` } : {});
    if (via === 'message') socket.send({ type: 'auth', token });
    const ready = await socket.next((frame) => frame.type === 'ready');
    if (!ready) throw new Error('no ready frame');
    return socket;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first frame (not yet taken) that matches; rejects after `timeoutMs`. */
  next(match: (frame: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const index = this.#pending.findIndex(match);
    if (index >= 0) return Promise.resolve(this.#pending.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new Error(`no matching frame within ${timeoutMs} ms; received ${JSON.stringify(this.received)}`),
        );
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Sends and returns the reply carrying the same `ref`. */
  async request(message: Record<string, unknown>, timeoutMs = 5000): Promise<Frame> {
    const ref = `r${Math.random().toString(36).slice(2)}`;
    this.send({ ...message, ref });
    return this.next((frame) => frame.ref === ref, timeoutMs);
  }

  async closedWithin(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }
}
