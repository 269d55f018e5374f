// The per-request cost of the token code in Node.js, against a floor timed in the same process:
// one HMAC-SHA256 (node:crypto, OpenSSL) over a token's signing input, as scripts/bench does
// with ring. Node cannot prepare an HMAC key once (ring's hmac::Key keeps the padded key's
// hash states; an Hmac object cannot be copied): createHmac starts from the key on every call,
// as jsonwebtoken does too. The floor takes the key as a KeyObject made once, the cheapest way;
// every case is timed with the secret as a string too (what jsonwebtoken's README shows).
// Times are process CPU time (process.cpuUsage: this thread and V8's helper threads, e.g.
// GC) so time spent waiting for a core does not count, and wall time beside it; each is the
// median over BATCHES batches, the cases interleaved so that load falls on all alike.
// Prints one JSON line for bench.mjs.
import { createHmac } from 'node:crypto';
import { claims, secretKeyObject, sign, unixNow, verify } from './token.mjs';

const [apiKey, secretKey] = [process.env.VIDEOSDK_API_KEY, process.env.VIDEOSDK_SECRET_KEY];
const BATCHES = Number(process.env.BATCHES ?? 15);
const BATCH_MS = 40;

// As benches/: a token valid ten years to verify, the signing input of a real token for the
// floor, the claims built outside the timed code.
const token = sign(claims(apiKey, unixNow(), 10 * 365 * 86_400), secretKey);
const input = Buffer.from(token.slice(0, token.lastIndexOf('.')));
const tokenClaims = claims(apiKey, unixNow());
const key = secretKeyObject(secretKey);

let sink = 0; // results feed this so that no call can be optimised away
const cases = {
  floor: () => { sink ^= createHmac('sha256', key).update(input).digest()[0]; },
  sign: () => { sink ^= sign(tokenClaims, key).length; },
  verify: () => { sink ^= verify(token, key, apiKey).exp; },
  hmacString: () => { sink ^= createHmac('sha256', secretKey).update(input).digest()[0]; },
  signString: () => { sink ^= sign(tokenClaims, secretKey).length; },
  verifyString: () => { sink ^= verify(token, secretKey, apiKey).exp; },
};

function batch(fn, n) {
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const wallNs = Number(process.hrtime.bigint() - wall);
  const used = process.cpuUsage(cpu);
  return { cpu: ((used.user + used.system) * 1000) / n, wall: wallNs / n };
}

// Warm-up (JIT, caches) for about half a second each; then each batch is sized to take about
// BATCH_MS (from a few hundred ops to tens of thousands: the string-secret cases take ~0.5 ms).
const iterations = {};
for (const [name, fn] of Object.entries(cases)) {
  const started = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - started) < 500e6) batch(fn, 10);
  let n = 10;
  while (batch(fn, n).wall * n < 10e6) n *= 2;
  iterations[name] = Math.max(10, Math.round((BATCH_MS * 1e6) / batch(fn, n).wall));
}

const times = Object.fromEntries(Object.keys(cases).map((name) => [name, { cpu: [], wall: [] }]));
for (let b = 0; b < BATCHES; b++) {
  for (const [name, fn] of Object.entries(cases)) {
    const { cpu, wall } = batch(fn, iterations[name]);
    times[name].cpu.push(cpu);
    times[name].wall.push(wall);
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const result = { signingInputBytes: input.length, sink, iterations };
for (const [name, { cpu, wall }] of Object.entries(times)) {
  result[name] = { cpu: median(cpu), wall: median(wall), cpuMin: Math.min(...cpu), cpuMax: Math.max(...cpu) };
}
process.stdout.write(`${JSON.stringify(result)}\n`);
