// A get-token function as a Node.js Lambda would be written (nodejs20.x, ES module handler):
// at init, one Secrets Manager client and one GetSecretValue (a top-level await, which Lambda
// runs during the init phase) and the key; per invocation, one signed token.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { claims, secretKeyObject, sign, unixNow } from './token.mjs';

const client = new SecretsManagerClient({});
const secret = await client.send(
  new GetSecretValueCommand({ SecretId: process.env.VIDEOSDK_SECRET_ID }),
);
// The field names of shared/src/credentials.rs (API_KEY_FIELD, SECRET_KEY_FIELD).
const { VIDEOSDK_API_KEY: apiKey, VIDEOSDK_SECRET_KEY: secretKey } = JSON.parse(secret.SecretString);
if (!apiKey || !secretKey) throw new Error('the secret has no VIDEOSDK_API_KEY or VIDEOSDK_SECRET_KEY');
const key = secretKeyObject(secretKey); // once: see token.mjs

export const handler = async (_event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ token: sign(claims(apiKey, unixNow()), key) }),
});
