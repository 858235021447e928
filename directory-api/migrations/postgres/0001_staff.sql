-- Staff records and their change history (PostgreSQL). Times are Unix seconds.
CREATE TABLE staff (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username           TEXT NOT NULL UNIQUE,
    display_name       TEXT NOT NULL,
    job_title          TEXT NOT NULL,
    department         TEXT NOT NULL,
    email              TEXT NOT NULL,
    phone              TEXT NOT NULL DEFAULT '',
    office             TEXT NOT NULL DEFAULT '',
    bio                TEXT NOT NULL DEFAULT '',
    research_interests TEXT NOT NULL DEFAULT '',
    version            BIGINT NOT NULL DEFAULT 1,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    retired_at         BIGINT,
    -- Full-text search over the searchable fields ('simple': no stemming, case-folded).
    search             TSVECTOR GENERATED ALWAYS AS (
        to_tsvector('simple', display_name || ' ' || job_title || ' ' || department || ' ' || research_interests)
    ) STORED
);
CREATE INDEX staff_listing ON staff (display_name, id) WHERE retired_at IS NULL;
CREATE INDEX staff_department ON staff (department, display_name, id) WHERE retired_at IS NULL;
CREATE INDEX staff_search ON staff USING GIN (search);

-- Every write: who (subject, client, kind of token), when, and which fields, old -> new.
CREATE TABLE staff_history (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_id   BIGINT NOT NULL REFERENCES staff (id),
    at         BIGINT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    token_kind TEXT NOT NULL,
    changes    TEXT NOT NULL
);
CREATE INDEX staff_history_staff ON staff_history (staff_id, id);
