//! Whether a presented refresh token may be rotated (RFC 6749 §6, RFC 9700 §4.14.2): a pure
//! decision over the stored token and family, the user's state and the time, which is passed
//! in. The refresh grant (`oauth/grants/refresh_token.rs`) loads, calls [`decide`] and acts.
//!
//! Concurrency policy, strict one-winner: when the same refresh token arrives several times at
//! once, the unique (family, generation) index lets exactly one request rotate it; the others
//! are refused and the family lives on with the winner's new token. A duplicate that arrives
//! within the reuse grace (`--refresh-reuse-grace-secs`, default 2 s) after the rotation it
//! lost is refused the same way; any later presentation of a rotated-out token, or any at all
//! with a grace of 0, is reuse, and revokes the whole family.

use crate::store::refresh::RefreshLookup;

/// Why a refresh token is refused with nothing changed (all answered with the same
/// `invalid_grant`, so the reason is never an oracle).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Issued to another client (RFC 6749 §10.4: a refresh token is bound to its client).
    OtherClient,
    /// Its family (sign-in) was revoked.
    Revoked,
    /// Its family is past its absolute lifetime.
    FamilyExpired,
    /// Rotated out moments ago, within the reuse grace, by the request it raced with.
    LostRace,
    /// Past its own idle lifetime.
    TokenExpired,
}

/// What to do with a presented refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDecision {
    /// Rotate it: the family moves to the next generation.
    Rotate,
    /// Refuse it; nothing changes.
    Refuse(Refusal),
    /// A rotated-out token presented again after the grace: reuse, so the whole family is
    /// revoked (RFC 9700 §4.14.2) and the request refused.
    RevokeForReuse,
    /// Its user was disabled or removed: the family is revoked and the request refused.
    RevokeForDisabledUser,
}

/// Whether [`decide`] needs the time the family last rotated: only for a live token of
/// `client_id` that was rotated out by the family's latest rotation, the only one the reuse
/// grace can forgive. Loading it for no other token keeps the usual refresh to one lookup.
pub fn needs_rotation_time(found: &RefreshLookup, client_id: &str, now: i64) -> bool {
    bound_and_live(found, client_id, now).is_none()
        && found.token_generation + 1 == found.family_generation
}

/// Decides what to do with the presented token `found` for the client `client_id` at `now`.
/// `rotated_at` is when the family moved to its current generation (see
/// [`needs_rotation_time`]); `grace` the reuse grace in seconds (0: none).
pub fn decide(
    found: &RefreshLookup,
    client_id: &str,
    rotated_at: Option<i64>,
    now: i64,
    grace: i64,
) -> RefreshDecision {
    if let Some(refusal) = bound_and_live(found, client_id, now) {
        return RefreshDecision::Refuse(refusal);
    }
    if found.token_generation < found.family_generation {
        let rotated_last = found.token_generation + 1 == found.family_generation;
        if within_reuse_grace(rotated_at.filter(|_| rotated_last), now, grace) {
            return RefreshDecision::Refuse(Refusal::LostRace);
        }
        return RefreshDecision::RevokeForReuse;
    }
    if now >= found.token_expires_at {
        return RefreshDecision::Refuse(Refusal::TokenExpired);
    }
    if !found.user_active {
        return RefreshDecision::RevokeForDisabledUser;
    }
    RefreshDecision::Rotate
}

/// The refusals that come before any question of generations.
fn bound_and_live(found: &RefreshLookup, client_id: &str, now: i64) -> Option<Refusal> {
    if found.client_id != client_id {
        Some(Refusal::OtherClient)
    } else if found.revoked {
        Some(Refusal::Revoked)
    } else if now >= found.family_expires_at {
        Some(Refusal::FamilyExpired)
    } else {
        None
    }
}

