//! Staff photos as stored (`staff_photos`, one row per record that has one): the read of a
//! photo or its thumbnail with the record's state in one statement, and the writes, each with
//! its history entry and a new version of the record (whose `has_photo` it changes) in the same
//! transaction. History keeps the photos' ETags, never their bytes.

use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

use super::staff::Actor;
use super::writes::{current_for_write, record_history};
use super::{Db, local_reads};
use crate::domain::photo::{ProcessedPhoto, STORED_TYPE};
use crate::domain::staff::FieldChange;

/// Which of a record's two images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoSize {
    /// The photo (at most 512 pixels on its long side).
    Full,
    /// The thumbnail (at most 96).
    Thumbnail,
}

/// One stored image, ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    /// Its media type.
    pub content_type: String,
    /// Its strong ETag, quoted (a hash of the bytes).
    pub etag: String,
    /// The image.
    pub bytes: Vec<u8>,
}

/// What a read of a photo found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoRead {
    /// No such record (or a retired one, when those were not asked for).
    NoRecord,
    /// The record has no photo.
    NoPhoto,
    /// The image asked for.
    Found(StoredImage),
}

/// How a photo's upload ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoWritten {
    /// The record had no photo; it has this one now.
    Created,
    /// The record's photo was replaced.
    Replaced,
    /// No live record with that id: nothing was written.
    NotFound,
}

/// How a photo's removal ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoRemoved {
    /// Removed.
    Removed,
    /// The record has no photo: nothing was written.
    NoPhoto,
    /// No live record with that id.
    NotFound,
}

/// The strong ETag of stored bytes (RFC 9110 §8.8.3): 128 bits of their SHA-256, quoted.
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The read of `size`'s columns, the record's retirement beside them; `$1` (or `?1`) is the id.
fn read_sql(size: PhotoSize, placeholder: &str) -> String {
    let (bytes, etag) = match size {
        PhotoSize::Full => ("image", "image_etag"),
        PhotoSize::Thumbnail => ("thumb", "thumb_etag"),
    };
    format!(
        "SELECT s.retired_at, p.content_type, p.{etag} AS etag, p.{bytes} AS bytes \
         FROM staff s LEFT JOIN staff_photos p ON p.staff_id = s.id WHERE s.id = {placeholder}"
    )
}

/// A row of [`read_sql`] as found, before the retirement filter.
type RawRead = Option<(Option<i64>, Option<(String, String, Vec<u8>)>)>;

fn filtered(raw: RawRead, include_retired: bool) -> PhotoRead {
    match raw {
        None => PhotoRead::NoRecord,
        Some((Some(_), _)) if !include_retired => PhotoRead::NoRecord,
        Some((_, None)) => PhotoRead::NoPhoto,
        Some((_, Some((content_type, etag, bytes)))) => PhotoRead::Found(StoredImage {
            content_type,
            etag,
            bytes,
        }),
    }
}

impl Db {
    /// The photo (or thumbnail) of record `id`; a retired record's only when `include_retired`.
    /// On a SQLite file, read on the calling thread like the record itself
    /// ([`super::local_reads`]).
    pub async fn photo(
        &self,
        id: i64,
        include_retired: bool,
        size: PhotoSize,
    ) -> anyhow::Result<PhotoRead> {
        let raw: RawRead = match self.local_reads() {
            Some(local) => local_reads::photo(local, &read_sql(size, "?1"), id)?,
            None => {
                let row = sqlx::query(sqlx::AssertSqlSafe(read_sql(size, "$1")))
                    .bind(id)
                    .fetch_optional(self.pool())
                    .await?;
                match row {
                    None => None,
                    Some(r) => {
                        let content_type: Option<String> = r.try_get("content_type")?;
                        let image = match content_type {
                            Some(t) => Some((t, r.try_get("etag")?, r.try_get("bytes")?)),
                            None => None,
                        };
                        Some((r.try_get("retired_at")?, image))
                    }
                }
            }
        };
        Ok(filtered(raw, include_retired))
    }

