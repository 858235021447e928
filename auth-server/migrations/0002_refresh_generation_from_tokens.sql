-- A family's current generation is now the highest generation among its tokens, and the
-- unique (family_id, generation) index alone decides which of two concurrent rotations wins:
-- a rotation is one INSERT instead of a transaction of an UPDATE and an INSERT.
ALTER TABLE refresh_families DROP COLUMN generation;
