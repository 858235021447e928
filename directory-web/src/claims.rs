//! The claims of access tokens, decoded for teaching: the how-it-works page compares, claim by
//! claim, the site's own token, the signed-in person's token and the HR job's token, each
//! claim explained for the token it is in.
//!
//! RFC 9068 §6: a client must not inspect the access tokens it is given. The site decodes them
//! here only to show them; nothing it decides (who is signed in, what a page may do) is read
//! from a decoded token. Who a person is comes from the authorization server's introspection
//! answer (`crate::user_tokens`); what a token may do is decided by the API, which verifies
//! every token it is sent. Nothing here verifies a signature.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value};

/// The JSON object in one base64url part of a JWT (RFC 7519 §3), if it is one.
pub fn decode_part(part: &str) -> Option<Map<String, Value>> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// The claims (the payload's JSON object) of a JWT, unverified, for display only.
pub fn decoded(token: &SecretString) -> Option<Map<String, Value>> {
    decode_part(token.expose_secret().split('.').nth(1)?)
}

/// Whose token a column of the comparison shows. The column is chosen by where the site got
/// the token (its own cache, the person's session), never by what the token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// The site's own token (`client_credentials`), live.
    Site,
    /// The signed-in person's token (password or authorization code grant), live.
    Person,
    /// The HR job's token (`client_credentials` as `hr-sync`): never held by this site, so
    /// shown as the documentation describes it.
    HrJob,
}

/// The claims compared, in this order; any other claim a token carries follows them.
pub const COMPARED: [&str; 11] = [
    "iss",
    "sub",
    "aud",
    "client_id",
    "scope",
    "token_kind",
    "exp",
    "iat",
    "nbf",
    "jti",
    "sid",
];

/// What `claim` means in the token of `holder`, in a sentence ("" for a claim it does not
/// explain).
pub fn meaning(holder: Holder, claim: &str) -> &'static str {
    use Holder::{HrJob, Person, Site};
    match (claim, holder) {
        ("iss", _) => {
            "Issuer: the authorization server that signed it. All three come from the same one."
        }
        ("sub", Site) => {
            "Subject: the site itself. A client's own token speaks for the client, so its subject is its client id."
        }
        ("sub", Person) => {
            "Subject: you. This token acts for you alone, and the API lets it change only the record whose username is this."
        }
        ("sub", HrJob) => "Subject: the HR job itself, a machine. No person is involved.",
        ("aud", _) => "Audience: the directory API, and no other API, may accept it.",
        ("client_id", Site) => "The application it was issued to: this website.",
        ("client_id", Person) => {
            "The application holding it: this website too, which asked on your behalf. client_id says which application holds a token; sub says whom it acts for."
        }
        ("client_id", HrJob) => "The application it was issued to: the nightly HR import.",
        ("scope", Site) => "What it allows: reading the public directory, nothing more.",
        ("scope", Person) => {
            "What it allows: reading the directory, and changing the staff-editable fields (phone, office, biography, research interests) of your own record only."
        }
        ("scope", HrJob) => {
            "What it allows: reading everything, and creating, changing and retiring any record, all fields. Only a client's own token can carry directory:admin."
        }
        ("token_kind", Person) => {
            "Set by the authorization server: a person's token. The API checks it before anything only a person may do, rather than guessing from sub."
        }
        ("token_kind", Site | HrJob) => {
            "Set by the authorization server: a client's own token. Routes that act for a person refuse it."
        }
        ("exp", Site) => {
            "Expiry (Unix time): 15 minutes after issue by default. The site reuses it for every visitor's pages, then asks for a new one."
        }
        ("exp", Person) => {
            "Expiry (Unix time): 5 minutes after issue by default. The site renews it with your refresh token, which it keeps server-side."
        }
        ("exp", HrJob) => {
            "Expiry: 15 minutes after issue. The job asks for a new token each run; it gets no refresh token."
        }
        ("iat", _) => "Issued at (Unix time).",
        ("nbf", _) => "Not before (Unix time): the API refuses it before then.",
        ("jti", _) => "A unique id for this very token.",
        ("sid", Person) => {
            "Your sign-in: signing out, or a replayed refresh token, ends it and every access token it issued."
        }
        ("sid", Site | HrJob) => "Not in a client's token: no person signed in.",
        _ => "",
    }
}

