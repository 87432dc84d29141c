// The example web app: what a tenant's single-page app looks like on the typed client. It is a
// client of the API only (no backend of its own): sign in with a password, a passkey or the
// tenant's identity provider; answer a second factor (an authenticator app's code, a code by
// SMS or email, a security key); choose a password in place of a temporary one; recover a
// forgotten password; and, signed in, an account page: the profile, a new email address or
// phone number verified with its code, an authenticator app set up from its QR code, passkeys
// and security keys added and removed, and sign-out.
//
// The page (infra/web/app/index.html) is served with `window.ACCOUNT_APP = {api, tenant,
// providers}` (infra/local/web.py, from the tenant's description). Tokens live in this
// module's memory only: nothing a script could take is kept in storage, and a reload signs
// the person out. Every text the API returns is set as text, never as markup.
import { accountApi, bearer, slugOf, type AccountApi, type Problem, type Schemas, type Tenant } from "./client.js";
import { assertionOf, attestationOf, create, type Json } from "./webauthn.js";

interface AppConfig {
  api: string;
  tenant: Tenant;
  /** The tenant's identity providers, by name (a button each). */
  providers: string[];
}

declare global {
  interface Window {
    ACCOUNT_APP: AppConfig;
  }
}

type AuthResult = Schemas["AuthResult"];
type Failure = { error: Problem } | undefined;

const config = window.ACCOUNT_APP;
const api: AccountApi = accountApi(config.api, config.tenant);
/** Where the identity provider's sign-in comes back to (registered with the tenant). */
const APP = location.origin + "/app";

/** The signed-in person. */
let session: { userID: string; accessToken: string } | null = null;
/** A sign-in waiting for its next step: the user and the challenge. */
let pending: { userID: string; result: AuthResult } | null = null;

const VIEWS = ["sign-in", "new-password", "code", "key", "forgot", "account"] as const;
type View = (typeof VIEWS)[number];

function $(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
}

function input(id: string): HTMLInputElement {
  return $(id) as HTMLInputElement;
}

function show(view: View): void {
  for (const v of VIEWS) $(v).hidden = v !== view;
  const first = $(view).querySelector<HTMLInputElement>("input:not([type=hidden])");
  first?.focus();
}

function notice(text: string, error = false): void {
  const n = $("notice");
  n.textContent = text;
  n.className = error ? "notice error" : text ? "notice" : "";
}

/** What a person is told of a refusal. */
const TOLD: Record<string, string> = {
  "invalid-credentials": "That user ID and password (or code) do not match.",
  "account-locked": "This account is locked. Try again later, or ask an administrator.",
  "account-disabled": "This account is disabled. Ask an administrator.",
  "password-reset-required": "Your password was reset by an administrator: choose a new one with “Forgot your password?”.",
  "invalid-password": "That password does not meet the rules.",
  "code-mismatch": "That code is not right.",
  "code-expired": "That code has expired: ask for a new one.",
  "too-many-requests": "Too many tries. Wait a moment and try again.",
  "reauthentication-required": "For this change, sign in again first.",
  "conflict": "That cannot be done on this account now.",
  "dependency-unavailable": "The service is busy. Try again in a moment.",
  "unauthenticated": "Your session has ended. Sign in again.",
};

/** Tells the person what went wrong; `true` when something did. */
function refused(error: Failure, status?: number): boolean {
  if (!error) return false;
  const slug = slugOf(error) ?? "";
  const detail = error.error.detail ? ` (${error.error.detail})` : "";
  notice((TOLD[slug] ?? `That did not work: ${slug || status}`) + (slug === "invalid-password" ? detail : ""), true);
  if (slug === "unauthenticated") signedOut();
  return true;
}

function auth(): { headers: { Authorization: string }; params: { path: { userID: string } } } {
  if (!session) throw new Error("not signed in");
  return { headers: bearer(session.accessToken), params: { path: { userID: session.userID } } };
}

// ---- signing in ----------------------------------------------------------------------------

