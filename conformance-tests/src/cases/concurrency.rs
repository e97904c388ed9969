//! Concurrency tier: many tasks released at once by a barrier, each calling
//! one race-safe primitive on the same row. Backends may serialize them;
//! what must hold is no lost update (atomic increments) and exactly one
//! winner for every consume-once value and compare-and-set transition.
//! Every call must succeed: losing a race is an `Ok` answer, not an error.

use std::future::Future;
use std::sync::Arc;

use kavach_store_core::prelude::*;

use super::builders as b;
use super::support::{Kind, absent, count, existing, expect_err};
use crate::Ctx;
use crate::fixtures::{at, id};

/// Runs `n` calls of `op` at once (a barrier releases every task together,
/// on a multi-threaded runtime) and returns their results in task order.
async fn race<T, F, Fut>(ctx: &Ctx, n: usize, op: F) -> Vec<T>
where
    F: Fn(Arc<dyn KavachStore>, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let call = op(ctx.store.clone(), i);
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                call.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for handle in handles {
        out.push(handle.await.expect("racing task panicked"));
    }
    out
}

/// Every result `Ok`, or a panic naming the operation and the error.
fn all_ok<T>(results: Vec<Result<T, StoreError>>, what: &str) -> Vec<T> {
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|e| panic!("{what}: concurrent call {i} failed: {e:?}")))
        .collect()
}

/// Exactly one `Some` among the results of concurrent consumers; returns it.
fn exactly_one<T>(results: Vec<Result<Option<T>, StoreError>>, what: &str) -> T {
    let n = results.len();
    let mut winners: Vec<T> = all_ok(results, what).into_iter().flatten().collect();
    assert_eq!(
        winners.len(),
        1,
        "{what}: {} of {n} concurrent consumers won, expected exactly one",
        winners.len()
    );
    winners.pop().expect("one winner")
}

const RACERS: usize = 32;

/// 64 concurrent increments of one rate-limit bucket return exactly the
/// counts 1..=64 and leave one row counting 64; increments of two buckets
/// interleaved never leak into each other.
pub async fn concurrent_rate_limit_increments_lose_nothing(ctx: &Ctx) {
    let store = ctx.store();
    let (_user, agent) = b::seed_user_agent(store).await;
    let window = at(0);
    let id = agent.id.clone();
    let results = race(ctx, 64, move |s, _| {
        let id = id.clone();
        async move { s.increment_rate_limit(&id, "tool:x", window).await }
    })
    .await;
    let mut counts = all_ok(results, "increment_rate_limit");
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=64).collect::<Vec<i64>>(),
        "each increment sees a distinct count"
    );
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

    let id = agent.id.clone();
    let results = race(ctx, 64, move |s, i| {
        let id = id.clone();
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
        let mut counts: Vec<i64> = results
            .iter()
            .filter(|(r, _)| *r == resource)
            .map(|(_, n)| *n)
            .collect();
        counts.sort_unstable();
        assert_eq!(counts, (1..=32).collect::<Vec<i64>>(), "bucket {resource}");
    }
    assert_eq!(
        store
            .sum_rate_limit_since(&agent.id, "tool:a", window)
            .await
            .expect("sum"),
        32
    );
}

/// Concurrent inserts of rows sharing a unique value: exactly one succeeds,
/// every other gets `Conflict`.
pub async fn concurrent_duplicate_inserts_conflict_for_all_but_one(ctx: &Ctx) {
    let store = ctx.store();
    let owner = b::seed_user(store).await;
    let hash = id("samehash");
    let (o, h) = (owner.id.clone(), hash.clone());
    let results = race(ctx, RACERS, move |s, _| {
        let agent = Agent {
            token_hash: h.clone(),
            ..b::agent(&o)
        };
        async move { s.create_agent(agent).await }
    })
    .await;
    let (won, lost): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    assert_eq!(won.len(), 1, "one agent with the token hash is created");
    for err in lost {
        expect_err(
            err,
            Kind::Conflict,
            "concurrent agent with the same token hash",
        );
    }
    assert_eq!(
        count(store, Agent::table_def(), Cond::eq("token_hash", hash)).await,
        1
    );

    let email = format!("{}@example.com", id("same"));
    let e = email.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let user = User {
            email: e.clone(),
            ..b::user()
        };
        async move { s.create_user(user).await }
    })
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "one user with the email is created"
    );
    for err in results.into_iter().filter(Result::is_err) {
        expect_err(err, Kind::Conflict, "concurrent user with the same email");
    }
    assert_eq!(
        count(store, User::table_def(), Cond::eq("email", email)).await,
        1
    );
}

