// RFC 6238 TOTP (SHA-1, 6 digits, 30 s steps), as authenticator apps and
// the API compute it, for the MFA journeys.
import { createHmac } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const STEP_SECS = 30;

/** The bytes of an RFC 4648 base32 string (padding and case ignored). */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/=+$/, '').replace(/\s/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const i = ALPHABET.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The current 30-second step (or `offset` steps from it). */
export function totpStep(offset = 0, now = Date.now()): number {
  return Math.floor(now / 1000 / STEP_SECS) + offset;
}

/** The code of `secret` (base32) for a step (default: the current one). */
export function totp(secret: string, step = totpStep()): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = (h[19] ?? 0) & 0x0f;
  const bin =
    (((h[offset] ?? 0) & 0x7f) << 24) |
    ((h[offset + 1] ?? 0) << 16) |
    ((h[offset + 2] ?? 0) << 8) |
    (h[offset + 3] ?? 0);
  return String(bin % 1_000_000).padStart(6, '0');
}

/** Six digits that are no valid code of `secret` around now (for "a wrong code" checks). */
export function wrongTotp(secret: string): string {
  const valid = new Set([-2, -1, 0, 1, 2].map((o) => totp(secret, totpStep(o))));
  for (let n = 123456; ; n = (n + 111111) % 1_000_000) {
    const code = String(n).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}
