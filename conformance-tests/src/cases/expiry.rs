//! Expiry tier: every purge, retention cut-off and expire method with an
//! injected `now`, with rows well before, just before, exactly at, just
//! after and well after the boundary ([`AROUND`]). Offsets are whole seconds
//! (several of them), so the boundary means the same on backends storing
//! seconds.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Duration, Utc};
use kavach_store_core::prelude::*;

use super::builders as b;
use super::support::{
    AROUND, absent, around, assert_instant, count, count_all, existing, ok, present, purged_from,
};
use crate::Ctx;
use crate::fixtures::{Variant, at, id, row_with_parents};

/// The injected "now" of this tier (a whole second).
fn now() -> DateTime<Utc> {
    at(1_000)
}

/// `now` shifted by whole seconds.
fn off(seconds: i64) -> DateTime<Utc> {
    now() + Duration::seconds(seconds)
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type PurgeFn =
    for<'a> fn(&'a dyn KavachStore, DateTime<Utc>) -> BoxFuture<'a, Result<u64, StoreError>>;

/// A purge or retention delete that removes the rows of `table` whose
/// `column` is before the cut-off (or at it, when `inclusive`).
struct Purge {
    name: &'static str,
    table: &'static TableDef,
    column: &'static str,
    inclusive: bool,
    run: PurgeFn,
}

/// The [`Purge`] run by the store method `$method` on the table of
/// `$record`, cutting on `$column` (`expires_at` when left out).
macro_rules! purge {
    ($record:ident, $method:ident) => {
        purge!($record, $method, "expires_at")
    };
    ($record:ident, $method:ident, $column:literal) => {
        Purge {
            name: stringify!($method),
            table: $record::table_def(),
            column: $column,
            inclusive: false,
            run: |s, t| s.$method(t),
        }
    };
}

fn purges() -> Vec<Purge> {
    vec![
        purge!(Session, delete_expired_sessions),
        purge!(JwtRefreshToken, purge_expired_jwt_refresh_tokens),
        purge!(
            OAuthAuthorizationCode,
            purge_expired_oauth_authorization_codes
        ),
        purge!(OAuthState, purge_expired_oauth_states),
        purge!(OidcAuthCode, purge_expired_oidc_auth_codes),
        purge!(OidcRefreshToken, purge_expired_oidc_refresh_tokens),
        purge!(PasskeyChallenge, purge_expired_passkey_challenges),
        purge!(OneTimeToken, purge_expired_one_time_tokens),
        purge!(MagicLink, purge_expired_magic_links),
        purge!(EmailOtp, purge_expired_email_otps),
        purge!(PhoneVerification, purge_expired_phone_verifications),
        purge!(TrustedDevice, purge_expired_trusted_devices),
        purge!(EphemeralSession, purge_expired_ephemeral_sessions),
        purge!(ApprovalRequest, purge_expired_approval_requests),
        purge!(OrgInvitation, purge_expired_org_invitations),
        purge!(ApiKey, purge_expired_api_keys),
        purge!(FederationToken, purge_expired_federation_tokens),
        purge!(DelegationChain, purge_expired_delegation_chains),
        purge!(AuditLog, delete_audit_logs_before, "timestamp"),
        Purge {
            inclusive: true,
            ..purge!(CostEvent, delete_cost_events_before, "recorded_at")
        },
        purge!(RateLimit, purge_rate_limits_before, "window_start"),
        purge!(StreamEvent, delete_stream_events_before, "timestamp"),
    ]
}

/// Inserts a row of `table` with `column` set to `value`; returns its key.
async fn seed(
    store: &dyn KavachStore,
    table: &'static TableDef,
    column: &str,
    value: Value,
) -> Value {
    let mut row = row_with_parents(store, table, Variant::Minimal).await;
    row[table.expect_column(column)] = value;
    let key = row[table.primary_key_index()].clone();
    store
        .insert_rows(table, vec![row])
        .await
        .unwrap_or_else(|e| panic!("seeding {}: {e}", table.name));
    key
}

/// The rows seeded by [`seed_around_now`]: key and whether the purge at
/// `now` must delete it.
type Seeded = Vec<(Value, bool)>;

