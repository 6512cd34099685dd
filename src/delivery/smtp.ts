// The SMTP side of delivery: a nodemailer transport built from the settings config/ read
// (SMTP_* and mail.ca_file, see config/mail-env.ts), the .eml writer used when no server
// is set, and one place that turns a delivery error into a line an operator can act on.
// It never reads the environment. The password is a secret: it never appears in a
// classified message, a log line or a file.

import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { MailAddressing, SmtpSettings } from '../config/types.js';
import { publishFilesExclusive } from '../util/atomic-write.js';
import { safeFileId } from '../util/text.js';
import type { MailContent } from './types.js';

export type { MailAddressing, SmtpSettings };

export type SmtpMode = 'STARTTLS' | 'TLS' | 'plain';

export type SmtpErrorKind = 'transient' | 'permanent' | 'config';

export interface ClassifiedError {
  /** transient: retry; permanent: this message will never be accepted; config: retry, but an operator must fix something. */
  readonly kind: SmtpErrorKind;
  /** One line for an operator, without the password. */
  readonly message: string;
  /** True when no message can get through right now (connection, TLS, auth), not just this one. */
  readonly connection: boolean;
}

export function smtpMode(s: Pick<SmtpSettings, 'secure' | 'requireTLS'>): SmtpMode {
  return s.secure ? 'TLS' : s.requireTLS ? 'STARTTLS' : 'plain';
}

export type SmtpTransport = ReturnType<typeof createTransport>;

/** A nodemailer SMTP transport (one connection per message). No file or URL content is ever read. */
export function createTransport(settings: SmtpSettings) {
  return nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    requireTLS: settings.requireTLS,
    ...(settings.user !== null && settings.pass !== null ? { auth: { user: settings.user, pass: settings.pass } } : {}),
    tls: { minVersion: 'TLSv1.2', ...(settings.ca !== null ? { ca: settings.ca } : {}) },
    connectionTimeout: settings.connectionTimeoutMs,
    greetingTimeout: settings.greetingTimeoutMs,
    socketTimeout: Math.max(30_000, settings.greetingTimeoutMs * 3),
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  });
}

/** The nodemailer message for a MailContent. */
export function toMailOptions(mail: MailContent, addressing: MailAddressing) {
  return {
    messageId: `<${mail.messageId}>`,
    from: addressing.from,
    ...(addressing.to.length > 0 ? { to: [...addressing.to] } : {}),
    subject: mail.subject,
    text: mail.text,
    ...(mail.html !== undefined ? { html: mail.html } : {}),
    attachments: (mail.attachments ?? []).map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
    date: new Date(mail.date),
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/**
 * Writes the message as an RFC 822 file in dir: <YYYYMMDD_HHMMSS>_<safe id>.eml (UTC time
 * of the message), atomically, never replacing a file (a second one gets _2). Returns the path.
 */
export async function writeEml(dir: string, mail: MailContent, addressing: MailAddressing): Promise<string> {
  const raw = await new MailComposer(toMailOptions(mail, addressing)).compile().build();
  fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
  const d = new Date(mail.date);
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}_${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  const base = `${stamp}_${safeFileId(mail.messageId)}`;
  const suffix = publishFilesExclusive([{ name: (s) => path.join(dir, `${base}${s}.eml`), data: raw }], 0o640);
  return path.join(dir, `${base}${suffix}.eml`);
}

// --- Secrets and errors ------------------------------------------------------------------

/** Removes the password (plain and as the base64 an AUTH command carries) and AUTH arguments from a text. */
export function scrubSecret(text: string, secret: { user?: string | null; pass?: string | null } = {}): string {
  let out = text.replace(/\b(AUTH\s+(?:PLAIN|LOGIN|XOAUTH2|CRAM-MD5))\s+\S+/gi, '$1 [redacted]');
  const pass = secret.pass;
  if (pass !== undefined && pass !== null && pass !== '') {
    const forms = new Set<string>([pass, Buffer.from(pass).toString('base64'), encodeURIComponent(pass)]);
    if (secret.user) forms.add(Buffer.from(`\u0000${secret.user}\u0000${pass}`).toString('base64'));
    for (const f of [...forms].sort((a, b) => b.length - a.length)) out = out.split(f).join('[redacted]');
    // A password as long as this in base64 without padding (as split by a PLAIN token).
    const b64 = Buffer.from(pass).toString('base64').replace(/=+$/, '');
    if (b64.length >= 4) out = out.split(b64).join('[redacted]');
  }
  return out;
}

const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE', 'CERT_REVOKED', 'HOSTNAME_MISMATCH',
]);

interface ErrLike {
  code?: string;
  message?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  reason?: string;
  cause?: unknown;
}

