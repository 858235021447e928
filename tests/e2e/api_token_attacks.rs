//! SECURITY.md sections G (51–55) and H (61–77) against the directory API: bearer handling
//! (RFC 6750) and hostile JWTs (RFC 9068 §4, RFC 8725), plus key rotation (50) and an auth
//! server that goes away.
//!
//! Tokens are forged here byte by byte. The ones that test a claim or header check are
//! signed with the auth server's real key, so that they are refused by the check under test
//! and not by the signature; [`forged_tokens_with_good_claims_are_accepted`] is the control
//! that proves the forging is right, and each refusal names the reason it expects.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::support::{
    ALICE, Clock as _, TestDb, TestStack, assert_invalid_token, assert_problem,
    assert_unauthenticated, basic, claims as jwt_claims, client_credentials, demo_auth_database,
    demo_web_client, fresh_api, header, jwt_header, start_auth, text_of, token_from,
};

/// The API's identifier.
const AUDIENCE: &str = "urn:staff-directory:api";

// The reasons the API gives (the `detail` of its problem, the `error_description` of its
// challenge), as substrings.
const ALGORITHM: &str = "algorithm is not accepted";
const TYP: &str = "not an access token (typ)";
const CRIT: &str = "critical extensions";
const NO_KID: &str = "names no usable signing key";
const UNKNOWN_KEY: &str = "signed by an unknown key";
const SIGNATURE: &str = "signature is invalid";
const ISSUER: &str = "from another issuer";
const AUDIENCE_REFUSED: &str = "meant for another audience";
const EXPIRED: &str = "has expired";
const NOT_YET: &str = "not valid yet";
const MISSING: &str = "lacks a required claim";
const MALFORMED: &str = "malformed";
const NOT_JWS: &str = "not a signed JWT";
const TOO_LONG: &str = "too long";
/// Any reason: the case only has to be refused.
const ANY: &str = "";

// ---------------------------------------------------------------------------------------
// Forging.

/// An Ed25519 signing key: the auth server's own, or an attacker's.
struct SigningKey {
    kid: String,
    key: EncodingKey,
    /// The public key, base64url (the `x` of its JWK).
    public_x: String,
}

impl SigningKey {
    /// A fresh key the auth server knows nothing of.
    fn attacker() -> Self {
        let k = auth_server::oauth::keys::generate().unwrap();
        Self {
            kid: k.kid,
            key: EncodingKey::from_ed_der(&STANDARD.decode(k.private_pkcs8_b64).unwrap()),
            public_x: k.public_x,
        }
    }

    /// The header the auth server writes, naming this key.
    fn header(&self) -> Value {
        json!({"typ": "at+jwt", "alg": "EdDSA", "kid": self.kid})
    }

    /// `header.claims.signature`, EdDSA.
    fn sign(&self, header: &Value, claims: &Value) -> String {
        self.sign_bytes(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    /// The same from raw JSON bytes, for what serde would never write.
    fn sign_bytes(&self, header: &[u8], claims: &[u8]) -> String {
        forge(header, claims, &self.key, Algorithm::EdDSA)
    }

    /// Signs two already-encoded segments as they are (padding, stray characters and all).
    fn sign_segments(&self, header: &str, claims: &str) -> String {
        let input = format!("{header}.{claims}");
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.key, Algorithm::EdDSA).unwrap();
        format!("{input}.{signature}")
    }
}

/// `base64url(header).base64url(claims).base64url(signature over the first two)`.
fn forge(header: &[u8], claims: &[u8], key: &EncodingKey, alg: Algorithm) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap();
    format!("{input}.{signature}")
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The auth server's active signing key, read from its database.
async fn real_key(s: &TestStack) -> SigningKey {
    let rows = s.auth.db.all_keys().await.unwrap();
    let active = rows
        .iter()
        .filter(|k| k.retired_at.is_none())
        .max_by_key(|k| k.created_at)
        .expect("an active key");
    SigningKey {
        kid: active.kid.clone(),
        key: EncodingKey::from_ed_der(&STANDARD.decode(&active.private_key).unwrap()),
        public_x: active.public_key.clone(),
    }
}

/// A token with `header` and `claims`, validly signed by the auth server's key.
async fn sign_with_real_key(s: &TestStack, header: &Value, claims: &Value) -> String {
    real_key(s).await.sign(header, claims)
}

/// Claims the auth server could have issued to Alice through the web app, valid now by the
/// API's clock.
fn good_claims(s: &TestStack) -> Value {
    let now = s.api.clock.now();
    json!({
        "iss": s.auth.base_url,
        "sub": "ajohnson",
        "aud": AUDIENCE,
        "exp": now + 300,
        "iat": now,
        "nbf": now,
        "jti": auth_server::oauth::secrets::random_b64(16),
        "client_id": "directory-web",
        "scope": "directory:read profile:write",
        "token_kind": "user",
    })
}

/// `value` with member `key` set.
fn with(mut value: Value, key: &str, member: Value) -> Value {
    value[key] = member;
    value
}

/// `value` without member `key`.
fn without(mut value: Value, key: &str) -> Value {
    value.as_object_mut().unwrap().remove(key);
    value
}

/// The JSON text of `value` with `raw` (one or more `"name":value` members, written as they
/// are) added at the end.
fn with_raw(value: &Value, raw: &str) -> Vec<u8> {
    let mut text = value.to_string();
    assert_eq!(text.pop(), Some('}'));
    text.push(',');
    text.push_str(raw);
    text.push('}');
    text.into_bytes()
}

// ---------------------------------------------------------------------------------------
// Asking.

async fn get_staff(s: &TestStack, token: &str) -> Response {
    s.api(Method::GET, "/staff", Some(token))
        .send()
        .await
        .unwrap()
}

/// `GET /staff` with `authorization` as the whole header value.
async fn get_staff_authorized(s: &TestStack, authorization: &str) -> Response {
    s.http
        .get(s.api_url("/staff"))
        .header("Authorization", authorization)
        .send()
        .await
        .unwrap()
}

async fn assert_accepted(s: &TestStack, case: &str, token: &str) {
    let response = get_staff(s, token).await;
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "{case}: should be accepted; got {body}");
}