/** Where a sign-in goes next: the account, or the step the API asks for. */
async function next(userID: string, result: AuthResult): Promise<void> {
  if (result.authenticationResult) {
    pending = null;
    session = { userID, accessToken: result.authenticationResult.accessToken };
    notice("");
    await account();
    return;
  }
  pending = { userID, result };
  // what the last screen said is not this step's
  notice("");
  switch (result.challengeName) {
    case "NEW_PASSWORD_REQUIRED":
      notice("Your password is temporary: choose your own.");
      show("new-password");
      return;
    case "SOFTWARE_TOKEN_MFA":
      $("code-prompt").textContent = "Enter the 6-digit code your authenticator app shows.";
      show("code");
      return;
    case "SMS_MFA":
    case "EMAIL_OTP":
      $("code-prompt").textContent = `We sent a code by ${result.challengeName === "SMS_MFA" ? "text message" : "email"}: enter it.`;
      show("code");
      return;
    case "U2F":
      show("key");
      return;
    default:
      notice(`This app cannot answer the sign-in step ${result.challengeName}.`, true);
      show("sign-in");
  }
}

async function signInWithPassword(e: Event): Promise<void> {
  e.preventDefault();
  const userID = input("user-id").value.trim();
  const { data, error, response } = await api.POST("/user-authentication", {
    body: { userID, password: input("password").value },
  });
  input("password").value = "";
  if (refused(error, response.status) || !data) return;
  await next(userID, data.data);
}

async function signInWithPasskey(): Promise<void> {
  const userID = input("user-id").value.trim();
  if (!userID) {
    notice("Type your user ID first.", true);
    return;
  }
  const started = await api.POST("/user-authentication", { body: { userID, method: "PASSKEY" } });
  if (refused(started.error) || !started.data) return;
  await answerWithAuthenticator(userID, started.data.data, "WEB_AUTHN", "passkey");
}

/** The browser's passkey or security key answers the challenge `result`; then the next step. */
async function answerWithAuthenticator(
  userID: string,
  result: AuthResult,
  challengeName: "WEB_AUTHN" | "U2F",
  what: string,
): Promise<void> {
  let credential;
  try {
    credential = await assertionOf(result.credentialRequestOptions as Json, false);
  } catch {
    notice(`No ${what} was used.`, true);
    return;
  }
  const r = await api.POST("/respond-to-auth-challenge", {
    body: { userID, session: result.session ?? "", challengeName, credential },
  });
  if (refused(r.error) || !r.data) return;
  await next(userID, r.data.data);
}

async function signInWithProvider(idpName: string): Promise<void> {
  const r = await api.POST("/idp-intents", {
    body: { idpName, successUrl: APP + "/idp/done", failureUrl: APP + "/idp/failed" },
  });
  if (refused(r.error) || !r.data) return;
  // the intent's secret stays with this tab, never in a URL: the retrieve needs it
  sessionStorage.setItem("intentSecret", r.data.data.intentSecret);
  location.assign(r.data.data.authUrl);
}

/** Back from the identity provider (`/app/idp/done` or `/app/idp/failed`). */
async function backFromProvider(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const done = location.pathname === "/app/idp/done";
  const secret = sessionStorage.getItem("intentSecret") ?? "";
  sessionStorage.removeItem("intentSecret");
  // the token leaves the address bar (and the history) before anything else happens
  history.replaceState(null, "", "/app/");
  if (!done) {
    notice("The sign-in with your provider did not finish.", true);
    show("sign-in");
    return;
  }
  const r = await api.POST("/idp-intents/{intentID}/retrieve", {
    params: { path: { intentID: q.get("intentID") ?? "" } },
    body: { intentToken: q.get("intentToken") ?? "", intentSecret: secret },
  });
  if (refused(r.error) || !r.data) {
    show("sign-in");
    return;
  }
  const d = r.data.data;
  if (!d.userID || !d.authenticationResult) {
    notice(`No account here is linked to ${d.idpInformation.email ?? "that identity"} at ${d.idpInformation.idpName} yet.`, true);
    show("sign-in");
    return;
  }
  await next(d.userID, { challengeName: null, session: null, authenticationResult: d.authenticationResult });
}

