//! Search of the live directory: the full-text match expression of each SQL dialect (a pure
//! function, [`match_expression`]) and the page and count queries around it.

mod reads;

use self::reads::Reader;
pub use self::reads::start_search_threads;
use super::row::{COLUMNS, StaffRow};
use super::{Backend, Db};
use crate::domain::name::Initial;
use crate::domain::search::SearchWords;

/// A search of the live directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Words that must all appear (as prefixes) in name, title, department or interests.
    pub words: SearchWords,
    /// Only this department, if given.
    pub department: Option<String>,
    /// Only family names under this initial, if given.
    pub initial: Option<Initial>,
    /// Whether to say which initials have anybody (given the words and department).
    pub letters: bool,
    /// 1-based page.
    pub page: i64,
    /// Records per page.
    pub per_page: i64,
}

/// What a search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The page asked for, in directory order.
    pub rows: Vec<StaffRow>,
    /// How many match in all.
    pub total: i64,
    /// When asked for: the initials that have anybody matching the words and department
    /// (whatever the initial asked for), in order, with how many.
    pub letters: Option<Vec<(Initial, i64)>>,
}

/// A SQLite search's matches as a join driven by the full-text index: the match runs once,
/// outside, and each match's record is read by id (`CROSS JOIN` fixes that order).
const SQLITE_JOINED: &str = "staff_fts f CROSS JOIN staff s ON s.id = f.rowid \
     WHERE staff_fts MATCH $1 AND s.retired_at IS NULL";

/// The same matches as a set that a walk of a listing index probes (`s.id IN`): the match
/// runs once, into the set.
const SQLITE_PROBED: &str = "staff s WHERE s.retired_at IS NULL \
     AND s.id IN (SELECT rowid FROM staff_fts WHERE staff_fts MATCH $1)";

/// How many match, and what the count queries also told.
struct Counted {
    total: i64,
    letters: Option<Vec<(Initial, i64)>>,
    /// The highest id, when asked for (SQLite with words: see [`Db::search`]).
    span: Option<i64>,
}

impl Db {
    /// One page of the live directory matching `q`, in directory order (family name, then
    /// given names: the stored sort key), and how many match in all.
    ///
    /// On SQLite the page comes one of two ways, chosen from the number of matches. Few
    /// matches are read by a join driven by the full-text index (`CROSS JOIN` keeps the match
    /// on the outside, so it runs once) and sorted by key: for a family name's 4,000 matches
    /// at 100,000 records, 1.3 ms, against 1.7 ms for fetching the same matches as an
    /// `IN (subquery)` set. With a department the set is kept, as SQLite then walks the
    /// department's index in order and probes it (1.9 ms for `quantum optics` in a department
    /// of 12,500, where the join takes 8.8 ms). Many matches (a broad prefix such as `mar`, a
    /// quarter of the directory) are found by walking the listing index in order and probing
    /// the set of matches (the `IN` form), which stops after one page instead of sorting tens
    /// of thousands of rows (28 ms → 3.5 ms).
    ///
    /// On a SQLite file the whole search runs on one of a few search threads, with that
    /// thread's own read-only connection (`search/reads.rs` says why; [`start_search_threads`],
    /// how many at once); otherwise through the pool.
    pub async fn search(&self, q: &SearchQuery) -> anyhow::Result<Found> {
        let (Some(local), Some(threads)) = (self.local_reads(), self.search_threads()) else {
            return self.search_with(Reader::Pool(self.pool()), q).await;
        };
        let (db, local, q) = (self.clone(), local.clone(), q.clone());
        let runtime = tokio::runtime::Handle::current();
        threads
            .place()
            .await?
            .run(move || {
                // Nothing a local read awaits is ever pending: this runs straight through.
                runtime.block_on(db.search_with(Reader::Local(&local), &q))
            })
            .await?
    }