/// Whether a rotated-out refresh token presented at `now` is the loser of a race with the
/// rotation made at `rotated_at` (refused, the sign-in kept) rather than reuse (the sign-in
/// revoked): only within `grace` seconds of the rotation that replaced it, never with a grace
/// of 0. `rotated_at` is `None` when the token is older than the one rotated last.
pub fn within_reuse_grace(rotated_at: Option<i64>, now: i64, grace: i64) -> bool {
    grace > 0 && rotated_at.is_some_and(|at| now - at <= grace)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: &str = "web";

    /// A live token of generation 0 of a family at generation 0, issued at 100 to `web`,
    /// idle-expiring at 1,000, the family at 10,000.
    fn live() -> RefreshLookup {
        RefreshLookup {
            family_id: "f".to_owned(),
            client_id: CLIENT.to_owned(),
            username: "alice".to_owned(),
            scope: "directory:read".to_owned(),
            token_generation: 0,
            family_generation: 0,
            token_expires_at: 1_000,
            token_issued_at: 100,
            family_expires_at: 10_000,
            revoked: false,
            user_active: true,
        }
    }

    /// The same token after the family rotated `times` times, the last at 500.
    fn rotated_out(times: i64) -> RefreshLookup {
        RefreshLookup {
            family_generation: times,
            ..live()
        }
    }

    #[test]
    fn the_reuse_grace_forgives_only_the_token_rotated_last_and_only_briefly() {
        assert!(within_reuse_grace(Some(100), 100, 2));
        assert!(within_reuse_grace(Some(100), 102, 2));
        assert!(!within_reuse_grace(Some(100), 103, 2));
        assert!(!within_reuse_grace(None, 100, 2));
        // 0 is strict: any presentation of a rotated-out token is reuse.
        assert!(!within_reuse_grace(Some(100), 100, 0));
        assert!(within_reuse_grace(Some(100), 130, 30));
    }

    #[test]
    fn a_live_token_of_its_client_is_rotated_until_it_expires() {
        assert_eq!(
            decide(&live(), CLIENT, None, 200, 2),
            RefreshDecision::Rotate
        );
        assert_eq!(
            decide(&live(), CLIENT, None, 999, 2),
            RefreshDecision::Rotate
        );
        assert_eq!(
            decide(&live(), CLIENT, None, 1_000, 2),
            RefreshDecision::Refuse(Refusal::TokenExpired)
        );
        assert!(!needs_rotation_time(&live(), CLIENT, 200));
    }

    #[test]
    fn another_clients_revoked_or_ended_token_is_refused_before_anything_else() {
        let other = decide(&rotated_out(1), "someone-else", Some(500), 600, 2);
        assert_eq!(other, RefreshDecision::Refuse(Refusal::OtherClient));
        let revoked = RefreshLookup {
            revoked: true,
            ..rotated_out(1)
        };
        assert_eq!(
            decide(&revoked, CLIENT, Some(500), 600, 2),
            RefreshDecision::Refuse(Refusal::Revoked)
        );
        assert_eq!(
            decide(&live(), CLIENT, None, 10_000, 2),
            RefreshDecision::Refuse(Refusal::FamilyExpired)
        );
        // None of these revokes anything, so none needs the rotation time.
        assert!(!needs_rotation_time(&rotated_out(1), "someone-else", 600));
        assert!(!needs_rotation_time(&revoked, CLIENT, 600));
    }

    #[test]
    fn the_token_rotated_last_is_forgiven_within_the_grace_and_reuse_after_it() {
        let token = rotated_out(1);
        assert!(needs_rotation_time(&token, CLIENT, 501));
        assert_eq!(
            decide(&token, CLIENT, Some(500), 502, 2),
            RefreshDecision::Refuse(Refusal::LostRace)
        );
        assert_eq!(
            decide(&token, CLIENT, Some(500), 503, 2),
            RefreshDecision::RevokeForReuse
        );
        // A grace of 0 forgives nothing.
        assert_eq!(
            decide(&token, CLIENT, Some(500), 500, 0),
            RefreshDecision::RevokeForReuse
        );
        // Reuse is reuse even once the token's own idle lifetime is over.
        assert_eq!(
            decide(&token, CLIENT, Some(500), 5_000, 2),
            RefreshDecision::RevokeForReuse
        );
    }

    #[test]
    fn an_older_rotated_out_token_is_always_reuse() {
        let token = rotated_out(2);
        assert!(!needs_rotation_time(&token, CLIENT, 501));
        // Even with a rotation time at hand, it is not the token that rotation replaced.
        assert_eq!(
            decide(&token, CLIENT, Some(500), 501, 30),
            RefreshDecision::RevokeForReuse
        );
    }

    #[test]
    fn a_disabled_users_live_token_revokes_the_sign_in() {
        let disabled = RefreshLookup {
            user_active: false,
            ..live()
        };
        assert_eq!(
            decide(&disabled, CLIENT, None, 200, 2),
            RefreshDecision::RevokeForDisabledUser
        );
        // An expired token of a disabled user is only refused, as before.
        assert_eq!(
            decide(&disabled, CLIENT, None, 1_000, 2),
            RefreshDecision::Refuse(Refusal::TokenExpired)
        );
    }
}
