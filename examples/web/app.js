// A minimal browser client of the VideoSDK token API: one call to POST /join for a room and a
// token for it, then the hand-off to VideoSDK's JS SDK. The three-call flow of VideoSDK's example
// servers (get a token, create a meeting with it, validate it) is here too. The calls and the
// hand-off are the functions right below; the rest only shows their results on the page.

// POST /join -> {"token": "...", "roomId": "k3f9-0qaz-7mbx", "participantId": "...",
//                "permissions": ["allow_join"], "expiresAt": 1795928092}
// One call: the room (the one `customRoomId` names, made on first use, or a new one without it)
// and a token scoped to it and bound to the caller. Behind the API's JWT authorizer, send the
// signed-in user's ID or access token, as for /get-token.
function join(api, signInToken, customRoomId) {
  const body = customRoomId ? { customRoomId } : {};
  return post(`${api}/join`, signInToken, body);
}

// GET /get-token -> {"token": "...", "expiresAt": 1795928092, "participantId": "..."}
// Behind the API's JWT authorizer, send the signed-in user's ID or access token: the API then
// issues the VideoSDK token for that user (participantId, moderation) and no one else.
function getToken(api, signInToken) {
  const headers = signInToken ? { Authorization: `Bearer ${signInToken}` } : {};
  return fetch(`${api}/get-token`, { headers });
}

// POST /create-meeting -> {"meetingId": "k3f9-0qaz-7mbx", "roomId": "k3f9-0qaz-7mbx"}
function createMeeting(api, token) {
  return post(`${api}/create-meeting`, token);
}

// POST /validate-meeting/{meetingId} -> {"meetingId": "k3f9-0qaz-7mbx", "roomId": "k3f9-0qaz-7mbx", "valid": true}
function validateMeeting(api, token, meetingId) {
  return post(`${api}/validate-meeting/${encodeURIComponent(meetingId)}`, token);
}

// The token goes in the Authorization header; a JSON body makes this a CORS "preflighted"
// request, which the API allows for the origins in its ALLOWED_ORIGINS.
function post(url, token, body = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  return fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
}

// Every error, whatever the status, has the body {"error": {"code": "...", "message": "..."}}.

// The hand-off to VideoSDK's JS SDK (npm @videosdk.live/js-sdk; index.html loads its
// videosdk.js, which defines the global VideoSDK): configure it with the token (from /join, or
// /get-token) and build the meeting object for the room id (from /join, or /create-meeting), as
// the participant the token is for (VideoSDK refuses another id). Neither call reaches the network. A real app
// calls `await meeting.join()` next, which connects to VideoSDK with that token; this page
// stops here.
function buildMeeting(token, participantId, meetingId, name) {
  VideoSDK.config(token);
  const options = { meetingId, name, micEnabled: false, webcamEnabled: false };
  if (participantId) options.participantId = participantId;
  return VideoSDK.initMeeting(options);
}

// ---------------------------------------------------------------------------------------------
// The page.

const $ = (selector) => document.querySelector(selector);
let token = null; // the last token the API issued to this page
let participantId = null; // the participant that token is for, if the API named one
let meeting = null; // the last meeting object built with VideoSDK's JS SDK (never joined)

const apiInput = $("#api");
apiInput.value = new URLSearchParams(location.search).get("api") || "http://127.0.0.1:9000";
const apiBase = () => apiInput.value.trim().replace(/\/+$/, "");

function log(line) {
  const time = new Date().toLocaleTimeString([], { hour12: false });
  const item = document.createElement("li");
  item.textContent = `${time}  ${line}`;
  $("#log").append(item);
}

function setStep(name, state, status, body = "", error = "") {
  $(`#${name}-step`).dataset.state = state;
  $(`#${name}-status`).textContent = status;
  $(`#${name}-body`).textContent = body;
  $(`#${name}-error`).textContent = error;
}

// Runs one call, shows its status and body in the card `name`; returns the JSON body of a
// successful answer, or null.
async function show(name, label, call) {
  setStep(name, "running", "…");
  let response;
  try {
    response = await call();
  } catch (error) {
    // fetch rejects with a TypeError when the browser refuses to hand the answer to this page
    // (no CORS header for this origin) or cannot reach the API at all.
    const message = `${error.name}: ${error.message}`;
    setStep(name, "blocked", "blocked", message,
      `The browser blocked the call: is ${location.origin} in the API's ALLOWED_ORIGINS, and is the API up?`);
    log(`${label} → blocked (${message})`);
    return null;
  }
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON: shown as text */ }
  const body = json === null ? text : JSON.stringify(json, null, 2);
  if (response.ok) {
    setStep(name, "ok", String(response.status), body);
    log(`${label} → ${response.status}`);
    return json;
  }
  const error = json?.error ? `${json.error.code}: ${json.error.message}` : `HTTP ${response.status}`;
  setStep(name, "error", String(response.status), body, error);
  log(`${label} → ${response.status} ${json?.error?.code ?? ""}`);
  return null;
}

