// VideoSDK's official Node server SDK as an oracle for the Rust tests: reads one JSON request on
// stdin, prints one JSON answer on stdout. Requests:
//   {"command": "tokens", "apiKey", "secret", "permissions": [...], "roomId"?, "participantId"?}
//     -> {"participant": <accessToken() JWT>, "api": <accessToken().forApi() JWT>}
//   {"command": "verify-token", "token", "secret"}
//     -> {"claims": <what verifyToken() decoded>} or {"error": <its message>}
//   {"command": "verify-webhooks", "cases": [{"body": <base64 of the raw bytes>, "signature",
//    "publicKey": <PEM>}, ...]}
//     -> [{"signatureValid": bool, "event": <what webhooks.verifySync returned, or null>,
//          "error": <its error's name and message, or null>}, ...]
//     verifySync checks the signature first, then parses the body: an error after the check
//     (the body is not JSON, or is JSON null) still means the signature was valid.
//   {"command": "create-room", "apiKey", "secret", "apiEndpoint", "options": {...}}
//     -> the room `rooms.create(options)` answered (a stand-in at apiEndpoint records the body)
import { VideoSDK, verifyToken as verifyJwt } from '@videosdk.live/server-sdk';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));

function tokens({ apiKey, secret, permissions = [], roomId, participantId }) {
  const sdk = new VideoSDK({ apiKey, secret });
  const participant = sdk.accessToken();
  if (permissions.length > 0) participant.grant(...permissions);
  if (roomId) participant.forRoom(roomId);
  if (participantId) participant.setParticipant(participantId);
  return { participant: participant.toJwt(), api: sdk.accessToken().forApi().toJwt() };
}

function verifyToken({ token, secret }) {
  try {
    return { claims: verifyJwt(token, secret) };
  } catch (error) {
    return { error: String(error && error.message) };
  }
}

const SIGNATURE_ERRORS = [
  'Missing webhook signature',
  'Webhook signature verification failed',
  'Webhook signature is invalid',
];

function verifyWebhooks({ cases }) {
  // verifySync needs no network and no credentials of its own; the client wants some.
  const sdk = new VideoSDK({ apiKey: 'oracle', secret: 'oracle' });
  return cases.map(({ body, signature, publicKey }) => {
    try {
      const event = sdk.webhooks.verifySync(Buffer.from(body, 'base64'), signature, publicKey);
      return { signatureValid: true, event, error: null };
    } catch (error) {
      const message = String(error && error.message);
      const refused = SIGNATURE_ERRORS.some((prefix) => message.startsWith(prefix));
      return { signatureValid: !refused, event: null, error: `${error && error.name}: ${message}` };
    }
  });
}

async function createRoom({ apiKey, secret, apiEndpoint, options }) {
  const sdk = new VideoSDK({ apiKey, secret, apiEndpoint, maxRetries: 0 });
  return sdk.rooms.create(options);
}

const commands = {
  tokens,
  'verify-token': verifyToken,
  'verify-webhooks': verifyWebhooks,
  'create-room': createRoom,
};
const command = commands[request.command];
if (!command) {
  console.error(`unknown command ${JSON.stringify(request.command)}`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await command(request)));