    /// [`Self::search`], its statements run by `reader`.
    async fn search_with(&self, reader: Reader<'_>, q: &SearchQuery) -> anyhow::Result<Found> {
        // Each statement is assembled from fixed fragments; every value is bound, and the
        // placeholders of each are numbered in their order of appearance.
        let words = !q.words.is_empty();
        let from = match (self.backend, words) {
            (_, false) => "staff s WHERE s.retired_at IS NULL",
            // With a department, the set lets SQLite walk that department's index instead.
            (Backend::Sqlite, true) if q.department.is_none() => SQLITE_JOINED,
            (Backend::Sqlite, true) => SQLITE_PROBED,
            (Backend::Postgres, true) => {
                "staff s WHERE s.retired_at IS NULL AND s.search @@ to_tsquery('simple', $1)"
            }
        };
        // The filters' values, in placeholder order: the match, the department, the initial.
        let mut filters = Vec::new();
        if words {
            filters.push(match_expression(self.backend, &q.words));
        }
        let mut department = String::new();
        if let Some(d) = &q.department {
            filters.push(d.clone());
            department = format!(" AND s.department = ${}", filters.len());
        }
        let unlettered = filters.clone();
        let mut initial = String::new();
        if let Some(i) = q.initial {
            filters.extend([i.lowest(), i.beyond()]);
            let n = filters.len();
            initial = format!(" AND s.sort_key >= ${} AND s.sort_key < ${n}", n - 1);
        }
        let walk_name_index = self.backend == Backend::Sqlite && words;
        let counted = self
            .count(
                reader,
                q,
                (from, &department, &initial),
                (&unlettered, &filters),
                walk_name_index,
            )
            .await?;
        let skip = (q.page - 1).saturating_mul(q.per_page);
        let (limit, offset) = (filters.len() + 1, filters.len() + 2);
        let mut from = from.to_owned();
        // A walk visits about (skip + per_page) × span / total index entries to find a page
        // when the matches are spread over the directory's order; fetching and sorting costs
        // about total. But the order is by family name, and a search for one (`okafor`) finds
        // a block of neighbours that a walk reaches only after everyone before them (67,000
        // entries, 11 ms, where sorting its 4,000 matches takes 1.3 ms). So walk only when
        // the matches are dense, a sixteenth of the directory or more, and a walk is cheaper.
        if let Some(span) = counted.span.filter(|_| walk_name_index) {
            let reach = i128::from(skip.saturating_add(q.per_page)) * i128::from(span);
            let total = i128::from(counted.total);
            if reach < total * total && total * 16 >= i128::from(span) {
                let index = if q.department.is_some() {
                    "staff_department"
                } else {
                    "staff_listing"
                };
                from = SQLITE_PROBED.replacen(
                    "staff s WHERE",
                    &format!("staff s INDEXED BY {index} WHERE"),
                    1,
                );
            }
        }
        let page_sql = format!(
            "SELECT {COLUMNS} FROM {from}{department}{initial} ORDER BY s.sort_key, s.id LIMIT ${limit} OFFSET ${offset}"
        );
        let rows = reader
            .staff(&page_sql, &filters, (q.per_page, skip))
            .await?;
        Ok(Found {
            rows,
            total: counted.total,
            letters: counted.letters,
        })
    }

