// The browser stage's page (infra/local/browser.py): a tenant's web app as a person uses it,
// calling the API through the typed client on the API's own origin (CORS). Each function is
// what one step of the stage evaluates in Chromium; each answers a plain object the stage
// asserts on. The page that loads this module sets `window.ACCOUNT_API = {api, tenant}`.
import { accountApi, bearer, type AccountApi, type Schemas, type Tenant } from "./client.js";
import { assertionOf, attestationOf, create, type Json } from "./webauthn.js";

declare global {
  interface Window {
    ACCOUNT_API: { api: string; tenant: Tenant };
    [name: string]: unknown;
  }
}

const { api: API, tenant: TENANT } = window.ACCOUNT_API;
const client: AccountApi = accountApi(API, TENANT);
// every answer the page gets, logged on the page as a person would see it
client.use({
  async onResponse({ request, response }) {
    const copy = response.clone();
    let slug = "";
    try {
      const body = (await copy.json()) as { error?: { type?: string } | null };
      slug = body.error?.type ? " " + body.error.type : "";
    } catch {
      slug = "";
    }
    log(`${request.method} ${new URL(request.url).pathname} -> ${response.status}${slug}`);
    return undefined;
  },
});

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
}

function log(line: string): void {
  element("log").textContent += line + "\n";
}

function state(text: string): void {
  element("state").textContent = text;
}

async function signInWithPassword(userID: string, password: string): Promise<Schemas["AuthResult"]> {
  const { data, error } = await client.POST("/user-authentication", { body: { userID, password } });
  if (error) throw new Error(`sign-in refused: ${error.error.type}`);
  return data.data;
}

async function accessTokenOf(userID: string, password: string): Promise<string> {
  const result = await signInWithPassword(userID, password);
  if (!result.authenticationResult) throw new Error(`no tokens: challenge ${result.challengeName}`);
  return result.authenticationResult.accessToken;
}

/** A signed-in user registers a passkey. */
export async function register(userID: string, password: string) {
  const headers = bearer(await accessTokenOf(userID, password));
  const path = { userID };
  const started = await client.POST("/users/{userID}/passkeys", { params: { path }, headers });
  if (!started.data) throw new Error(`no options: ${started.error?.error.type}`);
  const created = await create(started.data.data.credentialCreationOptions);
  const verified = await client.POST("/users/{userID}/passkeys/verify", {
    params: { path },
    headers,
    body: { credential: attestationOf(created) },
  });
  state("passkey registered");
  return { status: verified.response.status, credentialID: verified.data?.data.credentialID };
}

/** The landing page of a mailed registration link (`?user=…&code=…`): a passkey without the
 * password. */
export async function registerWithCode() {
  const q = new URLSearchParams(location.search);
  const userID = q.get("user") ?? "";
  const code = q.get("code") ?? "";
  const started = await client.POST("/passkey-registration", { body: { userID, code } });
  if (!started.data) throw new Error(`no options: ${started.error?.error.type}`);
  const created = await create(started.data.data.credentialCreationOptions);
  const verified = await client.POST("/passkey-registration/verify", {
    body: { userID, code, credential: attestationOf(created) },
  });
  state(verified.response.status === 200 ? "passkey registered with a code" : "refused");
  return { status: verified.response.status, credentialID: verified.data?.data.credentialID };
}

/** A passkey sign-in: the challenge, the browser's assertion, the tokens. */
export async function signInWithPasskey(userID: string, tamper: boolean) {
  const started = await client.POST("/user-authentication", { body: { userID, method: "PASSKEY" } });
  if (!started.data) throw new Error(`no challenge: ${started.error?.error.type}`);
  const challenge = started.data.data;
  const credential = await assertionOf(challenge.credentialRequestOptions as Json, tamper);
  const done = await client.POST("/respond-to-auth-challenge", {
    body: { userID, session: challenge.session ?? "", challengeName: "WEB_AUTHN", credential },
  });
  const ok = done.response.status === 200 && !!done.data?.data.authenticationResult;
  state(ok ? "signed in with a passkey" : "refused: " + done.error?.error.type);
  return { status: done.response.status, signedIn: ok, problem: done.error?.error.type ?? null };
}

