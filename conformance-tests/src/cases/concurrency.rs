//! Concurrency tier: many tasks released at once by a barrier, each calling
//! one race-safe primitive on the same row. Backends may serialize them;
//! what must hold is no lost update (atomic increments) and exactly one
//! winner for every consume-once value and compare-and-set transition.
//! Every call must succeed: losing a race is an `Ok` answer, not an error.

use std::future::Future;
use std::sync::Arc;

use kavach_store_core::prelude::*;

use super::builders as b;
use super::support::{
    Kind, absent, all_ok, count, exactly_one, existing, expect_err, ok, race, race_on,
};
use crate::Ctx;
use crate::fixtures::{at, id};

const RACERS: usize = 32;

/// [`RACERS`] concurrent consumers of the value `key`: every call succeeds
/// and exactly one gets the value; returns what it got.
async fn consumed_once<T, F, Fut>(ctx: &Ctx, key: &str, what: &str, consume: F) -> T
where
    F: Fn(Arc<dyn KavachStore>, String) -> Fut,
    Fut: Future<Output = Result<Option<T>>> + Send + 'static,
    T: Send + 'static,
{
    exactly_one(race_on(ctx, RACERS, key, consume).await, what)
}

/// Sorted, `counts` are exactly 1..=`n`: every concurrent call saw its own
/// count and none was lost.
fn assert_one_to(mut counts: Vec<i64>, n: i64, what: &str) {
    counts.sort_unstable();
    assert_eq!(counts, (1..=n).collect::<Vec<i64>>(), "{what}");
}

/// How many concurrent calls answered `true` (all must succeed).
fn count_true(results: Vec<Result<bool>>, what: &str) -> usize {
    all_ok(results, what).into_iter().filter(|d| *d).count()
}

/// 64 concurrent increments of one rate-limit bucket return exactly the
/// counts 1..=64 and leave one row counting 64; increments of two buckets
/// interleaved never leak into each other.
pub async fn concurrent_rate_limit_increments_lose_nothing(ctx: &Ctx) {
    let store = ctx.store();
    let (_user, agent) = b::seed_user_agent(store).await;
    let window = at(0);
    let results = race_on(ctx, 64, &agent.id, |s, id| async move {
        s.increment_rate_limit(&id, "tool:x", window).await
    })
    .await;
    let counts = all_ok(results, "increment_rate_limit");
    assert_one_to(counts, 64, "each increment sees a distinct count");
    let bucket = existing(store.get_rate_limit(&agent.id, "tool:x", window).await);
    assert_eq!(bucket.count, 64, "no lost update");
    assert_eq!(bucket.id, rate_limit_bucket_id(&agent.id, "tool:x", window));
    assert_eq!(
        count(
            store,
            RateLimit::table_def(),
            Cond::eq("agent_id", agent.id.clone())
        )
        .await,
        1,
        "one bucket row"
    );

    let results = race(ctx, 64, |s, i| {
        let id = agent.id.clone();
        async move {
            let resource = if i % 2 == 0 { "tool:a" } else { "tool:b" };
            s.increment_rate_limit(&id, resource, window)
                .await
                .map(|n| (resource, n))
        }
    })
    .await;
    let results = all_ok(results, "increment_rate_limit on two buckets");
    for resource in ["tool:a", "tool:b"] {
        let counts = results
            .iter()
            .filter(|(r, _)| *r == resource)
            .map(|(_, n)| *n);
        assert_one_to(counts.collect(), 32, &format!("bucket {resource}"));
    }
    let sum = store
        .sum_rate_limit_since(&agent.id, "tool:a", window)
        .await;
    assert_eq!(sum.expect("sum"), 32);
}

