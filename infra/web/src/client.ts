// The Account API's typed client: openapi-fetch over the types openapi-typescript generates from
// the contract (schema.d.ts, infra/build/client.py). Every path, method, body and answer is the
// contract's, so a contract change that breaks a caller fails its type check (the test
// command's lint stage runs tsc over this directory).
//
//   const api = accountApi("https://api.example.com/v1", { clientId, clientCode, database, apiKey });
//   const { data, error } = await api.POST("/user-authentication", { body: { userID, password } });
//   if (error) show(error.error.type);   // a problem: /problems/invalid-credentials, …
//   else use(data.data.authenticationResult);
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths };
export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type Tokens = Schemas["Tokens"];

/** The tenant a client calls for: the three `vbasoftware-*` headers, and API Gateway's key. */
export interface Tenant {
  clientId: string;
  clientCode: string;
  database: string;
  /** `x-api-key`, behind API Gateway. In a web app it is public (anyone can copy it from the
   * page and spend the tenant's quota): give the web app a key and usage plan of its own. */
  apiKey?: string;
}

export type AccountApi = Client<paths>;

/** A client of the API at `baseUrl` for `tenant`: every call sends the tenant's headers. */
export function accountApi(baseUrl: string, tenant: Tenant, fetchImpl?: typeof fetch): AccountApi {
  const headers: Record<string, string> = {
    "vbasoftware-client-id": tenant.clientId,
    "vbasoftware-client-code": tenant.clientCode,
    "vbasoftware-database": tenant.database,
  };
  if (tenant.apiKey) headers["x-api-key"] = tenant.apiKey;
  return createClient<paths>({ baseUrl: baseUrl.replace(/\/+$/, ""), headers, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
}

/** The `Authorization` header of a call made as a signed-in user. */
export function bearer(accessToken: string): { Authorization: string } {
  return { Authorization: `Bearer ${accessToken}` };
}

/** The problem slug of a failed call (`invalid-credentials`), or `null`. */
export function slugOf(error: { error: Problem } | undefined): string | null {
  return error ? error.error.type.replace(/^\/problems\//, "") : null;
}
