// Runs the Node.js measurements for scripts/bench-node (which starts moto_server and passes its
// endpoint in AWS_ENDPOINT_URL_SECRETS_MANAGER) and prints one table. Each figure is set beside
// a floor measured in this run: compare ratios across machines, not times.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const RUNS = Number(process.env.RUNS ?? 20);
const INVOCATIONS = Number(process.env.INVOCATIONS ?? 10000);
const SECRET_ID = 'videosdk/bench-node';
const WORK = mkdtempSync(join(tmpdir(), 'bench-node.'));
mkdirSync(join(WORK, 'home'));

// The development key of dev/local.env, as the Rust benches use.
const dev = Object.fromEntries(readFileSync(join(ROOT, 'dev/local.env'), 'utf8').split('\n')
  .filter((line) => /^[A-Z_]+=/.test(line)).map((line) => line.split(/=(.*)/s).slice(0, 2)));
const [API_KEY, SECRET_KEY] = [dev.VIDEOSDK_API_KEY, dev.VIDEOSDK_SECRET_KEY];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
// The same p90 as scripts/bench-coldstart.
const p90 = (values) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.round(0.9 * (values.length - 1)))];
const nowNs = () => process.hrtime.bigint();
const time = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(1)} ns`);
const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;
const step = (text) => process.stderr.write(`\n==> ${text}\n`);

// The environment of every process started here: no ~/.aws of this machine, moto's endpoint,
// dummy credentials (moto checks no signature), no instance metadata lookups.
const childEnv = {
  PATH: process.env.PATH,
  HOME: join(WORK, 'home'),
  VIDEOSDK_SECRET_ID: SECRET_ID,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  EVENT_FILE: join(ROOT, 'events/get-token/default-permissions.200.json'),
  // SDK releases from 2027 on need node 22: without this each start prints that on stderr.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'; // this process's client

/** CPU time a process has used so far, all its threads, in ns (schedstat, as bench-coldstart). */
function processCpuNs(pid) {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch { /* a thread that just ended */ }
  }
  return total;
}

/** One cold start: ms from spawn to each expected stdout line (`ready`, then maybe
 * `responded 200`), CPU time at ready; with no lines expected, ms from spawn to exit. */
function coldStart(command, args, lines) {
  return new Promise((resolve, reject) => {
    const started = nowNs();
    const child = spawn(command, args, { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    const result = { at: [] };
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      for (let end; (end = buffered.indexOf('\n')) >= 0; buffered = buffered.slice(end + 1)) {
        const line = buffered.slice(0, end);
        if (line !== lines[result.at.length]) return reject(new Error(`${args.join(' ')}: unexpected ${line}`));
        result.at.push(Number(nowNs() - started) / 1e6);
        if (result.at.length === 1) {
          result.cpu = processCpuNs(child.pid) / 1e6;
          result.rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) * 1024;
        }
        if (result.at.length === lines.length) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (lines.length === 0 && code === 0) return resolve({ at: [Number(nowNs() - started) / 1e6] });
      if (signal === 'SIGKILL' && result.at.length === lines.length) return resolve(result);
      reject(new Error(`${command} ${args.join(' ')} ended early (${code ?? signal})`));
    });
  });
}

/** npm ci of package.json (as given) into a new folder with the handler, zipped as Lambda takes it. */
function deployable(name, packageJson) {
  const folder = join(WORK, name);
  cpSync(HERE, folder, { recursive: true, filter: (path) => !path.includes('node_modules') });
  writeFileSync(join(folder, 'package.json'), JSON.stringify(packageJson, null, 2));
  // npm ci refuses a lockfile that does not match package.json: the smaller one is pruned from
  // the full lockfile by npm install, which keeps every version it locks.
  const install = packageJson.dependencies['@aws-sdk/client-secrets-manager'] ? 'ci' : 'install';
  execFileSync('npm', [install, '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    { cwd: folder, stdio: ['ignore', 'ignore', 'pipe'] }); // its stderr is in the error if it fails
  const files = ['index.mjs', 'token.mjs', 'package.json', 'node_modules'];
  execFileSync('zip', ['-qr', '-9', `../${name}.zip`, ...files], { cwd: folder });
  const bytes = (path) => (statSync(path).isDirectory()
    ? readdirSync(path).reduce((sum, entry) => sum + bytes(join(path, entry)), 0) : statSync(path).size);
  return { zip: statSync(join(WORK, `${name}.zip`)).size, unzipped: files.reduce((s, f) => s + bytes(join(folder, f)), 0) };
}

/** The Rust figures of the last scripts/bench, if any (another run: only for scale). */
function rustFigures() {
  const read = (name) => {
    try {
      const path = join(ROOT, 'target/criterion', name, 'new/estimates.json');
      return { ns: JSON.parse(readFileSync(path, 'utf8')).median.point_estimate, when: statSync(path).mtime };
    } catch { return null; }
  };
  const [floor, sign, verify] = ['floor_hmac_sha256', 'sign_token', 'verify_token'].map(read);
  return floor && sign && verify ? { floor, sign, verify } : null;
}

async function main() {
  step('the secret in moto_server');
  const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await client.send(new CreateSecretCommand({
    Name: SECRET_ID,
    SecretString: JSON.stringify({ VIDEOSDK_API_KEY: API_KEY, VIDEOSDK_SECRET_KEY: SECRET_KEY }),
  }));

  step('per request (one node process)');
  const perRequest = JSON.parse(execFileSync(process.execPath, [join(HERE, 'per-request.mjs')], {
    env: { ...childEnv, VIDEOSDK_API_KEY: API_KEY, VIDEOSDK_SECRET_KEY: SECRET_KEY },
  }));

  step(`cold starts (${RUNS} of each, interleaved)`);
  // `node` printing `ready` and waiting, as start.mjs does: node's own start.
  const nodeFloor = ['-e', 'process.stdout.write("ready\\n"); setInterval(() => {}, 1 << 30)'];
  const starts = {
    true: () => coldStart('true', [], []),
    node: () => coldStart(process.execPath, nodeFloor, ['ready']),
    index: () => coldStart(process.execPath, [join(HERE, 'start.mjs')], ['ready', 'responded 200']),
  };
  for (const start of Object.values(starts)) await start(); // page cache, moto's first request
  const cold = { true: [], node: [], index: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const [name, start] of Object.entries(starts)) cold[name].push(await start());
  }
  // For scale: one GetSecretValue from a warm SDK client in this process.
  const warmCalls = [];
  for (let i = 0; i < RUNS; i++) {
    const started = nowNs();
    await client.send(new GetSecretValueCommand({ SecretId: SECRET_ID }));
    warmCalls.push(Number(nowNs() - started) / 1e6);
  }

  step(`memory (${INVOCATIONS} handler calls in one process)`);
  const memoryOut = execFileSync(process.execPath, [join(HERE, 'start.mjs')], {
    env: { ...childEnv, CALLS: String(INVOCATIONS) },
  }).toString().trim().split('\n');
  const memory = JSON.parse(memoryOut[memoryOut.length - 1]);

  step('deployable zips (npm ci --omit=dev, zip -9)');
  const pkg = JSON.parse(readFileSync(join(HERE, 'package.json'), 'utf8'));
  const full = deployable('full', pkg);
  const { '@aws-sdk/client-secrets-manager': _sdk, ...withoutSdk } = pkg.dependencies;
  const small = deployable('without-sdk', { ...pkg, dependencies: withoutSdk });

  const floorNs = perRequest.floor.cpu;
  const ms = (values) => median(values);
  const trueMs = ms(cold.true.map((r) => r.at[0]));
  const nodeMs = ms(cold.node.map((r) => r.at[0]));
  const nodeCpu = ms(cold.node.map((r) => r.cpu));
  const readyMs = cold.index.map((r) => r.at[0]);
  const firstMs = cold.index.map((r) => r.at[1]);
  const nodeRss = ms(cold.node.map((r) => r.rss));
  const indexRss = ms(cold.index.map((r) => r.rss));
  const x = (value, floor) => `${(value / floor).toFixed(2)}`;
  const perRow = (name, what) => {
    const r = perRequest[name];
    return ['per request', what, time(r.cpu), `${time(r.cpuMin)} .. ${time(r.cpuMax)}`, x(r.cpu, floorNs), ''];
  };
  const rows = [
    ['part', 'case', 'median', 'spread (min .. max, or p90)', 'x floor', 'x true'],
    perRow('floor', `floor: HMAC-SHA256 of a token's signing input (${perRequest.signingInputBytes} B), KeyObject`),
    perRow('sign', 'sign a token (jwt.sign), secret as a KeyObject made once'),
    perRow('verify', 'verify a token (jwt.verify + apikey check), KeyObject'),
    perRow('hmacString', 'HMAC-SHA256 as the floor, secret as a string'),
    perRow('signString', 'sign a token, secret as a string'),
    perRow('verifyString', 'verify a token, secret as a string'),
    ['cold start', '`true`: spawn to exit', `${trueMs.toFixed(2)} ms`, `p90 ${p90(cold.true.map((r) => r.at[0])).toFixed(2)} ms`, '', '1.0'],
    ['cold start', 'node floor: `node -e` printing ready', `${nodeMs.toFixed(2)} ms`, `p90 ${p90(cold.node.map((r) => r.at[0])).toFixed(2)} ms`, '1.00', x(nodeMs, trueMs)],
    ['cold start', 'index.mjs ready: SDK loaded, secret fetched', `${ms(readyMs).toFixed(2)} ms`, `p90 ${p90(readyMs).toFixed(2)} ms`, x(ms(readyMs), nodeMs), x(ms(readyMs), trueMs)],
    ['cold start', 'index.mjs first response (one handler call)', `${ms(firstMs).toFixed(2)} ms`, `p90 ${p90(firstMs).toFixed(2)} ms`, x(ms(firstMs), nodeMs), x(ms(firstMs), trueMs)],
    ['cold start', 'CPU time to ready (all threads): node floor', `${nodeCpu.toFixed(2)} ms`, '', '1.00', ''],
    ['cold start', 'CPU time to ready (all threads): index.mjs', `${ms(cold.index.map((r) => r.cpu)).toFixed(2)} ms`, '', x(ms(cold.index.map((r) => r.cpu)), nodeCpu), ''],
    ['cold start', 'for scale: GetSecretValue, warm SDK client', `${ms(warmCalls).toFixed(2)} ms`, `p90 ${p90(warmCalls).toFixed(2)} ms`, '', ''],
    ['memory', 'node floor: RSS at ready (the cold starts, median)', mb(nodeRss), '', '1.00', ''],
    ['memory', 'index.mjs: RSS at ready (the cold starts, median)', mb(indexRss), '', x(indexRss, nodeRss), ''],
    ['memory', 'RSS at ready, the process of the calls below', mb(memory[0].VmRSS), '', x(memory[0].VmRSS, nodeRss), ''],
    ['memory', `RSS after 1000 / ${INVOCATIONS} calls`, mb(memory[INVOCATIONS].VmRSS), `at 1000: ${mb(memory[1000].VmRSS)}`, x(memory[INVOCATIONS].VmRSS, nodeRss), ''],
    ['memory', `peak (VmHWM) after ${INVOCATIONS} calls`, mb(memory[INVOCATIONS].VmHWM), '', x(memory[INVOCATIONS].VmHWM, nodeRss), ''],
    ['size', 'zip: index + production node_modules', mb(full.zip), `unzipped ${mb(full.unzipped)}`, '', ''],
    ['size', 'zip without @aws-sdk (jsonwebtoken only)', mb(small.zip), `unzipped ${mb(small.unzipped)}`, '', ''],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  console.log();
  rows.forEach((row, i) => {
    console.log(row.map((cell, j) => cell.padEnd(widths[j])).join('  ').trimEnd());
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
  console.log(`
node ${process.version}, OpenSSL ${process.versions.openssl}, jsonwebtoken ${pkg.dependencies.jsonwebtoken}, \
@aws-sdk/client-secrets-manager ${pkg.dependencies['@aws-sdk/client-secrets-manager']}.
per request: process CPU time per op, median of batches; x floor: over the HMAC floor (${time(floorNs)}).
cold start: ${RUNS} starts each, interleaved; ms from spawn to the line (start.mjs imports index.mjs,
which fetches the secret from moto_server at init); x floor: over node's own start (memory: its RSS).
The Lambda nodejs20.x runtime ships an AWS SDK v3 (its own version), so the smaller zip deploys too.`);
  const rust = rustFigures();
  if (rust) {
    console.log(`For scale, the last scripts/bench (Rust, ring; ${rust.floor.when.toISOString()}, another run): \
floor ${time(rust.floor.ns)}, sign ${time(rust.sign.ns)} (${x(rust.sign.ns, rust.floor.ns)}x), \
verify ${time(rust.verify.ns)} (${x(rust.verify.ns, rust.floor.ns)}x); node's floor is \
${x(floorNs, rust.floor.ns)}x Rust's, node's sign ${x(perRequest.sign.cpu, rust.sign.ns)}x, verify ${x(perRequest.verify.cpu, rust.verify.ns)}x.`);
  }
}

try {
  await main();
} finally {
  rmSync(WORK, { recursive: true, force: true });
}