/// Concurrent inserts of rows sharing a unique value: exactly one succeeds,
/// every other gets `Conflict`.
pub async fn concurrent_duplicate_inserts_conflict_for_all_but_one(ctx: &Ctx) {
    let store = ctx.store();
    let owner = b::seed_user(store).await;
    let hash = id("samehash");
    let results = race(ctx, RACERS, |s, _| {
        let agent = Agent {
            token_hash: hash.clone(),
            ..b::agent(&owner.id)
        };
        async move { s.create_agent(agent).await }
    })
    .await;
    assert_one_created(results, "concurrent agent with the same token hash");
    assert_eq!(
        count(store, Agent::table_def(), Cond::eq("token_hash", hash)).await,
        1
    );

    let email = format!("{}@example.com", id("same"));
    let results = race(ctx, RACERS, |s, _| {
        let user = User {
            email: email.clone(),
            ..b::user()
        };
        async move { s.create_user(user).await }
    })
    .await;
    assert_one_created(results, "concurrent user with the same email");
    assert_eq!(
        count(store, User::table_def(), Cond::eq("email", email)).await,
        1
    );
}

/// Exactly one of the concurrent inserts succeeded; every other got
/// `Conflict`.
fn assert_one_created<T: std::fmt::Debug>(results: Vec<Result<T>>, what: &str) {
    let (won, lost): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    assert_eq!(won.len(), 1, "{what}: exactly one is created");
    for err in lost {
        expect_err(err, Kind::Conflict, what);
    }
}

/// 32 concurrent consumers of one one-time token: exactly one gets it.
pub async fn concurrent_one_time_token_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let token = store
        .create_one_time_token(b::one_time_token("someone", TokenPurpose::PasswordReset))
        .await
        .expect("token");
    let won = consumed_once(
        ctx,
        &token.token_hash,
        "consume_one_time_token",
        |s, hash| async move {
            s.consume_one_time_token(&hash, Some(TokenPurpose::PasswordReset), b::now_valid())
                .await
        },
    )
    .await;
    assert_eq!(won.id, token.id);
    assert!(existing(store.find_one_time_token(&token.token_hash).await).used);
}

/// 32 concurrent consumers of one JWT refresh token: exactly one gets it.
pub async fn concurrent_jwt_refresh_token_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let token = store
        .create_jwt_refresh_token(b::jwt_refresh_token(&user.id))
        .await
        .expect("token");
    let won = consumed_once(
        ctx,
        &token.token_hash,
        "consume_jwt_refresh_token",
        |s, hash| async move { s.consume_jwt_refresh_token(&hash, b::now_valid()).await },
    )
    .await;
    assert_eq!(won.id, token.id);
    assert!(existing(store.find_jwt_refresh_token(&token.token_hash).await).used);
}

/// 32 concurrent presenters of one rotating refresh token: exactly one gets
/// `Consumed`; the others see the reuse (`Reused`, which revokes the family,
/// or `Revoked` once another loser has revoked it), and at least one of
/// them reports `Reused`. The family ends revoked.
pub async fn concurrent_rotating_refresh_token_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let family = b::seed_token_family(store, &user.id).await;
    let token = b::seed_refresh_token(store, &family.id).await;
    let results = race_on(ctx, RACERS, &token.token_hash, |s, hash| async move {
        s.consume_refresh_token(&hash, b::now_valid()).await
    })
    .await;
    let outcomes = all_ok(results, "consume_refresh_token");
    let consumed: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, RefreshTokenOutcome::Consumed { .. }))
        .collect();
    assert_eq!(
        consumed.len(),
        1,
        "exactly one presenter consumes the token: {outcomes:?}"
    );
    if let RefreshTokenOutcome::Consumed {
        token: t,
        family: f,
    } = consumed[0]
    {
        assert_eq!(
            (t.id.as_str(), f.id.as_str()),
            (token.id.as_str(), family.id.as_str())
        );
        assert!(t.used, "the consumed token is returned as used");
    }
    let seen = |outcome: RefreshTokenOutcome| outcomes.iter().filter(|o| **o == outcome).count();
    let (reused, revoked) = (
        seen(RefreshTokenOutcome::Reused),
        seen(RefreshTokenOutcome::Revoked),
    );
    assert!(
        reused >= 1,
        "the first loser detects the reuse: {outcomes:?}"
    );
    assert_eq!(
        1 + reused + revoked,
        RACERS,
        "losers see Reused or Revoked only: {outcomes:?}"
    );
    assert!(
        existing(store.get_refresh_token_family(&family.id).await).revoked,
        "family revoked"
    );
    assert!(existing(store.find_refresh_token(&token.token_hash).await).used);
}

