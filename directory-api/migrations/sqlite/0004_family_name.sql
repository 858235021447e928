-- Records gain a family name (owned by HR) and the key the directory is ordered by.
--
-- `sort_key` is computed by the service in Rust (`domain::name::sort_key`: the family name
-- folded, accents, case and punctuation gone, then the given names), so that SQLite and
-- PostgreSQL order the same bytes; the service fills it for existing records right after
-- this migration (`Db::migrate`), finding them through `staff_unkeyed`.
ALTER TABLE staff ADD COLUMN family_name TEXT NOT NULL DEFAULT '';
ALTER TABLE staff ADD COLUMN sort_key TEXT NOT NULL DEFAULT '';

-- Existing records: the last word of the display name, the text after its last space
-- (`rtrim` with every other character of the name strips back to that space).
UPDATE staff
SET family_name = substr(display_name, length(rtrim(display_name, replace(display_name, ' ', ''))) + 1);

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

CREATE TRIGGER staff_initials_insert AFTER INSERT ON staff WHEN new.retired_at IS NULL BEGIN
    INSERT INTO initial_counts (department, letter, live)
    VALUES (new.department, substr(new.sort_key, 1, 1), 1)
    ON CONFLICT (department, letter) DO UPDATE SET live = live + 1;
END;

CREATE TRIGGER staff_initials_update AFTER UPDATE OF department, sort_key, retired_at ON staff
WHEN old.department IS NOT new.department
  OR substr(old.sort_key, 1, 1) IS NOT substr(new.sort_key, 1, 1)
  OR old.retired_at IS NOT new.retired_at
BEGIN
    UPDATE initial_counts SET live = live - 1
    WHERE department = old.department AND letter = substr(old.sort_key, 1, 1)
      AND old.retired_at IS NULL;
    INSERT INTO initial_counts (department, letter, live)
    SELECT new.department, substr(new.sort_key, 1, 1), 1 WHERE new.retired_at IS NULL
    ON CONFLICT (department, letter) DO UPDATE SET live = live + 1;
END;

CREATE TRIGGER staff_initials_delete AFTER DELETE ON staff WHEN old.retired_at IS NULL BEGIN
    UPDATE initial_counts SET live = live - 1
    WHERE department = old.department AND letter = substr(old.sort_key, 1, 1);
END;
