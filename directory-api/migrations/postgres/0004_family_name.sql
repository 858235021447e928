-- Records gain a family name (owned by HR) and the key the directory is ordered by.
--
-- `sort_key` is computed by the service in Rust (`domain::name::sort_key`: the family name
-- folded, accents, case and punctuation gone, then the given names), so that SQLite and
-- PostgreSQL order the same bytes. `COLLATE "C"` compares those bytes as they are: the
-- database's own collation (en_US…) would skip spaces and differ between installations. The
-- service fills the key for existing records right after this migration (`Db::migrate`),
-- finding them through `staff_unkeyed`.
ALTER TABLE staff ADD COLUMN family_name TEXT NOT NULL DEFAULT '';
ALTER TABLE staff ADD COLUMN sort_key TEXT COLLATE "C" NOT NULL DEFAULT '';

-- Existing records: the last word of the display name, the text after its last space.
UPDATE staff SET family_name = regexp_replace(display_name, '^.* ', '');

CREATE INDEX staff_unkeyed ON staff (id) WHERE sort_key = '';

-- The listing indexes follow the new order (and serve `initial`, a range of the key).
DROP INDEX staff_listing;
DROP INDEX staff_department;
CREATE INDEX staff_listing ON staff (sort_key, id) WHERE retired_at IS NULL;
CREATE INDEX staff_department ON staff (department, sort_key, id) WHERE retired_at IS NULL;

-- Live head counts per department and first character of the sort key, kept by triggers like
-- `department_counts`: which letters of the A–Z have anybody, and the count of a letter's
-- listing, are one small read instead of a scan.
CREATE TABLE initial_counts (
    department TEXT NOT NULL,
    letter     TEXT NOT NULL,
    live       BIGINT NOT NULL,
    PRIMARY KEY (department, letter)
);

INSERT INTO initial_counts (department, letter, live)
SELECT department, substr(sort_key, 1, 1), COUNT(*) FROM staff WHERE retired_at IS NULL
GROUP BY department, substr(sort_key, 1, 1);

CREATE FUNCTION staff_initial_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.retired_at IS NULL THEN
        UPDATE initial_counts SET live = live - 1
        WHERE department = OLD.department AND letter = substr(OLD.sort_key, 1, 1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.retired_at IS NULL THEN
        INSERT INTO initial_counts (department, letter, live)
        VALUES (NEW.department, substr(NEW.sort_key, 1, 1), 1)
        ON CONFLICT (department, letter) DO UPDATE SET live = initial_counts.live + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER staff_initials_insert_delete AFTER INSERT OR DELETE ON staff
FOR EACH ROW EXECUTE FUNCTION staff_initial_counts();

-- Only when the department, the key's first character or the retirement changes.
CREATE TRIGGER staff_initials_update AFTER UPDATE OF department, sort_key, retired_at ON staff
FOR EACH ROW
WHEN (OLD.department IS DISTINCT FROM NEW.department
   OR substr(OLD.sort_key, 1, 1) IS DISTINCT FROM substr(NEW.sort_key, 1, 1)
   OR OLD.retired_at IS DISTINCT FROM NEW.retired_at)
EXECUTE FUNCTION staff_initial_counts();