/** A security key (U2F), registered after a password sign-in. */
export async function registerKey(userID: string, password: string) {
  const headers = bearer(await accessTokenOf(userID, password));
  const path = { userID };
  const started = await client.POST("/users/{userID}/u2f", { params: { path }, headers });
  if (!started.data) throw new Error(`no options: ${started.error?.error.type}`);
  const created = await create(started.data.data.credentialCreationOptions);
  const verified = await client.POST("/users/{userID}/u2f/verify", {
    params: { path },
    headers,
    body: { credential: attestationOf(created), name: "drawer key" },
  });
  state(verified.response.status === 200 ? "security key registered" : "refused");
  return { status: verified.response.status, u2fID: verified.data?.data.u2fID };
}

/** Password, then the key when the API asks for it. */
export async function signInWithKey(userID: string, password: string, tamper: boolean) {
  const first = await signInWithPassword(userID, password);
  if (first.authenticationResult) {
    state("signed in with the password alone");
    return { status: 200, passwordAlone: true };
  }
  return answerKey(userID, first, tamper);
}

/** The key's answer to a U2F challenge `d` ({challengeName, session, credentialRequestOptions}). */
export async function answerKey(userID: string, d: Schemas["AuthResult"], tamper: boolean) {
  state("touch your security key");
  const credential = await assertionOf(d.credentialRequestOptions as Json, tamper);
  const done = await client.POST("/respond-to-auth-challenge", {
    body: { userID, session: d.session ?? "", challengeName: "U2F", credential },
  });
  const ok = done.response.status === 200 && !!done.data?.data.authenticationResult;
  state(ok ? "signed in with password and security key" : "refused: " + done.error?.error.type);
  return {
    status: done.response.status,
    challenge: d.challengeName,
    signedIn: ok,
    problem: done.error?.error.type ?? null,
  };
}

/** Starts a sign-in with the tenant's identity provider and leaves for it. */
export async function startIdpSignIn(idpName: string) {
  const r = await client.POST("/idp-intents", {
    body: { idpName, successUrl: location.origin + "/idp/done", failureUrl: location.origin + "/idp/failed" },
  });
  if (!r.data) return { status: r.response.status, problem: r.error?.error.type };
  // the intent secret stays with this browser's session, never in a URL: the retrieve needs it
  sessionStorage.setItem("intentSecret", r.data.data.intentSecret);
  state("to " + idpName + " ...");
  const authUrl = r.data.data.authUrl;
  // after this evaluation has answered: the page then leaves for the pool and the provider
  setTimeout(() => location.assign(authUrl), 0);
  return { status: r.response.status };
}

/** Back from the provider: the intent's outcome, and the user's profile when there is one. */
export async function finishIdpSignIn() {
  const q = new URLSearchParams(location.search);
  if (location.pathname === "/idp/failed") {
    state("sign-in not finished: " + q.get("error"));
    return { error: q.get("error") };
  }
  const r = await client.POST("/idp-intents/{intentID}/retrieve", {
    params: { path: { intentID: q.get("intentID") ?? "" } },
    body: { intentToken: q.get("intentToken") ?? "", intentSecret: sessionStorage.getItem("intentSecret") ?? "" },
  });
  if (!r.data) {
    state("refused: " + r.error?.error.type);
    return { status: r.response.status, problem: r.error?.error.type };
  }
  const d = r.data.data;
  if (!d.userID || !d.authenticationResult) {
    state("no account yet for " + d.idpInformation.email + " at " + d.idpInformation.idpName);
    return { status: r.response.status, userID: null, email: d.idpInformation.email };
  }
  const me = await client.GET("/users/{userID}", {
    params: { path: { userID: d.userID } },
    headers: bearer(d.authenticationResult.accessToken),
  });
  state("signed in as " + d.userID + " with " + d.idpInformation.idpName);
  return { status: r.response.status, userID: d.userID, profile: me.response.status };
}

/** What a page learns when it signs in: the answer's status, or that the browser refused to let
 * it read one (an origin the tenant does not list). */
export async function reach(userID: string, password: string) {
  try {
    const { response } = await client.POST("/user-authentication", { body: { userID, password } });
    return { read: true, status: response.status, activityID: response.headers.get("x-activity-id") };
  } catch (e) {
    state("the browser refused: " + String(e));
    return { read: false, error: String(e) };
  }
}

Object.assign(window, {
  register,
  registerWithCode,
  signInWithPasskey,
  registerKey,
  signInWithKey,
  answerKey,
  startIdpSignIn,
  finishIdpSignIn,
  reach,
});
