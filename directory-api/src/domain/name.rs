//! Family names and directory order: the family name a display name implies, the sort key
//! that orders the directory, and the initial a reader browses by.
//!
//! The order is computed here, in Rust, and stored as a key of plain bytes beside each record
//! (`sort_key`), so that SQLite (`BINARY`) and PostgreSQL (`COLLATE "C"`) sort it the same
//! way and an index serves it: no database collation, which differ between the two and
//! between PostgreSQL installations, takes part.

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// The longest sort key kept, in bytes (an index entry stays small whatever the name).
const MAX_KEY_BYTES: usize = 200;

/// Titles left out of the given names when sorting ("Dr Alice Johnson" sorts as "Johnson,
/// Alice"), compared after folding.
const TITLES: [&str; 12] = [
    "dr",
    "prof",
    "professor",
    "mr",
    "mrs",
    "ms",
    "mx",
    "miss",
    "sir",
    "dame",
    "rev",
    "revd",
];

/// The family name a display name implies when HR gives none: its last word, the text after
/// its last space ("Dr Alice Johnson" → "Johnson"). A no-break space joins words, so
/// "Ludwig van\u{a0}Beethoven" gives "van\u{a0}Beethoven". The same rule as the migration
/// that gave existing records their family name (`0004_family_name.sql`).
pub fn last_word(display_name: &str) -> &str {
    display_name.rsplit(' ').next().unwrap_or(display_name)
}

/// Appends `text` folded for sorting to `out` (see [`fold`]).
fn fold_into(text: &str, out: &mut String) {
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        for lower in c.to_lowercase() {
            match lower {
                'ø' => out.push('o'),
                'ł' => out.push('l'),
                'đ' | 'ð' => out.push('d'),
                'ı' => out.push('i'),
                'ħ' => out.push('h'),
                'þ' => out.push_str("th"),
                'æ' => out.push_str("ae"),
                'œ' => out.push_str("oe"),
                'ß' => out.push_str("ss"),
                c if c.is_alphanumeric() => out.push(c),
                _ => {}
            }
        }
    }
}

/// `text` folded for sorting: compatibility-decomposed (NFKD), accents and other combining
/// marks dropped, lower-cased, the letters that do not decompose written as their base
/// letters (ø → o, ß → ss), and anything that is not a letter or digit dropped: "Ó'Brien" →
/// "obrien", "Östberg" → "ostberg".
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

/// The directory's sort key of a record: the folded family name, a space, then the folded
/// given names word by word (the display name without the family name at its end and without
/// leading titles). A space sorts before every letter and digit, so "Smith" comes before
/// "Smithson" whatever their given names, and "Ann Marie" before "Anna". Ties are broken by
/// the record's id.
pub fn sort_key(family_name: &str, display_name: &str) -> String {
    let mut key = fold(family_name);
    let given = display_name
        .strip_suffix(family_name)
        .unwrap_or(display_name);
    let mut words = given
        .split_whitespace()
        .map(fold)
        .filter(|w| !w.is_empty())
        .skip_while(|w| TITLES.contains(&w.as_str()));
    key.push(' ');
    if let Some(first) = words.next() {
        key.push_str(&first);
        for word in words {
            key.push(' ');
            key.push_str(&word);
        }
    }
    if key.len() > MAX_KEY_BYTES {
        let mut end = MAX_KEY_BYTES;
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        key.truncate(end);
    }
    key
}

/// The first letter of a family name, A to Z, as a reader browses the directory: after
/// folding, so "Östberg" is under O.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Initial(u8);

