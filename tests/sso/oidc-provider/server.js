// A real OpenID provider (npm oidc-provider) on loopback for Aftaleflow's SSO tests.
//
// Reads one JSON document from the file named by its first argument:
//   { "client_id", "client_secret", "redirect_uris": [...], "post_logout_redirect_uris": [...],
//     "accounts": { "<login>": { "name", "email", "groups": [...] } } }
// Any account is signed in with the provider's development login form (login = the key in
// "accounts", any password), which is also its sub claim. Listens on 127.0.0.1 on a free
// port and prints "listening <issuer>" on stdout once it answers. The accounts are read again
// at each login.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const server = createServer();

server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: settings.client_id,
      client_secret: settings.client_secret,
      redirect_uris: settings.redirect_uris,
      post_logout_redirect_uris: settings.post_logout_redirect_uris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
    }],
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    // Put the scopes' claims in the ID token itself, as Entra ID does with its groups claim.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: { keys: ['aftaleflow-test-provider-cookie-key'] },
    async findAccount(ctx, id) {
      // Read afresh at every login, so a test can change a person's groups between logins.
      const account = JSON.parse(readFileSync(process.argv[2], 'utf8')).accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, email_verified: true, ...account };
        },
      };
    },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    // Consent is implied (the region's own application): the grant covers every scope.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid profile email groups');
      await grant.save();
      return grant;
    },
  });
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
