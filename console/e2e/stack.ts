// The installation the journeys run against, as the Rust runner
// (tests/e2e/console_browser/stack.rs) describes it in the JSON file named
// by OPSC_E2E_FIXTURE. Every spec shares it: make names unique per test
// (see `unique` in fixtures.ts), since spec files run in parallel.
import { readFileSync } from 'node:fs';

/** A user name and password. */
export interface Account {
  username: string;
  password: string;
}

/** What the journeys know of the installation. */
export interface Stack {
  /** The api serving the console, e.g. `http://127.0.0.1:41234`. */
  base_url: string;
  /** The bootstrap admin. */
  admin: Account;
  /** A user with the operator role. */
  operator: Account;
  /** A user with the viewer role. */
  viewer: Account;
  /** The worker pool a worker of the installation serves. */
  pool: string;
  /** A real OpenSSH server on loopback that logs in `user` by password or `private_key`. */
  sshd: {
    host: string;
    port: number;
    user: string;
    password: string;
    /** An authorised Ed25519 key without passphrase (OpenSSH format). */
    private_key: string;
    /** The server's host key, `SHA256:…` as OpenSSH prints it. */
    host_fingerprint: string;
  };
  /** A plain SMTP server (no TLS, no authentication) on loopback. */
  smtp?: { host: string; port: number };
  /** `GET` answers every message the SMTP server accepted, oldest first. */
  smtp_inbox_url?: string;
}

/** A message the SMTP server accepted (from `smtp_inbox_url`). */
export interface InboxMessage {
  mail_from: string;
  rcpt_to: string[];
  subject: string | null;
  text: string | null;
  html: string | null;
}

const HOW =
  'The browser journeys run against an installation the Rust test starts: ' +
  "./deploy/test.sh -E 'test(/console_browser/)' (OPSC_CONSOLE_SPECS=shell to pick spec files).";

/** The fixture file's contents; fails saying how to run the journeys when it is missing. */
export function readStack(): Stack {
  const file = process.env.OPSC_E2E_FIXTURE;
  if (!file) throw new Error(`OPSC_E2E_FIXTURE is not set. ${HOW}`);
  return JSON.parse(readFileSync(file, 'utf8')) as Stack;
}

/** The fixture file's contents, or `undefined` when none is named (e.g. `playwright test --list`). */
export function maybeStack(): Stack | undefined {
  return process.env.OPSC_E2E_FIXTURE ? readStack() : undefined;
}
