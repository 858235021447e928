-- Portable SQL: the same statements run on SQLite and PostgreSQL.
-- Times are Unix seconds (BIGINT); hashes and keys are text.

-- Registered OAuth clients. Secrets are stored only as SHA-256 (hex).
CREATE TABLE clients (
    client_id   TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Scope policy as data: one row per (client, grant) the client may use.
CREATE TABLE client_grants (
    client_id      TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    grant_type     TEXT NOT NULL,
    allowed_scopes TEXT NOT NULL,
    default_scopes TEXT NOT NULL,
    PRIMARY KEY (client_id, grant_type)
);

-- Resource owners (members of staff). Passwords are Argon2id PHC strings.
CREATE TABLE users (
    username            TEXT PRIMARY KEY,
    password_hash       TEXT NOT NULL,
    disabled            BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL
);

-- A refresh-token family: one sign-in, rotated on every use (RFC 9700 section 4.14.2).
-- `generation` is the generation of the only refresh token of the family still valid.
CREATE TABLE refresh_families (
    family_id      TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    username       TEXT NOT NULL,
    scope          TEXT NOT NULL,
    generation     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoked_reason TEXT
);
CREATE INDEX refresh_families_username ON refresh_families (username);

-- Every refresh token ever issued (by SHA-256), so that a reused one is recognised.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES refresh_families (family_id) ON DELETE CASCADE,
    generation BIGINT NOT NULL,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX refresh_tokens_family_generation ON refresh_tokens (family_id, generation);

-- Access tokens revoked through RFC 7009, kept until they would have expired anyway.
CREATE TABLE revoked_access_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

-- Token signing keys. A retired key stays published until its tokens have expired.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);

-- Failed authentications per subject in a fixed window, for throttling that holds across
-- instances. Updated with one atomic upsert, so concurrent attempts are all counted.
CREATE TABLE auth_throttle (
    subject_kind TEXT NOT NULL,
    subject      TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    failures     BIGINT NOT NULL,
    PRIMARY KEY (subject_kind, subject)
);