/// One row per offset around `now` (and one `NULL` where the column is
/// nullable, which no purge deletes).
async fn seed_around_now(store: &dyn KavachStore, purge: &Purge) -> Seeded {
    let mut seeded = Vec::new();
    for offset in AROUND {
        let key = seed(
            store,
            purge.table,
            purge.column,
            Value::Timestamp(off(offset)),
        )
        .await;
        let expired = offset < 0 || (purge.inclusive && offset == 0);
        seeded.push((key, expired));
    }
    if purge.table.column(purge.column).is_some_and(|c| c.nullable) {
        seeded.push((
            seed(store, purge.table, purge.column, Value::Null).await,
            false,
        ));
    }
    seeded
}

async fn assert_survivors(store: &dyn KavachStore, purge: &Purge, seeded: &Seeded) {
    for (i, (key, expired)) in seeded.iter().enumerate() {
        let left = count(
            store,
            purge.table,
            Cond::eq(purge.table.primary_key, key.clone()),
        )
        .await;
        let offset = AROUND
            .get(i)
            .map_or("NULL".to_string(), |o| format!("{o:+} s"));
        assert_eq!(
            left,
            u64::from(!expired),
            "{}: row at now {offset}: deleted = {expired} expected",
            purge.name
        );
    }
}

/// Every purge and retention delete removes exactly the rows before the
/// cut-off (`<`; `<=` for cost events), keeps rows at and after it and
/// rows without an expiry, reports how many it deleted, and deletes
/// nothing when run again.
pub async fn every_purge_deletes_exactly_the_expired_rows(ctx: &Ctx) {
    let store = ctx.store();
    for purge in purges() {
        let seeded = seed_around_now(store, &purge).await;
        let total = count_all(store, purge.table).await;
        let expected = seeded.iter().filter(|(_, expired)| *expired).count() as u64;
        let deleted = (purge.run)(store, now())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", purge.name));
        assert_eq!(deleted, expected, "{}: reported count", purge.name);
        assert_eq!(
            count_all(store, purge.table).await,
            total - expected,
            "{}: rows left",
            purge.name
        );
        assert_survivors(store, &purge, &seeded).await;
        assert_eq!(
            ok((purge.run)(store, now()).await),
            0,
            "{}: a second run deletes nothing",
            purge.name
        );
        // A cut-off before every row deletes nothing either.
        assert_eq!(
            ok((purge.run)(store, off(-7_200)).await),
            0,
            "{}: early cut-off",
            purge.name
        );
    }
}

/// The OAuth access-token purge deletes a row only when its access token
/// and its refresh token (if any) both expired strictly before `now`.
pub async fn oauth_access_token_purge_needs_both_expiries_past(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let client = b::seed_oauth_client(store).await;
    let cases: [(i64, Option<i64>, bool); 7] = [
        (-5, None, true),
        (-5, Some(-5), true),
        (-3_600, Some(-3_600), true),
        (-5, Some(0), false),
        (-5, Some(5), false),
        (0, None, false),
        (5, Some(-5), false),
    ];
    let mut seeded = Vec::new();
    for (access, refresh, expired) in cases {
        let token = OAuthAccessToken {
            access_token_expires_at: off(access),
            refresh_token: refresh.map(|_| id("refresh")),
            refresh_token_expires_at: refresh.map(off),
            ..b::oauth_access_token(&client.client_id, &user.id)
        };
        seeded.push((
            ok(store.create_oauth_access_token(token).await),
            expired,
            access,
            refresh,
        ));
    }
    let deleted = ok(store.purge_expired_oauth_access_tokens(now()).await);
    assert_eq!(deleted, 3);
    for (token, expired, access, refresh) in seeded {
        let left = ok(store.find_oauth_access_token(&token.access_token).await);
        assert_eq!(
            left.is_none(),
            expired,
            "access {access:+} s, refresh {refresh:?}: deleted = {expired} expected"
        );
    }
    assert_eq!(ok(store.purge_expired_oauth_access_tokens(now()).await), 0);
}