/// 32 concurrent clicks on one magic link: exactly one signs in.
pub async fn concurrent_magic_link_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let link = store
        .create_magic_link(b::magic_link("ada@example.com"))
        .await
        .expect("link");
    let won = consumed_once(
        ctx,
        &link.token,
        "consume_magic_link",
        |s, token| async move { s.consume_magic_link(&token, b::now_valid()).await },
    )
    .await;
    assert_eq!(won.id, link.id);
    assert!(existing(store.find_magic_link(&link.token).await).used);
}

/// 32 concurrent redemptions of one OIDC authorization code: exactly one.
pub async fn concurrent_oidc_auth_code_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let code = store
        .create_oidc_auth_code(b::oidc_code("rp", "user"))
        .await
        .expect("code");
    let won = consumed_once(
        ctx,
        &code.code_hash,
        "consume_oidc_auth_code",
        |s, hash| async move { s.consume_oidc_auth_code(&hash, b::now_valid()).await },
    )
    .await;
    assert_eq!(won.id, code.id);
    assert!(existing(store.find_oidc_auth_code(&code.code_hash).await).used);
}

/// 32 concurrent redemptions of one OIDC refresh token: exactly one.
pub async fn concurrent_oidc_refresh_token_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let token = store
        .create_oidc_refresh_token(b::oidc_refresh_token("rp", "user"))
        .await
        .expect("token");
    let won = consumed_once(
        ctx,
        &token.token_hash,
        "consume_oidc_refresh_token",
        |s, hash| async move { s.consume_oidc_refresh_token(&hash, b::now_valid()).await },
    )
    .await;
    assert_eq!(won.id, token.id);
    assert!(existing(store.find_oidc_refresh_token(&token.token_hash).await).revoked);
}

/// 32 concurrent redemptions of one OAuth authorization code: exactly one,
/// and the code is gone afterwards.
pub async fn concurrent_oauth_authorization_code_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let client = b::seed_oauth_client(store).await;
    let code = store
        .create_oauth_authorization_code(b::oauth_code(&client.client_id, &user.id))
        .await
        .expect("code");
    let won = consumed_once(
        ctx,
        &code.code,
        "consume_oauth_authorization_code",
        |s, code| async move {
            s.consume_oauth_authorization_code(&code, b::now_valid())
                .await
        },
    )
    .await;
    assert_eq!(won.id, code.id);
    assert!(absent(
        store.find_oauth_authorization_code(&code.code).await
    ));
}

/// 32 concurrent refreshes with one OAuth refresh token: exactly one, and
/// the token row is gone afterwards.
pub async fn concurrent_oauth_refresh_token_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let client = b::seed_oauth_client(store).await;
    let token = store
        .create_oauth_access_token(b::oauth_access_token(&client.client_id, &user.id))
        .await
        .expect("token");
    let refresh = token.refresh_token.clone().expect("has a refresh token");
    let won = consumed_once(
        ctx,
        &refresh,
        "consume_oauth_refresh_token",
        |s, r| async move { s.consume_oauth_refresh_token(&r, b::now_valid()).await },
    )
    .await;
    assert_eq!(won.id, token.id);
    assert!(absent(store.find_oauth_refresh_token(&refresh).await));
}