/// 32 concurrent consumers of one one-time token: exactly one gets it.
pub async fn concurrent_one_time_token_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let token = store
        .create_one_time_token(b::one_time_token("someone", TokenPurpose::PasswordReset))
        .await
        .expect("token");
    let hash = token.token_hash.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let hash = hash.clone();
        async move {
            s.consume_one_time_token(&hash, Some(TokenPurpose::PasswordReset), b::now_valid())
                .await
        }
    })
    .await;
    let won = exactly_one(results, "consume_one_time_token");
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
    let hash = token.token_hash.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let hash = hash.clone();
        async move { s.consume_jwt_refresh_token(&hash, b::now_valid()).await }
    })
    .await;
    assert_eq!(
        exactly_one(results, "consume_jwt_refresh_token").id,
        token.id
    );
    assert!(existing(store.find_jwt_refresh_token(&token.token_hash).await).used);
}

/// 32 concurrent presenters of one rotating refresh token: exactly one gets
/// `Consumed`; the others see the reuse (`Reused`, which revokes the family,
/// or `Revoked` once another loser has revoked it), and at least one of
/// them reports `Reused`. The family ends revoked.
pub async fn concurrent_rotating_refresh_token_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let family = store
        .create_refresh_token_family(b::token_family(&user.id))
        .await
        .expect("family");
    let token = store
        .create_refresh_token(b::refresh_token(&family.id))
        .await
        .expect("token");
    let hash = token.token_hash.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let hash = hash.clone();
        async move { s.consume_refresh_token(&hash, b::now_valid()).await }
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
    let reused = outcomes
        .iter()
        .filter(|o| **o == RefreshTokenOutcome::Reused)
        .count();
    let revoked = outcomes
        .iter()
        .filter(|o| **o == RefreshTokenOutcome::Revoked)
        .count();
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
    let token = link.token.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let token = token.clone();
        async move { s.consume_magic_link(&token, b::now_valid()).await }
    })
    .await;
    assert_eq!(exactly_one(results, "consume_magic_link").id, link.id);
    assert!(existing(store.find_magic_link(&link.token).await).used);
}

/// 32 concurrent redemptions of one OIDC authorization code: exactly one.
pub async fn concurrent_oidc_auth_code_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let code = store
        .create_oidc_auth_code(b::oidc_code("rp", "user"))
        .await
        .expect("code");
    let hash = code.code_hash.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let hash = hash.clone();
        async move { s.consume_oidc_auth_code(&hash, b::now_valid()).await }
    })
    .await;
    assert_eq!(exactly_one(results, "consume_oidc_auth_code").id, code.id);
    assert!(existing(store.find_oidc_auth_code(&code.code_hash).await).used);
}

/// 32 concurrent redemptions of one OIDC refresh token: exactly one.
pub async fn concurrent_oidc_refresh_token_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let token = store
        .create_oidc_refresh_token(b::oidc_refresh_token("rp", "user"))
        .await
        .expect("token");
    let hash = token.token_hash.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let hash = hash.clone();
        async move { s.consume_oidc_refresh_token(&hash, b::now_valid()).await }
    })
    .await;
    assert_eq!(
        exactly_one(results, "consume_oidc_refresh_token").id,
        token.id
    );
    assert!(existing(store.find_oidc_refresh_token(&token.token_hash).await).revoked);
}

/// 32 concurrent redemptions of one OAuth authorization code: exactly one,
/// and the code is gone afterwards.
pub async fn concurrent_oauth_authorization_code_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let client = store
        .create_oauth_client(b::oauth_client())
        .await
        .expect("client");
    let code = store
        .create_oauth_authorization_code(b::oauth_code(&client.client_id, &user.id))
        .await
        .expect("code");
    let value = code.code.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let value = value.clone();
        async move {
            s.consume_oauth_authorization_code(&value, b::now_valid())
                .await
        }
    })
    .await;
    assert_eq!(
        exactly_one(results, "consume_oauth_authorization_code").id,
        code.id
    );
    assert!(absent(
        store.find_oauth_authorization_code(&code.code).await
    ));
}