// The last step: builds the meeting object and shows what it holds. `meeting.id` and
// `meeting.localParticipant` are the SDK's public API; the SDK keeps the token it will join
// with in `meeting.roomClient._secret`, an internal of version 1.1.1 that this page reads only
// to show it is the token the API issued.
function handOff(meetingId) {
  meeting = null;
  if (typeof VideoSDK === "undefined") {
    setStep("sdk", "error", "missing", "",
      "VideoSDK's JS SDK is not loaded: run `npm ci` in examples/web (see index.html's script tag).");
    log("VideoSDK JS SDK → not loaded");
    return null;
  }
  try {
    meeting = buildMeeting(token, participantId, meetingId, "Web client example");
  } catch (error) {
    setStep("sdk", "error", "error", "", `${error.name}: ${error.message}`);
    log(`VideoSDK.initMeeting → ${error.name}`);
    return null;
  }
  const held = meeting.roomClient?._secret;
  const shown = {
    "meeting.id": meeting.id,
    "meeting.localParticipant": {
      id: meeting.localParticipant.id,
      displayName: meeting.localParticipant.displayName,
    },
    token: held === token ? "the token the API issued" : "not the token the API issued",
    joined: false,
  };
  const error = held === token ? "" : "The meeting object does not hold the token the API issued.";
  setStep("sdk", error ? "error" : "ok", "built", JSON.stringify(shown, null, 2), error);
  log(`VideoSDK.initMeeting({ meetingId: "${meeting.id}", … }) → built, not joined`);
  return meeting;
}

const flowChoice = () => $("input[name='flow']:checked").value;
const showFlow = () => { document.body.dataset.mode = flowChoice(); };

// One call, then the hand-off.
async function joinFlow(api, signIn) {
  const joined = await show("join", "POST /join",
    () => join(api, signIn, $("#custom-room-id").value.trim()));
  token = joined?.token ?? null;
  participantId = joined?.participantId ?? null;
  if (joined) $("#meeting-id").value = joined.roomId;
  return joined ? handOff(joined.roomId) : null;
}

// The three calls of VideoSDK's example servers, then the hand-off.
async function threeCallFlow(api, signIn) {
  const issued = await show("token", "GET /get-token", () => getToken(api, signIn));
  token = issued?.token ?? null;
  participantId = issued?.participantId ?? null;
  const created = token
    ? await show("create", "POST /create-meeting", () => createMeeting(api, token))
    : null;
  const validated = created
    ? await show("validate", `POST /validate-meeting/${created.meetingId}`,
      () => validateMeeting(api, token, created.meetingId))
    : null;
  if (created) $("#meeting-id").value = created.meetingId;
  return validated?.valid === true ? handOff(created.meetingId) : null;
}

async function runFlow() {
  const api = apiBase();
  const mode = flowChoice();
  const steps = mode === "join" ? ["join", "sdk"] : ["token", "create", "validate", "sdk"];
  $("#run").disabled = true;
  document.body.dataset.flow = "running";
  for (const name of steps) setStep(name, "idle", "–");

  const signIn = $("#sign-in").value.trim();
  const built = mode === "join" ? await joinFlow(api, signIn) : await threeCallFlow(api, signIn);
  for (const name of steps) {
    if ($(`#${name}-step`).dataset.state === "idle") setStep(name, "skipped", "skipped");
  }

  document.body.dataset.flow = built && $("#sdk-step").dataset.state === "ok" ? "done" : "failed";
  $("#run").disabled = false;
}

async function validateAny() {
  const meetingId = $("#meeting-id").value.trim();
  $("#validate-any").disabled = true;
  await show("any", `POST /validate-meeting/${meetingId}`,
    () => validateMeeting(apiBase(), token, meetingId));
  $("#validate-any").disabled = false;
}

$("#run").addEventListener("click", runFlow);
for (const choice of document.querySelectorAll("input[name='flow']")) {
  choice.addEventListener("change", showFlow);
}
showFlow();
$("#validate-any").addEventListener("click", validateAny);
$("#meeting-id").addEventListener("keydown", (event) => {
  if (event.key === "Enter") validateAny();
});