/// 32 concurrent callbacks with one OAuth state: exactly one.
pub async fn concurrent_oauth_state_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let state = ok(store.create_oauth_state(b::oauth_state()).await);
    let won = consumed_once(
        ctx,
        &state.state,
        "consume_oauth_state",
        |s, value| async move { s.consume_oauth_state(&value, b::now_valid()).await },
    )
    .await;
    assert_eq!(won.state, state.state);
    assert_eq!(count(store, OAuthState::table_def(), Cond::All).await, 0);
}

/// 32 concurrent verifications of one passkey challenge: exactly one.
pub async fn concurrent_passkey_challenge_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let challenge = store
        .create_passkey_challenge(b::passkey_challenge(None))
        .await
        .expect("challenge");
    let won = consumed_once(
        ctx,
        &challenge.challenge,
        "consume_passkey_challenge",
        |s, value| async move { s.consume_passkey_challenge(&value, b::now_valid()).await },
    )
    .await;
    assert_eq!(won.id, challenge.id);
    assert_eq!(
        count(store, PasskeyChallenge::table_def(), Cond::All).await,
        0
    );
}

/// Concurrent assertions with the same signature counter: exactly one
/// advances it; with increasing counters the stored counter ends at the
/// highest one (never moves backwards).
pub async fn concurrent_passkey_counter_advances_once(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let cred = store
        .create_passkey_credential(b::passkey_credential(&user.id))
        .await
        .expect("credential");
    let what = "advance_passkey_counter with one counter";
    let won = consumed_once(ctx, &cred.credential_id, what, |s, id| async move {
        s.advance_passkey_counter(&id, 5, at(1)).await
    })
    .await;
    assert_eq!(won.counter, 5);

    let results = race(ctx, RACERS, |s, i| {
        let id = cred.credential_id.clone();
        async move {
            s.advance_passkey_counter(&id, 6 + i as i64, at(2))
                .await
                .map(|r| (i, r))
        }
    })
    .await;
    let results = all_ok(results, "advance_passkey_counter with increasing counters");
    let highest = 6 + RACERS as i64 - 1;
    assert!(
        results.iter().any(|(i, r)| *i == RACERS - 1 && r.is_some()),
        "the highest counter always advances"
    );
    let by_id = store.find_passkey_credential_by_credential_id(&cred.credential_id);
    let stored = existing(by_id.await);
    assert_eq!(stored.counter, highest, "the counter never moves backwards");
}

/// 32 concurrent refreshes of one session: exactly one gets the new
/// session; the old one is gone and only one replacement exists.
pub async fn concurrent_session_refresh_wins_once(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let old = ok(store.create_session(b::session(&user.id)).await);
    let winner = consumed_once(ctx, &old.id, "refresh_session", |s, old_id| {
        let fresh = b::session(&user.id);
        async move { s.refresh_session(&old_id, fresh).await }
    })
    .await;
    let sessions = ok(store.list_sessions_by_user(&user.id).await);
    assert_eq!(
        sessions.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        vec![winner.id],
        "only the winner's session"
    );
}

/// 32 concurrent guesses against an email code (and a phone code) with 5
/// attempts allowed: exactly 5 are counted (attempts 1..=5), the rest get
/// `None`; of concurrent deletes of a code exactly one reports it.
pub async fn concurrent_otp_attempts_are_bounded(ctx: &Ctx) {
    let store = ctx.store();
    let otp = store
        .replace_email_otp(b::email_otp("ada@example.com"))
        .await
        .expect("otp");
    let results = race_on(ctx, RACERS, &otp.id, |s, id| async move {
        s.record_email_otp_attempt(&id, 5).await
    })
    .await;
    let counted = all_ok(results, "record_email_otp_attempt")
        .into_iter()
        .flatten();
    let attempts = counted.map(|o| o.attempts).collect();
    assert_one_to(attempts, 5, "exactly max_attempts guesses are counted");
    let stored = existing(
        store
            .find_email_otp("ada@example.com", b::now_valid())
            .await,
    );
    assert_eq!(stored.attempts, 5);

    let phone = store
        .replace_phone_verification(b::phone_verification("+15550100"))
        .await
        .expect("phone");
    let results = race_on(ctx, RACERS, &phone.id, |s, id| async move {
        s.record_phone_verification_attempt(&id, 5).await
    })
    .await;
    let counted = all_ok(results, "record_phone_verification_attempt")
        .into_iter()
        .flatten();
    assert_eq!(
        counted.count(),
        5,
        "exactly max_attempts phone guesses are counted"
    );

    let results = race_on(ctx, RACERS, &otp.id, |s, id| async move {
        s.delete_email_otp(&id).await
    })
    .await;
    let deleted = count_true(results, "delete_email_otp");
    assert_eq!(deleted, 1, "one verification wins the delete");
    let results = race_on(ctx, RACERS, &phone.id, |s, id| async move {
        s.delete_phone_verification(&id).await
    })
    .await;
    assert_eq!(count_true(results, "delete_phone_verification"), 1);
}

