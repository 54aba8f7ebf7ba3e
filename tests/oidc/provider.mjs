// A real OpenID Connect provider on 127.0.0.1 for the sign-in test (npm `oidc-provider`).
// usage: node provider.mjs PORT REDIRECT_URI INSTALL_DIR   (INSTALL_DIR holds node_modules/oidc-provider)
// One confidential client, `healthdeck` / `test-secret`. Its built-in development login form accepts any
// login with any password: the login is the e-mail address; logins starting with "lead" are in the
// `release-leads` group. Claims go into the ID token, which is what Streamlit reads.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [port, redirect, installed] = process.argv.slice(2);
const { default: Provider } = await import(pathToFileURL(join(installed, "node_modules/oidc-provider/lib/index.js")));
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: "healthdeck",
    client_secret: "test-secret",
    redirect_uris: [redirect],
    grant_types: ["authorization_code"],
    response_types: ["code"],
  }],
  scopes: ["openid", "email", "profile", "groups"],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
  conformIdTokenClaims: false,
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({
      sub: id, email: id, email_verified: true, name: id.split("@")[0],
      groups: id.startsWith("lead") ? ["release-leads"] : [],
    }),
  }),
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => false },
  cookies: { keys: ["healthdeck-test-only"] },
});
provider.proxy = false;
provider.listen(Number(port), "127.0.0.1", () => console.log(`oidc provider on ${port}`));