async function chooseNewPassword(e: Event): Promise<void> {
  e.preventDefault();
  if (!pending) return show("sign-in");
  const { userID, result } = pending;
  const r = await api.POST("/change-temporary-password", {
    body: { userID, newPassword: input("new-password-value").value, session: result.session ?? "" },
  });
  input("new-password-value").value = "";
  if (refused(r.error) || !r.data) return;
  await next(userID, r.data.data);
}

async function answerCode(e: Event): Promise<void> {
  e.preventDefault();
  if (!pending) return show("sign-in");
  const { userID, result } = pending;
  const challengeName = result.challengeName as "SOFTWARE_TOKEN_MFA" | "SMS_MFA" | "EMAIL_OTP";
  const r = await api.POST("/respond-to-auth-challenge", {
    body: { userID, session: result.session ?? "", challengeName, code: input("code-value").value.trim() },
  });
  input("code-value").value = "";
  if (refused(r.error) || !r.data) return;
  await next(userID, r.data.data);
}

async function answerKey(): Promise<void> {
  if (!pending) return show("sign-in");
  await answerWithAuthenticator(pending.userID, pending.result, "U2F", "security key");
}

// ---- recovery ------------------------------------------------------------------------------

async function sendResetCode(e: Event): Promise<void> {
  e.preventDefault();
  const userID = input("forgot-user").value.trim();
  const r = await api.POST("/forgot-password", { body: { userID } });
  if (refused(r.error) || !r.data) return;
  const to = r.data.data.codeDeliveryDetails.destination;
  notice(`If that account exists, we sent it a code${to ? " (" + to + ")" : ""}.`);
  $("reset-form").hidden = false;
  input("reset-code").focus();
}

async function resetPassword(e: Event): Promise<void> {
  e.preventDefault();
  const userID = input("forgot-user").value.trim();
  const r = await api.POST("/confirm-forgot-password", {
    body: { userID, confirmationCode: input("reset-code").value.trim(), newPassword: input("reset-password").value },
  });
  input("reset-password").value = "";
  if (refused(r.error) || !r.data) return;
  $("reset-form").hidden = true;
  input("user-id").value = userID;
  show("sign-in");
  notice("Your password is changed, and every session signed out. Sign in with the new one.");
}

// ---- the account ---------------------------------------------------------------------------

function row(label: string, value: string | null | undefined, note?: string): HTMLElement {
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  dd.textContent = value || "—";
  if (note) {
    const small = document.createElement("small");
    small.textContent = " " + note;
    dd.append(small);
  }
  const div = document.createElement("div");
  div.append(dt, dd);
  return div;
}

function item(text: string, action: string, onClick: () => Promise<void>): HTMLLIElement {
  const li = document.createElement("li");
  const span = document.createElement("span");
  span.textContent = text;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.textContent = action;
  button.addEventListener("click", () => void onClick());
  li.append(span, button);
  return li;
}

async function account(): Promise<void> {
  if (!session) return show("sign-in");
  show("account");
  $("who").textContent = session.userID;
  // what a person (and the browser stage) waits for before acting on the page
  $("account").dataset.loaded = "false";
  await Promise.all([profile(), methods(), passkeys(), keys()]);
  $("account").dataset.loaded = "true";
}

async function profile(): Promise<void> {
  const r = await api.GET("/users/{userID}", auth());
  if (refused(r.error) || !r.data) return;
  const u = r.data.data;
  const name = u.name || [u.givenName, u.familyName].filter(Boolean).join(" ");
  $("profile").replaceChildren(
    row("User ID", u.userID),
    row("Name", name),
    row("Email", u.email, contact(u.email, u.emailVerified, u.pendingEmail)),
    row("Phone", u.phoneNumber, contact(u.phoneNumber, u.phoneVerified, u.pendingPhoneNumber)),
    row("State", u.state),
  );
  // a new address waits for its code, and so does one set where there was none verified
  // before (Cognito holds a change back only while the old value is a verified one)
  $("email-verify-form").hidden = !u.pendingEmail && !(u.email && !u.emailVerified);
  $("phone-verify-form").hidden = !u.pendingPhoneNumber && !(u.phoneNumber && !u.phoneVerified);
}