/// 16 approvers and 16 deniers racing on one request: exactly one decision
/// is recorded, and the stored row is that decision.
pub async fn concurrent_approve_and_deny_have_one_winner(ctx: &Ctx) {
    let store = ctx.store();
    let (user, agent) = b::seed_user_agent(store).await;
    let request = store
        .create_approval_request(b::approval(&agent.id, &user.id))
        .await
        .expect("request");
    let results = race(ctx, RACERS, |s, i| {
        let id = request.id.clone();
        async move {
            let decision = if i % 2 == 0 {
                ApprovalDecision::Approve
            } else {
                ApprovalDecision::Deny
            };
            s.resolve_approval_request(&id, decision, &format!("responder-{i}"), b::now_valid())
                .await
        }
    })
    .await;
    let winner = exactly_one(results, "resolve_approval_request");
    assert!(matches!(
        winner.status,
        ApprovalStatus::Approved | ApprovalStatus::Denied
    ));
    let stored = existing(store.get_approval_request(&request.id).await);
    assert_eq!(
        stored.status, winner.status,
        "the stored decision is the winner's"
    );
    assert_eq!(
        stored.responded_by, winner.responded_by,
        "the stored responder is the winner's"
    );
}

/// Several users accepting one invitation at once: exactly one becomes a
/// member, and the invitation is accepted once.
pub async fn concurrent_invitation_acceptance_has_one_winner(ctx: &Ctx) {
    let store = ctx.store();
    let owner = b::seed_user(store).await;
    let org = b::seed_org(store, &owner.id).await;
    let mut users = Vec::new();
    for _ in 0..8 {
        users.push(b::seed_user(store).await);
    }
    let invitation = b::seed_invitation(store, &org.id, &owner.id, "team@example.com").await;
    let results = race(ctx, users.len(), |s, i| {
        let (id, member) = (
            invitation.id.clone(),
            b::org_member(&org.id, &users[i].id, "member"),
        );
        async move { s.accept_org_invitation(&id, member, b::now_valid()).await }
    })
    .await;
    let (accepted, member) = exactly_one(results, "accept_org_invitation");
    assert_eq!(accepted.status, InvitationStatus::Accepted);
    let members = ok(store.list_org_members(&org.id).await);
    assert_eq!(
        members
            .iter()
            .map(|m| m.user_id.clone())
            .collect::<Vec<_>>(),
        vec![member.user_id],
        "one new member"
    );
    let stored = existing(store.get_org_invitation(&invitation.id).await);
    assert_eq!(stored.status, InvitationStatus::Accepted);
}