/// Asserts RS-401 `invalid_token` for `token`, refused for `reason` (a substring of the
/// problem's detail). Returns the problem.
async fn assert_refused(s: &TestStack, case: &str, token: &str, reason: &str) -> Value {
    let response = get_staff(s, token).await;
    assert_eq!(response.status(), 401, "{case}: status");
    let challenge = header(&response, "www-authenticate")
        .unwrap_or_default()
        .to_owned();
    let body = assert_invalid_token(response).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(reason),
        "{case}: refused with {detail:?}, expected a reason containing {reason:?}"
    );
    assert_eq!(
        challenge,
        format!(
            "Bearer realm=\"staff-directory\", error=\"invalid_token\", error_description=\"{detail}\""
        ),
        "{case}: challenge"
    );
    body
}

/// The auth server's count of JWKS requests answered 200, from its `/metrics`.
async fn jwks_fetches(s: &TestStack) -> u64 {
    let text = text_of(&s.http, &s.auth_url("/metrics")).await;
    text.lines()
        .filter(|l| {
            l.starts_with("http_request_duration_seconds_count{")
                && l.contains("route=\"/.well-known/jwks.json\"")
                && l.contains("method=\"GET\"")
                && l.contains("status=\"200\"")
        })
        .map(|l| {
            l.rsplit(' ')
                .next()
                .unwrap()
                .parse::<f64>()
                .unwrap_or_else(|e| panic!("{l}: {e}")) as u64
        })
        .sum()
}

/// A stack whose API refetches keys at most every `secs` seconds (the harness's default is
/// 10). The API's refetch limiter runs on its injected clock: tests move that clock past the
/// interval instead of sleeping.
async fn stack_with_refetch_interval(secs: u64) -> TestStack {
    let mut s = TestStack::start().await;
    let now = s.api.clock.now();
    s.api = fresh_api(&s.auth.base_url, now, |c| {
        c.serve.jwks_min_refetch_secs = secs
    })
    .await;
    s
}

// ---------------------------------------------------------------------------------------
// The control.

#[tokio::test]
async fn forged_tokens_with_good_claims_are_accepted() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    let token = sign_with_real_key(&s, &key.header(), &good_claims(&s)).await;
    assert_accepted(&s, "a forged token with the real key", &token).await;
    let me = s
        .api(Method::GET, "/me", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let record: Value = me.json().await.unwrap();
    assert_eq!(record["username"], "ajohnson");
    // The shape matches what the auth server issues.
    let issued = s.user_token(ALICE).await;
    assert_eq!(jwt_header(&issued), key.header());
    assert_accepted(&s, "Alice's token", &issued).await;
    assert_accepted(&s, "the web app's token", &s.web_app_token().await).await;
    assert_accepted(&s, "the HR job's token", &s.hr_token().await).await;
}

// ---------------------------------------------------------------------------------------
// G. Bearer handling.

#[tokio::test]
async fn t51_a_request_without_authorization_gets_a_bare_bearer_challenge() {
    let s = TestStack::start().await;
    for path in ["/staff", "/me", "/departments"] {
        let response = s.api(Method::GET, path, None).send().await.unwrap();
        assert_unauthenticated(response).await;
    }
}

#[tokio::test]
async fn t52_other_authorization_schemes_count_as_no_credentials() {
    let s = TestStack::start().await;
    let token = s.user_token(ALICE).await;
    for value in [
        basic(&s.web_client.id, &s.web_client.secret),
        "Basic YWpvaG5zb246YWxpY2UtcGFzc3dvcmQtMQ==".to_owned(),
        "Token abc".to_owned(),
        format!("Token {token}"),
        format!("Basic {token}"),
        format!("Bearertoken {token}"),
        format!("DPoP {token}"),
        "Bearer".to_owned(),
    ] {
        let response = get_staff_authorized(&s, &value).await;
        assert_eq!(response.status(), 401, "{value}");
        assert_unauthenticated(response).await;
    }
}

#[tokio::test]
async fn t53_the_bearer_scheme_is_matched_case_insensitively() {
    let s = TestStack::start().await;
    let token = s.user_token(ALICE).await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let response = get_staff_authorized(&s, &format!("{scheme} {token}")).await;
        assert_eq!(response.status(), 200, "{scheme}");
    }
}

#[tokio::test]
async fn t54_a_token_in_the_query_string_is_ignored() {
    let s = TestStack::start().await;
    let token = s.user_token(ALICE).await;
    for path in ["/staff", "/me"] {
        let response = s
            .http
            .get(s.api_url(&format!("{path}?access_token={token}")))
            .send()
            .await
            .unwrap();
        assert_unauthenticated(response).await;
    }
}

#[tokio::test]
async fn t55_two_authorization_headers_are_an_invalid_request() {
    let s = TestStack::start().await;
    let token = s.user_token(ALICE).await;
    let bearer = format!("Bearer {token}");
    for (first, second) in [
        (bearer.clone(), bearer.clone()),
        (
            bearer.clone(),
            basic(&s.web_client.id, &s.web_client.secret),
        ),
        (
            basic(&s.web_client.id, &s.web_client.secret),
            bearer.clone(),
        ),
    ] {
        let response = s
            .http
            .get(s.api_url("/staff"))
            .header("Authorization", &first)
            .header("Authorization", &second)
            .send()
            .await
            .unwrap();
        assert_eq!(
            header(&response, "www-authenticate"),
            Some(
                "Bearer realm=\"staff-directory\", error=\"invalid_request\", \
                 error_description=\"more than one Authorization header was sent\""
            )
        );
        assert_problem(response, 400, "invalid_request").await;
    }
}

