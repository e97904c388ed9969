//! Domain operations: the MCP OAuth authorization server (`OAuthStore`),
//! social-login accounts and states (`OAuthAccountStore`) and the OIDC
//! provider (`OidcStore`).

use kavach_store_core::prelude::*;
use serde_json::json;

use super::builders::{self as b, Expires};
use super::support::{
    absent, assert_conflict, assert_found, assert_not_found, assert_reference, assert_returns,
    assert_same, existing, keys, keys_of, ok, present,
};
use crate::Ctx;
use crate::fixtures::{id, instant};

/// OAuth clients are addressed by their public `client_id` (find, update,
/// delete) and by row id (`get_oauth_client`); a duplicate `client_id` is
/// a `Conflict`, deleting a client with tokens a `Reference` error.
pub async fn oauth_client_operations(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let c = b::seed_oauth_client(s).await;
    let public = s
        .create_oauth_client(OAuthClient {
            client_secret: None,
            r#type: OAuthClientType::Public,
            token_endpoint_auth_method: "none".into(),
            ..b::oauth_client()
        })
        .await
        .unwrap();
    assert_conflict(
        s.create_oauth_client(OAuthClient {
            client_id: c.client_id.clone(),
            ..b::oauth_client()
        })
        .await,
    );

    assert_found(
        ctx,
        s.find_oauth_client_by_client_id(&c.client_id).await,
        &c,
    );
    assert_found(ctx, s.get_oauth_client(&public.id).await, &public);
    assert!(
        absent(s.find_oauth_client_by_client_id(&c.id).await),
        "the row id is not a client_id"
    );
    assert!(
        absent(s.get_oauth_client(&c.client_id).await),
        "the client_id is not a row id"
    );

    let patch = OAuthClientPatch {
        disabled: Some(true),
        client_secret: Some(None),
        redirect_uris: Some(vec![
            "https://a.example.com/cb".into(),
            "https://b.example.com/cb".into(),
        ]),
        metadata: Some(Some(json!({"software_id": "claude"}))),
        updated_at: Some(instant(30)),
        ..OAuthClientPatch::default()
    };
    let want = OAuthClient {
        disabled: true,
        client_secret: None,
        redirect_uris: vec![
            "https://a.example.com/cb".into(),
            "https://b.example.com/cb".into(),
        ],
        metadata: Some(json!({"software_id": "claude"})),
        updated_at: instant(30),
        ..c.clone()
    };
    assert_returns(
        ctx,
        s.update_oauth_client(&c.client_id, &patch).await,
        &want,
    );
    assert_found(ctx, s.get_oauth_client(&c.id).await, &want);
    assert_not_found(s.update_oauth_client(&c.id, &patch).await);

    let token = s
        .create_oauth_access_token(b::oauth_access_token(&c.client_id, &u.id))
        .await
        .unwrap();
    assert_reference(s.delete_oauth_client(&c.client_id).await);
    assert!(present(
        s.find_oauth_client_by_client_id(&c.client_id).await
    ));
    assert_eq!(
        ok(s.revoke_oauth_access_token(&token.access_token).await),
        1
    );
    ok(s.delete_oauth_client(&c.client_id).await);
    assert!(absent(s.get_oauth_client(&c.id).await));
    assert_not_found(s.delete_oauth_client(&c.client_id).await);
    assert!(present(s.get_oauth_client(&public.id).await));
}

