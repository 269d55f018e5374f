// VideoSDK's official Node server SDK as an oracle for the Rust tests: reads one JSON request on
// stdin, prints one JSON answer on stdout. Requests:
//   {"command": "tokens", "apiKey", "secret", "permissions": [...], "roomId"?, "participantId"?}
//     -> {"participant": <accessToken() JWT>, "api": <accessToken().forApi() JWT>}
import { VideoSDK } from '@videosdk.live/server-sdk';

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

const commands = { tokens };
const command = commands[request.command];
if (!command) {
  console.error(`unknown command ${JSON.stringify(request.command)}`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(command(request)));