/** What the profile says beside an email address or phone number. */
function contact(value: string | null | undefined, verified: boolean | null | undefined, pending: string | null | undefined): string {
  if (pending) return `(${pending} waits for its code)`;
  if (!value) return "";
  return verified ? "(verified)" : "(waits for its code)";
}

async function methods(): Promise<void> {
  const r = await api.GET("/users/{userID}/authentication-methods", auth());
  if (refused(r.error) || !r.data) return;
  const m = r.data.data;
  $("methods").textContent = `Signs in with: ${m.methods.join(", ")}${m.preferred ? `; second factor: ${m.preferred}` : ""}`;
  const totp = m.methods.includes("TOTP");
  $("totp-start").hidden = totp;
  $("totp-off").hidden = !totp;
  if (totp) $("totp-setup").hidden = true;
}

async function passkeys(): Promise<void> {
  const r = await api.GET("/users/{userID}/passkeys", auth());
  if (refused(r.error) || !r.data) return;
  const list = r.data.data.passkeys.map((k) =>
    item(`${k.name ?? "Passkey"}${k.createdAt ? ", added " + k.createdAt.slice(0, 10) : ""}`, "Remove", async () => {
      const d = await api.DELETE("/users/{userID}/passkeys/{credentialID}", {
        ...auth(),
        params: { path: { userID: session?.userID ?? "", credentialID: k.credentialID } },
      });
      if (refused(d.error)) return;
      notice("Passkey removed.");
      await Promise.all([passkeys(), methods()]);
    }),
  );
  $("passkey-list").replaceChildren(...list);
  $("passkeys-none").hidden = list.length > 0;
}

async function keys(): Promise<void> {
  const r = await api.GET("/users/{userID}/u2f", auth());
  if (refused(r.error) || !r.data) return;
  const list = r.data.data.u2f.map((k) =>
    item(`${k.name}, added ${k.createdAt.slice(0, 10)}`, "Remove", async () => {
      const d = await api.DELETE("/users/{userID}/u2f/{u2fID}", {
        ...auth(),
        params: { path: { userID: session?.userID ?? "", u2fID: k.u2fID } },
      });
      if (refused(d.error)) return;
      notice("Security key removed.");
      await Promise.all([keys(), methods()]);
    }),
  );
  $("key-list").replaceChildren(...list);
  $("keys-none").hidden = list.length > 0;
}

async function changeEmail(e: Event): Promise<void> {
  e.preventDefault();
  const r = await api.PUT("/users/{userID}/email", { ...auth(), body: { email: input("new-email").value.trim() } });
  if (refused(r.error)) return;
  input("new-email").value = "";
  notice("We sent a code to the new address. Your old one stays in use until you enter it.");
  await profile();
  input("email-code").focus();
}

async function verifyEmail(e: Event): Promise<void> {
  e.preventDefault();
  const r = await api.POST("/users/{userID}/email/verify", {
    ...auth(),
    body: { verificationCode: input("email-code").value.trim() },
  });
  input("email-code").value = "";
  if (refused(r.error)) return;
  notice("Your new email address is verified and in use.");
  await profile();
}

async function changePhone(e: Event): Promise<void> {
  e.preventDefault();
  const r = await api.PUT("/users/{userID}/phone", { ...auth(), body: { phoneNumber: input("new-phone").value.trim() } });
  if (refused(r.error)) return;
  input("new-phone").value = "";
  notice("We sent a code to the new number by text message.");
  await profile();
}

async function verifyPhone(e: Event): Promise<void> {
  e.preventDefault();
  const r = await api.POST("/users/{userID}/phone/verify", {
    ...auth(),
    body: { verificationCode: input("phone-code").value.trim() },
  });
  input("phone-code").value = "";
  if (refused(r.error)) return;
  notice("Your new phone number is verified and in use.");
  await profile();
}

async function startTotp(): Promise<void> {
  const r = await api.POST("/users/{userID}/totp", auth());
  if (refused(r.error) || !r.data) return;
  const setup = r.data.data;
  (($("totp-qr") as HTMLImageElement).src = setup.qrCode.svg);
  $("totp-secret").textContent = setup.secret;
  $("totp-setup").hidden = false;
  input("totp-code").focus();
}

