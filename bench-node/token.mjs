// The token code of the API written as a Node.js function would write it, with jsonwebtoken:
// the same claims as shared/src/token.rs (Claims::new for a request with no room or
// participant: role rtc) and the same checks on verify (HS256 only, exp, then apikey).
import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const TTL_SECONDS = 600; // get-token's default

export function claims(apiKey, now, ttlSeconds = TTL_SECONDS) {
  return {
    apikey: apiKey,
    permissions: ['allow_join'],
    version: 2,
    roles: ['rtc'],
    iat: now,
    exp: now + ttlSeconds,
  };
}

// The secret as a KeyObject, made once at init as the Rust code builds its keys once. Given the
// secret as a string, jsonwebtoken 9 first tries it as a PEM key (createPrivateKey on sign,
// createPublicKey on verify) and catches the failure, which costs about half a millisecond per
// call with OpenSSL 3: scripts/bench-node times both.
export const secretKeyObject = (secretKey) => createSecretKey(Buffer.from(secretKey, 'utf8'));

// `secret`: the string or its KeyObject. No noTimestamp option: with it jsonwebtoken deletes
// the iat of the claims; without it, it keeps the iat they have.
export function sign(tokenClaims, secret) {
  return jwt.sign(tokenClaims, secret, { algorithm: 'HS256' });
}

export function verify(token, secret, apiKey) {
  const payload = jwt.verify(token, secret, { algorithms: ['HS256'] });
  if (payload.apikey !== apiKey) throw new Error('api_key_mismatch');
  return payload;
}

export const unixNow = () => Math.floor(Date.now() / 1000);