/// Access-token rows are found by access token and by refresh token
/// (expired or not), need an existing client and user, and
/// `revoke_oauth_access_token` deletes the row with its refresh token.
pub async fn oauth_access_token_lookups_and_revoke(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let c = b::seed_oauth_client(s).await;
    let t = s
        .create_oauth_access_token(b::oauth_access_token(&c.client_id, &u.id))
        .await
        .expect("create");
    let bare = s
        .create_oauth_access_token(OAuthAccessToken {
            refresh_token: None,
            refresh_token_expires_at: None,
            resource: None,
            access_token_expires_at: instant(100),
            ..b::oauth_access_token(&c.client_id, &u.id)
        })
        .await
        .unwrap();
    assert_reference(
        s.create_oauth_access_token(b::oauth_access_token("client_missing", &u.id))
            .await,
    );
    assert_reference(
        s.create_oauth_access_token(b::oauth_access_token(&c.client_id, "usr_missing"))
            .await,
    );
    assert_conflict(
        s.create_oauth_access_token(OAuthAccessToken {
            access_token: t.access_token.clone(),
            ..b::oauth_access_token(&c.client_id, &u.id)
        })
        .await,
    );

    let refresh = t.refresh_token.clone().expect("has a refresh token");
    assert_found(ctx, s.find_oauth_access_token(&t.access_token).await, &t);
    assert_found(ctx, s.find_oauth_refresh_token(&refresh).await, &t);
    assert_found(
        ctx,
        s.find_oauth_access_token(&bare.access_token).await,
        &bare,
    );
    assert!(absent(s.find_oauth_access_token(&refresh).await));
    assert!(absent(s.find_oauth_refresh_token(&t.access_token).await));
    assert!(absent(s.find_oauth_access_token("no-such-token").await));

    assert_eq!(ok(s.revoke_oauth_access_token(&t.access_token).await), 1);
    assert!(absent(s.find_oauth_access_token(&t.access_token).await));
    assert!(absent(s.find_oauth_refresh_token(&refresh).await));
    assert_eq!(ok(s.revoke_oauth_access_token(&t.access_token).await), 0);
    assert!(present(s.find_oauth_access_token(&bare.access_token).await));
}

/// `consume_oauth_refresh_token` deletes and returns the row of an
/// unexpired (or non-expiring) refresh token once; an expired refresh token
/// is not consumed and its row stays.
pub async fn oauth_refresh_token_consume(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let c = b::seed_oauth_client(s).await;
    let mk = |refresh_expires: Option<i64>| OAuthAccessToken {
        refresh_token_expires_at: refresh_expires.map(instant),
        ..b::oauth_access_token(&c.client_id, &u.id)
    };
    let live = ok(s.create_oauth_access_token(mk(Some(7200))).await);
    let stale = ok(s.create_oauth_access_token(mk(Some(100))).await);
    let forever = ok(s.create_oauth_access_token(mk(None)).await);
    let refresh = |t: &OAuthAccessToken| t.refresh_token.clone().unwrap();

    let got = existing(
        s.consume_oauth_refresh_token(&refresh(&live), instant(60))
            .await,
    );
    assert_same(ctx, &got, &live);
    assert!(
        absent(s.find_oauth_access_token(&live.access_token).await),
        "the row is deleted"
    );
    assert!(absent(
        s.consume_oauth_refresh_token(&refresh(&live), instant(61))
            .await
    ));

    assert!(absent(
        s.consume_oauth_refresh_token(&refresh(&stale), instant(5000))
            .await
    ));
    assert!(
        present(s.find_oauth_refresh_token(&refresh(&stale)).await),
        "an expired token is left alone"
    );
    assert_found(
        ctx,
        s.consume_oauth_refresh_token(&refresh(&forever), instant(5000))
            .await,
        &forever,
    );
    assert!(absent(
        s.consume_oauth_refresh_token("no-such-token", instant(60))
            .await
    ));
}

/// `purge_expired_oauth_access_tokens` deletes rows whose access token
/// expired and whose refresh token (if any) expired too.
pub async fn oauth_access_token_purge(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let c = b::seed_oauth_client(s).await;
    let mk = |access: i64, refresh: Option<i64>| OAuthAccessToken {
        access_token_expires_at: instant(access),
        refresh_token: refresh.map(|_| id("refresh")),
        refresh_token_expires_at: refresh.map(instant),
        ..b::oauth_access_token(&c.client_id, &u.id)
    };
    let mut rows = Vec::new();
    for (access, refresh) in [
        (100, None),
        (100, Some(10_000)),
        (10_000, Some(100)),
        (100, Some(200)),
        (10_000, None),
    ] {
        rows.push(ok(s.create_oauth_access_token(mk(access, refresh)).await));
    }
    assert_eq!(
        ok(s.purge_expired_oauth_access_tokens(instant(5000)).await),
        2
    );
    let present: Vec<bool> = {
        let mut v = Vec::new();
        for r in &rows {
            v.push(present(s.find_oauth_access_token(&r.access_token).await));
        }
        v
    };
    assert_eq!(present, [false, true, true, false, true]);
    assert_eq!(
        ok(s.purge_expired_oauth_access_tokens(instant(5000)).await),
        0
    );
}

