-- Staff records and their change history (SQLite). Times are Unix seconds.
CREATE TABLE staff (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
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
    retired_at         BIGINT
);
CREATE INDEX staff_listing ON staff (display_name, id) WHERE retired_at IS NULL;
CREATE INDEX staff_department ON staff (department, display_name, id) WHERE retired_at IS NULL;

-- Full-text search over the searchable fields of *live* records, kept in step with `staff`
-- by triggers (a retired record leaves the index, so counting matches needs no join).
-- `remove_diacritics 2` lets "fernandez" find "Fernández"; `prefix` indexes speed up the
-- prefix queries every search word becomes.
CREATE VIRTUAL TABLE staff_fts USING fts5(
    display_name, job_title, department, research_interests,
    content = 'staff', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3 4'
);
CREATE TRIGGER staff_fts_insert AFTER INSERT ON staff WHEN new.retired_at IS NULL BEGIN
    INSERT INTO staff_fts (rowid, display_name, job_title, department, research_interests)
    VALUES (new.id, new.display_name, new.job_title, new.department, new.research_interests);
END;
CREATE TRIGGER staff_fts_delete AFTER DELETE ON staff WHEN old.retired_at IS NULL BEGIN
    INSERT INTO staff_fts (staff_fts, rowid, display_name, job_title, department, research_interests)
    VALUES ('delete', old.id, old.display_name, old.job_title, old.department, old.research_interests);
END;
CREATE TRIGGER staff_fts_update_old AFTER UPDATE ON staff WHEN old.retired_at IS NULL BEGIN
    INSERT INTO staff_fts (staff_fts, rowid, display_name, job_title, department, research_interests)
    VALUES ('delete', old.id, old.display_name, old.job_title, old.department, old.research_interests);
END;
CREATE TRIGGER staff_fts_update_new AFTER UPDATE ON staff WHEN new.retired_at IS NULL BEGIN
    INSERT INTO staff_fts (rowid, display_name, job_title, department, research_interests)
    VALUES (new.id, new.display_name, new.job_title, new.department, new.research_interests);
END;

-- Every write: who (subject, client, kind of token), when, and which fields, old -> new.
CREATE TABLE staff_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_id   BIGINT NOT NULL REFERENCES staff (id),
    at         BIGINT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    token_kind TEXT NOT NULL,
    changes    TEXT NOT NULL
);
CREATE INDEX staff_history_staff ON staff_history (staff_id, id);
