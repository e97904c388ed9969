//! Domain operations: passkeys (`PasskeyStore`), TOTP (`TotpStore`),
//! trusted devices (`TrustedDeviceStore`), API keys (`ApiKeyStore`),
//! username accounts (`UsernameAccountStore`), login history
//! (`LoginHistoryStore`) and single-use verification values
//! (`OneTimeTokenStore`, `MagicLinkStore`, `OtpStore`).

use std::future::Future;

use kavach_store_core::prelude::*;
use serde_json::json;

use super::builders::{self as b, Created, Expires};
use super::support::{
    absent, assert_conflict, assert_found, assert_instant, assert_not_found, assert_reference,
    assert_returns, assert_same, existing, keys, keys_of, ok, present,
};
use crate::Ctx;
use crate::fixtures::instant;

/// Passkey credentials: unique credential id, lookups by row id and
/// credential id, a user's credentials oldest first, patch (`NotFound` when
/// missing), delete only by the owning user (0 or 1).
pub async fn passkey_credential_operations(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let v = b::seed_user(s).await;
    let late = s
        .create_passkey_credential(b::passkey_credential(&u.id).created(10))
        .await
        .expect("create");
    let early = s
        .create_passkey_credential(PasskeyCredential {
            device_name: None,
            transports: None,
            ..b::passkey_credential(&u.id)
        })
        .await
        .unwrap();
    let theirs = s
        .create_passkey_credential(b::passkey_credential(&v.id))
        .await
        .unwrap();
    assert_conflict(
        s.create_passkey_credential(PasskeyCredential {
            credential_id: late.credential_id.clone(),
            ..b::passkey_credential(&v.id)
        })
        .await,
    );
    assert_reference(
        s.create_passkey_credential(b::passkey_credential("usr_missing"))
            .await,
    );

    assert_found(ctx, s.get_passkey_credential(&early.id).await, &early);
    assert_found(
        ctx,
        s.find_passkey_credential_by_credential_id(&late.credential_id)
            .await,
        &late,
    );
    assert!(absent(s.get_passkey_credential("pk_missing").await));
    assert!(absent(
        s.find_passkey_credential_by_credential_id("no-such-cred")
            .await
    ));
    assert_eq!(
        keys(&ok(s.list_passkey_credentials_by_user(&u.id).await)),
        keys_of(&[&early, &late])
    );

    let patch = PasskeyCredentialPatch {
        device_name: Some(None),
        transports: Some(Some(r#"["usb","nfc"]"#.into())),
        ..Default::default()
    };
    let want = PasskeyCredential {
        device_name: None,
        transports: Some(r#"["usb","nfc"]"#.into()),
        ..late.clone()
    };
    assert_returns(
        ctx,
        s.update_passkey_credential(&late.id, &patch).await,
        &want,
    );
    assert_not_found(s.update_passkey_credential("pk_missing", &patch).await);

    assert_eq!(
        s.delete_passkey_credential(&late.credential_id, &v.id)
            .await
            .unwrap(),
        0,
        "not v's credential"
    );
    assert!(present(s.get_passkey_credential(&late.id).await));
    assert_eq!(
        s.delete_passkey_credential(&late.credential_id, &u.id)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.delete_passkey_credential(&late.credential_id, &u.id)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        keys(&ok(s.list_passkey_credentials_by_user(&u.id).await)),
        keys_of(&[&early])
    );
    assert_eq!(
        keys(&ok(s.list_passkey_credentials_by_user(&v.id).await)),
        keys_of(&[&theirs])
    );
}

/// `advance_passkey_counter` writes a strictly greater counter (or 0 again
/// for counter-less authenticators) with `last_used_at`, and refuses
/// anything else (a possible clone) without touching the row.
pub async fn passkey_counter_only_advances(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let c = s
        .create_passkey_credential(b::passkey_credential(&u.id))
        .await
        .unwrap();
    let got = existing(
        s.advance_passkey_counter(&c.credential_id, 0, instant(10))
            .await,
    );
    assert_same(
        ctx,
        &got,
        &PasskeyCredential {
            last_used_at: instant(10),
            ..c.clone()
        },
    );
    let got = existing(
        s.advance_passkey_counter(&c.credential_id, 5, instant(20))
            .await,
    );
    let at5 = PasskeyCredential {
        counter: 5,
        last_used_at: instant(20),
        ..c.clone()
    };
    assert_same(ctx, &got, &at5);
    for refused in [5, 3, 0] {
        assert!(
            absent(
                s.advance_passkey_counter(&c.credential_id, refused, instant(30))
                    .await
            ),
            "counter {refused} after 5 must be refused"
        );
    }
    assert_found(ctx, s.get_passkey_credential(&c.id).await, &at5);
    let got = existing(
        s.advance_passkey_counter(&c.credential_id, 6, instant(40))
            .await,
    );
    assert_eq!(got.counter, 6);
    assert_instant::<PasskeyCredential>(ctx, "last_used_at", got.last_used_at, instant(40));
    assert!(absent(
        s.advance_passkey_counter("no-such-cred", 7, instant(50))
            .await
    ));
}

/// Passkey challenges are consumed once while live; an expired challenge is
/// deleted without being returned; the expiry purge counts what it deletes.
pub async fn passkey_challenge_consume_and_purge(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let ch = s
        .create_passkey_challenge(PasskeyChallenge {
            r#type: ChallengeType::Registration,
            ..b::passkey_challenge(Some(&u.id))
        })
        .await
        .expect("create");
    assert_conflict(
        s.create_passkey_challenge(PasskeyChallenge {
            challenge: ch.challenge.clone(),
            ..b::passkey_challenge(None)
        })
        .await,
    );
    assert_found(
        ctx,
        s.consume_passkey_challenge(&ch.challenge, instant(60))
            .await,
        &ch,
    );
    assert!(absent(
        s.consume_passkey_challenge(&ch.challenge, instant(61))
            .await
    ));

    let stale = ok(s.create_passkey_challenge(b::passkey_challenge(None)).await);
    assert!(absent(
        s.consume_passkey_challenge(&stale.challenge, instant(5000))
            .await
    ));
    assert!(
        absent(
            s.consume_passkey_challenge(&stale.challenge, instant(60))
                .await
        ),
        "deleted when found expired"
    );
    assert!(absent(
        s.consume_passkey_challenge("no-such-challenge", instant(60))
            .await
    ));

    let old = ok(s.create_passkey_challenge(b::passkey_challenge(None)).await);
    let young = s
        .create_passkey_challenge(b::passkey_challenge(None).expiring(10_000))
        .await
        .unwrap();
    assert_eq!(
        ok(s.purge_expired_passkey_challenges(instant(5000)).await),
        1
    );
    assert!(absent(
        s.consume_passkey_challenge(&old.challenge, instant(60))
            .await
    ));
    assert!(present(
        s.consume_passkey_challenge(&young.challenge, instant(60))
            .await
    ));
}

/// TOTP: the upsert creates, then replaces secret, flag, backup codes and
/// `updated_at` (keeping `created_at`); patch and delete are `NotFound`
/// when the user has none.
pub async fn totp_operations(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    assert!(absent(s.get_totp(&u.id).await));
    let first = b::totp(&u.id);
    assert_returns(ctx, s.upsert_totp(first.clone()).await, &first);
    let second = Totp {
        secret: "KRSXG5CTMVRXEZLU".into(),
        enabled: true,
        backup_codes: json!(["h3"]),
        created_at: instant(50),
        updated_at: instant(50),
        ..first.clone()
    };
    let want = Totp {
        created_at: first.created_at,
        ..second.clone()
    };
    assert_returns(ctx, s.upsert_totp(second).await, &want);
    assert_found(ctx, s.get_totp(&u.id).await, &want);

    let patch = TotpPatch {
        enabled: Some(false),
        backup_codes: Some(json!([])),
        ..Default::default()
    };
    let want = Totp {
        enabled: false,
        backup_codes: json!([]),
        ..want
    };
    assert_returns(ctx, s.update_totp(&u.id, &patch).await, &want);
    assert_not_found(s.update_totp("usr_missing", &patch).await);
    assert_reference(s.upsert_totp(b::totp("usr_missing")).await);

    ok(s.delete_totp(&u.id).await);
    assert!(absent(s.get_totp(&u.id).await));
    assert_not_found(s.delete_totp(&u.id).await);
}

/// Trusted devices: longest-trusted first, lookup of an unexpired device by
/// user and fingerprint, patch, delete one (`NotFound` when missing) or all
/// of a user, and the expiry purge.
pub async fn trusted_device_operations(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let v = b::seed_user(s).await;
    let d2 = s
        .create_trusted_device(TrustedDevice {
            trusted_at: instant(20),
            ..b::trusted_device(&u.id, "fp-b")
        })
        .await
        .expect("create");
    let d0 = s
        .create_trusted_device(b::trusted_device(&u.id, "fp-a"))
        .await
        .unwrap();
    let d1 = s
        .create_trusted_device(TrustedDevice {
            trusted_at: instant(10),
            expires_at: instant(100),
            ..b::trusted_device(&u.id, "fp-c")
        })
        .await
        .unwrap();
    let theirs = s
        .create_trusted_device(b::trusted_device(&v.id, "fp-a"))
        .await
        .unwrap();
    assert_eq!(
        keys(&ok(s.list_trusted_devices_by_user(&u.id).await)),
        keys_of(&[&d0, &d1, &d2])
    );

    assert_found(
        ctx,
        s.find_trusted_device(&u.id, "fp-a", instant(60)).await,
        &d0,
    );
    assert_found(
        ctx,
        s.find_trusted_device(&v.id, "fp-a", instant(60)).await,
        &theirs,
    );
    assert!(present(
        s.find_trusted_device(&u.id, "fp-c", instant(60)).await
    ));
    assert!(
        absent(s.find_trusted_device(&u.id, "fp-c", instant(5000)).await),
        "expired"
    );
    assert!(absent(
        s.find_trusted_device(&u.id, "fp-z", instant(60)).await
    ));

    let patch = TrustedDevicePatch {
        label: Some("renamed".into()),
        expires_at: Some(instant(200_000)),
        ..Default::default()
    };
    let want = TrustedDevice {
        label: "renamed".into(),
        expires_at: instant(200_000),
        ..d1.clone()
    };
    assert_returns(ctx, s.update_trusted_device(&d1.id, &patch).await, &want);
    assert!(present(
        s.find_trusted_device(&u.id, "fp-c", instant(5000)).await
    ));
    assert_not_found(s.update_trusted_device("dev_missing", &patch).await);

    ok(s.delete_trusted_device(&d2.id).await);
    assert_not_found(s.delete_trusted_device(&d2.id).await);
    assert_eq!(ok(s.delete_trusted_devices_by_user(&u.id).await), 2);
    assert_eq!(ok(s.delete_trusted_devices_by_user(&u.id).await), 0);

    s.create_trusted_device(b::trusted_device(&v.id, "fp-old").expiring(100))
        .await
        .unwrap();
    assert_eq!(ok(s.purge_expired_trusted_devices(instant(5000)).await), 1);
    assert_eq!(
        keys(&ok(s.list_trusted_devices_by_user(&v.id).await)),
        keys_of(&[&theirs])
    );
}

/// API keys: unique hash, lookups by id and hash (expired too), a user's
/// keys newest first, `update_api_key_last_used` and `update_api_key`
/// (`NotFound` when missing).
pub async fn api_key_operations(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let v = b::seed_user(s).await;
    let k1 = ok(s.create_api_key(b::api_key(&u.id)).await);
    let k2 = s
        .create_api_key(b::api_key(&u.id).created(10).expiring(100))
        .await
        .unwrap();
    let kv = ok(s.create_api_key(b::api_key(&v.id)).await);
    assert_conflict(
        s.create_api_key(ApiKey {
            key_hash: k1.key_hash.clone(),
            ..b::api_key(&v.id)
        })
        .await,
    );
    assert_reference(s.create_api_key(b::api_key("usr_missing")).await);

    assert_found(ctx, s.get_api_key(&k2.id).await, &k2);
    assert_found(ctx, s.find_api_key_by_hash(&k2.key_hash).await, &k2);
    assert!(absent(s.get_api_key("key_missing").await));
    assert!(absent(s.find_api_key_by_hash("no-such-hash").await));
    assert_eq!(
        keys(&ok(s.list_api_keys_by_user(&u.id).await)),
        keys_of(&[&k2, &k1])
    );
    assert_eq!(
        keys(&ok(s.list_api_keys_by_user(&v.id).await)),
        keys_of(&[&kv])
    );

    ok(s.update_api_key_last_used(&k1.id, instant(70)).await);
    let touched = ApiKey {
        last_used_at: Some(instant(70)),
        ..k1.clone()
    };
    assert_found(ctx, s.get_api_key(&k1.id).await, &touched);
    assert_not_found(s.update_api_key_last_used("key_missing", instant(70)).await);

    let patch = ApiKeyPatch {
        name: Some("deploy".into()),
        permissions: Some(vec!["agents:read".into(), "agents:write".into()]),
        expires_at: Some(Some(instant(9000))),
        ..Default::default()
    };
    let want = ApiKey {
        name: "deploy".into(),
        permissions: vec!["agents:read".into(), "agents:write".into()],
        expires_at: Some(instant(9000)),
        ..touched
    };
    assert_returns(ctx, s.update_api_key(&k1.id, &patch).await, &want);
    assert_not_found(s.update_api_key("key_missing", &patch).await);
}

/// `rotate_api_key` replaces a key in one step (`NotFound` and nothing
/// created when the old key is missing); delete one (`NotFound` when
/// missing) or all of a user; the purge spares keys without expiry.
pub async fn api_key_rotate_delete_and_purge(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let old = ok(s.create_api_key(b::api_key(&u.id)).await);
    let new = b::api_key(&u.id).created(30);
    assert_returns(ctx, s.rotate_api_key(&old.id, new.clone()).await, &new);
    assert!(absent(s.get_api_key(&old.id).await));
    assert!(absent(s.find_api_key_by_hash(&old.key_hash).await));
    assert_found(ctx, s.find_api_key_by_hash(&new.key_hash).await, &new);
    let orphan = b::api_key(&u.id);
    assert_not_found(s.rotate_api_key(&old.id, orphan.clone()).await);
    assert!(absent(s.get_api_key(&orphan.id).await), "nothing created");

    ok(s.delete_api_key(&new.id).await);
    assert_not_found(s.delete_api_key(&new.id).await);
    for _ in 0..3 {
        ok(s.create_api_key(b::api_key(&u.id)).await);
    }
    assert_eq!(ok(s.delete_api_keys_by_user(&u.id).await), 3);
    assert_eq!(ok(s.delete_api_keys_by_user(&u.id).await), 0);

    let due = ok(s.create_api_key(b::api_key(&u.id).expiring(100)).await);
    let later = ok(s.create_api_key(b::api_key(&u.id).expiring(10_000)).await);
    let never = ok(s.create_api_key(b::api_key(&u.id)).await);
    assert_eq!(ok(s.purge_expired_api_keys(instant(5000)).await), 1);
    assert!(absent(s.get_api_key(&due.id).await));
    assert_eq!(keys(&ok(s.list_api_keys_by_user(&u.id).await)).len(), 2);
    assert!(present(s.get_api_key(&later.id).await));
    assert!(present(s.get_api_key(&never.id).await));
}

/// Username accounts: unique username, lookups by username and by user,
/// patch and delete (`NotFound` when missing), and `sign_up_with_username`
/// storing user and account together (neither when the username is taken).
pub async fn username_account_operations(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let acc = s
        .create_username_account(b::username_account(&u.id, "ada"))
        .await
        .expect("create");
    assert_conflict(
        s.create_username_account(b::username_account(&u.id, "ada"))
            .await,
    );
    assert_reference(
        s.create_username_account(b::username_account("usr_missing", "nobody"))
            .await,
    );
    assert_found(ctx, s.find_username_account_by_username("ada").await, &acc);
    assert_found(ctx, s.find_username_account_by_user(&u.id).await, &acc);
    assert!(
        absent(s.find_username_account_by_username("ADA").await),
        "exact match"
    );
    assert!(absent(s.find_username_account_by_user("usr_missing").await));

    let patch = UsernameAccountPatch {
        username: Some("ada2".into()),
        password_hash: Some("$argon2id$new".into()),
        updated_at: Some(instant(30)),
        ..Default::default()
    };
    let want = UsernameAccount {
        username: "ada2".into(),
        password_hash: "$argon2id$new".into(),
        updated_at: instant(30),
        ..acc.clone()
    };
    assert_returns(ctx, s.update_username_account(&acc.id, &patch).await, &want);
    assert!(absent(s.find_username_account_by_username("ada").await));
    assert_not_found(s.update_username_account("una_missing", &patch).await);

    let user = User {
        email: "grace@username.local".into(),
        ..b::user()
    };
    let account = b::username_account(&user.id, "grace");
    let (got_user, got_account) = ok(s.sign_up_with_username(user.clone(), account.clone()).await);
    assert_same(ctx, &got_user, &user);
    assert_same(ctx, &got_account, &account);
    assert_found(
        ctx,
        s.find_username_account_by_username("grace").await,
        &account,
    );
    let late = b::user();
    assert_conflict(
        s.sign_up_with_username(late.clone(), b::username_account(&late.id, "grace"))
            .await,
    );
    assert!(
        absent(s.get_user(&late.id).await),
        "the user is not created either"
    );

    ok(s.delete_username_account(&acc.id).await);
    assert!(absent(s.find_username_account_by_user(&u.id).await));
    assert_not_found(s.delete_username_account(&acc.id).await);
}

/// `record_login` keeps the user's newest `keep` entries and returns how
/// many older ones it pruned (possibly the new one itself); `last_login`,
/// one page of history, and deleting a user's history.
pub async fn login_history_record_and_prune(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let v = b::seed_user(s).await;
    let mut kept = Vec::new();
    for at in [0, 2, 4] {
        let entry = b::login(&u.id, at);
        assert_eq!(ok(s.record_login(entry.clone(), 3).await), 0);
        kept.insert(0, entry);
    }
    let theirs = b::login(&v.id, 1);
    assert_eq!(ok(s.record_login(theirs.clone(), 3).await), 0);
    let newest = LoginHistory {
        method: "magic-link".into(),
        ip: None,
        ..b::login(&u.id, 6)
    };
    assert_eq!(
        ok(s.record_login(newest.clone(), 3).await),
        1,
        "the entry at 0 s is pruned"
    );
    kept.insert(0, newest.clone());
    kept.pop();
    // Older than every kept entry: it is pruned right away.
    assert_eq!(ok(s.record_login(b::login(&u.id, 1), 3).await), 1);

    assert_found(ctx, s.last_login(&u.id).await, &newest);
    assert!(absent(s.last_login("usr_missing").await));
    let page = ok(s.list_login_history(&u.id, &PageRequest::default()).await);
    assert_eq!(keys(&page.items), keys(&kept));
    assert!(page.next.is_none());
    assert_found(ctx, s.last_login(&v.id).await, &theirs);

    assert_eq!(
        ok(s.record_login(b::login(&u.id, 8), 10).await),
        0,
        "a larger keep prunes nothing"
    );
    assert_eq!(ok(s.delete_login_history_by_user(&u.id).await), 4);
    assert!(absent(s.last_login(&u.id).await));
    assert_eq!(ok(s.delete_login_history_by_user(&u.id).await), 0);
    assert!(present(s.last_login(&v.id).await));
}

/// One-time tokens: find (used too), consume once (right purpose or any,
/// never expired), revoke an identifier's live tokens (per purpose or
/// all), and the expiry purge.
pub async fn one_time_token_operations(ctx: &Ctx) {
    let s = ctx.store();
    let reset = s
        .create_one_time_token(b::one_time_token(
            "a@example.com",
            TokenPurpose::PasswordReset,
        ))
        .await
        .expect("create");
    assert_conflict(
        s.create_one_time_token(OneTimeToken {
            token_hash: reset.token_hash.clone(),
            ..b::one_time_token("b@example.com", TokenPurpose::Custom)
        })
        .await,
    );
    assert_found(ctx, s.find_one_time_token(&reset.token_hash).await, &reset);
    assert!(absent(s.find_one_time_token("no-such-hash").await));

    assert!(
        absent(
            s.consume_one_time_token(
                &reset.token_hash,
                Some(TokenPurpose::EmailVerify),
                instant(60)
            )
            .await
        ),
        "wrong purpose"
    );
    let used = OneTimeToken {
        used: true,
        ..reset.clone()
    };
    let got = s
        .consume_one_time_token(
            &reset.token_hash,
            Some(TokenPurpose::PasswordReset),
            instant(60),
        )
        .await
        .unwrap();
    assert_same(ctx, &got.expect("right purpose"), &used);
    assert!(absent(
        s.consume_one_time_token(&reset.token_hash, None, instant(61))
            .await
    ));
    assert_found(ctx, s.find_one_time_token(&reset.token_hash).await, &used);

    let any = s
        .create_one_time_token(OneTimeToken {
            metadata: Some(json!({"orgId": "org_1"})),
            ..b::one_time_token("a@example.com", TokenPurpose::Invitation)
        })
        .await
        .unwrap();
    assert!(
        present(
            s.consume_one_time_token(&any.token_hash, None, instant(60))
                .await
        ),
        "no purpose check"
    );
    let stale = s
        .create_one_time_token(
            b::one_time_token("a@example.com", TokenPurpose::EmailVerify).expiring(100),
        )
        .await
        .unwrap();
    assert!(absent(
        s.consume_one_time_token(&stale.token_hash, None, instant(5000))
            .await
    ));
    assert!(!existing(s.find_one_time_token(&stale.token_hash).await).used);

    let v1 = s
        .create_one_time_token(b::one_time_token(
            "a@example.com",
            TokenPurpose::EmailVerify,
        ))
        .await
        .unwrap();
    let v2 = s
        .create_one_time_token(b::one_time_token(
            "a@example.com",
            TokenPurpose::EmailVerify,
        ))
        .await
        .unwrap();
    let r1 = s
        .create_one_time_token(b::one_time_token(
            "a@example.com",
            TokenPurpose::PasswordReset,
        ))
        .await
        .unwrap();
    let other = s
        .create_one_time_token(b::one_time_token(
            "b@example.com",
            TokenPurpose::EmailVerify,
        ))
        .await
        .unwrap();
    // Live, unused email-verify tokens of a@: v1, v2 and stale (alive at 60 s).
    assert_eq!(
        s.revoke_one_time_tokens(
            "a@example.com",
            Some(TokenPurpose::EmailVerify),
            instant(60)
        )
        .await
        .unwrap(),
        3
    );
    for t in [&v1, &v2, &stale] {
        assert!(existing(s.find_one_time_token(&t.token_hash).await).used);
    }
    assert!(!existing(s.find_one_time_token(&r1.token_hash).await).used);
    assert_eq!(
        s.revoke_one_time_tokens("a@example.com", None, instant(60))
            .await
            .unwrap(),
        1
    );
    assert!(existing(s.find_one_time_token(&r1.token_hash).await).used);
    assert!(!existing(s.find_one_time_token(&other.token_hash).await).used);
    assert_eq!(
        s.revoke_one_time_tokens("a@example.com", None, instant(60))
            .await
            .unwrap(),
        0
    );

    let young = s
        .create_one_time_token(
            b::one_time_token("c@example.com", TokenPurpose::Custom).expiring(10_000),
        )
        .await
        .unwrap();
    // Everything but `young` expires (at 100 s or 3600 s) before 5000 s.
    assert_eq!(ok(s.purge_expired_one_time_tokens(instant(5000)).await), 7);
    assert!(present(s.find_one_time_token(&young.token_hash).await));
    assert!(absent(s.find_one_time_token(&reset.token_hash).await));
}

/// Magic links: find (used too), consume once while live, delete all links
/// of an email, the expiry purge.
pub async fn magic_link_operations(ctx: &Ctx) {
    let s = ctx.store();
    let link = ok(s.create_magic_link(b::magic_link("a@example.com")).await);
    assert_conflict(
        s.create_magic_link(MagicLink {
            token: link.token.clone(),
            ..b::magic_link("b@example.com")
        })
        .await,
    );
    assert_found(ctx, s.find_magic_link(&link.token).await, &link);
    assert!(absent(s.find_magic_link("no-such-token").await));

    let used = MagicLink {
        used: true,
        ..link.clone()
    };
    assert_found(
        ctx,
        s.consume_magic_link(&link.token, instant(60)).await,
        &used,
    );
    assert!(absent(s.consume_magic_link(&link.token, instant(61)).await));
    assert_found(ctx, s.find_magic_link(&link.token).await, &used);
    let stale = ok(s.create_magic_link(b::magic_link("a@example.com")).await);
    assert!(absent(
        s.consume_magic_link(&stale.token, instant(5000)).await
    ));
    assert!(!existing(s.find_magic_link(&stale.token).await).used);
    assert!(absent(
        s.consume_magic_link("no-such-token", instant(60)).await
    ));

    let other = s
        .create_magic_link(b::magic_link("b@example.com").expiring(10_000))
        .await
        .unwrap();
    ok(s.create_magic_link(b::magic_link("c@example.com")).await);
    assert_eq!(ok(s.delete_magic_links_by_email("a@example.com").await), 2);
    assert_eq!(ok(s.delete_magic_links_by_email("a@example.com").await), 0);
    assert_eq!(ok(s.purge_expired_magic_links(instant(5000)).await), 1);
    assert!(present(s.find_magic_link(&other.token).await));
}

/// Guesses against a code allowing `bound` attempts: `attempt()` counts
/// 1..=`bound` (as `attempts` reads them), then answers `None`.
async fn assert_attempts_up_to<T, Fut>(
    bound: i64,
    attempt: impl Fn() -> Fut,
    attempts: impl Fn(&T) -> i64,
) where
    Fut: Future<Output = Result<Option<T>>>,
{
    for n in 1..=bound {
        assert_eq!(attempts(&existing(attempt().await)), n);
    }
    assert!(absent(attempt().await), "bound reached");
}

/// Email codes: `replace_email_otp` drops the email's older codes,
/// `find_email_otp` returns the live code, attempts are counted up to the
/// bound and then refused, delete reports whether the code was still there,
/// and the expiry purge.
pub async fn email_otp_operations(ctx: &Ctx) {
    let s = ctx.store();
    let first = ok(s.replace_email_otp(b::email_otp("a@example.com")).await);
    let theirs = ok(s.replace_email_otp(b::email_otp("b@example.com")).await);
    assert_found(
        ctx,
        s.find_email_otp("a@example.com", instant(60)).await,
        &first,
    );
    let second = b::email_otp("a@example.com").created(10);
    assert_returns(ctx, s.replace_email_otp(second.clone()).await, &second);
    assert_found(
        ctx,
        s.find_email_otp("a@example.com", instant(60)).await,
        &second,
    );
    assert!(
        absent(s.record_email_otp_attempt(&first.id, 3).await),
        "the old code is gone"
    );
    assert!(
        absent(s.find_email_otp("a@example.com", instant(5000)).await),
        "expired"
    );
    assert!(absent(s.find_email_otp("c@example.com", instant(60)).await));

    let attempt = || s.record_email_otp_attempt(&second.id, 3);
    assert_attempts_up_to(3, attempt, |o: &EmailOtp| o.attempts).await;
    assert_eq!(
        existing(s.find_email_otp("a@example.com", instant(60)).await).attempts,
        3
    );
    assert_eq!(
        ok(s.record_email_otp_attempt(&second.id, 5).await).map(|o| o.attempts),
        Some(4)
    );
    assert!(absent(s.record_email_otp_attempt("eotp_missing", 3).await));

    assert!(ok(s.delete_email_otp(&second.id).await));
    assert!(!ok(s.delete_email_otp(&second.id).await));
    s.replace_email_otp(b::email_otp("c@example.com").expiring(10_000))
        .await
        .unwrap();
    assert_eq!(ok(s.purge_expired_email_otps(instant(5000)).await), 1);
    assert!(absent(s.find_email_otp("b@example.com", instant(60)).await));
    assert!(!ok(s.delete_email_otp(&theirs.id).await));
    assert!(present(
        s.find_email_otp("c@example.com", instant(5000)).await
    ));
}

/// Phone codes: the same replace / find / bounded attempts / delete / purge
/// semantics as email codes.
pub async fn phone_verification_operations(ctx: &Ctx) {
    let s = ctx.store();
    let first = s
        .replace_phone_verification(b::phone_verification("+15550100"))
        .await
        .expect("create");
    let theirs = s
        .replace_phone_verification(b::phone_verification("+15550199"))
        .await
        .unwrap();
    let second = b::phone_verification("+15550100").created(10);
    assert_returns(
        ctx,
        s.replace_phone_verification(second.clone()).await,
        &second,
    );
    assert_found(
        ctx,
        s.find_phone_verification("+15550100", instant(60)).await,
        &second,
    );
    assert!(
        absent(s.record_phone_verification_attempt(&first.id, 3).await),
        "the old code is gone"
    );
    assert!(
        absent(s.find_phone_verification("+15550100", instant(5000)).await),
        "expired"
    );
    assert!(absent(
        s.find_phone_verification("+15550111", instant(60)).await
    ));

    let attempt = || s.record_phone_verification_attempt(&second.id, 2);
    assert_attempts_up_to(2, attempt, |p: &PhoneVerification| p.attempts).await;
    assert_eq!(
        existing(s.find_phone_verification("+15550100", instant(60)).await).attempts,
        2
    );
    assert!(absent(
        s.record_phone_verification_attempt("pv_missing", 3).await
    ));

    assert!(ok(s.delete_phone_verification(&second.id).await));
    assert!(!ok(s.delete_phone_verification(&second.id).await));
    s.replace_phone_verification(b::phone_verification("+15550123").expiring(10_000))
        .await
        .unwrap();
    assert_eq!(
        ok(s.purge_expired_phone_verifications(instant(5000)).await),
        1
    );
    assert!(!ok(s.delete_phone_verification(&theirs.id).await));
    assert!(present(
        s.find_phone_verification("+15550123", instant(5000)).await
    ));
}
