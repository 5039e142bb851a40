"""Single sign-on: OpenID Connect and SAML 2.0 (OIOSAML 3), just-in-time provisioning and role
mapping as data (data/sso.toml, docs/sso.md)."""
