//! Domain operations: human sessions (`SessionStore`), JWT refresh tokens
//! (`JwtRefreshTokenStore`), rotating refresh-token families
//! (`RefreshTokenStore`) and ephemeral sessions (`EphemeralSessionStore`).

use kavach_store_core::prelude::*;
use serde_json::json;

use super::builders::{self as b, Created, Expires};
use super::support::{
    absent, assert_conflict, assert_found, assert_instant, assert_not_found, assert_reference,
    assert_returns, assert_same, existing, keys, keys_of, ok, present,
};
use crate::Ctx;
use crate::fixtures::instant;

/// `create_session`, `get_session` (expired sessions too),
/// `list_sessions_by_user` newest first and
/// `count_active_sessions_by_user` (only `expires_at > now`).
pub async fn session_lookups_and_listing(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let v = b::seed_user(s).await;
    let s1 = ok(s.create_session(b::session(&u.id)).await);
    let s2 = s
        .create_session(Session {
            expires_at: instant(100),
            created_at: instant(10),
            metadata: None,
            ..b::session(&u.id)
        })
        .await
        .unwrap();
    let s3 = s
        .create_session(b::session(&u.id).created(20).expiring(7200))
        .await
        .unwrap();
    let sv = ok(s.create_session(b::session(&v.id)).await);
    assert_reference(s.create_session(b::session("usr_missing")).await);

    assert_found(ctx, s.get_session(&s2.id).await, &s2);
    assert!(absent(s.get_session("ses_missing").await));
    assert_eq!(
        keys(&ok(s.list_sessions_by_user(&u.id).await)),
        keys_of(&[&s3, &s2, &s1])
    );
    assert_eq!(
        keys(&ok(s.list_sessions_by_user(&v.id).await)),
        keys_of(&[&sv])
    );
    assert!(ok(s.list_sessions_by_user("usr_missing").await).is_empty());

    assert_eq!(
        ok(s.count_active_sessions_by_user(&u.id, instant(60)).await),
        3
    );
    assert_eq!(
        ok(s.count_active_sessions_by_user(&u.id, instant(5000)).await),
        1
    );
    assert_eq!(
        ok(s.count_active_sessions_by_user(&u.id, instant(9000)).await),
        0
    );
    // Still stored: the count does not delete anything.
    assert!(present(s.get_session(&s2.id).await));
}

/// `validate_session` returns a live session, deletes an expired one and
/// returns `None` for it, and `None` for an unknown id.
pub async fn session_validate_drops_expired(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let live = ok(s.create_session(b::session(&u.id)).await);
    let stale = ok(s.create_session(b::session(&u.id).expiring(100)).await);

    assert_found(ctx, s.validate_session(&live.id, instant(60)).await, &live);
    assert_found(
        ctx,
        s.validate_session(&stale.id, instant(60)).await,
        &stale,
    );
    assert!(absent(s.validate_session(&stale.id, instant(5000)).await));
    assert!(
        absent(s.get_session(&stale.id).await),
        "an expired session is deleted on validation"
    );
    assert!(absent(s.validate_session("ses_missing", instant(60)).await));
    assert!(present(s.get_session(&live.id).await));
}

/// `update_session` patches one session (`NotFound` when missing);
/// `refresh_session` swaps the old session for a new one once, and a second
/// refresh of the same old session gets `None` and creates nothing.
pub async fn session_update_and_refresh(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let old = ok(s.create_session(b::session(&u.id)).await);
    let patch = SessionPatch {
        metadata: Some(Some(json!({"ip": "198.51.100.1"}))),
        expires_at: Some(instant(7200)),
        ..SessionPatch::default()
    };
    let want = Session {
        metadata: Some(json!({"ip": "198.51.100.1"})),
        expires_at: instant(7200),
        ..old.clone()
    };
    assert_returns(ctx, s.update_session(&old.id, &patch).await, &want);
    assert_not_found(s.update_session("ses_missing", &patch).await);

    let new = b::session(&u.id).created(30).expiring(9000);
    let got = existing(s.refresh_session(&old.id, new.clone()).await);
    assert_same(ctx, &got, &new);
    assert!(absent(s.get_session(&old.id).await));
    assert_found(ctx, s.get_session(&new.id).await, &new);

    let again = b::session(&u.id);
    assert!(absent(s.refresh_session(&old.id, again.clone()).await));
    assert!(
        absent(s.get_session(&again.id).await),
        "a lost refresh creates nothing"
    );
    assert_eq!(
        keys(&ok(s.list_sessions_by_user(&u.id).await)),
        keys_of(&[&new])
    );
}

