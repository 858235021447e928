-- The server's own secrets other than signing keys, by name: today the key that signs device
-- tokens (OWASP device cookies). Created once by whichever instance starts first; sealed with
-- the key-encryption key when one is configured, like the signing keys' private halves.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
