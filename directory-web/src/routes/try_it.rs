//! `/try-it`: the guide's attacks (`crate::try_it`), each a CSRF-protected button, run live
//! against the real API with the tokens this site holds: its own, and the signed-in person's.
//! The answer is the same page with the request sent (its token decoded, never raw), the API's
//! exact answer, the rule that stopped it, and a check that nothing changed.
//!
//! Nothing here keeps state of its own: a run reads the target record, sends one request the
//! API refuses, and reads the record again. Every page is `Cache-Control: private, no-store`.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::pages::{app_token_note, with_app_token};
use crate::api_client::{ApiFailure, Attempt};
use crate::error::WebError;
use crate::extract::{CsrfProtected, MaybeUser, SiteForm, Then};
use crate::respond::private_html;
use crate::session::{self, SignedIn, account};
use crate::state::WebState;
use crate::try_it::shown::{shown_answer, shown_request};
use crate::try_it::{Attack, Base, FORGED_SCOPE, Forgery, INTRUDER, Target, forge};
use crate::views::{TryItPage, TryItResult};

fn page(
    session: &Session,
    state: &WebState,
    user: Option<&SignedIn>,
) -> Result<TryItPage, WebError> {
    let token_used = match user {
        Some(user) => format!(
            "{}; and, for the attacks marked as yours, your own token (you, {})",
            app_token_note(state),
            user.username
        ),
        None => app_token_note(state),
    };
    let (person_attacks, site_attacks) = Attack::ALL.into_iter().partition(|a| a.needs_person());
    Ok(TryItPage {
        title: "Try it — Staff directory".to_owned(),
        token_used,
        account: account(session),
        csrf: session::csrf_token(session)?,
        signed_in: user.is_some(),
        site_attacks,
        person_attacks,
        result: None,
        refusal: None,
    })
}

/// `GET /try-it`: the attacks, each a button; a member of staff's own attacks are offered only
/// when they are signed in. A sign-in that cannot be checked shows the visitor's page, the
/// reason logged.
pub async fn try_it(
    user: Result<MaybeUser, WebError>,
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let user = user.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the signed-in user's token could not be checked");
        MaybeUser(None)
    });
    private_html(&page(&session, &state, user.0.as_ref())?, StatusCode::OK)
}

/// The form of every attack's button.
#[derive(Deserialize)]
pub struct TryItForm {
    csrf: String,
    attack: String,
}

impl CsrfProtected for TryItForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

fn unavailable(f: ApiFailure) -> WebError {
    WebError::Unavailable(f.to_string())
}

/// The record `target` names, as `(id, ETag)`, read with the site's own token (`None` for a
/// new record).
async fn target_of(
    state: &WebState,
    target: Target,
    user: Option<&SignedIn>,
) -> Result<Option<(i64, String)>, WebError> {
    if target == Target::NewRecord {
        return Ok(None);
    }
    let own = match user {
        Some(user) => Some(state.api.me(&user.token()).await.map_err(unavailable)?.0.id),
        None => None,
    };
    let id = match (target, own) {
        (Target::OwnOrFirst, Some(own)) => own,
        _ => {
            let listed = with_app_token(state, async |token| {
                state.api.search(&token, "", "", "", 1).await
            })
            .await?;
            listed
                .items
                .into_iter()
                .map(|record| record.id)
                .find(|id| Some(*id) != own)
                .ok_or(WebError::NotFound)?
        }
    };
    let etag = current_etag(state, id).await?;
    Ok(Some((id, etag)))
}

async fn current_etag(state: &WebState, id: i64) -> Result<String, WebError> {
    with_app_token(state, async |token| state.api.version(&token, id).await)
        .await
        .map(|(_, etag)| etag)
}

/// The token `attack` sends: its base token, forged as it says.
fn token_for(attack: Attack, base: &SecretString) -> Result<String, WebError> {
    let base = base.expose_secret();
    let forged = match attack.forgery() {
        Forgery::None => Some(base.to_owned()),
        Forgery::AlgNone => forge::alg_none(base, FORGED_SCOPE),
        Forgery::ChangedClaim => forge::changed_claim(base, FORGED_SCOPE),
        Forgery::SelfSigned => forge::self_signed(base, FORGED_SCOPE),
    };
    forged.ok_or_else(|| WebError::Unexpected(anyhow::anyhow!("the base token is not a JWT")))
}

/// What changed after the attempt: a record's version read again, or a search for the record
/// it tried to create. `(sentence, nothing changed)`.
async fn afterwards(
    state: &WebState,
    target: Option<&(i64, String)>,
) -> Result<(String, bool), WebError> {
    Ok(match target {
        Some((id, before)) => {
            let now = current_etag(state, *id).await?;
            if &now == before {
                (
                    format!("Record {id} is still at version {now}: nothing was written."),
                    true,
                )
            } else {
                (
                    format!(
                        "Record {id} changed: it was at version {before}, and is now at {now}."
                    ),
                    false,
                )
            }
        }
        None => {
            let found = with_app_token(state, async |token| {
                state.api.search(&token, INTRUDER, "", "", 1).await
            })
            .await?;
            if found.total == 0 {
                (
                    format!("A search for “{INTRUDER}” finds nobody: no record was created."),
                    true,
                )
            } else {
                (
                    format!(
                        "A search for “{INTRUDER}” finds {}: a record was created.",
                        found.total
                    ),
                    false,
                )
            }
        }
    })
}

/// `POST /try-it`: runs the attack the button names and shows its outcome on the page. The
/// form is checked (origin, CSRF token) first; a member of staff's own attack needs them signed
/// in (403 otherwise, and nothing is sent); an unknown attack is a 400.
pub async fn run(
    Then(SiteForm(form), MaybeUser(user)): Then<SiteForm<TryItForm>, MaybeUser>,
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let attack = Attack::parse(&form.attack)
        .ok_or_else(|| WebError::BadRequest("There is no such attack to try.".into()))?;
    let mut shown = page(&session, &state, user.as_ref())?;
    let base = match (attack.base(), &user) {
        (Base::Person, Some(user)) => user.token(),
        (Base::Person, None) => {
            shown.refusal = Some(format!(
                "“{}” uses your own token, and you are not signed in: sign in to try it. Nothing was sent.",
                attack.title()
            ));
            return private_html(&shown, StatusCode::FORBIDDEN);
        }
        (Base::Site, _) => state
            .token
            .get()
            .await
            .map_err(|e| WebError::Unavailable(e.to_string()))?,
    };
    let target = target_of(&state, attack.target(), user.as_ref()).await?;
    let token = token_for(attack, &base)?;
    let body = attack.body();
    let (method, path) = match &target {
        Some((id, _)) => (reqwest::Method::PATCH, format!("/staff/{id}")),
        None => (reqwest::Method::POST, "/staff".to_owned()),
    };
    let if_match = target.as_ref().map(|(_, etag)| etag.as_str());
    let answer = state
        .api
        .attempt(&Attempt {
            method: method.clone(),
            path: path.clone(),
            token: &token,
            if_match,
            body: &body,
        })
        .await
        .map_err(unavailable)?;
    let (afterwards, unchanged) = afterwards(&state, target.as_ref()).await?;
    shown.result = Some(TryItResult {
        attack,
        request: shown_request(method.as_str(), &path, &token, if_match, &body),
        answer: shown_answer(&answer, attack.expected()),
        afterwards,
        unchanged,
    });
    private_html(&shown, StatusCode::OK)
}