/// `delete_session` (`NotFound` when missing), `delete_other_sessions`,
/// `delete_sessions_by_user` and the strict `delete_expired_sessions`, each
/// returning how many rows went and touching no other user.
pub async fn session_deletes(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let v = b::seed_user(s).await;
    let one = ok(s.create_session(b::session(&u.id)).await);
    ok(s.delete_session(&one.id).await);
    assert!(absent(s.get_session(&one.id).await));
    assert_not_found(s.delete_session(&one.id).await);

    let keep = ok(s.create_session(b::session(&u.id)).await);
    for _ in 0..3 {
        ok(s.create_session(b::session(&u.id)).await);
    }
    let theirs = ok(s.create_session(b::session(&v.id)).await);
    assert_eq!(ok(s.delete_other_sessions(&u.id, &keep.id).await), 3);
    assert_eq!(
        keys(&ok(s.list_sessions_by_user(&u.id).await)),
        keys_of(&[&keep])
    );
    assert_eq!(ok(s.delete_other_sessions(&u.id, &keep.id).await), 0);
    ok(s.create_session(b::session(&u.id)).await);
    assert_eq!(ok(s.delete_sessions_by_user(&u.id).await), 2);
    assert_eq!(ok(s.delete_sessions_by_user(&u.id).await), 0);
    assert!(present(s.get_session(&theirs.id).await));

    let stale = ok(s.create_session(b::session(&u.id).expiring(100)).await);
    let live = ok(s.create_session(b::session(&u.id).expiring(10_000)).await);
    // theirs (3600 s) and stale (100 s) expired before 5000 s.
    assert_eq!(ok(s.delete_expired_sessions(instant(5000)).await), 2);
    assert!(absent(s.get_session(&stale.id).await));
    assert!(present(s.get_session(&live.id).await));
    assert_eq!(ok(s.delete_expired_sessions(instant(5000)).await), 0);
}

/// Every `JwtRefreshTokenStore` method: find (used tokens too), consume
/// once (never an expired token), the unconditional mark, revoke by user
/// (unused ones only) and the expiry purge.
pub async fn jwt_refresh_token_operations(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let v = b::seed_user(s).await;
    let t1 = s
        .create_jwt_refresh_token(b::jwt_refresh_token(&u.id))
        .await
        .expect("create");
    let t2 = s
        .create_jwt_refresh_token(b::jwt_refresh_token(&u.id).expiring(100))
        .await
        .unwrap();
    let t3 = s
        .create_jwt_refresh_token(b::jwt_refresh_token(&u.id))
        .await
        .unwrap();
    let t4 = s
        .create_jwt_refresh_token(b::jwt_refresh_token(&v.id).expiring(10_000))
        .await
        .unwrap();
    assert_conflict(
        s.create_jwt_refresh_token(JwtRefreshToken {
            token_hash: t1.token_hash.clone(),
            ..b::jwt_refresh_token(&u.id)
        })
        .await,
    );

    assert_found(ctx, s.find_jwt_refresh_token(&t1.token_hash).await, &t1);
    assert!(absent(s.find_jwt_refresh_token("no-such-hash").await));

    let used = JwtRefreshToken {
        used: true,
        ..t1.clone()
    };
    assert_found(
        ctx,
        s.consume_jwt_refresh_token(&t1.token_hash, instant(60))
            .await,
        &used,
    );
    assert!(absent(
        s.consume_jwt_refresh_token(&t1.token_hash, instant(61))
            .await
    ));
    assert_found(ctx, s.find_jwt_refresh_token(&t1.token_hash).await, &used);
    assert!(absent(
        s.consume_jwt_refresh_token(&t2.token_hash, instant(5000))
            .await
    ));
    assert!(
        !existing(s.find_jwt_refresh_token(&t2.token_hash).await).used,
        "expired token stays unused"
    );
    assert!(absent(
        s.consume_jwt_refresh_token("no-such-hash", instant(60))
            .await
    ));

    ok(s.mark_jwt_refresh_token_used(&t3.id).await);
    assert!(existing(s.find_jwt_refresh_token(&t3.token_hash).await).used);
    s.mark_jwt_refresh_token_used(&t3.id)
        .await
        .expect("mark again is fine");
    assert_not_found(s.mark_jwt_refresh_token_used("jrt_missing").await);
    assert!(absent(
        s.consume_jwt_refresh_token(&t3.token_hash, instant(60))
            .await
    ));

    // Only t2 of u is still unused.
    assert_eq!(ok(s.revoke_jwt_refresh_tokens_by_user(&u.id).await), 1);
    assert!(existing(s.find_jwt_refresh_token(&t2.token_hash).await).used);
    assert_eq!(ok(s.revoke_jwt_refresh_tokens_by_user(&u.id).await), 0);
    assert!(!existing(s.find_jwt_refresh_token(&t4.token_hash).await).used);

    assert_eq!(
        ok(s.purge_expired_jwt_refresh_tokens(instant(5000)).await),
        3
    );
    assert!(absent(s.find_jwt_refresh_token(&t1.token_hash).await));
    assert!(present(s.find_jwt_refresh_token(&t4.token_hash).await));
}