// ---------------------------------------------------------------------------------------
// H. JWT attacks.

#[tokio::test]
async fn t61_unsigned_tokens_are_refused() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    let claims = good_claims(&s).to_string();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"typ": "at+jwt", "alg": alg, "kid": key.kid}).to_string();
        let unsigned = format!("{}.{}.", b64(header.as_bytes()), b64(claims.as_bytes()));
        assert_refused(&s, &format!("alg {alg}"), &unsigned, ALGORITHM).await;
        let no_kid = json!({"typ": "at+jwt", "alg": alg}).to_string();
        let unsigned = format!("{}.{}.", b64(no_kid.as_bytes()), b64(claims.as_bytes()));
        assert_refused(&s, &format!("alg {alg}, no kid"), &unsigned, ALGORITHM).await;
    }
    // A real EdDSA token with its signature stripped.
    let signed = key.sign(&key.header(), &good_claims(&s));
    let (input, _) = signed.rsplit_once('.').unwrap();
    assert_refused(&s, "signature stripped", &format!("{input}."), SIGNATURE).await;
    assert_refused(&s, "signature segment removed", input, NOT_JWS).await;
}

#[tokio::test]
async fn t62_hmac_tokens_keyed_with_the_public_key_are_refused() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    let public = URL_SAFE_NO_PAD.decode(&key.public_x).unwrap();
    // SubjectPublicKeyInfo of an Ed25519 key (RFC 8410): a fixed prefix, then the key.
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(&public);
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(&spki)
    );
    let jwks = s
        .http
        .get(s.auth_url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let jwk = serde_json::from_str::<Value>(&jwks).unwrap()["keys"][0].to_string();
    let secrets: [(&str, Vec<u8>); 6] = [
        ("raw key bytes", public.clone()),
        ("x, base64url", key.public_x.clone().into_bytes()),
        ("SPKI DER", spki),
        ("PEM", pem.into_bytes()),
        ("the JWK", jwk.into_bytes()),
        ("the JWKS JSON", jwks.into_bytes()),
    ];
    let claims = good_claims(&s).to_string();
    for (name, secret) in &secrets {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let header = json!({"typ": "at+jwt", "alg": alg, "kid": key.kid}).to_string();
            let token = forge(
                header.as_bytes(),
                claims.as_bytes(),
                &EncodingKey::from_secret(secret),
                alg,
            );
            assert_refused(&s, &format!("{alg:?} keyed with {name}"), &token, ALGORITHM).await;
        }
    }
}

#[tokio::test]
async fn t63_a_token_signed_by_another_key_is_refused() {
    let s = TestStack::start().await;
    let real = real_key(&s).await;
    let attacker = SigningKey::attacker();
    let claims = good_claims(&s);
    let token = attacker.sign(&real.header(), &claims);
    assert_refused(&s, "the real kid, another key", &token, SIGNATURE).await;
    let token = attacker.sign(&json!({"typ": "at+jwt", "alg": "EdDSA"}), &claims);
    assert_refused(&s, "no kid", &token, NO_KID).await;
    let token = attacker.sign(&attacker.header(), &claims);
    assert_refused(&s, "the attacker's own kid", &token, UNKNOWN_KEY).await;
    // A real signature, but of another token.
    let first = real.sign(&real.header(), &claims);
    let second = real.sign(&real.header(), &with(claims, "sub", json!("bokafor")));
    let (input, _) = second.rsplit_once('.').unwrap();
    let (_, signature) = first.rsplit_once('.').unwrap();
    assert_refused(
        &s,
        "another token's signature",
        &format!("{input}.{signature}"),
        SIGNATURE,
    )
    .await;
}

#[tokio::test]
async fn t64_an_embedded_jwk_header_is_not_trusted() {
    let s = TestStack::start().await;
    let real = real_key(&s).await;
    let attacker = SigningKey::attacker();
    let jwk = json!({
        "kty": "OKP", "crv": "Ed25519", "x": attacker.public_x,
        "kid": attacker.kid, "alg": "EdDSA", "use": "sig",
    });
    let claims = good_claims(&s);
    for (case, kid, reason) in [
        (
            "jwk with the attacker's kid",
            Some(&attacker.kid),
            UNKNOWN_KEY,
        ),
        ("jwk with the real kid", Some(&real.kid), SIGNATURE),
        ("jwk and no kid", None, NO_KID),
    ] {
        let mut header = json!({"typ": "at+jwt", "alg": "EdDSA", "jwk": jwk});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let token = attacker.sign(&header, &claims);
        assert_refused(&s, case, &token, reason).await;
    }
}

