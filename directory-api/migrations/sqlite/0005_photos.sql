-- Staff photos (issue 16): at most one per record, stored re-encoded (the photo and its
-- thumbnail, JPEG, nothing but pixels), in the directory's own database so that any number of
-- API instances share them without a shared disk. The ETags are hashes of the stored bytes.
-- A retired record keeps its photo, hidden with it; history records each change, never bytes.
CREATE TABLE staff_photos (
    staff_id     INTEGER PRIMARY KEY REFERENCES staff (id),
    content_type TEXT NOT NULL,
    image        BLOB NOT NULL,
    image_etag   TEXT NOT NULL,
    thumb        BLOB NOT NULL,
    thumb_etag   TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);
