// A Node.js bot against a real mockgraph: Microsoft's JavaScript Graph client and jose,
// unchanged. MOCKGRAPH_URL names the server (tests/test_node.py starts one).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { NotificationEndpoint } from "./bot.mjs";
import { graph, verifyNotification } from "./readme.mjs";

const base = process.env.MOCKGRAPH_URL;
const appId = process.env.MOCKGRAPH_APP_ID ?? "00000000-0000-0000-0000-000000000b07";
const serviceMedia = { "@odata.type": "#microsoft.graph.serviceHostedMediaConfig" };
let bot;

before(async () => {
  bot = await new NotificationEndpoint().start();
});
after(() => bot.close());

async function control(path, body) {
  const response = await fetch(`${base}/_mock${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** What a 202 resolves with: it has no Content-Type, so the client hands over the body
 * as a stream, which holds nothing. */
async function emptyBody(resolved) {
  assert.ok(resolved instanceof ReadableStream, `not a stream: ${resolved}`);
  return new Response(resolved).text();
}

/** A call that rang the bot and was answered with service-hosted media. */
async function answeredCall() {
  const call = await control("/calls/incoming", { callbackUri: bot.url });
  const [incoming] = await bot.waitFor(call.id, 1);
  assert.equal(incoming.body.value[0].resourceData.state, "incoming");
  const answered = await graph.api(`/communications/calls/${call.id}/answer`).post({
    callbackUri: bot.url,
    acceptedModalities: ["audio"],
    mediaConfig: serviceMedia,
  });
  assert.equal(await emptyBody(answered), ""); // 202, no body
  // As real Graph: established, then an update once the audio flows (bots start on that one).
  const posts = await bot.waitFor(call.id, 4);
  const states = posts.map(({ body }) => body.value[0].resourceData.state);
  assert.deepEqual(states, ["incoming", "establishing", "established", "established"]);
  assert.equal(posts[3].body.value[0].resourceData.mediaState.audio, "active");
  return call;
}

test("a rung call is answered and transferred; every notification's token verifies", async () => {
  const call = await answeredCall();
  const accepted = await graph.api(`/communications/calls/${call.id}/transfer`).post({
    transferTarget: { identity: { user: { id: "alice" } } },
  });
  assert.equal(await emptyBody(accepted), "");
  const posts = await bot.waitFor(call.id, 7);
  const items = posts.slice(4).map(({ body }) => body.value[0]);
  assert.deepEqual(
    items.map((item) => item.resourceData.state),
    ["transferring", "transferAccepted", "terminated"],
  );
  assert.equal(items[2].changeType, "deleted");
  assert.deepEqual(
    { code: items[2].resourceData.resultInfo.code, subcode: items[2].resourceData.resultInfo.subcode },
    { code: 0, subcode: 7015 },
  );
  const seen = await graph.api(`/communications/calls/${call.id}`).get().catch((error) => error);
  assert.equal(seen.statusCode, 404); // a terminated call is gone, as in Graph
  for (const { authorization } of posts) {
    const claims = await verifyNotification(authorization, appId);
    assert.equal(claims.tid, call.tenantId);
  }
});

test("a token for another app is refused by jose", async () => {
  const call = await control("/calls/incoming", { callbackUri: bot.url });
  const [incoming] = await bot.waitFor(call.id, 1);
  await assert.rejects(verifyNotification(incoming.authorization, "another-app"), {
    code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
    claim: "aud",
  });
});

test("Graph's errors reject with the client's GraphError", async () => {
  const unknown = await graph
    .api("/communications/calls/no-such-call/transfer")
    .post({ transferTarget: { identity: { user: { id: "alice" } } } })
    .catch((error) => error);
  assert.equal(unknown.constructor.name, "GraphError");
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.code, "8522");
  assert.match(unknown.message, /Call not found/);
  assert.match(unknown.requestId, /^[0-9a-f-]{36}$/);
  assert.ok(unknown.date instanceof Date && !Number.isNaN(unknown.date.getTime()));

  const call = await control("/calls/incoming", { callbackUri: bot.url });
  const early = await graph
    .api(`/communications/calls/${call.id}/transfer`)
    .post({ transferTarget: { identity: { user: { id: "alice" } } } })
    .catch((error) => error);
  assert.equal(early.statusCode, 409);
  assert.equal(early.code, "Conflict");
  assert.match(early.message, /it is incoming/);

  const bad = await graph
    .api(`/communications/calls/${call.id}/answer`)
    .post({ acceptedModalities: "audio", mediaConfig: serviceMedia })
    .catch((error) => error);
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.code, "BadRequest");
  assert.match(bad.message, /acceptedModalities/);
});

test("a prompt plays and key presses arrive as toneInfo", async () => {
  const call = await answeredCall();
  const subscribed = await graph.api(`/communications/calls/${call.id}/subscribeToTone`).post({});
  assert.equal(subscribed.status, "completed");
  const prompt = await graph.api(`/communications/calls/${call.id}/playPrompt`).post({
    clientContext: "menu",
    prompts: [
      { "@odata.type": "#microsoft.graph.mediaPrompt", mediaInfo: { uri: "https://bot.example/menu.wav" } },
    ],
  });
  assert.equal(prompt["@odata.type"], "#microsoft.graph.playPromptOperation");
  assert.equal(prompt.status, "running");
  assert.equal(prompt.clientContext, "menu");
  const [done] = (await bot.waitFor(call.id, 5)).slice(4).map(({ body }) => body.value[0]);
  assert.equal(done.resourceUrl, `/communications/calls/${call.id}/operations/${prompt.id}`);
  assert.equal(done.resourceData.status, "completed");
  await control(`/calls/${call.id}/tones`, { tones: "1#" });
  const tones = (await bot.waitFor(call.id, 7)).slice(5).map(({ body }) => body.value[0]);
  assert.deepEqual(
    tones.map((item) => item.resourceData.toneInfo.tone),
    ["tone1", "pound"],
  );
});