/// 32 concurrent refreshes with one OAuth refresh token: exactly one, and
/// the token row is gone afterwards.
pub async fn concurrent_oauth_refresh_token_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let client = store
        .create_oauth_client(b::oauth_client())
        .await
        .expect("client");
    let token = store
        .create_oauth_access_token(b::oauth_access_token(&client.client_id, &user.id))
        .await
        .expect("token");
    let refresh = token.refresh_token.clone().expect("has a refresh token");
    let r = refresh.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let r = r.clone();
        async move { s.consume_oauth_refresh_token(&r, b::now_valid()).await }
    })
    .await;
    assert_eq!(
        exactly_one(results, "consume_oauth_refresh_token").id,
        token.id
    );
    assert!(absent(store.find_oauth_refresh_token(&refresh).await));
}

/// 32 concurrent callbacks with one OAuth state: exactly one.
pub async fn concurrent_oauth_state_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let state = store
        .create_oauth_state(b::oauth_state())
        .await
        .expect("state");
    let value = state.state.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let value = value.clone();
        async move { s.consume_oauth_state(&value, b::now_valid()).await }
    })
    .await;
    assert_eq!(
        exactly_one(results, "consume_oauth_state").state,
        state.state
    );
    assert_eq!(
        count(ctx.store(), OAuthState::table_def(), Cond::All).await,
        0
    );
}

