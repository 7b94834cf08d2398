"""Kandidaatbeheer as the OpenID Connect provider of a college's exam software: who may sign in
(rules), the authorization endpoint that asks it (views), revoking tokens (tokens). The claims
need the candidate's number and groups and so live one app up, in candidates.oidc."""