/// What each token may do, in a sentence.
pub fn may_do(holder: Holder) -> &'static str {
    match holder {
        Holder::Site => {
            "Read the public directory for every visitor. It can change nothing, and routes that act for a person refuse it."
        }
        Holder::Person => {
            "Read the directory and change the staff-editable fields of your own record, for your own requests only: never to render anyone else's page."
        }
        Holder::HrJob => {
            "Read everything; create, change and retire any record, every field, HR's fields included."
        }
    }
}

/// The HR job's token as the documentation describes it (docs/1-two-grants.md): what each
/// claim holds. Never a live value: this site does not hold hr-sync's secret.
fn documented(claim: &str) -> Option<&'static str> {
    Some(match claim {
        "iss" => "the same issuer",
        "sub" => "\"hr-sync\"",
        "aud" => "the same audience: the directory API",
        "client_id" => "\"hr-sync\"",
        "scope" => "\"directory:read directory:admin\"",
        "token_kind" => "\"client\"",
        "exp" => "iat + 900 (lifetime 900 s)",
        "iat" | "nbf" => "when it was issued",
        "jti" => "a fresh random id",
        _ => return None,
    })
}

/// One token's value of one claim, with what it means there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The value: JSON text for a live token, a description for the documented one.
    pub value: String,
    /// What it means in this token.
    pub meaning: &'static str,
    /// Whether `value` is the claim's value as written in the token (shown as code), rather
    /// than a description of it.
    pub literal: bool,
}

/// One claim across the three tokens (`None`: that token does not carry it, or is not shown).
#[derive(Debug, Clone)]
pub struct ClaimRow {
    /// The claim's name.
    pub name: String,
    /// A fragment-safe form of the name, for the cells' ids (`site-sub`, `person-scope`…).
    pub anchor: String,
    /// In the site's own token.
    pub site: Option<Cell>,
    /// In the signed-in person's token.
    pub person: Option<Cell>,
    /// In the HR job's token, as documented.
    pub hr_job: Option<Cell>,
}

fn live_cell(holder: Holder, claims: Option<&Map<String, Value>>, name: &str) -> Option<Cell> {
    let claims = claims?;
    let value = claims.get(name)?;
    let mut shown = value.to_string();
    // The lifetime is the difference of two displayed numbers: shown, never relied on.
    if name == "exp"
        && let (Some(exp), Some(iat)) = (value.as_i64(), claims.get("iat").and_then(Value::as_i64))
    {
        shown = format!("{exp} (lifetime {} s)", exp - iat);
    }
    Some(Cell {
        value: shown,
        meaning: meaning(holder, name),
        literal: true,
    })
}