/// Authorization codes: `find_oauth_authorization_code` does not consume;
/// `consume_oauth_authorization_code` returns a live code once and deletes
/// an expired one without returning it; delete by row id (`NotFound` when
/// missing); the expiry purge.
pub async fn oauth_authorization_code_lifecycle(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let c = b::seed_oauth_client(s).await;
    let code = s
        .create_oauth_authorization_code(b::oauth_code(&c.client_id, &u.id))
        .await
        .expect("create");
    assert_reference(
        s.create_oauth_authorization_code(b::oauth_code("client_missing", &u.id))
            .await,
    );
    assert_conflict(
        s.create_oauth_authorization_code(OAuthAuthorizationCode {
            code: code.code.clone(),
            ..b::oauth_code(&c.client_id, &u.id)
        })
        .await,
    );

    for _ in 0..2 {
        assert_found(
            ctx,
            s.find_oauth_authorization_code(&code.code).await,
            &code,
        );
    }
    assert_found(
        ctx,
        s.consume_oauth_authorization_code(&code.code, instant(60))
            .await,
        &code,
    );
    assert!(absent(
        s.consume_oauth_authorization_code(&code.code, instant(61))
            .await
    ));
    assert!(absent(s.find_oauth_authorization_code(&code.code).await));

    let stale = s
        .create_oauth_authorization_code(b::oauth_code(&c.client_id, &u.id))
        .await
        .unwrap();
    assert!(absent(
        s.consume_oauth_authorization_code(&stale.code, instant(5000))
            .await
    ));
    assert!(
        absent(s.find_oauth_authorization_code(&stale.code).await),
        "an expired code is deleted too"
    );
    assert!(absent(
        s.consume_oauth_authorization_code("no-such-code", instant(60))
            .await
    ));

    let by_id = s
        .create_oauth_authorization_code(b::oauth_code(&c.client_id, &u.id))
        .await
        .unwrap();
    ok(s.delete_oauth_authorization_code(&by_id.id).await);
    assert!(absent(s.find_oauth_authorization_code(&by_id.code).await));
    assert_not_found(s.delete_oauth_authorization_code(&by_id.id).await);

    let old = s
        .create_oauth_authorization_code(b::oauth_code(&c.client_id, &u.id))
        .await
        .unwrap();
    let young = s
        .create_oauth_authorization_code(b::oauth_code(&c.client_id, &u.id).expiring(10_000))
        .await
        .unwrap();
    assert_eq!(
        s.purge_expired_oauth_authorization_codes(instant(5000))
            .await
            .unwrap(),
        1
    );
    assert!(absent(s.find_oauth_authorization_code(&old.code).await));
    assert!(present(s.find_oauth_authorization_code(&young.code).await));
}

/// Every account method of `OAuthAccountStore`: the (provider, provider
/// account) pair is unique, lookups by id and by pair, the user's accounts
/// oldest first, linking a pending account by patch, delete.
pub async fn oauth_account_operations(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let gh = ok(s.create_oauth_account(b::oauth_account(&u.id)).await);
    let google = s
        .create_oauth_account(OAuthAccount {
            provider: "google".into(),
            provider_account_id: gh.provider_account_id.clone(),
            refresh_token: Some("g-refresh".into()),
            created_at: instant(10),
            ..b::oauth_account(&u.id)
        })
        .await
        .expect("same account id at another provider");
    assert_conflict(
        s.create_oauth_account(OAuthAccount {
            provider_account_id: gh.provider_account_id.clone(),
            ..b::oauth_account(&u.id)
        })
        .await,
    );
    let pending = s
        .create_oauth_account(OAuthAccount {
            // Between gh (0 s) and google (10 s), so the order never rests on ids.
            created_at: instant(5),
            ..b::oauth_account("__pending__")
        })
        .await
        .expect("placeholder user id");

    assert_found(ctx, s.get_oauth_account(&google.id).await, &google);
    assert!(absent(s.get_oauth_account("oacc_missing").await));
    assert_found(
        ctx,
        s.find_oauth_account("github", &gh.provider_account_id)
            .await,
        &gh,
    );
    assert_found(
        ctx,
        s.find_oauth_account("google", &gh.provider_account_id)
            .await,
        &google,
    );
    assert!(absent(
        s.find_oauth_account("gitlab", &gh.provider_account_id)
            .await
    ));
    assert!(absent(s.find_oauth_account("github", "nobody").await));
    assert_eq!(
        keys(&ok(s.list_oauth_accounts_by_user(&u.id).await)),
        keys_of(&[&gh, &google])
    );

    let patch = OAuthAccountPatch {
        user_id: Some(u.id.clone()),
        access_token: Some("new-token".into()),
        expires_at: Some(None),
        updated_at: Some(instant(20)),
        ..OAuthAccountPatch::default()
    };
    let linked = ok(s.update_oauth_account(&pending.id, &patch).await);
    let want = OAuthAccount {
        user_id: u.id.clone(),
        access_token: "new-token".into(),
        expires_at: None,
        updated_at: instant(20),
        ..pending.clone()
    };
    assert_same(ctx, &linked, &want);
    assert_eq!(
        keys(&ok(s.list_oauth_accounts_by_user(&u.id).await)),
        keys_of(&[&gh, &pending, &google])
    );
    assert!(ok(s.list_oauth_accounts_by_user("__pending__").await).is_empty());
    assert_not_found(s.update_oauth_account("oacc_missing", &patch).await);

    ok(s.delete_oauth_account(&gh.id).await);
    assert!(absent(
        s.find_oauth_account("github", &gh.provider_account_id)
            .await
    ));
    assert_not_found(s.delete_oauth_account(&gh.id).await);
}

