// A Node.js bot's own credentials against mockgraph's identity platform: @azure/msal-node's
// ConfidentialClientApplication, unchanged but for its authority (and knownAuthorities, as
// for any authority MSAL Node does not know), and the JavaScript Graph client with its token.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ConfidentialClientApplication } from "@azure/msal-node";
import { Client } from "@microsoft/microsoft-graph-client";
import { decodeJwt } from "jose";

const base = process.env.MOCKGRAPH_URL;
const tenant = process.env.MOCKGRAPH_TENANT_ID ?? "00000000-0000-0000-0000-0000000000a1";
const clientId = "0d0d0d0d-1111-2222-3333-444444444444"; // any: no app is registered
const scopes = ["https://graph.microsoft.com/.default"];

const msal = new ConfidentialClientApplication({
  auth: {
    clientId,
    clientSecret: "any-secret",
    authority: `${base}/${tenant}`,
    knownAuthorities: [new URL(base).host], // host:port: no instance discovery at Microsoft
  },
});

test("msal-node gets an app token for Graph, then serves it from its cache", async () => {
  const first = await msal.acquireTokenByClientCredential({ scopes });
  const claims = decodeJwt(first.accessToken);
  assert.equal(claims.aud, "https://graph.microsoft.com");
  assert.equal(claims.appid, clientId);
  assert.equal(claims.tid, tenant);
  assert.equal(claims.idtyp, "app");
  assert.ok(claims.roles.includes("Calls.Initiate.All"));
  const second = await msal.acquireTokenByClientCredential({ scopes });
  assert.equal(second.fromCache, true);
  assert.equal(second.accessToken, first.accessToken);
});

test("the JavaScript Graph client transfers a call with msal-node's token", async () => {
  const graph = Client.init({
    baseUrl: base,
    customHosts: new Set([new URL(base).hostname]),
    authProvider: (done) => {
      msal.acquireTokenByClientCredential({ scopes }).then(
        (result) => done(null, result.accessToken),
        (error) => done(error, null),
      );
    },
  });
  const seeded = await fetch(`${base}/_mock/calls`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ callbackUri: "http://127.0.0.1:9/" }),
  });
  const call = await seeded.json();
  await graph.api(`/communications/calls/${call.id}/transfer`).post({
    transferTarget: { identity: { user: { id: "alice" } } },
  });
  const journal = await (await fetch(`${base}/_mock/journal?callId=${call.id}`)).json();
  const [request] = journal.value.filter((entry) => entry.kind === "request");
  assert.equal(request.status, 202);
});

test("a wrong scope is Entra's error, as msal-node reports it", async () => {
  await assert.rejects(
    msal.acquireTokenByClientCredential({ scopes: ["https://example.com/.default"] }),
    (error) => error.errorCode === "invalid_scope" && /AADSTS70011/.test(error.errorMessage),
  );
});