/// 32 concurrent actions on an ephemeral session allowing 10: exactly 10
/// are counted (actions_used 1..=10); the session ends exhausted and its
/// agent revoked. Without a limit, 32 actions count 1..=32.
pub async fn concurrent_ephemeral_actions_respect_the_limit(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let session = b::seed_ephemeral(store, &user.id, Some(10)).await;
    let results = race_on(ctx, RACERS, &session.token_hash, |s, hash| async move {
        s.consume_ephemeral_action(&hash, b::now_valid()).await
    })
    .await;
    let outcomes = all_ok(results, "consume_ephemeral_action");
    let used = outcomes
        .iter()
        .filter_map(|o| match o {
            EphemeralActionOutcome::Consumed(s) => Some(s.actions_used),
            _ => None,
        })
        .collect();
    assert_one_to(used, 10, "exactly max_actions actions are counted");
    for outcome in &outcomes {
        assert!(
            matches!(
                outcome,
                EphemeralActionOutcome::Consumed(_)
                    | EphemeralActionOutcome::Exhausted
                    | EphemeralActionOutcome::Inactive(EphemeralStatus::Exhausted)
            ),
            "losers see the session exhausted: {outcome:?}"
        );
    }
    let last = outcomes.iter().find_map(|o| match o {
        EphemeralActionOutcome::Consumed(s) if s.actions_used == 10 => Some(s),
        _ => None,
    });
    assert_eq!(
        last.expect("the tenth action").status,
        EphemeralStatus::Exhausted,
        "the last action reports exhaustion"
    );
    let stored = existing(store.get_ephemeral_session(&session.id).await);
    assert_eq!(
        (stored.actions_used, stored.status),
        (10, EphemeralStatus::Exhausted)
    );
    let agent = existing(store.get_agent(&session.agent_id).await);
    assert_eq!(
        agent.status,
        AgentStatus::Revoked,
        "the exhausted session's agent is revoked"
    );

    let unlimited = b::seed_ephemeral(store, &user.id, None).await;
    let results = race_on(ctx, RACERS, &unlimited.token_hash, |s, hash| async move {
        s.consume_ephemeral_action(&hash, b::now_valid()).await
    })
    .await;
    let used = all_ok(results, "consume_ephemeral_action unlimited")
        .into_iter()
        .map(|o| match o {
            EphemeralActionOutcome::Consumed(s) => s.actions_used,
            other => panic!("an unlimited session never refuses: {other:?}"),
        })
        .collect();
    assert_one_to(used, RACERS as i64, "no lost action");
    let stored = existing(store.get_ephemeral_session(&unlimited.id).await);
    assert_eq!(
        (stored.actions_used, stored.status),
        (RACERS as i64, EphemeralStatus::Active)
    );
}

/// The trust levels, the `i`-th racer writing `LEVELS[i % 5]`.
const LEVELS: [TrustLevel; 5] = [
    TrustLevel::Untrusted,
    TrustLevel::Limited,
    TrustLevel::Standard,
    TrustLevel::Trusted,
    TrustLevel::Elevated,
];

/// 32 concurrent upserts of one agent's trust score never fail on the key,
/// and the stored row is exactly one writer's (columns never mixed).
pub async fn concurrent_trust_score_upserts_never_fail(ctx: &Ctx) {
    let store = ctx.store();
    let (_user, agent) = b::seed_user_agent(store).await;
    let results = race(ctx, RACERS, |s, i| {
        let score = TrustScore {
            factors: serde_json::json!({ "writer": i }),
            computed_at: at(i as i64),
            ..b::trust_score(&agent.id, i as i64, LEVELS[i % 5].clone())
        };
        async move { s.upsert_trust_score(score).await }
    })
    .await;
    let written = all_ok(results, "upsert_trust_score");
    for (i, row) in written.iter().enumerate() {
        assert_eq!(row.score, i as i64, "each upsert returns its own row");
    }
    let stored = existing(store.get_trust_score(&agent.id).await);
    let writer = stored.score as usize;
    assert!(writer < RACERS);
    assert_eq!(
        stored.factors,
        serde_json::json!({ "writer": writer }),
        "factors from the same writer as the score"
    );
    assert_eq!(stored.level, LEVELS[writer % 5]);
    assert_eq!(
        stored.computed_at,
        at(writer as i64),
        "computed_at from the same writer"
    );
    assert_eq!(count(store, TrustScore::table_def(), Cond::All).await, 1);
}