    /// How many match `q`, and, when asked, under which initials. Without words, both come
    /// from the head counts the triggers keep (one small read). With words, the count is the
    /// full-text index's alone when it can be (SQLite, no department, no initial), else a
    /// count of the matching records; the initials are counted over the matches only when
    /// there are at most [`LETTERS_COUNTED_UP_TO`] of them (see there).
    /// `from`, `department` and `initial` are the page statement's clauses; `unlettered` and
    /// `filters` are the values bound without and with the initial's range.
    async fn count(
        &self,
        reader: Reader<'_>,
        q: &SearchQuery,
        (from, department, initial): (&str, &str, &str),
        (unlettered, filters): (&[String], &[String]),
        with_span: bool,
    ) -> anyhow::Result<Counted> {
        let words = !q.words.is_empty();
        let by_department = if q.department.is_some() {
            " WHERE department = $1"
        } else {
            ""
        };
        let head_counts = || {
            format!(
                "SELECT letter, CAST(SUM(live) AS BIGINT) AS n FROM initial_counts{by_department} GROUP BY letter"
            )
        };
        if q.letters && !words {
            let (all, letters) = letters(reader, &head_counts(), unlettered).await?;
            let total = match q.initial {
                Some(wanted) => letters
                    .iter()
                    .find(|(i, _)| *i == wanted)
                    .map_or(0, |(_, n)| *n),
                None => all,
            };
            return Ok(Counted {
                total,
                letters: Some(letters),
                span: None,
            });
        }
        let (sql, binds) = match (words, q.initial) {
            (false, None) => (
                format!(
                    "SELECT CAST(COALESCE(SUM(live), 0) AS BIGINT) AS n FROM department_counts{by_department}"
                ),
                unlettered,
            ),
            (false, Some(_)) => (
                format!(
                    "SELECT CAST(COALESCE(SUM(live), 0) AS BIGINT) AS n FROM initial_counts{by_department}{} letter = ${}",
                    if q.department.is_some() {
                        " AND"
                    } else {
                        " WHERE"
                    },
                    unlettered.len() + 1,
                ),
                // The initial's lowest key is its letter.
                &filters[..=unlettered.len()],
            ),
            // The FTS index holds live records only: it can count the matches alone.
            (true, None) if self.backend == Backend::Sqlite && q.department.is_none() => (
                "SELECT COUNT(*) AS n FROM staff_fts WHERE staff_fts MATCH $1".to_owned(),
                unlettered,
            ),
            (true, _) => (
                format!("SELECT COUNT(*) AS n FROM {from}{department}{initial}"),
                filters,
            ),
        };
        let sql = if with_span {
            // With the highest id: the number of rows a walk of the listing index may visit.
            format!("SELECT ({sql}) AS n, (SELECT COALESCE(MAX(id), 0) FROM staff) AS span")
        } else {
            sql
        };
        let (total, span) = reader.count(&sql, binds, with_span).await?;
        if !q.letters {
            return Ok(Counted {
                total,
                letters: None,
                span,
            });
        }
        // Words: the matches whatever the initial, to decide how to find their initials.
        let matching = if q.initial.is_some() {
            let sql = format!("SELECT COUNT(*) AS n FROM {from}{department}");
            reader.count(&sql, unlettered, false).await?.0
        } else {
            total
        };
        let sql = if matching <= LETTERS_COUNTED_UP_TO {
            format!(
                "SELECT substr(s.sort_key, 1, 1) AS letter, COUNT(*) AS n FROM {from}{department} \
                 GROUP BY substr(s.sort_key, 1, 1)"
            )
        } else {
            head_counts()
        };
        let binds: Vec<String> = if matching <= LETTERS_COUNTED_UP_TO {
            unlettered.to_vec()
        } else {
            q.department.iter().cloned().collect()
        };
        let (_, letters) = letters(reader, &sql, &binds).await?;
        Ok(Counted {
            total,
            letters: Some(letters),
            span,
        })
    }
}

/// The initials of a `letter, n` statement, A to Z with at least one person, and the count of
/// every row (initials or not).
async fn letters(
    reader: Reader<'_>,
    sql: &str,
    binds: &[String],
) -> anyhow::Result<(i64, Vec<(Initial, i64)>)> {
    let (mut all, mut letters) = (0, Vec::new());
    for (letter, n) in reader.letters(sql, binds).await? {
        all += n;
        if let Some(i) = Initial::of_key(&letter).filter(|_| n > 0) {
            letters.push((i, n));
        }
    }
    letters.sort_unstable();
    Ok((all, letters))
}