#[tokio::test]
async fn t65_jku_and_x5u_headers_are_never_fetched() {
    let s = TestStack::start().await;
    let real = real_key(&s).await;
    let attacker = SigningKey::attacker();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    let url = format!("http://{address}/jwks.json");
    let claims = good_claims(&s);
    for member in ["jku", "x5u"] {
        for (kid, reason) in [
            (Some(&attacker.kid), UNKNOWN_KEY),
            (Some(&real.kid), SIGNATURE),
            (None, NO_KID),
        ] {
            let mut header = json!({"typ": "at+jwt", "alg": "EdDSA"});
            header[member] = json!(url);
            if let Some(kid) = kid {
                header["kid"] = json!(kid);
            }
            let token = attacker.sign(&header, &claims);
            assert_refused(&s, &format!("{member}, kid {kid:?}"), &token, reason).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the API connected to the URL of a jku/x5u header"
    );
    // The listener does count connections.
    drop(tokio::net::TcpStream::connect(address).await.unwrap());
    for _ in 0..100 {
        if connections.load(Ordering::SeqCst) == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the listener never saw the test's own connection");
}

#[tokio::test]
async fn t66_kid_injection_is_refused_without_side_effects() {
    let s = TestStack::start().await;
    let real = real_key(&s).await;
    let attacker = SigningKey::attacker();
    let claims = good_claims(&s);
    // HS256 with an empty key, as if /dev/null had been read as the key.
    let header = json!({"typ": "at+jwt", "alg": "HS256", "kid": "../../../../dev/null"});
    let token = forge(
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
        &EncodingKey::from_secret(b""),
        Algorithm::HS256,
    );
    assert_refused(&s, "path kid, HS256 empty key", &token, ALGORITHM).await;
    let long_kid = "k".repeat(10_000);
    let cases: [(&str, Value, &str); 13] = [
        ("path kid", json!("../../../../dev/null"), UNKNOWN_KEY),
        ("SQL kid", json!("x' UNION SELECT 'k'--"), UNKNOWN_KEY),
        ("SQL kid 2", json!("' OR '1'='1"), UNKNOWN_KEY),
        (
            "NUL in kid",
            json!(format!("{}\u{0}", real.kid)),
            UNKNOWN_KEY,
        ),
        (
            "kid with a trailing space",
            json!(format!("{} ", real.kid)),
            UNKNOWN_KEY,
        ),
        (
            "kid in upper case",
            json!(real.kid.to_uppercase()),
            UNKNOWN_KEY,
        ),
        ("10 kB kid", json!(long_kid), TOO_LONG),
        ("129-character kid", json!("k".repeat(129)), NO_KID),
        ("empty kid", json!(""), NO_KID),
        ("null kid", Value::Null, NO_KID),
        ("numeric kid", json!(1), MALFORMED),
        ("object kid", json!({"kid": real.kid}), MALFORMED),
        ("array kid", json!([real.kid]), MALFORMED),
    ];
    for (case, kid, reason) in cases {
        let header = json!({"typ": "at+jwt", "alg": "EdDSA", "kid": kid});
        assert_refused(&s, case, &attacker.sign(&header, &claims), reason).await;
    }
    // Still serving.
    assert_accepted(
        &s,
        "a good token afterwards",
        &real.sign(&real.header(), &claims),
    )
    .await;
}

#[tokio::test]
async fn t67_typ_must_be_at_jwt() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    let claims = good_claims(&s);
    for typ in [
        json!("at+jwt"),
        json!("application/at+jwt"),
        json!("at+JWT"),
        json!("AT+JWT"),
        json!("Application/At+Jwt"),
    ] {
        let header = with(key.header(), "typ", typ.clone());
        assert_accepted(&s, &format!("typ {typ}"), &key.sign(&header, &claims)).await;
    }
    for (typ, reason) in [
        (json!("JWT"), TYP),
        (json!("jwt"), TYP),
        (json!("at+jwt-x"), TYP),
        (json!("application/jwt"), TYP),
        (json!("at+jwt "), TYP),
        (json!("xat+jwt"), TYP),
        (json!("rt+jwt"), TYP),
        (json!(""), TYP),
        (Value::Null, TYP),
        (json!(["at+jwt"]), MALFORMED),
    ] {
        let header = with(key.header(), "typ", typ.clone());
        assert_refused(
            &s,
            &format!("typ {typ}"),
            &key.sign(&header, &claims),
            reason,
        )
        .await;
    }
    let header = without(key.header(), "typ");
    assert_refused(&s, "typ absent", &key.sign(&header, &claims), TYP).await;
}

#[tokio::test]
async fn t68_iss_must_match_exactly() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    let base = s.auth.base_url.clone();
    let host = base.strip_prefix("http://").unwrap();
    let without_port = format!("http://{}", host.rsplit_once(':').unwrap().0);
    for (case, iss, reason) in [
        ("trailing slash", json!(format!("{base}/")), ISSUER),
        ("https", json!(format!("https://{host}")), ISSUER),
        ("upper-case scheme", json!(format!("HTTP://{host}")), ISSUER),
        (
            "prefix of the real issuer",
            json!(format!("{base}.evil")),
            ISSUER,
        ),
        ("longer port", json!(format!("{base}0")), ISSUER),
        ("no port", json!(without_port), ISSUER),
        ("with a path", json!(format!("{base}/oauth")), ISSUER),
        ("empty", json!(""), ISSUER),
        ("array", json!([base]), MALFORMED),
        (
            "array with another",
            json!([base, "https://evil.example"]),
            ANY,
        ),
        ("null", Value::Null, MALFORMED),
    ] {
        let claims = with(good_claims(&s), "iss", iss);
        assert_refused(&s, case, &key.sign(&key.header(), &claims), reason).await;
    }
    let claims = without(good_claims(&s), "iss");
    assert_refused(&s, "absent", &key.sign(&key.header(), &claims), ANY).await;
}

#[tokio::test]
async fn t69_aud_must_name_this_api() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    // RFC 9068 §4: the aud claim must *contain* the API's identifier; an array may name
    // other resource servers too.
    for aud in [json!([AUDIENCE]), json!(["urn:other:api", AUDIENCE])] {
        let claims = with(good_claims(&s), "aud", aud.clone());
        assert_accepted(&s, &format!("aud {aud}"), &key.sign(&key.header(), &claims)).await;
    }
    for (case, aud, reason) in [
        (
            "another resource server",
            json!("urn:other:api"),
            AUDIENCE_REFUSED,
        ),
        ("the client id", json!("directory-web"), AUDIENCE_REFUSED),
        (
            "upper case",
            json!("URN:STAFF-DIRECTORY:API"),
            AUDIENCE_REFUSED,
        ),
        (
            "trailing space",
            json!(format!("{AUDIENCE} ")),
            AUDIENCE_REFUSED,
        ),
        (
            "array without ours",
            json!(["urn:other:api"]),
            AUDIENCE_REFUSED,
        ),
        ("empty string", json!(""), AUDIENCE_REFUSED),
        ("empty array", json!([]), AUDIENCE_REFUSED),
        ("null", Value::Null, MISSING),
        ("a number", json!(42), MISSING),
    ] {
        let claims = with(good_claims(&s), "aud", aud);
        assert_refused(&s, case, &key.sign(&key.header(), &claims), reason).await;
    }
    let claims = without(good_claims(&s), "aud");
    assert_refused(&s, "absent", &key.sign(&key.header(), &claims), ANY).await;
}