/// 32 concurrent verifications of one passkey challenge: exactly one.
pub async fn concurrent_passkey_challenge_consumed_once(ctx: &Ctx) {
    let store = ctx.store();
    let challenge = store
        .create_passkey_challenge(b::passkey_challenge(None))
        .await
        .expect("challenge");
    let value = challenge.challenge.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let value = value.clone();
        async move { s.consume_passkey_challenge(&value, b::now_valid()).await }
    })
    .await;
    assert_eq!(
        exactly_one(results, "consume_passkey_challenge").id,
        challenge.id
    );
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
    let id = cred.credential_id.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let id = id.clone();
        async move { s.advance_passkey_counter(&id, 5, at(1)).await }
    })
    .await;
    assert_eq!(
        exactly_one(results, "advance_passkey_counter with one counter").counter,
        5
    );

    let id = cred.credential_id.clone();
    let results = race(ctx, RACERS, move |s, i| {
        let id = id.clone();
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
    let stored = existing(
        store
            .find_passkey_credential_by_credential_id(&cred.credential_id)
            .await,
    );
    assert_eq!(stored.counter, highest, "the counter never moves backwards");
}

/// 32 concurrent refreshes of one session: exactly one gets the new
/// session; the old one is gone and only one replacement exists.
pub async fn concurrent_session_refresh_wins_once(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let old = store
        .create_session(b::session(&user.id))
        .await
        .expect("session");
    let (old_id, user_id) = (old.id.clone(), user.id.clone());
    let results = race(ctx, RACERS, move |s, _| {
        let (old_id, fresh) = (old_id.clone(), b::session(&user_id));
        async move { s.refresh_session(&old_id, fresh).await }
    })
    .await;
    let winner = exactly_one(results, "refresh_session");
    let sessions = store
        .list_sessions_by_user(&user.id)
        .await
        .expect("sessions");
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
    let id = otp.id.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let id = id.clone();
        async move { s.record_email_otp_attempt(&id, 5).await }
    })
    .await;
    let mut attempts: Vec<i64> = all_ok(results, "record_email_otp_attempt")
        .into_iter()
        .flatten()
        .map(|o| o.attempts)
        .collect();
    attempts.sort_unstable();
    assert_eq!(
        attempts,
        vec![1, 2, 3, 4, 5],
        "exactly max_attempts guesses are counted"
    );
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
    let id = phone.id.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let id = id.clone();
        async move { s.record_phone_verification_attempt(&id, 5).await }
    })
    .await;
    let counted = all_ok(results, "record_phone_verification_attempt")
        .into_iter()
        .flatten()
        .count();
    assert_eq!(counted, 5, "exactly max_attempts phone guesses are counted");

    let id = otp.id.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let id = id.clone();
        async move { s.delete_email_otp(&id).await }
    })
    .await;
    let deleted = all_ok(results, "delete_email_otp")
        .into_iter()
        .filter(|d| *d)
        .count();
    assert_eq!(deleted, 1, "one verification wins the delete");
    let id = phone.id.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let id = id.clone();
        async move { s.delete_phone_verification(&id).await }
    })
    .await;
    assert_eq!(
        all_ok(results, "delete_phone_verification")
            .into_iter()
            .filter(|d| *d)
            .count(),
        1
    );
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
    let id = request.id.clone();
    let results = race(ctx, RACERS, move |s, i| {
        let id = id.clone();
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
    let invitation = store
        .create_org_invitation(b::org_invitation(&org.id, &owner.id, "team@example.com"))
        .await
        .expect("invite");
    let (id, org_id) = (invitation.id.clone(), org.id.clone());
    let user_ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let results = race(ctx, user_ids.len(), move |s, i| {
        let (id, member) = (id.clone(), b::org_member(&org_id, &user_ids[i], "member"));
        async move { s.accept_org_invitation(&id, member, b::now_valid()).await }
    })
    .await;
    let (accepted, member) = exactly_one(results, "accept_org_invitation");
    assert_eq!(accepted.status, InvitationStatus::Accepted);
    let members = store.list_org_members(&org.id).await.expect("members");
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
    let hash = session.token_hash.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let hash = hash.clone();
        async move { s.consume_ephemeral_action(&hash, b::now_valid()).await }
    })
    .await;
    let outcomes = all_ok(results, "consume_ephemeral_action");
    let mut used: Vec<i64> = outcomes
        .iter()
        .filter_map(|o| match o {
            EphemeralActionOutcome::Consumed(s) => Some(s.actions_used),
            _ => None,
        })
        .collect();
    used.sort_unstable();
    assert_eq!(
        used,
        (1..=10).collect::<Vec<i64>>(),
        "exactly max_actions actions are counted"
    );
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
    let hash = unlimited.token_hash.clone();
    let results = race(ctx, RACERS, move |s, _| {
        let hash = hash.clone();
        async move { s.consume_ephemeral_action(&hash, b::now_valid()).await }
    })
    .await;
    let mut used: Vec<i64> = all_ok(results, "consume_ephemeral_action unlimited")
        .into_iter()
        .map(|o| match o {
            EphemeralActionOutcome::Consumed(s) => s.actions_used,
            other => panic!("an unlimited session never refuses: {other:?}"),
        })
        .collect();
    used.sort_unstable();
    assert_eq!(
        used,
        (1..=RACERS as i64).collect::<Vec<i64>>(),
        "no lost action"
    );
    let stored = existing(store.get_ephemeral_session(&unlimited.id).await);
    assert_eq!(
        (stored.actions_used, stored.status),
        (RACERS as i64, EphemeralStatus::Active)
    );
}

/// 32 concurrent upserts of one agent's trust score never fail on the key,
/// and the stored row is exactly one writer's (columns never mixed).
pub async fn concurrent_trust_score_upserts_never_fail(ctx: &Ctx) {
    let store = ctx.store();
    let (_user, agent) = b::seed_user_agent(store).await;
    let levels = [
        TrustLevel::Untrusted,
        TrustLevel::Limited,
        TrustLevel::Standard,
        TrustLevel::Trusted,
        TrustLevel::Elevated,
    ];
    let id = agent.id.clone();
    let results = race(ctx, RACERS, move |s, i| {
        let score = TrustScore {
            factors: serde_json::json!({ "writer": i }),
            computed_at: at(i as i64),
            ..b::trust_score(&id, i as i64, levels[i % 5].clone())
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
    assert_eq!(
        stored.level,
        [
            TrustLevel::Untrusted,
            TrustLevel::Limited,
            TrustLevel::Standard,
            TrustLevel::Trusted,
            TrustLevel::Elevated
        ][writer % 5]
    );
    assert_eq!(
        stored.computed_at,
        at(writer as i64),
        "computed_at from the same writer"
    );
    assert_eq!(count(store, TrustScore::table_def(), Cond::All).await, 1);
}