function oneLine(s: string, max = 200): string {
  const t = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/**
 * What a failed SMTP delivery means and what to do about it. `settings` (host, port,
 * user, password, mode) makes the message precise and lets the password be scrubbed from
 * server or library text.
 */
export function classifySmtpError(err: unknown, settings?: Partial<SmtpSettings>): ClassifiedError {
  const e: ErrLike = err !== null && typeof err === 'object' ? (err as ErrLike) : { message: String(err) };
  const scrub = (s: string): string => oneLine(scrubSecret(s, { user: settings?.user ?? null, pass: settings?.pass ?? null }));
  const at = settings?.host !== undefined ? `${settings.host}:${settings.port ?? '?'}` : 'the SMTP server';
  const msg = scrub(e.message ?? String(err));
  const reply = e.response !== undefined ? scrub(e.response) : msg;
  const code = e.code ?? '';
  const cause = (e.cause !== null && typeof e.cause === 'object' ? (e.cause as ErrLike).code : undefined) ?? '';
  const rc = typeof e.responseCode === 'number' ? e.responseCode : null;
  const result = (kind: SmtpErrorKind, message: string, connection: boolean): ClassifiedError => ({
    kind, message: oneLine(scrubSecret(message, { user: settings?.user ?? null, pass: settings?.pass ?? null }), 1000), connection,
  });

  // Authentication.
  if (code === 'EAUTH' || rc === 535 || rc === 534 || rc === 538) {
    return result('config', `SMTP authentication failed at ${at}${settings?.user ? ` for user ${settings.user}` : ''} (${reply}); check SMTP_USER and SMTP_PASS`, true);
  }
  if (code === 'ENOAUTH' || rc === 530) {
    return result('config', `the SMTP server ${at} requires authentication (${reply}); set SMTP_USER and SMTP_PASS`, true);
  }
  // TLS.
  if ((code === 'ETLS' && (rc !== null || /STARTTLS/.test(msg))) || (e.command === 'STARTTLS' && rc !== null)) {
    return result('config', `the SMTP server ${at} does not offer STARTTLS but SMTP_TLS=1 requires it (${reply}); use SMTP_SSL=1 if the port speaks TLS from the start, or unset SMTP_TLS only on a trusted network`, true);
  }
  const certish = CERT_CODES.has(code) || CERT_CODES.has(cause) || /certificate|self[- ]signed|unable to verify|altname|Hostname\/IP does not match/i.test(msg);
  if (certish) {
    return result('config', `TLS error with ${at}: the server's certificate is not trusted (${msg}); if it is signed by a private CA, set mail.ca_file to that CA's PEM file; check that SMTP_HOST is a name the certificate covers`, true);
  }
  if (code === 'ETLS' || code.startsWith('ERR_SSL') || /wrong version number|ssl3_get_record|packet length too long|unknown protocol|EPROTO|handshake/i.test(`${msg} ${e.reason ?? ''} ${code} ${cause}`)) {
    return result('config', `TLS handshake with ${at} failed (${e.reason ?? msg}); SMTP_SSL=1 needs a port that speaks TLS from the start (usually 465); for port 587 use SMTP_TLS=1 instead`, true);
  }
  // Network.
  const sys = `${code} ${cause} ${msg}`;
  if (/ECONNREFUSED/.test(sys)) {
    return result('transient', `connection refused by ${at}: is the SMTP server running on that port, and does no firewall block it? (check SMTP_HOST and SMTP_PORT)`, true);
  }
  if (code === 'EDNS' || /ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(sys)) {
    const notFound = /ENOTFOUND/.test(sys);
    return result(notFound ? 'config' : 'transient', `cannot resolve the SMTP host ${settings?.host ?? ''} (DNS: ${notFound ? 'no such host' : msg}); check SMTP_HOST and the host's DNS`, true);
  }
  if (code === 'ETIMEDOUT' || /ETIMEDOUT|timed? ?out|Greeting never received/i.test(sys)) {
    const greeting = /greeting/i.test(msg);
    return result('transient', greeting
      ? `no SMTP greeting from ${at} within ${(settings?.greetingTimeoutMs ?? 0) / 1000 || '?'} s: the server is overloaded, or the port speaks TLS from the start (set SMTP_SSL=1 for port 465)`
      : `timeout talking to ${at} (${msg}): check SMTP_HOST, SMTP_PORT and any firewall between`, true);
  }
  if (/ECONNRESET|EPIPE|EHOSTUNREACH|ENETUNREACH|ECONNABORTED/.test(sys) || code === 'ECONNECTION' || code === 'ESOCKET') {
    return result('transient', `connection to ${at} failed (${msg}); will retry`, true);
  }
  // Replies to this message.
  if (rc !== null && rc >= 400 && rc < 500) {
    return result('transient', `the SMTP server ${at} deferred the message (${reply}); will retry`, false);
  }
  if (rc === 503) return result('transient', `the SMTP server ${at} answered out of sequence (${reply}); will retry`, false);
  if (rc !== null && rc >= 500) {
    return result('permanent', `the SMTP server ${at} rejected the message (${reply}); it will not be retried`, false);
  }
  if (code === 'EENVELOPE') return result('permanent', `the message's sender or recipients were refused (${msg}); check SMTP_FROM and SMTP_TO`, false);
  return result('transient', `sending through ${at} failed (${code === '' ? '' : `${code}: `}${msg}); will retry`, false);
}
