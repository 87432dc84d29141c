// infra/docs/api.md's example of the typed client ("A typed client for TypeScript"), type-checked with the
// rest of infra/web so that the example cannot drift from the contract.
import { accountApi, bearer } from "./client.js";

export async function example(apiKey: string, userID: string, password: string) {
  const api = accountApi("https://api.example.com/dev", { clientId: "acme", clientCode: "ACME", database: "main", apiKey });
  const { data, error } = await api.POST("/user-authentication", { body: { userID, password } });
  if (error) throw new Error(error.error.type);       // "/problems/invalid-credentials", …
  const tokens = data.data.authenticationResult;      // null with a challenge: data.data.challengeName
  if (tokens) {
    const me = await api.GET("/users/{userID}", { params: { path: { userID } }, headers: bearer(tokens.accessToken) });
    return me.data?.data;
  }
  return data.data.challengeName;
}