/// `consume_oauth_state` returns a live state once and deletes an expired
/// one without returning it; `purge_expired_oauth_states` counts expired rows.
pub async fn oauth_state_consume_and_purge(ctx: &Ctx) {
    let s = ctx.store();
    let st = ok(s.create_oauth_state(b::oauth_state()).await);
    assert_conflict(
        s.create_oauth_state(OAuthState {
            state: st.state.clone(),
            ..b::oauth_state()
        })
        .await,
    );
    assert_found(
        ctx,
        s.consume_oauth_state(&st.state, instant(60)).await,
        &st,
    );
    assert!(absent(s.consume_oauth_state(&st.state, instant(61)).await));

    let stale = ok(s.create_oauth_state(b::oauth_state()).await);
    assert!(absent(
        s.consume_oauth_state(&stale.state, instant(5000)).await
    ));
    assert!(
        absent(s.consume_oauth_state(&stale.state, instant(60)).await),
        "the expired state was deleted by the first attempt"
    );
    assert!(absent(
        s.consume_oauth_state("no-such-state", instant(60)).await
    ));

    let old = ok(s.create_oauth_state(b::oauth_state()).await);
    let young = s
        .create_oauth_state(b::oauth_state().expiring(10_000))
        .await
        .unwrap();
    assert_eq!(ok(s.purge_expired_oauth_states(instant(5000)).await), 1);
    assert!(absent(s.consume_oauth_state(&old.state, instant(60)).await));
    assert!(present(
        s.consume_oauth_state(&young.state, instant(60)).await
    ));
}

/// OIDC clients: unique `client_id`, lookup by it, patch by row id
/// (`NotFound` when missing), delete by `client_id` returning the count.
pub async fn oidc_client_operations(ctx: &Ctx) {
    let s = ctx.store();
    let c = ok(s.create_oidc_client(b::oidc_client()).await);
    let other = ok(s.create_oidc_client(b::oidc_client()).await);
    assert_conflict(
        s.create_oidc_client(OidcClient {
            client_id: c.client_id.clone(),
            ..b::oidc_client()
        })
        .await,
    );
    assert_found(ctx, s.find_oidc_client_by_client_id(&c.client_id).await, &c);
    assert!(absent(s.find_oidc_client_by_client_id(&c.id).await));

    let patch = OidcClientPatch {
        scopes: Some(vec!["openid".into()]),
        client_name: Some("renamed".into()),
        updated_at: Some(instant(30)),
        ..OidcClientPatch::default()
    };
    let want = OidcClient {
        scopes: vec!["openid".into()],
        client_name: "renamed".into(),
        updated_at: instant(30),
        ..c.clone()
    };
    assert_returns(ctx, s.update_oidc_client(&c.id, &patch).await, &want);
    assert_not_found(s.update_oidc_client(&c.client_id, &patch).await);

    assert_eq!(ok(s.delete_oidc_client(&c.client_id).await), 1);
    assert!(absent(s.find_oidc_client_by_client_id(&c.client_id).await));
    assert_eq!(ok(s.delete_oidc_client(&c.client_id).await), 0);
    assert!(present(
        s.find_oidc_client_by_client_id(&other.client_id).await
    ));
}