async function verifyTotp(e: Event): Promise<void> {
  e.preventDefault();
  const r = await api.POST("/users/{userID}/totp/verify", {
    ...auth(),
    body: { code: input("totp-code").value.trim(), friendlyName: "Authenticator app" },
  });
  input("totp-code").value = "";
  if (refused(r.error)) return;
  $("totp-setup").hidden = true;
  notice("Your authenticator app is on: sign-ins will ask for its code.");
  await methods();
}

async function totpOff(): Promise<void> {
  const r = await api.DELETE("/users/{userID}/totp", auth());
  if (refused(r.error)) return;
  notice("Your authenticator app is off.");
  await methods();
}

async function addPasskey(): Promise<void> {
  const started = await api.POST("/users/{userID}/passkeys", auth());
  if (refused(started.error) || !started.data) return;
  let created;
  try {
    created = await create(started.data.data.credentialCreationOptions);
  } catch {
    notice("No passkey was made.", true);
    return;
  }
  const r = await api.POST("/users/{userID}/passkeys/verify", { ...auth(), body: { credential: attestationOf(created) } });
  if (refused(r.error)) return;
  notice("Passkey added: you can sign in with it.");
  await Promise.all([passkeys(), methods()]);
}

async function addKey(e: Event): Promise<void> {
  e.preventDefault();
  const started = await api.POST("/users/{userID}/u2f", auth());
  if (refused(started.error) || !started.data) return;
  let created;
  try {
    created = await create(started.data.data.credentialCreationOptions);
  } catch {
    notice("No security key was added.", true);
    return;
  }
  const name = input("key-name").value.trim() || "Security key";
  const r = await api.POST("/users/{userID}/u2f/verify", { ...auth(), body: { credential: attestationOf(created), name } });
  if (refused(r.error)) return;
  input("key-name").value = "";
  notice("Security key added: sign-ins with your password will ask for it.");
  await Promise.all([keys(), methods()]);
}

function signedOut(): void {
  session = null;
  pending = null;
  $("who").textContent = "";
  show("sign-in");
}

async function signOut(): Promise<void> {
  if (!session) return signedOut();
  const r = await api.POST("/users/{userID}/sign-out", auth());
  if (refused(r.error)) return;
  signedOut();
  notice("You are signed out, on every device.");
}

// ---- wiring --------------------------------------------------------------------------------

function on(id: string, event: string, handler: (e: Event) => Promise<void> | void): void {
  $(id).addEventListener(event, (e) => {
    void Promise.resolve(handler(e)).catch((err: unknown) => notice(`Something went wrong: ${String(err)}`, true));
  });
}

function start(): void {
  on("password-form", "submit", signInWithPassword);
  on("passkey-sign-in", "click", signInWithPasskey);
  on("forgot-link", "click", (e) => {
    e.preventDefault();
    input("forgot-user").value = input("user-id").value;
    notice("");
    show("forgot");
  });
  on("back-to-sign-in", "click", (e) => {
    e.preventDefault();
    notice("");
    show("sign-in");
  });
  on("new-password-form", "submit", chooseNewPassword);
  on("code-form", "submit", answerCode);
  on("use-key", "click", answerKey);
  on("forgot-form", "submit", sendResetCode);
  on("reset-form", "submit", resetPassword);
  on("email-form", "submit", changeEmail);
  on("email-verify-form", "submit", verifyEmail);
  on("phone-form", "submit", changePhone);
  on("phone-verify-form", "submit", verifyPhone);
  on("totp-start", "click", startTotp);
  on("totp-verify-form", "submit", verifyTotp);
  on("totp-off", "click", totpOff);
  on("passkey-add", "click", addPasskey);
  on("key-form", "submit", addKey);
  on("sign-out", "click", signOut);
  const providers = $("providers");
  for (const name of config.providers) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = `Sign in with ${name}`;
    b.addEventListener("click", () => void signInWithProvider(name));
    providers.append(b);
  }
  $("providers-or").hidden = config.providers.length === 0;
  if (location.pathname.startsWith("/app/idp/")) {
    void backFromProvider();
  } else {
    show("sign-in");
  }
  document.body.dataset.ready = "true";
}

start();
