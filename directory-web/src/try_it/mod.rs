//! The attacks of the teaching guide (docs/3-what-separation-stops.md), as `/try-it` runs them
//! live against the real API with the tokens this site legitimately holds: what each sends,
//! what the API must answer, and the rule that stops it. Pure: the route
//! (`crate::routes::try_it`) fetches the records and sends the requests.
//!
//! Every request is one the API refuses, so trying changes nothing: each edit names the
//! record's current version (`If-Match`), so that only the token stands between it and a write,
//! and the API refuses the token.

pub mod forge;
pub mod shown;

/// One attack the page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attack {
    /// (a) The site's own token edits a profile.
    SiteEditsProfile,
    /// The site's own token calls the admin API (`POST /staff`).
    SiteCreatesRecord,
    /// (b) The person's token edits someone else's record.
    PersonEditsOther,
    /// (c) The person's token changes an HR-owned field of their own record.
    PersonHrField,
    /// The person's token calls the admin API (`POST /staff`).
    PersonCreatesRecord,
    /// (f) A token whose header says `alg: none`, with no signature.
    AlgNone,
    /// A real token with one claim changed (its scope), its signature kept.
    ChangedClaim,
    /// The same claims signed with a key this site made (the real key's `kid` copied).
    SelfSigned,
}

/// The token an attack starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// The site's own token.
    Site,
    /// The signed-in person's token.
    Person,
}

/// How a forged attack alters the site's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgery {
    /// Sent as it is.
    None,
    /// `alg: none`, no signature ([`forge::alg_none`]).
    AlgNone,
    /// The scope edited, the signature kept ([`forge::changed_claim`]).
    ChangedClaim,
    /// Signed with a fresh key of this site's making ([`forge::self_signed`]).
    SelfSigned,
}

/// Which record an attack aims at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// None: it creates a record.
    NewRecord,
    /// The person's own record when someone is signed in, else the first in the directory.
    OwnOrFirst,
    /// A record that is not the signed-in person's.
    SomeoneElse,
}

/// The answer the API must give: its status and its code (the `error` of the
/// `WWW-Authenticate` challenge, or the problem's `code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    /// HTTP status.
    pub status: u16,
    /// Error code.
    pub code: &'static str,
}

/// The rule that stops an attack, where it is enforced and where it is explained.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The rule, in a sentence or two.
    pub what: &'static str,
    /// The source files that enforce it (paths in the repository).
    pub enforced_in: &'static str,
    /// The documentation that explains it (a file and its section).
    pub explained_in: &'static str,
    /// The section of this site's how-it-works page about it.
    pub how_it_works: &'static str,
}

/// The name of the member of staff the admin-API attacks try to create (searched for
/// afterwards: nobody by that name may exist).
pub const INTRUDER: &str = "Not A Real Person";

/// The scope every forgery claims: the HR job's power, written into the site's token.
pub const FORGED_SCOPE: &str = "directory:read directory:admin";

const VERIFY: &str = "directory-api/src/auth/verify.rs";

impl Attack {
    /// Every attack, in the page's order.
    pub const ALL: [Attack; 8] = [
        Attack::SiteEditsProfile,
        Attack::SiteCreatesRecord,
        Attack::AlgNone,
        Attack::ChangedClaim,
        Attack::SelfSigned,
        Attack::PersonEditsOther,
        Attack::PersonHrField,
        Attack::PersonCreatesRecord,
    ];