/// The comparison, claim by claim: the compared claims first, then any other claim either
/// live token carries (sorted). `site` and `person` are the decoded claims of the live tokens
/// the site holds (`None` when it has none to show).
pub fn comparison(
    site: Option<&Map<String, Value>>,
    person: Option<&Map<String, Value>>,
) -> Vec<ClaimRow> {
    let mut names: Vec<String> = COMPARED.iter().map(|&n| n.to_owned()).collect();
    let mut others: Vec<String> = [site, person]
        .into_iter()
        .flatten()
        .flat_map(|claims| claims.keys())
        .filter(|name| !COMPARED.contains(&name.as_str()))
        .cloned()
        .collect();
    others.sort_unstable();
    others.dedup();
    names.extend(others);
    names
        .into_iter()
        .map(|name| ClaimRow {
            anchor: name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect(),
            site: live_cell(Holder::Site, site, &name),
            person: live_cell(Holder::Person, person, &name),
            hr_job: documented(&name).map(|value| Cell {
                value: value.to_owned(),
                meaning: meaning(Holder::HrJob, &name),
                literal: value.starts_with('"'),
            }),
            name,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn jwt(claims: &Value) -> SecretString {
        SecretString::from(format!(
            "{}.{}.signature",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"at+jwt"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        ))
    }

    #[test]
    fn what_is_not_a_jwt_has_no_claims() {
        for not_a_jwt in ["", "opaque", "a.%%%.c", "a.bm90IGpzb24.c", "a.WzEsMl0.c"] {
            assert!(
                decoded(&SecretString::from(not_a_jwt)).is_none(),
                "{not_a_jwt}"
            );
        }
        let token = jwt(&serde_json::json!({"sub": "ajohnson"}));
        assert_eq!(decoded(&token).unwrap()["sub"], "ajohnson");
    }

    #[test]
    fn each_claim_is_explained_for_the_token_it_is_in() {
        let site = claims(serde_json::json!({
            "sub": "directory-web", "scope": "directory:read", "token_kind": "client",
            "iat": 1_000, "exp": 1_900,
        }));
        let person = claims(serde_json::json!({
            "sub": "ajohnson", "scope": "directory:read profile:write", "token_kind": "user",
            "iat": 1_000, "exp": 1_300, "sid": "s1", "custom": true,
        }));
        let rows = comparison(Some(&site), Some(&person));
        let row = |name: &str| rows.iter().find(|r| r.name == name).unwrap();
        let sub = row("sub");
        assert_eq!(sub.site.as_ref().unwrap().value, "\"directory-web\"");
        assert!(
            sub.site
                .as_ref()
                .unwrap()
                .meaning
                .contains("the site itself")
        );
        assert_eq!(sub.person.as_ref().unwrap().value, "\"ajohnson\"");
        assert!(
            sub.person
                .as_ref()
                .unwrap()
                .meaning
                .starts_with("Subject: you.")
        );
        assert!(
            !sub.person
                .as_ref()
                .unwrap()
                .meaning
                .contains("the site itself")
        );
        assert_eq!(sub.hr_job.as_ref().unwrap().value, "\"hr-sync\"");
        let scope = row("scope");
        assert!(
            scope
                .person
                .as_ref()
                .unwrap()
                .meaning
                .contains("your own record")
        );
        assert!(
            !scope
                .person
                .as_ref()
                .unwrap()
                .meaning
                .contains("public directory")
        );
        assert!(
            scope
                .site
                .as_ref()
                .unwrap()
                .meaning
                .contains("public directory")
        );
        assert_eq!(
            row("exp").person.as_ref().unwrap().value,
            "1300 (lifetime 300 s)"
        );
        assert_eq!(
            row("exp").site.as_ref().unwrap().value,
            "1900 (lifetime 900 s)"
        );
        // A claim only one token carries is absent from the other's column.
        assert!(row("sid").site.is_none() && row("sid").person.is_some());
        // The compared claims come first, in order; then the others.
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names[..COMPARED.len()], COMPARED);
        assert_eq!(names[COMPARED.len()..], ["custom"]);
        assert_eq!(row("custom").person.as_ref().unwrap().meaning, "");
    }

    #[test]
    fn the_hr_jobs_column_is_the_documented_shape_even_with_no_live_token() {
        let rows = comparison(None, None);
        let hr = |name: &str| {
            rows.iter()
                .find(|r| r.name == name)
                .and_then(|r| r.hr_job.clone())
                .map(|c| c.value)
        };
        assert_eq!(hr("sub").as_deref(), Some("\"hr-sync\""));
        assert_eq!(hr("client_id").as_deref(), Some("\"hr-sync\""));
        assert_eq!(
            hr("scope").as_deref(),
            Some("\"directory:read directory:admin\"")
        );
        assert_eq!(hr("token_kind").as_deref(), Some("\"client\""));
        assert_eq!(hr("exp").as_deref(), Some("iat + 900 (lifetime 900 s)"));
        assert_eq!(hr("sid"), None);
        assert!(rows.iter().all(|r| r.site.is_none() && r.person.is_none()));
    }

    #[test]
    fn every_compared_claim_is_explained_for_every_token() {
        for holder in [Holder::Site, Holder::Person, Holder::HrJob] {
            for claim in COMPARED {
                assert!(!meaning(holder, claim).is_empty(), "{holder:?} {claim}");
            }
            assert!(!may_do(holder).is_empty());
        }
        assert_eq!(meaning(Holder::Site, "device_token"), "");
    }

    #[test]
    fn an_odd_claim_name_keeps_a_safe_anchor() {
        let odd = claims(serde_json::json!({"a b\"<c": 1}));
        let rows = comparison(Some(&odd), None);
        assert_eq!(rows.last().unwrap().anchor, "abc");
    }
}