/// OIDC codes: find (used ones too), redeem once (marking used, never an
/// expired code), and the expiry purge.
pub async fn oidc_auth_code_operations(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let code = ok(s.create_oidc_auth_code(b::oidc_code("rp", &u.id)).await);
    assert_conflict(
        s.create_oidc_auth_code(OidcAuthCode {
            code_hash: code.code_hash.clone(),
            ..b::oidc_code("rp", &u.id)
        })
        .await,
    );
    assert_found(ctx, s.find_oidc_auth_code(&code.code_hash).await, &code);
    assert!(absent(s.find_oidc_auth_code("no-such-hash").await));

    let used = OidcAuthCode {
        used: true,
        ..code.clone()
    };
    assert_found(
        ctx,
        s.consume_oidc_auth_code(&code.code_hash, instant(60)).await,
        &used,
    );
    assert!(absent(
        s.consume_oidc_auth_code(&code.code_hash, instant(61)).await
    ));
    assert_found(ctx, s.find_oidc_auth_code(&code.code_hash).await, &used);

    let stale = ok(s.create_oidc_auth_code(b::oidc_code("rp", &u.id)).await);
    assert!(absent(
        s.consume_oidc_auth_code(&stale.code_hash, instant(5000))
            .await
    ));
    assert!(!existing(s.find_oidc_auth_code(&stale.code_hash).await).used);
    assert!(absent(
        s.consume_oidc_auth_code("no-such-hash", instant(60)).await
    ));

    let young = s
        .create_oidc_auth_code(b::oidc_code("rp", &u.id).expiring(10_000))
        .await
        .unwrap();
    assert_eq!(ok(s.purge_expired_oidc_auth_codes(instant(5000)).await), 2);
    assert!(absent(s.find_oidc_auth_code(&code.code_hash).await));
    assert!(present(s.find_oidc_auth_code(&young.code_hash).await));
}

/// OIDC refresh tokens: find (revoked ones too), redeem once (revoking it,
/// never an expired one), revoke a user's tokens (counting live ones) and
/// the expiry purge.
pub async fn oidc_refresh_token_operations(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let v = b::seed_user(s).await;
    let t = s
        .create_oidc_refresh_token(b::oidc_refresh_token("rp", &u.id))
        .await
        .expect("create");
    assert_found(ctx, s.find_oidc_refresh_token(&t.token_hash).await, &t);
    assert!(absent(s.find_oidc_refresh_token("no-such-hash").await));

    let revoked = OidcRefreshToken {
        revoked: true,
        ..t.clone()
    };
    assert_found(
        ctx,
        s.consume_oidc_refresh_token(&t.token_hash, instant(60))
            .await,
        &revoked,
    );
    assert!(absent(
        s.consume_oidc_refresh_token(&t.token_hash, instant(61))
            .await
    ));
    assert_found(
        ctx,
        s.find_oidc_refresh_token(&t.token_hash).await,
        &revoked,
    );

    let stale = s
        .create_oidc_refresh_token(b::oidc_refresh_token("rp", &u.id).expiring(100))
        .await
        .unwrap();
    assert!(absent(
        s.consume_oidc_refresh_token(&stale.token_hash, instant(5000))
            .await
    ));
    assert!(!existing(s.find_oidc_refresh_token(&stale.token_hash).await).revoked);

    s.create_oidc_refresh_token(b::oidc_refresh_token("rp", &u.id))
        .await
        .unwrap();
    let theirs = s
        .create_oidc_refresh_token(b::oidc_refresh_token("rp", &v.id))
        .await
        .unwrap();
    assert_eq!(ok(s.revoke_oidc_refresh_tokens_by_user(&u.id).await), 2);
    assert_eq!(ok(s.revoke_oidc_refresh_tokens_by_user(&u.id).await), 0);
    assert!(!existing(s.find_oidc_refresh_token(&theirs.token_hash).await).revoked);

    assert_eq!(
        ok(s.purge_expired_oidc_refresh_tokens(instant(5000)).await),
        1
    );
    assert!(absent(s.find_oidc_refresh_token(&stale.token_hash).await));
    assert!(present(s.find_oidc_refresh_token(&t.token_hash).await));
}