/// The rotating refresh-token purge deletes tokens expired before `now`,
/// and families whose absolute lifetime ended before `now` together with
/// all their tokens (even unexpired ones); a family ending exactly at
/// `now` stays. The count includes tokens and families.
pub async fn refresh_token_purge_covers_tokens_and_families(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let family = |absolute: i64| RefreshTokenFamily {
        absolute_expires_at: off(absolute),
        ..b::token_family(&user.id)
    };
    let token = |family: &RefreshTokenFamily, expires: i64| RefreshToken {
        expires_at: off(expires),
        ..b::refresh_token(&family.id)
    };
    let live = ok(store.create_refresh_token_family(family(3_600)).await);
    let ended = ok(store.create_refresh_token_family(family(-5)).await);
    let boundary = ok(store.create_refresh_token_family(family(0)).await);
    let mut tokens = Vec::new();
    for (fam, expires, gone) in [
        (&live, -3_600, true),
        (&live, -5, true),
        (&live, 0, false),
        (&live, 5, false),
        (&ended, 3_600, true),
        (&boundary, 3_600, false),
    ] {
        tokens.push((
            ok(store.create_refresh_token(token(fam, expires)).await),
            gone,
        ));
    }
    assert_eq!(
        ok(store.purge_expired_refresh_tokens(now()).await),
        4,
        "3 tokens + 1 family"
    );
    for (t, gone) in &tokens {
        assert_eq!(
            absent(store.find_refresh_token(&t.token_hash).await),
            *gone,
            "token {t:?}"
        );
    }
    assert!(
        absent(store.get_refresh_token_family(&ended.id).await),
        "ended family deleted"
    );
    assert!(
        present(store.get_refresh_token_family(&boundary.id).await),
        "family ending at now kept"
    );
    assert!(present(store.get_refresh_token_family(&live.id).await));
    assert_eq!(ok(store.purge_expired_refresh_tokens(now()).await), 0);
}

