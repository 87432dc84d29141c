// WebAuthn in the browser for the API's ceremonies: the API's options (base64url, as JSON
// carries them) as navigator.credentials takes them, and the browser's answers as the JSON the
// API takes (RegistrationResponseJSON, AuthenticationResponseJSON). The browser stage's page
// and the example app share it.
import type { Schemas } from "./client.js";

export type Json = Record<string, unknown>;

export function b64(s: string): Uint8Array<ArrayBuffer> {
  const padded = s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

export function b64url(buf: ArrayBuffer | Uint8Array): string {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

interface Described {
  id: string;
  [key: string]: unknown;
}

/** The API's creation options (base64url, as JSON carries them) as the browser takes them. */
export function publicKeyOf(o: Json): PublicKeyCredentialCreationOptions {
  const user = o.user as Json;
  return {
    ...(o as unknown as PublicKeyCredentialCreationOptions),
    challenge: b64(o.challenge as string),
    user: { ...(user as unknown as PublicKeyCredentialUserEntity), id: b64(user.id as string) },
    excludeCredentials: ((o.excludeCredentials as Described[] | undefined) ?? []).map((c) => ({
      ...(c as unknown as PublicKeyCredentialDescriptor),
      id: b64(c.id),
    })),
  };
}

/** A new credential as RegistrationResponseJSON. */
export function attestationOf(created: PublicKeyCredential): Schemas["VerifyPasskey"]["credential"] {
  const response = created.response as AuthenticatorAttestationResponse;
  return {
    id: created.id,
    rawId: b64url(created.rawId),
    type: created.type,
    authenticatorAttachment: created.authenticatorAttachment,
    response: {
      clientDataJSON: b64url(response.clientDataJSON),
      attestationObject: b64url(response.attestationObject),
      transports: response.getTransports ? response.getTransports() : [],
    },
    clientExtensionResults: {},
  };
}

/** The browser's answer to request options `o`, as AuthenticationResponseJSON (the signature's
 * last byte flipped when `tamper`). */
export async function assertionOf(o: Json, tamper: boolean): Promise<NonNullable<Schemas["ChallengeAnswer"]["credential"]>> {
  const publicKey: PublicKeyCredentialRequestOptions = {
    ...(o as unknown as PublicKeyCredentialRequestOptions),
    challenge: b64(o.challenge as string),
    allowCredentials: ((o.allowCredentials as Described[] | undefined) ?? []).map((c) => ({
      ...(c as unknown as PublicKeyCredentialDescriptor),
      id: b64(c.id),
    })),
  };
  const got = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential;
  const response = got.response as AuthenticatorAssertionResponse;
  const signature = new Uint8Array(response.signature);
  if (tamper) signature[signature.length - 1]! ^= 1;
  return {
    id: got.id,
    rawId: b64url(got.rawId),
    type: "public-key",
    authenticatorAttachment: got.authenticatorAttachment,
    response: {
      clientDataJSON: b64url(response.clientDataJSON),
      authenticatorData: b64url(response.authenticatorData),
      signature: b64url(signature),
      userHandle: response.userHandle ? b64url(response.userHandle) : null,
    },
    clientExtensionResults: {},
  };
}

export async function create(options: Json): Promise<PublicKeyCredential> {
  return (await navigator.credentials.create({ publicKey: publicKeyOf(options) })) as PublicKeyCredential;
}