#[tokio::test]
async fn t70_exp_is_required_and_enforced_with_a_30_second_leeway() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    let now = s.api.clock.now();
    for exp in [now + 1, now - 29] {
        let claims = with(good_claims(&s), "exp", json!(exp));
        assert_accepted(
            &s,
            &format!("exp now{:+}", exp - now),
            &key.sign(&key.header(), &claims),
        )
        .await;
    }
    for (case, exp, reason) in [
        ("exp at the end of the leeway", json!(now - 30), EXPIRED),
        ("exp beyond the leeway", json!(now - 31), EXPIRED),
        ("exp an hour ago", json!(now - 3600), EXPIRED),
        ("exp zero", json!(0), EXPIRED),
        ("exp negative", json!(-1), ANY),
        ("exp a string", json!("99999999999"), ANY),
        ("exp null", Value::Null, ANY),
    ] {
        let claims = with(good_claims(&s), "exp", exp);
        assert_refused(&s, case, &key.sign(&key.header(), &claims), reason).await;
    }
    let claims = without(good_claims(&s), "exp");
    assert_refused(&s, "exp absent", &key.sign(&key.header(), &claims), ANY).await;
    for raw in [r#""exp":1e400"#, r#""exp":NaN"#, r#""exp":Infinity"#] {
        let claims = with_raw(&without(good_claims(&s), "exp"), raw);
        let token = key.sign_bytes(key.header().to_string().as_bytes(), &claims);
        assert_refused(&s, raw, &token, MALFORMED).await;
    }
    // The API's clock moves: the same token expires 30 s after its exp.
    let token = key.sign(
        &key.header(),
        &with(good_claims(&s), "exp", json!(now + 10)),
    );
    assert_accepted(&s, "before expiry", &token).await;
    s.api.clock.advance(39);
    assert_accepted(&s, "within the leeway", &token).await;
    s.api.clock.advance(1);
    assert_refused(&s, "after the leeway", &token, EXPIRED).await;
}

/// A validly signed token whose `exp` is at the top of the integer range must get an answer
/// (accepted: it has not expired; or refused by a lifetime cap), never a crash.
#[tokio::test]
async fn t70_an_exp_at_the_top_of_the_integer_range_gets_an_answer() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    for exp in [i64::MAX, i64::MAX - 29] {
        let claims = with(good_claims(&s), "exp", json!(exp));
        let token = key.sign(&key.header(), &claims);
        let response = s.api(Method::GET, "/staff", Some(&token)).send().await;
        let response =
            response.unwrap_or_else(|e| panic!("exp {exp}: the API dropped the request: {e}"));
        let status = response.status().as_u16();
        assert!(status == 200 || status == 401, "exp {exp}: status {status}");
    }
    assert_accepted(
        &s,
        "a good token afterwards",
        &key.sign(&key.header(), &good_claims(&s)),
    )
    .await;
}

#[tokio::test]
async fn t71_nbf_and_iat_in_the_future_are_refused() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    let now = s.api.clock.now();
    let nbf_absent = without(good_claims(&s), "nbf");
    assert_accepted(&s, "nbf absent", &key.sign(&key.header(), &nbf_absent)).await;
    for nbf in [now - 100, now + 29] {
        let claims = with(good_claims(&s), "nbf", json!(nbf));
        assert_accepted(
            &s,
            &format!("nbf now{:+}", nbf - now),
            &key.sign(&key.header(), &claims),
        )
        .await;
    }
    for (case, member, value, reason) in [
        ("nbf beyond the leeway", "nbf", json!(now + 31), NOT_YET),
        ("nbf an hour ahead", "nbf", json!(now + 3600), NOT_YET),
        ("nbf a string", "nbf", json!(now.to_string()), MALFORMED),
        (
            "nbf a string far ahead",
            "nbf",
            json!("99999999999"),
            MALFORMED,
        ),
        ("iat beyond the leeway", "iat", json!(now + 31), NOT_YET),
        ("iat a string", "iat", json!(now.to_string()), MALFORMED),
    ] {
        let claims = with(good_claims(&s), member, value);
        assert_refused(&s, case, &key.sign(&key.header(), &claims), reason).await;
    }
    let claims = with_raw(&without(good_claims(&s), "nbf"), r#""nbf":1e400"#);
    let token = key.sign_bytes(key.header().to_string().as_bytes(), &claims);
    assert_refused(&s, "nbf 1e400", &token, MALFORMED).await;
}

