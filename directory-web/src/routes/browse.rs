//! How the directory page is browsed: its query parameters (search, department, initial of
//! the family name, page), the links that carry them, and the A–Z bar.
//!
//! Every link keeps what the visitor chose: pagination keeps the search, department and
//! letter; a letter keeps the search and department and starts again at page 1.

use actix_web::HttpRequest;

use crate::api_client::Letter;
use crate::error::WebError;
use crate::views::AlphabetLetter;

/// The directory's query parameters; unknown ones (campaign tags…) are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryQuery {
    /// The search text, trimmed.
    pub q: String,
    /// The department ("" for all).
    pub department: String,
    /// The initial of the family name, A to Z ("" for everyone).
    pub initial: String,
    /// The page, from 1.
    pub page: i64,
}

impl DirectoryQuery {
    /// Reads the query string; a bad page number or letter is a 400 that says so.
    pub fn parse(req: &HttpRequest) -> Result<Self, WebError> {
        let mut query = Self {
            q: String::new(),
            department: String::new(),
            initial: String::new(),
            page: 1,
        };
        for (name, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
            match name.as_ref() {
                "q" => query.q = value.trim().to_owned(),
                "department" => query.department = value.into_owned(),
                "initial" => {
                    query.initial = match value.as_bytes() {
                        [] => String::new(),
                        [b] if b.is_ascii_alphabetic() => {
                            char::from(b.to_ascii_uppercase()).to_string()
                        }
                        _ => {
                            return Err(WebError::BadRequest(
                                "The letter must be a single letter from A to Z.".into(),
                            ));
                        }
                    };
                }
                "page" => {
                    query.page = value
                        .parse()
                        .ok()
                        .filter(|p| (1..=100_000).contains(p))
                        .ok_or_else(|| {
                            WebError::BadRequest(
                                "The page number must be a whole number from 1.".into(),
                            )
                        })?;
                }
                _ => {}
            }
        }
        if query.q.chars().count() > 200 {
            return Err(WebError::BadRequest(
                "The search text may be at most 200 characters long.".into(),
            ));
        }
        Ok(query)
    }

    /// The directory with this search, department and `initial`, at `page` (`None`: the first
    /// page, with no page parameter).
    pub fn link(&self, initial: &str, page: Option<i64>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            query.append_pair("q", &self.q);
        }
        if !self.department.is_empty() {
            query.append_pair("department", &self.department);
        }
        if !initial.is_empty() {
            query.append_pair("initial", initial);
        }
        if let Some(page) = page {
            query.append_pair("page", &page.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            "/".to_owned()
        } else {
            format!("/?{query}")
        }
    }

    /// Another page of these results.
    pub fn page_link(&self, page: i64) -> String {
        self.link(&self.initial, Some(page))
    }

    /// The A–Z bar: every letter, a link (keeping the search and department, from page 1)
    /// only when `letters` says it has anybody, the current one marked.
    pub fn alphabet(&self, letters: &[Letter]) -> Vec<AlphabetLetter> {
        ('A'..='Z')
            .map(|letter| {
                let name = letter.to_string();
                let staff = letters
                    .iter()
                    .find(|l| l.letter == name)
                    .map_or(0, |l| l.staff);
                AlphabetLetter {
                    link: (staff > 0).then(|| self.link(&name, None)),
                    current: self.initial == name,
                    letter,
                    staff,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str, department: &str, initial: &str, page: i64) -> DirectoryQuery {
        DirectoryQuery {
            q: q.into(),
            department: department.into(),
            initial: initial.into(),
            page,
        }
    }

    fn parse(query_string: &str) -> Result<DirectoryQuery, WebError> {
        let req = actix_web::test::TestRequest::get()
            .uri(&format!("/?{query_string}"))
            .to_http_request();
        DirectoryQuery::parse(&req)
    }

    #[test]
    fn the_letter_is_one_of_a_to_z_in_either_case() {
        assert_eq!(parse("initial=j").unwrap().initial, "J");
        assert_eq!(parse("initial=").unwrap().initial, "");
        for bad in ["JO", "1", "%C3%96", "%20"] {
            assert!(
                matches!(
                    parse(&format!("initial={bad}")),
                    Err(WebError::BadRequest(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn pages_keep_the_letter_and_letters_keep_the_search() {
        let q = query("physics lab", "School of Chemistry", "J", 3);
        assert_eq!(
            q.page_link(4),
            "/?q=physics+lab&department=School+of+Chemistry&initial=J&page=4"
        );
        assert_eq!(
            q.link("K", None),
            "/?q=physics+lab&department=School+of+Chemistry&initial=K"
        );
        assert_eq!(query("", "", "", 1).link("", None), "/");
    }

    #[test]
    fn only_letters_with_people_are_links_and_the_current_one_is_marked() {
        let letters = [
            Letter {
                letter: "B".into(),
                staff: 2,
            },
            Letter {
                letter: "O".into(),
                staff: 5,
            },
        ];
        let bar = query("", "", "O", 2).alphabet(&letters);
        assert_eq!(bar.len(), 26);
        let links: Vec<_> = bar.iter().filter(|l| l.link.is_some()).collect();
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].link.as_deref(), Some("/?initial=B"));
        assert_eq!((links[1].letter, links[1].staff), ('O', 5));
        assert!(links[1].current && !links[0].current);
        assert!(bar.iter().filter(|l| l.current).count() == 1);
    }
}