    /// Stores `photo` as record `id`'s (replacing any), if the record is live: the row, a new
    /// version of the record, and a `photo_changed` history entry, in one transaction.
    pub async fn put_photo(
        &self,
        id: i64,
        photo: &ProcessedPhoto,
        actor: Actor<'_>,
        now: i64,
    ) -> anyhow::Result<PhotoWritten> {
        let mut tx = self.write_transaction().await?;
        if current_for_write(&mut tx, id).await?.is_none() {
            return Ok(PhotoWritten::NotFound);
        }
        let old = old_etag(&mut tx, id).await?;
        let (image_etag, thumb_etag) = (etag_of(&photo.image), etag_of(&photo.thumb));
        sqlx::query(
            "INSERT INTO staff_photos (staff_id, content_type, image, image_etag, thumb, thumb_etag, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (staff_id) DO UPDATE SET content_type = excluded.content_type, \
             image = excluded.image, image_etag = excluded.image_etag, thumb = excluded.thumb, \
             thumb_etag = excluded.thumb_etag, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(STORED_TYPE)
        .bind(photo.image.clone())
        .bind(image_etag.clone())
        .bind(photo.thumb.clone())
        .bind(thumb_etag)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if !new_version(&mut tx, id, now).await? {
            tx.rollback().await?;
            return Ok(PhotoWritten::NotFound);
        }
        let created = old.is_none();
        let change = FieldChange {
            field: "photo".into(),
            old,
            new: Some(image_etag),
        };
        record_history(&mut tx, id, "photo_changed", actor, &[change], now).await?;
        tx.commit().await?;
        Ok(if created {
            PhotoWritten::Created
        } else {
            PhotoWritten::Replaced
        })
    }

    /// Removes record `id`'s photo, if the record is live and has one: the row, a new version
    /// of the record, and a `photo_removed` history entry, in one transaction.
    pub async fn remove_photo(
        &self,
        id: i64,
        actor: Actor<'_>,
        now: i64,
    ) -> anyhow::Result<PhotoRemoved> {
        let mut tx = self.write_transaction().await?;
        if current_for_write(&mut tx, id).await?.is_none() {
            return Ok(PhotoRemoved::NotFound);
        }
        let Some(old) = old_etag(&mut tx, id).await? else {
            return Ok(PhotoRemoved::NoPhoto);
        };
        sqlx::query("DELETE FROM staff_photos WHERE staff_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if !new_version(&mut tx, id, now).await? {
            tx.rollback().await?;
            return Ok(PhotoRemoved::NotFound);
        }
        let change = FieldChange {
            field: "photo".into(),
            old: Some(old),
            new: None,
        };
        record_history(&mut tx, id, "photo_removed", actor, &[change], now).await?;
        tx.commit().await?;
        Ok(PhotoRemoved::Removed)
    }
}

async fn old_etag(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: i64,
) -> anyhow::Result<Option<String>> {
    let row = sqlx::query("SELECT image_etag FROM staff_photos WHERE staff_id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|r| r.try_get("image_etag")).transpose()?)
}

/// A new version of the live record `id` (its `has_photo` and so its ETag changed); `false`
/// when it is no longer live.
async fn new_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: i64,
    now: i64,
) -> anyhow::Result<bool> {
    let updated = sqlx::query(
        "UPDATE staff SET version = version + 1, updated_at = $1 WHERE id = $2 AND retired_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_etag_is_a_quoted_hash_of_the_bytes() {
        let tag = etag_of(b"pixels");
        assert_eq!(tag.len(), 34);
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        assert_eq!(tag, etag_of(b"pixels"));
        assert_ne!(tag, etag_of(b"pixels!"));
    }

    #[test]
    fn a_retired_records_photo_is_found_only_when_asked_for() {
        let image = Some(("image/jpeg".to_owned(), "\"t\"".to_owned(), vec![1]));
        assert_eq!(filtered(None, true), PhotoRead::NoRecord);
        assert_eq!(
            filtered(Some((Some(5), image.clone())), false),
            PhotoRead::NoRecord
        );
        assert!(matches!(
            filtered(Some((Some(5), image.clone())), true),
            PhotoRead::Found(_)
        ));
        assert_eq!(filtered(Some((None, None)), false), PhotoRead::NoPhoto);
        assert!(matches!(
            filtered(Some((None, image)), false),
            PhotoRead::Found(_)
        ));
    }
}