#[tokio::test]
async fn t72_every_required_claim_must_be_present_and_well_formed() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    for claim in [
        "sub",
        "client_id",
        "iat",
        "jti",
        "token_kind",
        "scope",
        "exp",
        "iss",
        "aud",
    ] {
        let claims = without(good_claims(&s), claim);
        assert_refused(
            &s,
            &format!("{claim} absent"),
            &key.sign(&key.header(), &claims),
            ANY,
        )
        .await;
    }
    for (claim, value, reason) in [
        ("sub", json!(""), MISSING),
        ("client_id", json!(""), MISSING),
        ("jti", json!(""), MISSING),
        ("sub", Value::Null, ANY),
        ("sub", json!(42), ANY),
        ("sub", json!(["ajohnson"]), ANY),
        ("client_id", json!(["directory-web"]), MALFORMED),
        ("token_kind", json!("admin"), MALFORMED),
        ("token_kind", json!("User"), MALFORMED),
        ("token_kind", Value::Null, MALFORMED),
        ("scope", json!(["directory:read"]), MALFORMED),
        ("scope", json!(""), "scope is malformed"),
        (
            "scope",
            json!("directory:read  profile:write"),
            "scope is malformed",
        ),
        (
            "scope",
            json!("directory:read\tprofile:write"),
            "scope is malformed",
        ),
    ] {
        let claims = with(good_claims(&s), claim, value.clone());
        assert_refused(
            &s,
            &format!("{claim} {value}"),
            &key.sign(&key.header(), &claims),
            reason,
        )
        .await;
    }
}

#[tokio::test]
async fn t73_other_kinds_of_token_are_refused() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    let tokens = s.user_tokens(ALICE).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_refused(&s, "a refresh token", refresh, NOT_JWS).await;
    let jwks = s
        .http
        .get(s.auth_url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_refused(&s, "the JWKS", &jwks, ANY).await;
    let metadata = s
        .http
        .get(s.auth_url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_refused(&s, "the metadata", &metadata, ANY).await;
    // The same key, another purpose: an ID-token-like JWT for the web app.
    let id_token = with(good_claims(&s), "aud", json!("directory-web"));
    let header = with(key.header(), "typ", json!("JWT"));
    assert_refused(&s, "an ID token", &key.sign(&header, &id_token), TYP).await;
    assert_refused(
        &s,
        "an at+jwt for the web app",
        &key.sign(&key.header(), &id_token),
        AUDIENCE_REFUSED,
    )
    .await;
}

#[tokio::test]
async fn t74_crit_headers_are_refused() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    let claims = good_claims(&s);
    for crit in [
        json!(["exp2"]),
        json!([]),
        json!(["exp"]),
        json!(["b64"]),
        json!("exp2"),
    ] {
        let mut header = with(key.header(), "crit", crit.clone());
        if crit == json!(["exp2"]) {
            header["exp2"] = json!(1);
        }
        assert_refused(
            &s,
            &format!("crit {crit}"),
            &key.sign(&header, &claims),
            CRIT,
        )
        .await;
    }
}