/// `PurgeStore::purge_expired` runs every purge at once: its report lists
/// each purged table once with the rows it deleted (before `now` only), and
/// leaves agents, audit rows, cost and stream events and rate limits alone.
pub async fn purge_expired_reports_every_table(ctx: &Ctx) {
    let store = ctx.store();
    let retention = [
        AuditLog::TABLE,
        CostEvent::TABLE,
        RateLimit::TABLE,
        StreamEvent::TABLE,
    ];
    let mut expected: Vec<(&'static str, u64)> = Vec::new();
    let mut all_seeded = Vec::new();
    for purge in purges()
        .into_iter()
        .filter(|p| !retention.contains(&p.table.name))
    {
        let seeded = seed_around_now(store, &purge).await;
        expected.push((
            purge.table.name,
            seeded.iter().filter(|(_, e)| *e).count() as u64,
        ));
        all_seeded.push((purge, seeded));
    }
    let mut kept_retention = Vec::new();
    for purge in purges()
        .into_iter()
        .filter(|p| retention.contains(&p.table.name))
    {
        seed_around_now(store, &purge).await;
        kept_retention.push((purge.table, count_all(store, purge.table).await));
    }
    // Rotating refresh tokens: one expired token of a live family, one
    // family past its lifetime with a token.
    let user = b::seed_user(store).await;
    let live = b::seed_token_family(store, &user.id).await;
    store
        .create_refresh_token(RefreshToken {
            expires_at: off(-5),
            ..b::refresh_token(&live.id)
        })
        .await
        .expect("token");
    store
        .create_refresh_token(RefreshToken {
            expires_at: off(0),
            ..b::refresh_token(&live.id)
        })
        .await
        .expect("token");
    let ended = store
        .create_refresh_token_family(RefreshTokenFamily {
            absolute_expires_at: off(-5),
            ..b::token_family(&user.id)
        })
        .await
        .expect("family");
    store
        .create_refresh_token(RefreshToken {
            expires_at: off(60),
            ..b::refresh_token(&ended.id)
        })
        .await
        .expect("token");
    expected.push((RefreshToken::TABLE, 3));
    // OAuth access tokens: one fully expired, one with a live refresh token.
    let client = b::seed_oauth_client(store).await;
    for refresh in [-5, 5] {
        let token = OAuthAccessToken {
            access_token_expires_at: off(-5),
            refresh_token_expires_at: Some(off(refresh)),
            ..b::oauth_access_token(&client.client_id, &user.id)
        };
        ok(store.create_oauth_access_token(token).await);
    }
    expected.push((OAuthAccessToken::TABLE, 1));
    let agents = count_all(store, Agent::table_def()).await;

    let report = ok(store.purge_expired(now()).await);
    let mut listed: Vec<&str> = report.purged.iter().map(|(t, _)| *t).collect();
    listed.sort_unstable();
    let mut wanted: Vec<&str> = expected.iter().map(|(t, _)| *t).collect();
    wanted.sort_unstable();
    assert_eq!(
        listed, wanted,
        "purge_expired lists every purged table once: {report:?}"
    );
    for (table, n) in &expected {
        assert_eq!(
            purged_from(&report, table),
            *n,
            "purge_expired: rows deleted from {table}"
        );
    }
    assert_eq!(
        report.total(),
        expected.iter().map(|(_, n)| n).sum::<u64>(),
        "report total"
    );
    for (purge, seeded) in &all_seeded {
        assert_survivors(store, purge, seeded).await;
    }
    for (table, n) in kept_retention {
        assert_eq!(
            count_all(store, table).await,
            n,
            "purge_expired leaves {} to its retention cut-off",
            table.name
        );
    }
    assert_eq!(
        count_all(store, Agent::table_def()).await,
        agents,
        "agents are expired, never purged"
    );
    assert_eq!(
        ok(store.purge_expired(now()).await).total(),
        0,
        "a second run deletes nothing"
    );
}

/// `validate_session`: valid strictly before `expires_at`; a session
/// expiring at or before `now` is deleted and reported as `None`; unknown
/// ids are `None`. `count_active_sessions_by_user` agrees.
pub async fn validate_session_at_the_boundary(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let sessions = around("session", |offset| {
        store.create_session(Session {
            expires_at: off(offset),
            ..b::session(&user.id)
        })
    })
    .await;
    let active = store.count_active_sessions_by_user(&user.id, now()).await;
    assert_eq!(active.expect("count"), 2);
    for (session, offset) in &sessions {
        let valid = *offset > 0;
        assert_eq!(
            present(store.validate_session(&session.id, now()).await),
            valid,
            "session expiring at {}: valid = {valid} expected",
            session.expires_at
        );
        assert_eq!(
            present(store.get_session(&session.id).await),
            valid,
            "an invalid session is deleted by validation"
        );
    }
    assert!(absent(store.validate_session(&id("missing"), now()).await));
    let listed = store.list_sessions_by_user(&user.id).await;
    assert_eq!(listed.expect("list").len(), 2);
}

/// `expire_agents`: active agents with `expires_at <= now` become expired
/// (with `updated_at = now`); later, unset and non-active ones are untouched.
pub async fn expire_agents_at_the_boundary(ctx: &Ctx) {
    let store = ctx.store();
    let owner = b::seed_user(store).await;
    let agents = around("agent", |offset| {
        store.create_agent(Agent {
            expires_at: Some(off(offset)),
            ..b::agent(&owner.id)
        })
    })
    .await;
    let never = store
        .create_agent(Agent {
            expires_at: None,
            ..b::agent(&owner.id)
        })
        .await
        .expect("agent");
    let revoked = store
        .create_agent(Agent {
            expires_at: Some(off(-5)),
            status: AgentStatus::Revoked,
            ..b::agent(&owner.id)
        })
        .await
        .expect("agent");
    assert_eq!(ok(store.expire_agents(now()).await), 3);
    for (agent, offset) in &agents {
        let due = *offset <= 0;
        let stored = existing(store.get_agent(&agent.id).await);
        let want = if due {
            AgentStatus::Expired
        } else {
            AgentStatus::Active
        };
        assert_eq!(
            stored.status, want,
            "agent expiring at {:?}",
            agent.expires_at
        );
        let want_updated = if due { now() } else { agent.updated_at };
        assert_instant::<Agent>(ctx, "updated_at", stored.updated_at, want_updated);
    }
    assert_eq!(
        existing(store.get_agent(&never.id).await).status,
        AgentStatus::Active
    );
    assert_eq!(
        existing(store.get_agent(&revoked.id).await).status,
        AgentStatus::Revoked
    );
    assert_eq!(ok(store.expire_agents(now()).await), 0);
}

/// `expire_approval_requests`: pending requests with `expires_at < now`
/// become expired; at the boundary they stay pending (yet can no longer be
/// resolved: resolution needs `expires_at > now`); resolved ones stay.
pub async fn expire_approval_requests_at_the_boundary(ctx: &Ctx) {
    let store = ctx.store();
    let (user, agent) = b::seed_user_agent(store).await;
    let requests = around("request", |offset| {
        store.create_approval_request(ApprovalRequest {
            expires_at: off(offset),
            ..b::approval(&agent.id, &user.id)
        })
    })
    .await;
    let approved = ApprovalRequest {
        expires_at: off(-5),
        status: ApprovalStatus::Approved,
        ..b::approval(&agent.id, &user.id)
    };
    let approved = ok(store.create_approval_request(approved).await);
    assert_eq!(ok(store.expire_approval_requests(now()).await), 2);
    for (request, offset) in &requests {
        let stored = existing(store.get_approval_request(&request.id).await);
        let want = if *offset < 0 {
            ApprovalStatus::Expired
        } else {
            ApprovalStatus::Pending
        };
        assert_eq!(stored.status, want, "request expiring at now {offset:+} s");
        let resolved = store
            .resolve_approval_request(&request.id, ApprovalDecision::Approve, "admin", now())
            .await;
        assert_eq!(
            resolved.expect("resolve").is_some(),
            *offset > 0,
            "resolving a request expiring at now {offset:+} s"
        );
    }
    let stored = existing(store.get_approval_request(&approved.id).await);
    assert_eq!(stored.status, ApprovalStatus::Approved);
    assert_eq!(ok(store.expire_approval_requests(now()).await), 0);
}

/// `expire_ephemeral_sessions`: active sessions with `expires_at < now`
/// become expired and their agents revoked; a session expiring exactly at
/// `now` stays active but refuses actions (`Expired`, and is then marked).
pub async fn expire_ephemeral_sessions_at_the_boundary(ctx: &Ctx) {
    let store = ctx.store();
    let owner = b::seed_user(store).await;
    let sessions = around("session", |offset| {
        let agent = b::ephemeral_agent(&owner.id);
        let session = EphemeralSession {
            expires_at: off(offset),
            ..b::ephemeral_session(&agent, Some(3))
        };
        store.create_ephemeral_session(agent, &[], session)
    })
    .await;
    let agent = b::ephemeral_agent(&owner.id);
    let exhausted = EphemeralSession {
        expires_at: off(-5),
        status: EphemeralStatus::Exhausted,
        ..b::ephemeral_session(&agent, Some(3))
    };
    let exhausted = ok(store.create_ephemeral_session(agent, &[], exhausted).await);

    let expired = store.expire_ephemeral_sessions(now()).await;
    assert_eq!(expired.expect("expire"), 2);
    for (session, offset) in &sessions {
        let stored = existing(store.get_ephemeral_session(&session.id).await);
        let agent = existing(store.get_agent(&session.agent_id).await);
        let (want_session, want_agent) = if *offset < 0 {
            assert_eq!(stored.updated_at, now());
            (EphemeralStatus::Expired, AgentStatus::Revoked)
        } else {
            (EphemeralStatus::Active, AgentStatus::Active)
        };
        assert_eq!(stored.status, want_session, "session at now {offset:+} s");
        assert_eq!(
            agent.status, want_agent,
            "agent of the session at now {offset:+} s"
        );
    }
    let stored = existing(store.get_ephemeral_session(&exhausted.id).await);
    assert_eq!(
        stored.status,
        EphemeralStatus::Exhausted,
        "non-active sessions are left alone"
    );

    let (at_now, _) = &sessions[2];
    let outcome = store
        .consume_ephemeral_action(&at_now.token_hash, now())
        .await
        .expect("consume");
    assert_eq!(
        outcome,
        EphemeralActionOutcome::Expired,
        "a session expiring exactly now refuses actions"
    );
    let stored = existing(store.get_ephemeral_session(&at_now.id).await);
    assert_eq!(stored.status, EphemeralStatus::Expired);
    assert_eq!(
        existing(store.get_agent(&at_now.agent_id).await).status,
        AgentStatus::Revoked
    );
    let (later, _) = &sessions[3];
    let outcome = store
        .consume_ephemeral_action(&later.token_hash, now())
        .await
        .expect("consume");
    assert!(
        matches!(outcome, EphemeralActionOutcome::Consumed(s) if s.actions_used == 1),
        "5 s before expiry"
    );
    assert_eq!(ok(store.expire_ephemeral_sessions(now()).await), 0);
}

/// `expire_org_invitations`: pending invitations with `expires_at < now`
/// become expired; at the boundary they stay pending but can no longer be
/// accepted; accepted ones stay accepted.
pub async fn expire_org_invitations_at_the_boundary(ctx: &Ctx) {
    let store = ctx.store();
    let owner = b::seed_user(store).await;
    let org = b::seed_org(store, &owner.id).await;
    let invitations = around("invitation", |offset| {
        store.create_org_invitation(OrgInvitation {
            expires_at: off(offset),
            ..b::org_invitation(&org.id, &owner.id, "x@example.com")
        })
    })
    .await;
    let accepted = OrgInvitation {
        expires_at: off(-5),
        status: InvitationStatus::Accepted,
        ..b::org_invitation(&org.id, &owner.id, "y@example.com")
    };
    let accepted = ok(store.create_org_invitation(accepted).await);
    assert_eq!(ok(store.expire_org_invitations(now()).await), 2);
    for (invitation, offset) in &invitations {
        let stored = existing(store.get_org_invitation(&invitation.id).await);
        let want = if *offset < 0 {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        };
        assert_eq!(
            stored.status, want,
            "invitation expiring at now {offset:+} s"
        );
    }
    let joiner = b::seed_user(store).await;
    let accept = |invitation: &OrgInvitation| {
        let (id, member) = (
            invitation.id.clone(),
            b::org_member(&org.id, &joiner.id, "member"),
        );
        async move { store.accept_org_invitation(&id, member, now()).await }
    };
    let (at_now, _) = &invitations[2];
    assert!(
        absent(accept(at_now).await),
        "an invitation expiring exactly now cannot be accepted"
    );
    assert!(absent(store.get_org_member(&org.id, &joiner.id).await));
    let (later, _) = &invitations[3];
    assert!(present(accept(later).await), "5 s before expiry");
    let stored = existing(store.get_org_invitation(&accepted.id).await);
    assert_eq!(stored.status, InvitationStatus::Accepted);
    assert_eq!(ok(store.expire_org_invitations(now()).await), 0);
}

/// The consume or lookup found something exactly when the value is
/// `valid` (a failed call fails the case).
#[track_caller]
fn assert_valid<T>(got: Result<Option<T>>, valid: bool, what: String) {
    assert_eq!(present(got), valid, "{what}");
}

/// Every consume and "still valid" lookup treats a value expiring exactly
/// at `now` as expired (`expires_at > now` is required) and one expiring
/// 5 s later as valid; consuming an expired code, state or challenge still
/// deletes it.
pub async fn consume_operations_respect_the_expiry_boundary(ctx: &Ctx) {
    let store = ctx.store();
    let (user, agent) = b::seed_user_agent(store).await;
    let client = b::seed_oauth_client(store).await;
    for (offset, valid) in [(0, false), (5, true)] {
        let what = |op: &str| format!("{op} with expiry at now {offset:+} s");
        let t = off(offset);

        let token = OneTimeToken {
            expires_at: t,
            ..b::one_time_token(&user.id, TokenPurpose::EmailVerify)
        };
        let token = ok(store.create_one_time_token(token).await);
        let got = store.consume_one_time_token(&token.token_hash, None, now());
        assert_valid(got.await, valid, what("consume_one_time_token"));

        let link = MagicLink {
            expires_at: t,
            ..b::magic_link(&user.email)
        };
        let link = ok(store.create_magic_link(link).await);
        let got = store.consume_magic_link(&link.token, now());
        assert_valid(got.await, valid, what("consume_magic_link"));

        let jwt = JwtRefreshToken {
            expires_at: t,
            ..b::jwt_refresh_token(&user.id)
        };
        let jwt = ok(store.create_jwt_refresh_token(jwt).await);
        let got = store.consume_jwt_refresh_token(&jwt.token_hash, now());
        assert_valid(got.await, valid, what("consume_jwt_refresh_token"));

        let code = OidcAuthCode {
            expires_at: t,
            ..b::oidc_code("rp", &user.id)
        };
        let code = ok(store.create_oidc_auth_code(code).await);
        let got = store.consume_oidc_auth_code(&code.code_hash, now());
        assert_valid(got.await, valid, what("consume_oidc_auth_code"));

        let rt = OidcRefreshToken {
            expires_at: t,
            ..b::oidc_refresh_token("rp", &user.id)
        };
        let rt = ok(store.create_oidc_refresh_token(rt).await);
        let got = store.consume_oidc_refresh_token(&rt.token_hash, now());
        assert_valid(got.await, valid, what("consume_oidc_refresh_token"));

        let oc = OAuthAuthorizationCode {
            expires_at: t,
            ..b::oauth_code(&client.client_id, &user.id)
        };
        let oc = ok(store.create_oauth_authorization_code(oc).await);
        let got = store.consume_oauth_authorization_code(&oc.code, now());
        assert_valid(got.await, valid, what("consume_oauth_authorization_code"));
        assert!(
            absent(store.find_oauth_authorization_code(&oc.code).await),
            "{}",
            what("code deleted")
        );

        let ot = OAuthAccessToken {
            refresh_token_expires_at: Some(t),
            ..b::oauth_access_token(&client.client_id, &user.id)
        };
        let ot = ok(store.create_oauth_access_token(ot).await);
        let refresh = ot.refresh_token.clone().expect("refresh token");
        let got = store.consume_oauth_refresh_token(&refresh, now());
        assert_valid(got.await, valid, what("consume_oauth_refresh_token"));

        let state = OAuthState {
            expires_at: t,
            ..b::oauth_state()
        };
        let state = ok(store.create_oauth_state(state).await);
        let got = store.consume_oauth_state(&state.state, now());
        assert_valid(got.await, valid, what("consume_oauth_state"));

        let ch = PasskeyChallenge {
            expires_at: t,
            ..b::passkey_challenge(Some(&user.id))
        };
        let ch = ok(store.create_passkey_challenge(ch).await);
        let got = store.consume_passkey_challenge(&ch.challenge, now());
        assert_valid(got.await, valid, what("consume_passkey_challenge"));

        let family = b::seed_token_family(store, &user.id).await;
        let rt = RefreshToken {
            expires_at: t,
            ..b::refresh_token(&family.id)
        };
        let rt = ok(store.create_refresh_token(rt).await);
        let got = store.consume_refresh_token(&rt.token_hash, now()).await;
        let got = got.expect("consume");
        let consumed = matches!(got, RefreshTokenOutcome::Consumed { .. });
        assert_eq!(
            consumed,
            valid,
            "{}: {got:?}",
            what("consume_refresh_token")
        );
        if !valid {
            assert_eq!(
                got,
                RefreshTokenOutcome::Expired,
                "{}",
                what("consume_refresh_token")
            );
        }
        let ending = RefreshTokenFamily {
            absolute_expires_at: t,
            ..b::token_family(&user.id)
        };
        let ending = ok(store.create_refresh_token_family(ending).await);
        let rt = store
            .create_refresh_token(b::refresh_token(&ending.id))
            .await;
        let got = store
            .consume_refresh_token(&rt.expect("token").token_hash, now())
            .await;
        let got = got.expect("consume");
        let consumed = matches!(got, RefreshTokenOutcome::Consumed { .. });
        assert_eq!(consumed, valid, "{}: {got:?}", what("family lifetime"));
        let revoked = existing(store.get_refresh_token_family(&ending.id).await).revoked;
        assert_eq!(
            revoked,
            !valid,
            "{}",
            what("a family at the end of its lifetime is revoked")
        );

        let email = format!("{}@example.com", id("otp"));
        let otp = EmailOtp {
            expires_at: t,
            ..b::email_otp(&email)
        };
        ok(store.replace_email_otp(otp).await);
        let found = store.find_email_otp(&email, now());
        assert_valid(found.await, valid, what("find_email_otp"));
        let phone = format!("+1555{}", 1_000 + offset);
        let pv = PhoneVerification {
            expires_at: t,
            ..b::phone_verification(&phone)
        };
        ok(store.replace_phone_verification(pv).await);
        let found = store.find_phone_verification(&phone, now());
        assert_valid(found.await, valid, what("find_phone_verification"));

        let fp = id("fp");
        let device = TrustedDevice {
            expires_at: t,
            ..b::trusted_device(&user.id, &fp)
        };
        ok(store.create_trusted_device(device).await);
        let found = store.find_trusted_device(&user.id, &fp, now());
        assert_valid(found.await, valid, what("find_trusted_device"));

        let to = b::seed_agent(store, &user.id).await;
        let chain = DelegationChain {
            expires_at: t,
            ..b::delegation(&agent.id, &to.id)
        };
        ok(store.create_delegation_chain(chain).await);
        let active = store.list_active_delegations_to_agent(&to.id, now()).await;
        assert_eq!(
            active.expect("list").len(),
            usize::from(valid),
            "{}",
            what("list_active_delegations_to_agent")
        );
    }
}
