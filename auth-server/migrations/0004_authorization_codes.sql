-- The authorization code grant (RFC 6749 section 4.1, RFC 7636).

-- The redirect URIs registered for a client, compared character for character.
CREATE TABLE client_redirect_uris (
    client_id    TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    PRIMARY KEY (client_id, redirect_uri)
);

-- Authorization codes, by SHA-256 of the code (hex): bound to the client, the redirect URI,
-- the PKCE S256 challenge, the user and the scope; single use. `used_at` marks the one
-- redemption, and `family_id` / `access_jti` what it issued, so that a second use can revoke
-- them (RFC 6749 section 4.1.2). Expired rows are purged on the throttling timer.
CREATE TABLE authorization_codes (
    code_hash      TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    username       TEXT NOT NULL,
    scope          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    family_id      TEXT,
    access_jti     TEXT,
    access_expires_at BIGINT
);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);