impl Initial {
    /// Parses `J` or `j`: exactly one letter from A to Z; anything else says why not.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        match raw.as_bytes() {
            [b] if b.is_ascii_alphabetic() => Ok(Self(b.to_ascii_lowercase())),
            _ => Err("must be a single letter from A to Z"),
        }
    }

    /// The initial of a sort key (its first byte), if that is a letter from A to Z.
    pub fn of_key(key: &str) -> Option<Self> {
        key.bytes().next().filter(u8::is_ascii_lowercase).map(Self)
    }

    /// The letter, upper case.
    pub fn letter(self) -> char {
        char::from(self.0.to_ascii_uppercase())
    }

    /// The sort keys under this initial are those from [`Initial::lowest`] (included) to
    /// [`Initial::beyond`] (excluded): keys are folded, so they start with a lower-case letter.
    pub fn lowest(self) -> String {
        char::from(self.0).to_string()
    }

    /// See [`Initial::lowest`].
    pub fn beyond(self) -> String {
        char::from(self.0 + 1).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_family_name_implied_is_the_last_word() {
        assert_eq!(last_word("Dr Alice Johnson"), "Johnson");
        assert_eq!(last_word("Yifan Zhang"), "Zhang");
        assert_eq!(last_word("Cher"), "Cher");
        assert_eq!(last_word("Dr Hye-jin Kim"), "Kim");
        assert_eq!(last_word("Ludwig van\u{a0}Beethoven"), "van\u{a0}Beethoven");
    }

    #[test]
    fn folding_drops_accents_case_and_punctuation() {
        assert_eq!(fold("Ó'Brien"), "obrien");
        assert_eq!(fold("O'Connor"), "oconnor");
        assert_eq!(fold("Östberg"), "ostberg");
        assert_eq!(fold("Fernández"), "fernandez");
        assert_eq!(fold("Smith-Jones"), "smithjones");
        assert_eq!(fold("Øvergård"), "overgard");
        assert_eq!(fold("Łukasiewicz"), "lukasiewicz");
        assert_eq!(fold("Strauß"), "strauss");
        assert_eq!(fold("ＡＢＣ"), "abc", "full-width letters are letters");
        assert_eq!(fold("王"), "王", "letters without a Latin form stay");
    }

    #[test]
    fn keys_order_family_names_as_a_reader_expects() {
        let mut names = [
            ("Östberg", "Dr Eva Östberg"),
            ("O'Connor", "Niamh O'Connor"),
            ("Ó'Brien", "Seán Ó'Brien"),
            ("Oakes", "Zed Oakes"),
            ("Obi", "Chinedu Obi"),
        ];
        names.sort_by_key(|(family, display)| sort_key(family, display));
        let families: Vec<_> = names.iter().map(|(f, _)| *f).collect();
        assert_eq!(families, ["Oakes", "Obi", "Ó'Brien", "O'Connor", "Östberg"]);
    }

    #[test]
    fn given_names_break_ties_without_titles() {
        assert_eq!(sort_key("Johnson", "Dr Alice Johnson"), "johnson alice");
        assert_eq!(sort_key("Raman", "Professor Priya Raman"), "raman priya");
        assert!(sort_key("Smith", "Prof Zoe Smith") > sort_key("Smith", "Adam Smith"));
        assert!(sort_key("Smith", "Zoe Smith") < sort_key("Smithson", "Adam Smithson"));
        assert!(sort_key("Lee", "Ann Marie Lee") < sort_key("Lee", "Anna Lee"));
        // A family name that is not at the end of the display name leaves it whole.
        assert_eq!(sort_key("Nguyen", "Minh N."), "nguyen minh n");
        assert_eq!(sort_key("Dr", "Dr"), "dr ");
    }

    #[test]
    fn keys_are_bounded() {
        let long = "Ä".repeat(100);
        assert!(sort_key(&long, &long).len() <= MAX_KEY_BYTES);
        let wide = "王".repeat(100);
        let key = sort_key(&wide, &wide);
        assert!(key.len() <= MAX_KEY_BYTES && key.starts_with('王'));
    }

    #[test]
    fn an_initial_is_one_letter_from_a_to_z() {
        assert_eq!(Initial::parse("J").unwrap().letter(), 'J');
        assert_eq!(Initial::parse("j").unwrap().letter(), 'J');
        for bad in ["", "JO", "1", "Ö", "-", " ", "ж"] {
            assert!(Initial::parse(bad).is_err(), "{bad:?}");
        }
        let z = Initial::parse("z").unwrap();
        assert_eq!((z.lowest().as_str(), z.beyond().as_str()), ("z", "{"));
    }

    #[test]
    fn the_initial_of_a_key_is_folded() {
        let key = sort_key("Östberg", "Eva Östberg");
        assert_eq!(Initial::of_key(&key), Initial::parse("O").ok());
        assert_eq!(Initial::of_key(&sort_key("王", "王")), None);
        assert_eq!(Initial::of_key(&sort_key("'", "'")), None);
        let o = Initial::parse("O").unwrap();
        assert!(o.lowest() <= key && key < o.beyond());
    }
}