#[tokio::test]
async fn t75_malformed_tokens_are_refused_without_a_server_error() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    let claims = good_claims(&s);
    let header = key.header();
    let good = key.sign(&header, &claims);
    let segments: Vec<&str> = good.split('.').collect();
    let (h, p, sig) = (segments[0], segments[1], segments[2]);
    let jwe_header = b64(br#"{"alg":"RSA-OAEP","enc":"A256GCM","kid":"x"}"#);
    // A payload whose base64url holds '-' or '_', to be rewritten in the standard alphabet.
    let mut padded = claims.clone();
    let mut payload = String::new();
    for n in 0..6 {
        padded["x"] = json!("?".repeat(n));
        payload = b64(padded.to_string().as_bytes());
        if payload.contains(['-', '_']) {
            break;
        }
    }
    assert!(payload.contains(['-', '_']));
    let standard_alphabet = payload.replace('-', "+").replace('_', "/");
    let header_text = header.to_string();
    let claims_text = claims.to_string();
    let duplicate_sub = with_raw(&claims, r#""sub":"bokafor""#);
    let mut invalid_utf8 = claims_text
        .replace("ajohnson", "ajohn\u{1}son")
        .into_bytes();
    let at = invalid_utf8.iter().position(|&b| b == 1).unwrap();
    invalid_utf8[at] = 0xff;
    let cases: Vec<(&str, String, &str)> = vec![
        ("2 segments", format!("{h}.{p}"), NOT_JWS),
        ("4 segments", format!("{h}.{p}.{sig}.{sig}"), NOT_JWS),
        (
            "5 segments (a JWE)",
            format!("{jwe_header}.{p}.{p}.{p}.{sig}"),
            NOT_JWS,
        ),
        ("empty", "..".to_owned(), MALFORMED),
        ("only dots", "....".to_owned(), NOT_JWS),
        (
            "padding on the header",
            key.sign_segments(&format!("{h}="), p),
            MALFORMED,
        ),
        (
            "padding on the payload",
            key.sign_segments(h, &format!("{p}=")),
            MALFORMED,
        ),
        ("padding on the signature", format!("{good}="), ANY),
        (
            "standard base64 alphabet",
            key.sign_segments(h, &standard_alphabet),
            MALFORMED,
        ),
        (
            "whitespace in the header",
            key.sign_segments(&format!("{} {}", &h[..10], &h[10..]), p),
            MALFORMED,
        ),
        (
            "whitespace in the payload",
            key.sign_segments(h, &format!("{} {}", &p[..10], &p[10..])),
            MALFORMED,
        ),
        ("whitespace after a dot", format!("{h}. {p}.{sig}"), ANY),
        (
            "header a JSON array",
            key.sign_bytes(
                format!("[{header_text}]").as_bytes(),
                claims_text.as_bytes(),
            ),
            MALFORMED,
        ),
        (
            "header a JSON string",
            key.sign_bytes(br#""EdDSA""#, claims_text.as_bytes()),
            MALFORMED,
        ),
        (
            "header not JSON",
            key.sign_bytes(b"alg=EdDSA", claims_text.as_bytes()),
            MALFORMED,
        ),
        (
            "duplicate alg",
            key.sign_bytes(
                &with_raw(&header, r#""alg":"none""#),
                claims_text.as_bytes(),
            ),
            MALFORMED,
        ),
        (
            "duplicate kid",
            key.sign_bytes(
                &with_raw(&header, r#""kid":"other""#),
                claims_text.as_bytes(),
            ),
            MALFORMED,
        ),
        (
            "payload a JSON string",
            key.sign_bytes(header_text.as_bytes(), br#""ajohnson""#),
            MALFORMED,
        ),
        (
            "payload a JSON array",
            key.sign_bytes(
                header_text.as_bytes(),
                format!("[{claims_text}]").as_bytes(),
            ),
            MALFORMED,
        ),
        (
            "payload empty",
            key.sign_bytes(header_text.as_bytes(), b""),
            MALFORMED,
        ),
        (
            "invalid UTF-8 in the claims",
            key.sign_bytes(header_text.as_bytes(), &invalid_utf8),
            MALFORMED,
        ),
        (
            "a lone surrogate in the claims",
            key.sign_bytes(
                header_text.as_bytes(),
                claims_text
                    .replace("ajohnson", "ajohnson\\ud800")
                    .as_bytes(),
            ),
            MALFORMED,
        ),
        (
            "duplicate sub",
            key.sign_bytes(header_text.as_bytes(), &duplicate_sub),
            MALFORMED,
        ),
        (
            "trailing data after the claims",
            key.sign_bytes(
                header_text.as_bytes(),
                format!("{claims_text}{{}}").as_bytes(),
            ),
            MALFORMED,
        ),
    ];
    for (case, token, reason) in &cases {
        assert_refused(&s, case, token, reason).await;
    }
    assert_accepted(&s, "the unmodified token", &good).await;
}

#[tokio::test]
async fn t76_oversized_tokens_are_refused_before_decoding() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    // A good token padded to an exact length. Unpadded base64url never has a length of 1
    // modulo 4, so both the header and the claims get a padding member.
    let sized = |length: usize| {
        for header_pad in 0..4 {
            let header = with(key.header(), "x", json!("h".repeat(header_pad)));
            let mut claims = with(good_claims(&s), "pad", json!(""));
            let base = key.sign(&header, &claims).len();
            // Three JSON bytes become four base64url characters.
            let start = (length.saturating_sub(base) * 3 / 4).saturating_sub(4);
            for pad in start..start + 8 {
                claims["pad"] = json!("p".repeat(pad));
                let token = key.sign(&header, &claims);
                if token.len() == length {
                    return token;
                }
            }
        }
        panic!("cannot size a token to {length} bytes");
    };
    assert_accepted(&s, "a 4096-byte token", &sized(4096)).await;
    assert_refused(&s, "a 4097-byte token", &sized(4097), TOO_LONG).await;
    assert_refused(&s, "an 8 kB token", &sized(8192), TOO_LONG).await;
    let claims = b64(good_claims(&s).to_string().as_bytes());
    for (case, header_bytes) in [
        ("a 200 kB header segment", 200_000),
        ("a 1 MB header segment", 1_000_000),
    ] {
        let token = format!("{}.{claims}.AAAA", "A".repeat(header_bytes));
        let started = Instant::now();
        let response = s.api(Method::GET, "/staff", Some(&token)).send().await;
        let elapsed = started.elapsed();
        match response {
            Ok(response) => {
                let status = response.status().as_u16();
                assert!(status == 401 || status == 431, "{case}: status {status}");
                if status == 401 {
                    assert_invalid_token(response).await;
                }
            }
            // Far over the server's head limit, it answers 431 and closes while the client
            // is still sending, which the client sees as a reset: refused, and not a 5xx.
            Err(e) if header_bytes > 500_000 => {
                assert!(e.is_request() && !e.is_timeout(), "{case}: {e}")
            }
            Err(e) => panic!("{case}: no answer: {e}"),
        }
        assert!(
            elapsed < Duration::from_secs(1),
            "{case}: answered in {elapsed:?}"
        );
    }
    assert_accepted(
        &s,
        "a good token afterwards",
        &key.sign(&key.header(), &good_claims(&s)),
    )
    .await;
}

/// With no denylist, a re-encoded token would only matter as a distinct string for the same
/// `jti`; both non-canonical encodings are refused anyway.
#[tokio::test]
async fn t77_re_encoded_variants_of_a_valid_token_are_refused() {
    let s = TestStack::start().await;
    let key = real_key(&s).await;
    let good = key.sign(&key.header(), &good_claims(&s));
    let (input, signature) = good.rsplit_once('.').unwrap();
    // 64 bytes in 86 characters: the last character holds 2 bits and 4 zero bits.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = signature.as_bytes()[signature.len() - 1];
    let value = ALPHABET.iter().position(|&c| c == last).unwrap();
    let other = char::from(ALPHABET[value ^ 1]);
    let reencoded = format!("{input}.{}{other}", &signature[..signature.len() - 1]);
    assert_ne!(reencoded, good);
    assert_refused(&s, "non-zero trailing bits", &reencoded, ANY).await;
    // Ed25519 malleability: S + L verifies the same equation but is not canonical.
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (byte, l) in bytes[32..].iter_mut().zip(L) {
        let sum = u16::from(*byte) + u16::from(l) + carry;
        *byte = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    let malleated = format!("{input}.{}", b64(&bytes));
    assert_refused(&s, "S + L", &malleated, SIGNATURE).await;
    assert_accepted(&s, "the original", &good).await;
}

// ---------------------------------------------------------------------------------------
// Keys: rotation, refetch limits, an auth server that goes away.

#[tokio::test]
async fn t50_a_token_signed_by_a_newly_rotated_key_is_accepted_after_one_jwks_refetch() {
    let s = stack_with_refetch_interval(1).await;
    let old = s.user_token(ALICE).await;
    assert_accepted(&s, "a token of the first key", &old).await;
    let now = s.auth.clock.now();
    let new_kid = auth_server::admin::rotate_keys(&s.auth.db, now)
        .await
        .unwrap();
    // The auth server rereads its keys every 10 s and signs with a new key once it has been
    // published for 20 s.
    s.advance_clocks(21);
    let new = s.user_token(ALICE).await;
    assert_eq!(jwt_header(&new)["kid"], new_kid.as_str());
    // The 21 s above are past the API's refetch interval since its start-up fetch.
    let before = jwks_fetches(&s).await;
    assert_accepted(&s, "a token of the new key", &new).await;
    assert_eq!(
        jwks_fetches(&s).await,
        before + 1,
        "one refetch for the new kid"
    );
    assert_accepted(&s, "a token of the new key again", &new).await;
    assert_accepted(&s, "a token of the retired, still published key", &old).await;
    assert_eq!(
        jwks_fetches(&s).await,
        before + 1,
        "known kids need no fetch"
    );
}

#[tokio::test]
async fn t50_unknown_kids_cause_at_most_one_jwks_fetch_per_interval() {
    const INTERVAL: u64 = 2;
    let s = stack_with_refetch_interval(INTERVAL).await;
    // Past the interval since the start-up fetch, on the API's clock.
    s.api.clock.advance(INTERVAL as i64);
    let attacker = SigningKey::attacker();
    let claims = good_claims(&s);
    let tokens: Vec<String> = (0..20)
        .map(|i| {
            let header = with(attacker.header(), "kid", json!(format!("unknown-{i}")));
            attacker.sign(&header, &claims)
        })
        .collect();
    let before = jwks_fetches(&s).await;
    let responses = futures_util::future::join_all(tokens.iter().map(|t| get_staff(&s, t))).await;
    for response in responses {
        let body = assert_invalid_token(response).await;
        assert_eq!(body["detail"], "the token is signed by an unknown key");
    }
    assert_eq!(
        jwks_fetches(&s).await - before,
        1,
        "20 unknown kids at once, past the interval: one JWKS fetch"
    );
    // And sequentially, within the interval just started: none.
    let before = jwks_fetches(&s).await;
    for token in &tokens {
        assert_refused(&s, "unknown kid", token, UNKNOWN_KEY).await;
    }
    assert_eq!(jwks_fetches(&s).await - before, 0, "within the interval");
    // One second short of the interval, still none; at the interval, one more.
    s.api.clock.advance(INTERVAL as i64 - 1);
    assert_refused(&s, "unknown kid", &tokens[0], UNKNOWN_KEY).await;
    assert_eq!(
        jwks_fetches(&s).await - before,
        0,
        "just inside the interval"
    );
    s.api.clock.advance(1);
    assert_refused(&s, "unknown kid", &tokens[0], UNKNOWN_KEY).await;
    assert_eq!(jwks_fetches(&s).await - before, 1, "the next interval");
}

#[tokio::test]
async fn the_api_keeps_verifying_with_cached_keys_when_the_auth_server_stops() {
    // An auth server of this test's own, so that it can be stopped.
    let test_db = TestDb::fresh("auth").await;
    let clock = Arc::new(crate::support::ManualClock::starting_now());
    let now = clock.now();
    let _db = demo_auth_database(&test_db.url, now).await;
    let auth = start_auth(&test_db.url, "127.0.0.1:0".parse().unwrap(), clock, |_| {}).await;
    let issuer = auth.base_url.clone();
    let api = fresh_api(&issuer, now, |c| c.serve.jwks_min_refetch_secs = 1).await;
    let http = reqwest::Client::new();
    let token = token_from(client_credentials(&http, &issuer, &demo_web_client())).await;
    let get = |token: String| {
        http.get(format!("{}/staff", api.base_url))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(get(token.clone()).await.unwrap().status(), 200);

    auth.stop_gracefully().await;
    assert!(
        http.get(format!("{issuer}/healthz")).send().await.is_err(),
        "the auth server should be down"
    );
    // Past the refetch interval, so that an unknown kid makes the API try the auth server.
    api.clock.advance(1);
    assert_eq!(get(token.clone()).await.unwrap().status(), 200);
    let attacker = SigningKey::attacker();
    let mut claims = jwt_claims(&token);
    claims["jti"] = json!("another");
    let forged = attacker.sign(&attacker.header(), &claims);
    let response = get(forged).await.unwrap();
    let body = assert_invalid_token(response).await;
    assert_eq!(body["detail"], "the token is signed by an unknown key");
    // The failed refetch kept the cached keys.
    assert_eq!(get(token).await.unwrap().status(), 200);
}

/// RFC 6750 `invalid_token` tells the client to throw its token away; when the API simply has
/// no keys yet, the honest answer is 503 (startup.rs: "answers 503 until it has keys").
#[tokio::test]
async fn an_api_that_never_obtained_keys_answers_503_not_invalid_token() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", unused.local_addr().unwrap());
    drop(unused);
    let now = crate::support::SystemClock.now();
    let api = fresh_api(&issuer, now, |_| {}).await;
    let attacker = SigningKey::attacker();
    let claims = json!({
        "iss": issuer, "sub": "ajohnson", "aud": AUDIENCE, "exp": now + 300, "iat": now,
        "jti": "j1", "client_id": "directory-web", "scope": "directory:read",
        "token_kind": "user",
    });
    let token = attacker.sign(&attacker.header(), &claims);
    let http = reqwest::Client::new();
    let response = http
        .get(format!("{}/staff", api.base_url))
        .send()
        .await
        .unwrap();
    assert_unauthenticated(response).await;
    for attempt in 1..=3 {
        let response = http
            .get(format!("{}/staff", api.base_url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503, "attempt {attempt}");
        assert_eq!(header(&response, "retry-after"), Some("5"));
        assert!(header(&response, "www-authenticate").is_none());
        assert_problem(response, 503, "unavailable").await;
    }
}
