//! The words of a directory search, parsed once at the edge.
//!
//! A search is matched against the full-text index of each database (SQLite FTS5, PostgreSQL
//! `tsquery`), and both have a query syntax of their own (quotes, `*`, `:*`, `&`, `|`, `!`,
//! `NEAR`, `-`, …). The words are therefore only ever runs of letters and digits: whatever
//! else the text holds separates words and is dropped here, so no query syntax can reach the
//! match expression (`crate::store::search::match_expression`) whatever was typed.

/// Most words of a search that are used; the rest are ignored.
pub const MAX_WORDS: usize = 8;

/// The words of a search: up to [`MAX_WORDS`] runs of letters and digits (Unicode), lower-cased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchWords(Vec<String>);

impl SearchWords {
    /// The words of `text`: every character that is not a letter or a digit separates words.
    pub fn parse(text: &str) -> Self {
        Self(
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .take(MAX_WORDS)
                .map(str::to_lowercase)
                .collect(),
        )
    }

    /// Whether there is no word (the search then lists the whole directory).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The words, in the order typed.
    pub fn words(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        SearchWords::parse(text).words().to_vec()
    }

    #[test]
    fn words_are_runs_of_letters_and_digits_lower_cased() {
        assert_eq!(words("Alice Johnson"), ["alice", "johnson"]);
        assert_eq!(
            words("  machine-learning, NLP!"),
            ["machine", "learning", "nlp"]
        );
        assert_eq!(words("room 3.14"), ["room", "3", "14"]);
    }

    #[test]
    fn query_syntax_never_survives() {
        for text in [
            "\"quoted\"",
            "pre*",
            "word:*",
            "a & b | !c",
            "x' OR '1'='1",
            "NEAR(a b)",
            "-minus +plus",
            "(group)",
            "a<->b",
        ] {
            for word in words(text) {
                assert!(
                    word.chars().all(char::is_alphanumeric),
                    "{text:?} gave {word:?}"
                );
            }
        }
        assert_eq!(words("x' OR '1'='1"), ["x", "or", "1", "1"]);
    }

    #[test]
    fn empty_and_punctuation_only_text_has_no_words() {
        assert!(SearchWords::parse("").is_empty());
        assert!(SearchWords::parse("   ").is_empty());
        assert!(SearchWords::parse("\"*:&|!-()").is_empty());
    }

    #[test]
    fn unicode_letters_are_kept_and_lower_cased() {
        assert_eq!(words("Zoë O'Brien"), ["zoë", "o", "brien"]);
        assert_eq!(words("MÜLLER Łukasz"), ["müller", "łukasz"]);
        assert_eq!(words("日本語 研究"), ["日本語", "研究"]);
    }

    #[test]
    fn at_most_eight_words_are_used() {
        assert_eq!(words("a b c d e f g h i j").len(), MAX_WORDS);
        assert_eq!(
            words("a b c d e f g h i j").last().map(String::as_str),
            Some("h")
        );
    }
}
