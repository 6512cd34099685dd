// The mail settings from the environment (the prototype's SMTP_* names, .env included) and
// the mail.ca_file certificate, read once while the config loads, so delivery and the
// commands take them from Config.mail and none of them reads SMTP_* itself. Problems are
// returned, not thrown: only what sends mail refuses to start with them. The password is
// a secret: no problem text ever contains it.

import net from 'node:net';
import os from 'node:os';
import { CONFIG_FILE_MAX_BYTES, readSmallFile } from '../util/small-file.js';
import type { RawConfig } from './schema.js';
import type { Config, MailAddressing, SmtpSettings } from './types.js';

/** What the SMTP settings need of the config. */
export interface MailSource {
  readonly source: string | null;
  readonly mail: Pick<Config['mail'], 'caFile' | 'connectTimeoutMs' | 'greetingTimeoutMs'>;
}

const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;

/** "Name <a@b>" or "a@b" → "a@b" when valid, else null. */
function bareAddress(v: string): string | null {
  const m = /^(?:[^<>]*<([^<>]+)>|([^<>]+))$/.exec(v.trim());
  const addr = (m?.[1] ?? m?.[2] ?? '').trim();
  return ADDRESS.test(addr) ? addr : null;
}

function flag(env: NodeJS.ProcessEnv, name: string, problems: string[]): boolean {
  const v = (env[name] ?? '').trim().toLowerCase();
  if (v === '' || v === '0' || v === 'false' || v === 'no' || v === 'off') return false;
  if (v === '1' || v === 'true' || v === 'yes' || v === 'on') return true;
  problems.push(`${name}: "${env[name]}" is not a switch; use 1 (on) or 0 (off)`);
  return false;
}

function defaultFrom(): string {
  const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, '') || 'localhost';
  return `logward@${host}`;
}

/** SMTP_FROM and SMTP_TO (comma-separated), with the problems they have. */
export function readMailAddressing(env: NodeJS.ProcessEnv, problems: string[] = []): MailAddressing {
  const fromRaw = (env.SMTP_FROM ?? '').trim();
  let from = defaultFrom();
  if (fromRaw !== '') {
    if (bareAddress(fromRaw) === null) problems.push(`SMTP_FROM: "${fromRaw}" is not a mail address; write name@example.com or "Name <name@example.com>"`);
    else from = fromRaw;
  }
  const to: string[] = [];
  for (const part of (env.SMTP_TO ?? '').split(',')) {
    const a = part.trim();
    if (a === '') continue;
    if (bareAddress(a) === null) problems.push(`SMTP_TO: "${a}" is not a mail address; list recipients separated by commas, e.g. ops@example.com,oncall@example.com`);
    else to.push(a);
  }
  return { from, to };
}

/**
 * Reads SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASS, SMTP_FROM, SMTP_TO, SMTP_TLS, SMTP_SSL
 * and the config's mail.ca_file. settings is null when SMTP_HOST is empty (messages are
 * then written as .eml files) or when there are problems. Each problem names the
 * variable and what to do; none contains the password.
 */
export function readSmtpSettings(env: NodeJS.ProcessEnv, config: MailSource): { settings: SmtpSettings | null; problems: string[] } {
  const problems: string[] = [];
  const where = config.source ?? '(defaults)';
  let ca: string | null = null;
  const caFile = config.mail.caFile;
  if (caFile !== null) {
    // A small regular file only: a CA bundle is a few KiB; /dev/zero or a FIFO must not be read.
    const read = readSmallFile(caFile, CONFIG_FILE_MAX_BYTES);
    if (!read.ok) {
      problems.push(`${where}: mail.ca_file: cannot read ${caFile}${read.realPath !== null && read.realPath !== caFile ? ` -> ${read.realPath}` : ''} (${read.reason}); check the path`);
    } else if (!read.text.includes('-----BEGIN CERTIFICATE-----')) {
      problems.push(`${where}: mail.ca_file: ${caFile} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); give the CA certificate in PEM form`);
    } else {
      ca = read.text;
    }
  }

  const host = (env.SMTP_HOST ?? '').trim();
  if (host !== '' && !(net.isIP(host) !== 0 || /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/.test(host))) {
    problems.push(/^[^:]+:\d+$/.test(host)
      ? `SMTP_HOST: "${host}" includes a port; put the host name in SMTP_HOST and the port in SMTP_PORT`
      : `SMTP_HOST: "${host}" is not a host name or IP address`);
  }
  const ssl = flag(env, 'SMTP_SSL', problems);
  const tls = flag(env, 'SMTP_TLS', problems);
  const addressing = readMailAddressing(env, problems);
  const user = (env.SMTP_USER ?? '') === '' ? null : env.SMTP_USER!;
  const pass = (env.SMTP_PASS ?? '') === '' ? null : env.SMTP_PASS!;
  if (host === '') return { settings: null, problems };
  if (ssl && tls) problems.push('SMTP_TLS and SMTP_SSL are both set; set one: SMTP_SSL=1 for implicit TLS (port 465), or SMTP_TLS=1 to require STARTTLS (port 587)');
  let port = ssl ? 465 : 587;
  const portRaw = (env.SMTP_PORT ?? '').trim();
  if (portRaw !== '') {
    const n = /^\d{1,5}$/.test(portRaw) ? Number(portRaw) : NaN;
    if (!(n >= 1 && n <= 65535)) problems.push(`SMTP_PORT: "${portRaw}" is not a port number (1-65535)`);
    else port = n;
  }
  if (port === 465 && !ssl) problems.push('SMTP_PORT is 465, the implicit-TLS port, but SMTP_SSL is not set; set SMTP_SSL=1, or use port 587 with SMTP_TLS=1');
  if (user !== null && pass === null) problems.push('SMTP_USER is set but SMTP_PASS is empty; set both, or neither for a server without authentication');
  if (user === null && pass !== null) problems.push('SMTP_PASS is set but SMTP_USER is empty; set both, or neither for a server without authentication');
  if (addressing.to.length === 0 && !problems.some((p) => p.startsWith('SMTP_TO:'))) {
    problems.push('SMTP_TO is empty; set the recipients (comma-separated) when SMTP_HOST is set');
  }
  if (problems.length > 0) return { settings: null, problems };
  return {
    settings: {
      host, port, secure: ssl, requireTLS: tls, user, pass,
      from: addressing.from, to: addressing.to, ca, caFile,
      connectionTimeoutMs: config.mail.connectTimeoutMs,
      greetingTimeoutMs: config.mail.greetingTimeoutMs,
    },
    problems,
  };
}

/** The Config.mail fields that come from the environment: the server, sender, recipients and problems. */
export function readMailEnv(env: NodeJS.ProcessEnv, source: string | null, raw: RawConfig['mail']): Pick<Config['mail'], 'smtp' | 'from' | 'to' | 'problems'> {
  const { settings, problems } = readSmtpSettings(env, {
    source,
    mail: { caFile: raw.ca_file, connectTimeoutMs: raw.connect_timeout_secs * 1000, greetingTimeoutMs: raw.greeting_timeout_secs * 1000 },
  });
  const { from, to } = settings ?? readMailAddressing(env);
  return { smtp: settings, from, to, problems };
}