/// The most matches of a search whose initials are counted one by one. Counting them costs
/// a read of every matching record (on SQLite, 2 ms per 4,000), more than the page itself
/// for a broad search; beyond this many, the letters are those of the department (or of the
/// whole directory), under each of which a search that broad almost always finds somebody.
pub const LETTERS_COUNTED_UP_TO: i64 = 2_000;

/// The full-text match expression of `words` in `backend`'s dialect: every word must match,
/// words of three letters or more as prefixes, shorter ones whole (a one- or two-letter prefix
/// would match most of the directory).
///
/// - SQLite FTS5: each word quoted (`"word"*`, `"ab"`), joined by spaces (implicit AND), so
///   that no word is read as an operator (`and`, `or`, `not`, `near`).
/// - PostgreSQL `to_tsquery('simple', …)`: `word:*` or `ab`, joined by ` & `.
///
/// The words hold only letters and digits ([`SearchWords`]), so neither dialect's syntax can be
/// injected; the expression is bound as a parameter, never spliced into the SQL. Empty when
/// there are no words (the caller then does not match at all).
pub fn match_expression(backend: Backend, words: &SearchWords) -> String {
    let term = |w: &String| match (backend, w.chars().count() >= 3) {
        (Backend::Sqlite, true) => format!("\"{w}\"*"),
        (Backend::Sqlite, false) => format!("\"{w}\""),
        (Backend::Postgres, true) => format!("{w}:*"),
        (Backend::Postgres, false) => w.clone(),
    };
    let separator = match backend {
        Backend::Sqlite => " ",
        Backend::Postgres => " & ",
    };
    words
        .words()
        .iter()
        .map(term)
        .collect::<Vec<_>>()
        .join(separator)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(text: &str) -> String {
        match_expression(Backend::Sqlite, &SearchWords::parse(text))
    }

    fn postgres(text: &str) -> String {
        match_expression(Backend::Postgres, &SearchWords::parse(text))
    }

    #[test]
    fn words_of_three_letters_or_more_match_as_prefixes() {
        assert_eq!(sqlite("Alice Jo"), r#""alice"* "jo""#);
        assert_eq!(postgres("Alice Jo"), "alice:* & jo");
        assert_eq!(sqlite("mar"), r#""mar"*"#);
        assert_eq!(postgres("mar"), "mar:*");
        assert_eq!(sqlite("x 42"), r#""x" "42""#);
        assert_eq!(postgres("x 42"), "x & 42");
    }

    #[test]
    fn no_words_no_expression() {
        assert_eq!(sqlite(""), "");
        assert_eq!(postgres(""), "");
        assert_eq!(sqlite(" \"*:&|!-() "), "");
        assert_eq!(postgres(" \"*:&|!-() "), "");
    }

    #[test]
    fn quotes_and_operators_typed_are_never_syntax() {
        assert_eq!(sqlite(r#"say "hi" now"#), r#""say"* "hi" "now"*"#);
        assert_eq!(postgres(r#"say "hi" now"#), "say:* & hi & now:*");
        assert_eq!(
            sqlite("a* OR b NEAR(c d)"),
            r#""a" "or" "b" "near"* "c" "d""#
        );
        assert_eq!(postgres("a:* | !b & c<->d"), "a & b & c & d");
        assert_eq!(sqlite("x' OR '1'='1"), r#""x" "or" "1" "1""#);
        assert_eq!(postgres("x' OR '1'='1"), "x & or & 1 & 1");
        assert_eq!(sqlite("-physics +optics"), r#""physics"* "optics"*"#);
    }

    #[test]
    fn unicode_words_count_characters_not_bytes() {
        // "zoë" is three characters (four bytes): a prefix; "ö" is one (two bytes): whole.
        assert_eq!(sqlite("Zoë ö"), r#""zoë"* "ö""#);
        assert_eq!(postgres("Zoë ö"), "zoë:* & ö");
        assert_eq!(sqlite("日本 研究室"), r#""日本" "研究室"*"#);
        assert_eq!(postgres("MÜLLER"), "müller:*");
    }
}