/// `consume_refresh_token`: a valid token is `Consumed` once with its
/// family; presenting it again is `Reused` and revokes the family; any
/// token of a revoked family is `Revoked`; an unknown hash is `NotFound`.
pub async fn refresh_token_consume_and_reuse(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let fam = b::seed_token_family(s, &u.id).await;
    let r1 = ok(s.create_refresh_token(b::refresh_token(&fam.id)).await);
    let r2 = ok(s.create_refresh_token(b::refresh_token(&fam.id)).await);
    assert_reference(
        s.create_refresh_token(b::refresh_token("fam_missing"))
            .await,
    );
    assert_found(ctx, s.get_refresh_token_family(&fam.id).await, &fam);
    assert!(absent(s.get_refresh_token_family("fam_missing").await));
    assert_found(ctx, s.find_refresh_token(&r2.token_hash).await, &r2);
    assert!(absent(s.find_refresh_token("no-such-hash").await));

    match ok(s.consume_refresh_token(&r1.token_hash, instant(60)).await) {
        RefreshTokenOutcome::Consumed { token, family } => {
            assert_same(
                ctx,
                &token,
                &RefreshToken {
                    used: true,
                    ..r1.clone()
                },
            );
            assert_same(ctx, &family, &fam);
        }
        other => panic!("expected Consumed, got {other:?}"),
    }
    assert!(existing(s.find_refresh_token(&r1.token_hash).await).used);
    assert_eq!(
        ok(s.consume_refresh_token(&r1.token_hash, instant(61)).await),
        RefreshTokenOutcome::Reused
    );
    assert!(
        existing(s.get_refresh_token_family(&fam.id).await).revoked,
        "reuse revokes the family"
    );
    assert_eq!(
        ok(s.consume_refresh_token(&r2.token_hash, instant(62)).await),
        RefreshTokenOutcome::Revoked
    );
    assert!(!existing(s.find_refresh_token(&r2.token_hash).await).used);
    assert_eq!(
        ok(s.consume_refresh_token("no-such-hash", instant(62)).await),
        RefreshTokenOutcome::NotFound
    );
}

/// `consume_refresh_token` is `Expired` for an expired token (family left
/// alone) and for a family past its absolute lifetime (family revoked).
pub async fn refresh_token_expiry_outcomes(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let live = b::seed_token_family(s, &u.id).await;
    let stale = s
        .create_refresh_token(b::refresh_token(&live.id).expiring(100))
        .await
        .unwrap();
    assert_eq!(
        s.consume_refresh_token(&stale.token_hash, instant(5000))
            .await
            .unwrap(),
        RefreshTokenOutcome::Expired
    );
    assert!(!existing(s.get_refresh_token_family(&live.id).await).revoked);
    assert!(!existing(s.find_refresh_token(&stale.token_hash).await).used);

    let ending = s
        .create_refresh_token_family(RefreshTokenFamily {
            absolute_expires_at: instant(1000),
            ..b::token_family(&u.id)
        })
        .await
        .unwrap();
    let t = ok(s.create_refresh_token(b::refresh_token(&ending.id)).await);
    assert_eq!(
        ok(s.consume_refresh_token(&t.token_hash, instant(2000)).await),
        RefreshTokenOutcome::Expired
    );
    assert!(
        existing(s.get_refresh_token_family(&ending.id).await).revoked,
        "an expired family is revoked"
    );
    assert_eq!(
        ok(s.consume_refresh_token(&t.token_hash, instant(2001)).await),
        RefreshTokenOutcome::Revoked
    );
}

