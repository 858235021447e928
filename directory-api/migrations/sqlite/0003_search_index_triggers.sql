-- The full-text index's update triggers of 0001 were two: one removing a record's old words,
-- then one adding its new ones. But SQLite fires the triggers of one event in the reverse
-- order of their creation, so every update added the new words first and then removed the
-- old ones: the words that an edit left unchanged (a name, after a bio edit) vanished from
-- the index, and the person could no longer be found by them.
--
-- One trigger replaces the two, its statements run in the order written: out with the old
-- words (when the record was live), in with the new (when it still is). It fires only when a
-- searchable field or the retirement changes; a phone or bio edit leaves the index alone.
DROP TRIGGER staff_fts_update_old;
DROP TRIGGER staff_fts_update_new;

CREATE TRIGGER staff_fts_update AFTER UPDATE ON staff
WHEN old.display_name IS NOT new.display_name
  OR old.job_title IS NOT new.job_title
  OR old.department IS NOT new.department
  OR old.research_interests IS NOT new.research_interests
  OR old.retired_at IS NOT new.retired_at
  OR old.id IS NOT new.id
BEGIN
    INSERT INTO staff_fts (staff_fts, rowid, display_name, job_title, department, research_interests)
    SELECT 'delete', old.id, old.display_name, old.job_title, old.department, old.research_interests
    WHERE old.retired_at IS NULL;
    INSERT INTO staff_fts (rowid, display_name, job_title, department, research_interests)
    SELECT new.id, new.display_name, new.job_title, new.department, new.research_interests
    WHERE new.retired_at IS NULL;
END;

-- Repair databases the old triggers already damaged: rebuild the index from the live records.
-- ('rebuild' would index retired records too, since `staff` is the index's content table.)
INSERT INTO staff_fts (staff_fts) VALUES ('delete-all');
INSERT INTO staff_fts (rowid, display_name, job_title, department, research_interests)
SELECT id, display_name, job_title, department, research_interests
FROM staff WHERE retired_at IS NULL;