    /// Its name in the form (`attack=…`) and in the page's ids.
    pub fn slug(self) -> &'static str {
        match self {
            Self::SiteEditsProfile => "site-edits-profile",
            Self::SiteCreatesRecord => "site-creates-record",
            Self::PersonEditsOther => "person-edits-other",
            Self::PersonHrField => "person-hr-field",
            Self::PersonCreatesRecord => "person-creates-record",
            Self::AlgNone => "alg-none",
            Self::ChangedClaim => "changed-claim",
            Self::SelfSigned => "self-signed",
        }
    }

    /// The attack a form names; `None` for anything else.
    pub fn parse(slug: &str) -> Option<Attack> {
        Self::ALL.into_iter().find(|a| a.slug() == slug)
    }

    /// A short title.
    pub fn title(self) -> &'static str {
        match self {
            Self::SiteEditsProfile => "The site’s own token edits a profile",
            Self::SiteCreatesRecord => "The site’s own token calls the admin API",
            Self::PersonEditsOther => "Your token edits someone else’s record",
            Self::PersonHrField => "Your token changes an HR-owned field of your own record",
            Self::PersonCreatesRecord => "Your token calls the admin API",
            Self::AlgNone => "A token with no signature (alg: none)",
            Self::ChangedClaim => "A real token with its scope edited",
            Self::SelfSigned => "A token signed with a key of this site’s own making",
        }
    }

    /// What is tried, in a sentence.
    pub fn tried(self) -> &'static str {
        match self {
            Self::SiteEditsProfile => {
                "The site sends PATCH /staff/{id} with a new biography, naming the record’s current version, with the token it renders every visitor’s pages with."
            }
            Self::SiteCreatesRecord => {
                "The site sends POST /staff, creating a new member of staff, with its own token."
            }
            Self::PersonEditsOther => {
                "The site sends PATCH /staff/{id} for a record that is not yours, with a new biography, using your token."
            }
            Self::PersonHrField => {
                "The site sends PATCH for your own record with a new job title, a field HR owns, using your token."
            }
            Self::PersonCreatesRecord => {
                "The site sends POST /staff, creating a new member of staff, with your token."
            }
            Self::AlgNone => {
                "The site takes its own token, writes the HR job’s scope into it, sets the header’s alg to none and drops the signature, then tries to change a job title."
            }
            Self::ChangedClaim => {
                "The site takes its own token, writes the HR job’s scope into it and keeps the real signature, then tries to change a job title."
            }
            Self::SelfSigned => {
                "The site takes its own token’s claims with the HR job’s scope, and signs them with a fresh Ed25519 key it has just made, copying the real key’s kid, then tries to change a job title."
            }
        }
    }

    /// The token it starts from.
    pub fn base(self) -> Base {
        match self {
            Self::PersonEditsOther | Self::PersonHrField | Self::PersonCreatesRecord => {
                Base::Person
            }
            _ => Base::Site,
        }
    }

    /// Whether only a signed-in member of staff may run it.
    pub fn needs_person(self) -> bool {
        self.base() == Base::Person
    }

    /// How it alters its token.
    pub fn forgery(self) -> Forgery {
        match self {
            Self::AlgNone => Forgery::AlgNone,
            Self::ChangedClaim => Forgery::ChangedClaim,
            Self::SelfSigned => Forgery::SelfSigned,
            _ => Forgery::None,
        }
    }

    /// The record it aims at.
    pub fn target(self) -> Target {
        match self {
            Self::SiteCreatesRecord | Self::PersonCreatesRecord => Target::NewRecord,
            Self::PersonEditsOther => Target::SomeoneElse,
            _ => Target::OwnOrFirst,
        }
    }

    /// The JSON body it sends.
    pub fn body(self) -> serde_json::Value {
        match self {
            Self::SiteEditsProfile => serde_json::json!({"bio": "Defaced by the web app"}),
            Self::PersonEditsOther => serde_json::json!({"bio": "Changed by someone else"}),
            Self::PersonHrField => {
                serde_json::json!({"job_title": "Professor and Vice-Chancellor"})
            }
            Self::SiteCreatesRecord | Self::PersonCreatesRecord => serde_json::json!({
                "username": "intruder",
                "display_name": INTRUDER,
                "job_title": "Vice-Chancellor",
                "department": "Office of the Vice-Chancellor",
                "email": "intruder@example.edu",
            }),
            Self::AlgNone | Self::ChangedClaim | Self::SelfSigned => {
                serde_json::json!({"job_title": "Forged by a token nobody issued"})
            }
        }
    }

    /// The answer the API must give.
    pub fn expected(self) -> Expected {
        let code = match self {
            Self::SiteEditsProfile | Self::SiteCreatesRecord | Self::PersonCreatesRecord => {
                "insufficient_scope"
            }
            Self::PersonEditsOther => "not_owner",
            Self::PersonHrField => "hr_owned_field",
            Self::AlgNone | Self::ChangedClaim | Self::SelfSigned => "invalid_token",
        };
        let status = if code == "invalid_token" { 401 } else { 403 };
        Expected { status, code }
    }

    /// The rule that stops it.
    pub fn rule(self) -> Rule {
        match self {
            Self::SiteEditsProfile => Rule {
                what: "Editing a profile takes a person’s token with profile:write. The site’s own token carries only directory:read, and the authorization server never issues profile:write through client_credentials.",
                enforced_in: "directory-api/src/extract.rs (Editor), auth-server/src/oauth/policy.rs",
                explained_in: "docs/3-what-separation-stops.md, (a) The website’s own token used to edit a profile",
                how_it_works: "scopes",
            },
            Self::SiteCreatesRecord | Self::PersonCreatesRecord => Rule {
                what: "Creating, changing any field of, or retiring a record takes a client’s own token with directory:admin: only the HR job gets that scope, and a person’s token never qualifies, whatever its scopes.",
                enforced_in: "directory-api/src/extract.rs (Administrator), auth-server/src/oauth/policy.rs",
                explained_in: "docs/1-two-grants.md, The HR job’s token",
                how_it_works: "scopes",
            },
            Self::PersonEditsOther => Rule {
                what: "A scope says what kind of thing a token may do, not to which record: a person may change only the record whose username is their token’s subject. The scope was sufficient, so the answer is not_owner, with no challenge.",
                enforced_in: "directory-api/src/routes/staff.rs (patch)",
                explained_in: "docs/3-what-separation-stops.md, (b) A member of staff editing someone else’s record",
                how_it_works: "compare",
            },
            Self::PersonHrField => Rule {
                what: "Name, job title, department and email belong to HR. A person’s token may change phone, office, biography and research interests; the whole request is refused, naming the field, rather than silently dropping it.",
                enforced_in: "directory-api/src/domain/patch.rs (hr_owned_fields), directory-api/src/routes/staff.rs (patch)",
                explained_in: "docs/3-what-separation-stops.md, (c) A member of staff changing an HR-owned field",
                how_it_works: "scopes",
            },
            Self::AlgNone => Rule {
                what: "The API accepts exactly one algorithm, EdDSA, fixed in its own code: the token’s header never chooses how the token is checked.",
                enforced_in: VERIFY,
                explained_in: "docs/3-what-separation-stops.md, (f) Forged tokens: a token with no signature",
                how_it_works: "checks",
            },
            Self::ChangedClaim => Rule {
                what: "The signature covers the header and every claim: change one character of the claims and the real key’s signature no longer matches.",
                enforced_in: VERIFY,
                explained_in: "docs/3-what-separation-stops.md, (f) Forged tokens",
                how_it_works: "checks",
            },
            Self::SelfSigned => Rule {
                what: "The API takes public keys only from the authorization server’s published key set (JWKS), found through its metadata; a kid copied into a header does not make another key’s signature valid.",
                enforced_in: "directory-api/src/auth/verify.rs, directory-api/src/auth/keys.rs",
                explained_in: "docs/3-what-separation-stops.md, (f) Forged tokens: a token signed by another key",
                how_it_works: "checks",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attack_is_found_by_its_slug_and_nothing_else_is() {
        for attack in Attack::ALL {
            assert_eq!(Attack::parse(attack.slug()), Some(attack));
        }
        for other in [
            "",
            "SITE-EDITS-PROFILE",
            "site-edits-profile ",
            "drop-tables",
        ] {
            assert_eq!(Attack::parse(other), None, "{other}");
        }
    }

    #[test]
    fn the_forgeries_start_from_the_sites_token_and_are_refused_as_invalid() {
        for attack in [Attack::AlgNone, Attack::ChangedClaim, Attack::SelfSigned] {
            assert_eq!(attack.base(), Base::Site);
            assert_ne!(attack.forgery(), Forgery::None);
            assert_eq!(
                attack.expected(),
                Expected {
                    status: 401,
                    code: "invalid_token"
                }
            );
        }
    }

    #[test]
    fn only_the_persons_attacks_need_someone_signed_in() {
        let personal: Vec<Attack> = Attack::ALL
            .into_iter()
            .filter(|a| a.needs_person())
            .collect();
        assert_eq!(
            personal,
            [
                Attack::PersonEditsOther,
                Attack::PersonHrField,
                Attack::PersonCreatesRecord
            ]
        );
        assert_eq!(Attack::PersonEditsOther.target(), Target::SomeoneElse);
        assert_eq!(Attack::PersonEditsOther.expected().code, "not_owner");
        assert_eq!(Attack::PersonHrField.expected().code, "hr_owned_field");
        assert_eq!(
            Attack::SiteEditsProfile.expected(),
            Expected {
                status: 403,
                code: "insufficient_scope"
            }
        );
    }

    #[test]
    fn every_rule_names_the_source_that_enforces_it_and_the_page_that_explains_it() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for attack in Attack::ALL {
            let rule = attack.rule();
            for path in rule.enforced_in.split(", ") {
                let file = path.split(' ').next().unwrap_or_default();
                assert!(root.join(file).is_file(), "{attack:?}: {file}");
            }
            let doc = rule.explained_in.split(',').next().unwrap_or_default();
            assert!(root.join(doc).is_file(), "{attack:?}: {doc}");
            assert!(!attack.title().is_empty() && !attack.tried().is_empty());
        }
    }
}