/// `revoke_refresh_token_family` (false when missing),
/// `revoke_refresh_token_families_by_user` (counts families not yet
/// revoked) and `purge_expired_refresh_tokens` (expired tokens, plus
/// families past their lifetime with all their tokens).
pub async fn refresh_token_family_revoke_and_purge(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let v = b::seed_user(s).await;
    let f = b::seed_token_family(s, &u.id).await;
    let ft = ok(s.create_refresh_token(b::refresh_token(&f.id)).await);
    assert!(ok(s.revoke_refresh_token_family(&f.id).await));
    assert!(existing(s.get_refresh_token_family(&f.id).await).revoked);
    assert!(!ok(s.revoke_refresh_token_family("fam_missing").await));
    assert_eq!(
        ok(s.consume_refresh_token(&ft.token_hash, instant(60)).await),
        RefreshTokenOutcome::Revoked
    );

    let g = b::seed_token_family(s, &u.id).await;
    b::seed_token_family(s, &u.id).await;
    let theirs = b::seed_token_family(s, &v.id).await;
    assert_eq!(ok(s.revoke_refresh_token_families_by_user(&u.id).await), 2);
    assert!(existing(s.get_refresh_token_family(&g.id).await).revoked);
    assert_eq!(ok(s.revoke_refresh_token_families_by_user(&u.id).await), 0);
    assert!(!existing(s.get_refresh_token_family(&theirs.id).await).revoked);

    let p = s
        .create_refresh_token_family(RefreshTokenFamily {
            absolute_expires_at: instant(1000),
            ..b::token_family(&v.id)
        })
        .await
        .unwrap();
    let p1 = ok(s.create_refresh_token(b::refresh_token(&p.id)).await);
    let p2 = s
        .create_refresh_token(b::refresh_token(&p.id).expiring(10_000))
        .await
        .unwrap();
    let q1 = s
        .create_refresh_token(b::refresh_token(&theirs.id).expiring(100))
        .await
        .unwrap();
    let q2 = s
        .create_refresh_token(b::refresh_token(&theirs.id).expiring(10_000))
        .await
        .unwrap();
    // Tokens expired before 5000 s: ft, p1, q1; p2 goes with its family p.
    assert_eq!(ok(s.purge_expired_refresh_tokens(instant(5000)).await), 5);
    for gone in [&ft, &p1, &p2, &q1] {
        assert!(
            absent(s.find_refresh_token(&gone.token_hash).await),
            "{}",
            gone.id
        );
    }
    assert!(absent(s.get_refresh_token_family(&p.id).await));
    assert!(present(s.find_refresh_token(&q2.token_hash).await));
    assert!(present(s.get_refresh_token_family(&theirs.id).await));
    assert!(
        present(s.get_refresh_token_family(&f.id).await),
        "families within their lifetime stay"
    );
    assert_eq!(ok(s.purge_expired_refresh_tokens(instant(5000)).await), 0);
}

