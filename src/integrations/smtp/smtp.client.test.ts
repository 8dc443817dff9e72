/**
 * The SMTP client in a real SMTP exchange with a local smtp-server: what arrives (envelope, headers, both bodies),
 * header injection, and how refusals and outages map to retryable or permanent ProviderErrors.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type FakeSmtp, startFakeSmtp } from '../../../test/fakes/smtp.ts';
import { ProviderError } from '../ports.ts';
import { SmtpEmailClient, type SmtpEmailClientOptions } from './smtp.client.ts';

function isProviderError(expected: { code?: string | RegExp; retryable: boolean }) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ProviderError, `expected a ProviderError, got ${String(error)}`);
    assert.equal(error.provider, 'smtp');
    assert.equal(error.retryable, expected.retryable, `retryable for ${error.code}: ${error.message}`);
    if (typeof expected.code === 'string') assert.equal(error.code, expected.code);
    else if (expected.code) assert.match(error.code, expected.code);
    return true;
  };
}

describe('SmtpEmailClient', () => {
  let fake: FakeSmtp;
  const clients: SmtpEmailClient[] = [];

  function client(overrides: Partial<SmtpEmailClientOptions> = {}): SmtpEmailClient {
    const created = new SmtpEmailClient({
      host: fake.host,
      port: fake.port,
      secure: false,
      from: 'no-reply@bank.example',
      fromName: 'Codeforge Bank',
      timeoutMs: 2_000,
      ...overrides,
    });
    clients.push(created);
    return created;
  }

  before(async () => {
    fake = await startFakeSmtp();
  });

  beforeEach(() => {
    fake.messages.length = 0;
    fake.recipientsSeen.length = 0;
  });

  after(async () => {
    await Promise.all(clients.map((created) => created.close()));
    await fake.close();
  });

  test('delivers text and html with the sender, recipient and subject', async () => {
    const result = await client().send({
      to: 'wanjiku@example.com',
      toName: 'Wanjiku Otieno',
      subject: 'Debit alert: KES 500.00 — café',
      text: 'You paid KES 500.00 to Mama Mboga.\nBalance: KES 1,234.56',
      html: '<p>You paid <b>KES 500.00</b> to Mama Mboga. Ünïcödé ✓</p>',
    });

    assert.equal(result.provider, 'smtp');
    assert.match(result.providerMessageId, /^<.+@.+>$/);
    assert.match(result.providerStatus, /^250 /);
    assert.equal(fake.messages.length, 1);
    const [mail] = fake.messages;
    assert.ok(mail);
    assert.equal(mail.envelopeFrom, 'no-reply@bank.example');
    assert.deepEqual(mail.envelopeTo, ['wanjiku@example.com']);
    assert.equal(mail.subject, 'Debit alert: KES 500.00 — café');
    assert.equal(mail.from, 'Codeforge Bank <no-reply@bank.example>');
    assert.equal(mail.to, 'Wanjiku Otieno <wanjiku@example.com>');
    assert.equal(mail.headers.get('message-id')?.[0], result.providerMessageId);
    assert.match(mail.headers.get('content-type')?.[0] ?? '', /^multipart\/alternative;/);
    assert.equal(
      mail.text?.replace(/\r\n/g, '\n'),
      'You paid KES 500.00 to Mama Mboga.\nBalance: KES 1,234.56',
    );
    assert.equal(mail.html, '<p>You paid <b>KES 500.00</b> to Mama Mboga. Ünïcödé ✓</p>');
  });

  test('non-Latin text survives base64 bodies and encoded-word headers', async () => {
    await client().send({
      to: 'ivan@example.com',
      toName: 'Иван Петров',
      subject: 'Баланс: 1 234,56 KES',
      text: 'Ваш баланс составляет 1 234,56 KES',
      html: '<p>Ваш баланс составляет <b>1 234,56 KES</b></p>',
    });
    const [mail] = fake.messages;
    assert.ok(mail);
    assert.match(mail.raw, /^Subject: =\?UTF-8\?[BQ]\?/im);
    assert.match(mail.raw, /^Content-Transfer-Encoding: base64/im);
    assert.equal(mail.subject, 'Баланс: 1 234,56 KES');
    assert.equal(mail.to, 'Иван Петров <ivan@example.com>');
    assert.equal(mail.text, 'Ваш баланс составляет 1 234,56 KES');
    assert.equal(mail.html, '<p>Ваш баланс составляет <b>1 234,56 KES</b></p>');
  });

  test('sends a text-only message as a single text/plain part', async () => {
    await client().send({ to: 'otieno@example.com', subject: 'OTP', text: 'Your code is 482913' });
    const [mail] = fake.messages;
    assert.ok(mail);
    assert.match(mail.headers.get('content-type')?.[0] ?? '', /^text\/plain/);
    assert.equal(mail.text, 'Your code is 482913');
    assert.equal(mail.html, undefined);
    assert.equal(mail.to, 'otieno@example.com');
  });

  test('a CR/LF in the subject or a name cannot add a header', async () => {
    await client({ fromName: 'Bank\r\nBcc: thief@evil.example' }).send({
      to: 'victim@example.com',
      toName: 'Victim\nX-Injected: yes',
      subject: 'Hello\r\nBcc: thief@evil.example\r\n\r\nInjected body',
      text: 'Real body',
    });

    const [mail] = fake.messages;
    assert.ok(mail);
    assert.deepEqual(mail.envelopeTo, ['victim@example.com']);
    assert.deepEqual(fake.recipientsSeen, ['victim@example.com']);
    assert.equal(mail.headers.has('bcc'), false);
    assert.equal(mail.headers.has('x-injected'), false);
    assert.equal(mail.subject, 'Hello Bcc: thief@evil.example Injected body');
    assert.equal(mail.text, 'Real body');
    const headerBlock = mail.raw.slice(0, mail.raw.indexOf('\r\n\r\n'));
    assert.doesNotMatch(headerBlock, /^bcc:/im);
    assert.doesNotMatch(headerBlock, /^x-injected:/im);
  });

  test('a recipient string holding several addresses is refused before any connection', async () => {
    await assert.rejects(
      client().send({ to: 'a@example.com, thief@evil.example', subject: 'x', text: 'x' }),
      isProviderError({ code: 'INVALID_ADDRESS', retryable: false }),
    );
    assert.deepEqual(fake.recipientsSeen, []);
  });

  test('a 550 recipient refusal is permanent', async () => {
    fake.rejectNextRcpt(1, 550);
    await assert.rejects(
      client().send({ to: 'nobody@example.com', subject: 'x', text: 'x' }),
      isProviderError({ code: 'SMTP 550', retryable: false }),
    );
    assert.equal(fake.messages.length, 0);
  });

  test('a 451 recipient refusal is transient, and the next attempt goes through', async () => {
    fake.rejectNextRcpt(1, 451);
    const smtp = client();
    await assert.rejects(
      smtp.send({ to: 'greylisted@example.com', subject: 'x', text: 'x' }),
      isProviderError({ code: 'SMTP 451', retryable: true }),
    );
    await smtp.send({ to: 'greylisted@example.com', subject: 'x', text: 'x' });
    assert.equal(fake.messages.length, 1);
  });

  test('a server that is gone is a retryable network failure', async () => {
    const gone = await startFakeSmtp();
    const { port } = gone;
    await gone.close();
    await assert.rejects(
      client({ port }).send({ to: 'a@example.com', subject: 'x', text: 'x' }),
      isProviderError({ code: 'NETWORK', retryable: true }),
    );
  });

  test('a server that never greets times out, retryably', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    assert.ok(address && typeof address === 'object');
    try {
      const started = Date.now();
      await assert.rejects(
        client({ port: address.port, timeoutMs: 150 }).send({ to: 'a@example.com', subject: 'x', text: 'x' }),
        isProviderError({ code: 'TIMEOUT', retryable: true }),
      );
      assert.ok(Date.now() - started < 2_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('authenticates when credentials are configured; wrong ones are refused permanently', async () => {
    const guarded = await startFakeSmtp({ username: 'mailer', password: 's3cret' });
    try {
      const base = { host: guarded.host, port: guarded.port };
      await client({ ...base, username: 'mailer', password: 's3cret' }).send({
        to: 'a@example.com',
        subject: 'Signed in',
        text: 'ok',
      });
      assert.equal(guarded.messages.length, 1);
      assert.equal(guarded.messages[0]?.user, 'mailer');

      await assert.rejects(
        client({ ...base, username: 'mailer', password: 'wrong' }).send({
          to: 'a@example.com',
          subject: 'x',
          text: 'x',
        }),
        isProviderError({ code: 'SMTP 535', retryable: false }),
      );
      await assert.rejects(
        client(base).send({ to: 'a@example.com', subject: 'x', text: 'x' }),
        isProviderError({ code: /^SMTP 5\d\d$/, retryable: false }),
      );
      assert.equal(guarded.messages.length, 1);
    } finally {
      await guarded.close();
    }
  });
});
