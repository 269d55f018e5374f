// One cold start of index.mjs, for bench.mjs: prints `ready` once the module (and so the
// secret) is loaded, then `responded` after one invocation, then waits to be killed, as a
// Lambda process waits for its next invocation. With CALLS=n, instead: memory after n calls.
import { readFileSync } from 'node:fs';

const { handler } = await import('./index.mjs');
process.stdout.write('ready\n');

const event = JSON.parse(readFileSync(process.env.EVENT_FILE, 'utf8'));
const calls = Number(process.env.CALLS ?? 0);
if (calls === 0) {
  const response = await handler(event);
  process.stdout.write(`responded ${response.statusCode}\n`);
  setInterval(() => {}, 1 << 30);
} else {
  // The kernel's view (VmRSS, and VmHWM: the peak) as the Rust script reads it from outside.
  const status = () => Object.fromEntries(
    readFileSync('/proc/self/status', 'utf8').split('\n')
      .filter((line) => /^Vm(RSS|HWM):/.test(line))
      .map((line) => [line.split(':')[0], Number(line.split(/\s+/)[1]) * 1024]),
  );
  const samples = { 0: status() };
  for (let i = 1; i <= calls; i++) {
    const response = await handler(event);
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
    if (i === 1000 || i === calls) samples[i] = status();
  }
  process.stdout.write(`${JSON.stringify(samples)}\n`);
}