/// `create_ephemeral_session` stores agent, permissions and session
/// together (nothing when the session is rejected); lookups by id and token
/// hash; the owner's active sessions newest first.
pub async fn ephemeral_session_create_and_lookups(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let v = b::seed_user(s).await;
    let agent = b::ephemeral_agent(&u.id);
    let perm = b::permission(&agent.id);
    let want = b::ephemeral_session(&agent, Some(5));
    let created = s
        .create_ephemeral_session(agent.clone(), std::slice::from_ref(&perm), want.clone())
        .await
        .expect("create");
    assert_same(ctx, &created, &want);
    assert_found(ctx, s.get_agent(&agent.id).await, &agent);
    assert_eq!(
        keys(&ok(s.list_permissions_by_agent(&agent.id).await)),
        keys_of(&[&perm])
    );
    assert_found(ctx, s.get_ephemeral_session(&want.id).await, &want);
    assert_found(
        ctx,
        s.find_ephemeral_session_by_token_hash(&agent.token_hash)
            .await,
        &want,
    );
    assert!(absent(s.get_ephemeral_session("eph_missing").await));
    assert!(absent(
        s.find_ephemeral_session_by_token_hash("no-such-hash").await
    ));

    // The session reuses an existing id: neither the agent nor its permissions stay.
    let agent2 = b::ephemeral_agent(&u.id);
    let perm2 = b::permission(&agent2.id);
    let dup = EphemeralSession {
        id: want.id.clone(),
        ..b::ephemeral_session(&agent2, None)
    };
    assert_conflict(
        s.create_ephemeral_session(agent2.clone(), std::slice::from_ref(&perm2), dup)
            .await,
    );
    assert!(absent(s.get_agent(&agent2.id).await));
    assert!(absent(s.get_permission(&perm2.id).await));

    let agent3 = b::ephemeral_agent(&u.id);
    let later = s
        .create_ephemeral_session(
            agent3.clone(),
            &[],
            b::ephemeral_session(&agent3, None).created(10),
        )
        .await
        .unwrap();
    let agent4 = b::ephemeral_agent(&u.id);
    let revoked = s
        .create_ephemeral_session(
            agent4.clone(),
            &[],
            EphemeralSession {
                status: EphemeralStatus::Revoked,
                created_at: instant(20),
                ..b::ephemeral_session(&agent4, None)
            },
        )
        .await
        .unwrap();
    b::seed_ephemeral(s, &v.id, None).await;
    assert_eq!(
        keys(&ok(s.list_active_ephemeral_sessions_by_owner(&u.id).await)),
        keys_of(&[&later, &want])
    );
    assert!(
        s.list_active_ephemeral_sessions_by_owner("usr_missing")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(present(s.get_ephemeral_session(&revoked.id).await));
}

/// `consume_ephemeral_action` counts actions up to `max_actions` (the last
/// one marks the session exhausted and revokes its agent), without limit
/// when `max_actions` is NULL, and reports `Exhausted` / `NotFound`.
pub async fn ephemeral_consume_counts_actions(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let limited = b::seed_ephemeral(s, &u.id, Some(2)).await;
    match s
        .consume_ephemeral_action(&limited.token_hash, instant(60))
        .await
        .unwrap()
    {
        EphemeralActionOutcome::Consumed(got) => {
            assert_same(
                ctx,
                &got,
                &EphemeralSession {
                    actions_used: 1,
                    updated_at: instant(60),
                    ..limited.clone()
                },
            );
        }
        other => panic!("expected Consumed, got {other:?}"),
    }
    match s
        .consume_ephemeral_action(&limited.token_hash, instant(62))
        .await
        .unwrap()
    {
        EphemeralActionOutcome::Consumed(got) => {
            assert_eq!(got.actions_used, 2);
            assert_eq!(
                got.status,
                EphemeralStatus::Exhausted,
                "the last allowed action exhausts the session"
            );
        }
        other => panic!("expected Consumed, got {other:?}"),
    }
    let stored = existing(s.get_ephemeral_session(&limited.id).await);
    assert_eq!(
        (stored.actions_used, stored.status),
        (2, EphemeralStatus::Exhausted)
    );
    assert_eq!(
        existing(s.get_agent(&limited.agent_id).await).status,
        AgentStatus::Revoked
    );
    // Used up: the core reports the stored status of a session that is no
    // longer active (`Inactive(Exhausted)`); `Exhausted` says the same.
    let after = s
        .consume_ephemeral_action(&limited.token_hash, instant(64))
        .await
        .unwrap();
    assert!(
        matches!(
            after,
            EphemeralActionOutcome::Exhausted
                | EphemeralActionOutcome::Inactive(EphemeralStatus::Exhausted)
        ),
        "got {after:?}"
    );
    assert_eq!(
        existing(s.get_ephemeral_session(&limited.id).await).actions_used,
        2
    );

    // Still marked active but with every action used: `Exhausted`, nothing counted.
    let agent = b::ephemeral_agent(&u.id);
    let full = EphemeralSession {
        max_actions: Some(1),
        actions_used: 1,
        ..b::ephemeral_session(&agent, Some(1))
    };
    ok(s.create_ephemeral_session(agent, &[], full.clone()).await);
    assert_eq!(
        s.consume_ephemeral_action(&full.token_hash, instant(60))
            .await
            .unwrap(),
        EphemeralActionOutcome::Exhausted
    );
    assert_eq!(
        existing(s.get_ephemeral_session(&full.id).await).actions_used,
        1
    );

    let unlimited = b::seed_ephemeral(s, &u.id, None).await;
    for n in 1..=5 {
        match s
            .consume_ephemeral_action(&unlimited.token_hash, instant(60 + n))
            .await
            .unwrap()
        {
            EphemeralActionOutcome::Consumed(got) => {
                assert_eq!((got.actions_used, got.status), (n, EphemeralStatus::Active));
                assert_instant::<EphemeralSession>(
                    ctx,
                    "updated_at",
                    got.updated_at,
                    instant(60 + n),
                );
            }
            other => panic!("expected Consumed, got {other:?}"),
        }
    }
    assert_eq!(
        existing(s.get_agent(&unlimited.agent_id).await).status,
        AgentStatus::Active
    );
    assert_eq!(
        s.consume_ephemeral_action("no-such-hash", instant(60))
            .await
            .unwrap(),
        EphemeralActionOutcome::NotFound
    );
}

/// `consume_ephemeral_action` on an expired session marks it expired and
/// revokes its agent; on a revoked one it is `Inactive(Revoked)`.
/// `revoke_ephemeral_session` revokes session and agent (`NotFound` when missing).
pub async fn ephemeral_consume_refuses_expired_and_revoked(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let old = b::seed_ephemeral(s, &u.id, Some(5)).await;
    assert_eq!(
        s.consume_ephemeral_action(&old.token_hash, instant(5000))
            .await
            .unwrap(),
        EphemeralActionOutcome::Expired
    );
    let stored = existing(s.get_ephemeral_session(&old.id).await);
    assert_eq!(
        (stored.status, stored.actions_used),
        (EphemeralStatus::Expired, 0)
    );
    assert_eq!(
        existing(s.get_agent(&old.agent_id).await).status,
        AgentStatus::Revoked
    );
    assert_eq!(
        s.consume_ephemeral_action(&old.token_hash, instant(5001))
            .await
            .unwrap(),
        EphemeralActionOutcome::Inactive(EphemeralStatus::Expired)
    );

    let live = b::seed_ephemeral(s, &u.id, Some(5)).await;
    let revoked = ok(s.revoke_ephemeral_session(&live.id, instant(70)).await);
    assert_same(
        ctx,
        &revoked,
        &EphemeralSession {
            status: EphemeralStatus::Revoked,
            updated_at: instant(70),
            ..live.clone()
        },
    );
    let agent = existing(s.get_agent(&live.agent_id).await);
    assert_eq!(agent.status, AgentStatus::Revoked);
    assert_instant::<Agent>(ctx, "updated_at", agent.updated_at, instant(70));
    assert_eq!(
        s.consume_ephemeral_action(&live.token_hash, instant(71))
            .await
            .unwrap(),
        EphemeralActionOutcome::Inactive(EphemeralStatus::Revoked)
    );
    assert!(ok(s.list_active_ephemeral_sessions_by_owner(&u.id).await).is_empty());
    assert_not_found(s.revoke_ephemeral_session("eph_missing", instant(70)).await);
}

/// `expire_ephemeral_sessions` marks active sessions past their expiry (and
/// revokes their agents); `purge_expired_ephemeral_sessions` deletes
/// expired sessions whatever their status, leaving the agents.
pub async fn ephemeral_expire_and_purge(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let mk = |expires: i64, status: EphemeralStatus| {
        let agent = b::ephemeral_agent(&u.id);
        let session = EphemeralSession {
            expires_at: instant(expires),
            status,
            ..b::ephemeral_session(&agent, None)
        };
        (agent, session)
    };
    let mut made = Vec::new();
    for (expires, status) in [
        (100, EphemeralStatus::Active),
        (10_000, EphemeralStatus::Active),
        (100, EphemeralStatus::Revoked),
    ] {
        let (agent, session) = mk(expires, status);
        made.push(ok(s.create_ephemeral_session(agent, &[], session).await));
    }
    let [due, later, revoked] = [made[0].clone(), made[1].clone(), made[2].clone()];

    assert_eq!(ok(s.expire_ephemeral_sessions(instant(5000)).await), 1);
    let got = existing(s.get_ephemeral_session(&due.id).await);
    assert_eq!(got.status, EphemeralStatus::Expired);
    assert_instant::<EphemeralSession>(ctx, "updated_at", got.updated_at, instant(5000));
    assert_eq!(
        existing(s.get_agent(&due.agent_id).await).status,
        AgentStatus::Revoked
    );
    assert_eq!(
        existing(s.get_ephemeral_session(&later.id).await).status,
        EphemeralStatus::Active
    );
    assert_eq!(
        existing(s.get_agent(&later.agent_id).await).status,
        AgentStatus::Active
    );
    assert_found(ctx, s.get_ephemeral_session(&revoked.id).await, &revoked);
    assert_eq!(ok(s.expire_ephemeral_sessions(instant(5000)).await), 0);

    assert_eq!(
        ok(s.purge_expired_ephemeral_sessions(instant(5000)).await),
        2
    );
    assert!(absent(s.get_ephemeral_session(&due.id).await));
    assert!(absent(s.get_ephemeral_session(&revoked.id).await));
    assert!(present(s.get_ephemeral_session(&later.id).await));
    assert!(present(s.get_agent(&due.agent_id).await), "agents stay");
}
