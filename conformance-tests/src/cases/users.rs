//! Domain operations: users (`UserStore`) and tenants (`TenantStore`).

use kavach_store_core::prelude::*;
use serde_json::json;

use super::builders::{self as b, Created};
use super::support::{
    absent, assert_conflict, assert_deletion_report, assert_found, assert_not_found,
    assert_reference, assert_returns, assert_same, existing, keys, keys_of, ok, present,
};
use crate::Ctx;
use crate::fixtures::{id, instant};

/// Every user lookup (id, email, username, Stripe and Polar customer) finds
/// the stored row, and an unknown key gives `None`, not an error.
pub async fn user_lookups_find_the_stored_row(ctx: &Ctx) {
    let s = ctx.store();
    let want = User {
        username: Some("ada".into()),
        name: Some("Ada Lovelace".into()),
        external_id: Some("ext-1".into()),
        external_provider: Some("scim".into()),
        metadata: Some(json!({"plan": "pro"})),
        banned: true,
        ban_reason: Some("spam".into()),
        ban_expires_at: Some(instant(7200)),
        email_verified: true,
        stripe_customer_id: Some("cus_ada".into()),
        stripe_subscription_status: Some("active".into()),
        stripe_current_period_end: Some(instant(86_400)),
        polar_customer_id: Some("pol_ada".into()),
        polar_cancel_at_period_end: true,
        ..b::user()
    };
    let other = b::seed_user(s).await;
    let created = ok(s.create_user(want.clone()).await);
    assert_same(ctx, &created, &want);

    let got = existing(s.get_user(&want.id).await);
    assert_same(ctx, &got, &want);
    for found in [
        s.find_user_by_email(&want.email).await,
        s.find_user_by_username("ada").await,
        s.find_user_by_stripe_customer_id("cus_ada").await,
        s.find_user_by_polar_customer_id("pol_ada").await,
    ] {
        assert_same(ctx, &found.expect("lookup").expect("found"), &want);
    }
    assert_eq!(
        ok(s.get_user(&other.id).await).map(|u| u.id),
        Some(other.id.clone())
    );

    assert!(absent(s.get_user("usr_missing").await));
    assert!(absent(s.find_user_by_email("missing@example.com").await));
    // Exact, case-sensitive as stored (KavachOS lower-cases before calling).
    assert!(absent(
        s.find_user_by_email(&want.email.to_uppercase()).await
    ));
    assert!(absent(s.find_user_by_username("ADA").await));
    assert!(absent(s.find_user_by_username("nobody").await));
    assert!(absent(s.find_user_by_stripe_customer_id("cus_none").await));
    assert!(absent(s.find_user_by_polar_customer_id("pol_none").await));
}

/// `create_user` rejects a second user with the same id, email, username or
/// billing customer id with `Conflict`, and stores nothing.
pub async fn user_create_rejects_duplicate_keys(ctx: &Ctx) {
    let s = ctx.store();
    let first = User {
        username: Some("grace".into()),
        stripe_customer_id: Some("cus_1".into()),
        polar_customer_id: Some("pol_1".into()),
        ..b::user()
    };
    ok(s.create_user(first.clone()).await);
    assert_conflict(
        s.create_user(User {
            email: "other@example.com".into(),
            ..first.clone()
        })
        .await,
    );
    assert_conflict(
        s.create_user(User {
            email: first.email.clone(),
            ..b::user()
        })
        .await,
    );
    assert_conflict(
        s.create_user(User {
            username: Some("grace".into()),
            ..b::user()
        })
        .await,
    );
    assert_conflict(
        s.create_user(User {
            stripe_customer_id: Some("cus_1".into()),
            ..b::user()
        })
        .await,
    );
    assert_conflict(
        s.create_user(User {
            polar_customer_id: Some("pol_1".into()),
            ..b::user()
        })
        .await,
    );
    // Several users without a username or customer id are fine (NULLs never collide).
    s.create_user(b::user())
        .await
        .expect("second user without username");
    s.create_user(b::user())
        .await
        .expect("third user without username");
    assert_eq!(ok(s.count_users(&UserFilter::default()).await), 3);
}

/// `list_users`/`count_users`: every filter field, ANDed, oldest first with
/// an id tie-break, and the LIMIT/OFFSET window.
pub async fn user_list_filters_order_and_window(ctx: &Ctx) {
    let s = ctx.store();
    let mk = |id: &str, email: &str, username: Option<&str>, at: i64| User {
        id: id.into(),
        email: email.into(),
        username: username.map(Into::into),
        created_at: instant(at),
        updated_at: instant(at),
        ..User::default()
    };
    // Inserted out of order, so the ordering comes from the query.
    let u4 = mk("usr_d", "dave@example.net", Some("carol@example.com"), 30);
    let u2 = mk("usr_b", "bob@example.org", Some("bobby"), 10);
    let tie_late = mk("usr_f", "frank@example.io", None, 40);
    let u1 = mk("usr_a", "alice@example.com", Some("alice"), 0);
    let tie_early = mk("usr_e", "erin@example.io", None, 40);
    let u3 = mk("usr_c", "carol@example.com", None, 20);
    for u in [&u4, &u2, &tie_late, &u1, &tie_early, &u3] {
        ok(s.create_user(u.clone()).await);
    }
    let all = ["usr_a", "usr_b", "usr_c", "usr_d", "usr_e", "usr_f"];
    let list = |f: UserFilter, limit: Option<u64>, offset: Option<u64>| async move {
        keys(&ok(s.list_users(&f, limit, offset).await))
    };
    assert_eq!(list(UserFilter::default(), None, None).await, all);

    let cases: Vec<(UserFilter, Vec<&str>)> = vec![
        (
            UserFilter {
                email: Some("bob@example.org".into()),
                ..Default::default()
            },
            vec!["usr_b"],
        ),
        (
            UserFilter {
                username: Some("bobby".into()),
                ..Default::default()
            },
            vec!["usr_b"],
        ),
        (
            UserFilter {
                email_or_username: Some("carol@example.com".into()),
                ..Default::default()
            },
            vec!["usr_c", "usr_d"],
        ),
        (
            UserFilter {
                email_like: Some(LikePattern::Contains("EXAMPLE.COM".into())),
                ..Default::default()
            },
            vec!["usr_a", "usr_c"],
        ),
        (
            UserFilter {
                email_like: Some(LikePattern::Prefix("B".into())),
                ..Default::default()
            },
            vec!["usr_b"],
        ),
        (
            UserFilter {
                email_like: Some(LikePattern::Prefix("example".into())),
                ..Default::default()
            },
            vec![],
        ),
        (
            UserFilter {
                username_like: Some(LikePattern::Contains("Ali".into())),
                ..Default::default()
            },
            vec!["usr_a"],
        ),
        (
            UserFilter {
                username_like: Some(LikePattern::Prefix("b".into())),
                ..Default::default()
            },
            vec!["usr_b"],
        ),
        (
            UserFilter {
                created_before: Some(instant(15)),
                ..Default::default()
            },
            vec!["usr_a", "usr_b"],
        ),
        (
            UserFilter {
                ids: Some(vec!["usr_d".into(), "usr_b".into(), "usr_missing".into()]),
                ..Default::default()
            },
            vec!["usr_b", "usr_d"],
        ),
        (
            UserFilter {
                ids: Some(vec![]),
                ..Default::default()
            },
            vec![],
        ),
        (
            UserFilter {
                email_like: Some(LikePattern::Contains("example".into())),
                created_before: Some(instant(25)),
                username_like: Some(LikePattern::Contains("b".into())),
                ..Default::default()
            },
            vec!["usr_b"],
        ),
    ];
    for (filter, want) in cases {
        assert_eq!(
            list(filter.clone(), None, None).await,
            want,
            "list_users({filter:?})"
        );
        assert_eq!(
            ok(s.count_users(&filter).await),
            want.len() as u64,
            "count_users({filter:?})"
        );
    }
    assert_eq!(ok(s.count_users(&UserFilter::default()).await), 6);

    let f = UserFilter::default;
    assert_eq!(list(f(), Some(2), None).await, ["usr_a", "usr_b"]);
    assert_eq!(list(f(), Some(2), Some(1)).await, ["usr_b", "usr_c"]);
    assert_eq!(list(f(), None, Some(4)).await, ["usr_e", "usr_f"]);
    assert_eq!(list(f(), Some(10), Some(6)).await, Vec::<String>::new());
    assert_eq!(list(f(), Some(0), None).await, Vec::<String>::new());
}

/// `update_user` writes exactly the patch (`Some(None)` → NULL, other
/// columns untouched) and returns the updated row; empty patch returns the
/// row; missing → `NotFound`; changing the key → `InvalidInput`.
pub async fn user_update_applies_patch(ctx: &Ctx) {
    let s = ctx.store();
    let before = s
        .create_user(User {
            username: Some("lin".into()),
            name: Some("Lin".into()),
            ..b::user()
        })
        .await
        .unwrap();
    let other = b::seed_user(s).await;
    let patch = UserPatch {
        name: Some(Some("Lin Yu".into())),
        username: Some(None),
        metadata: Some(Some(json!({"scim": {"active": false}}))),
        banned: Some(true),
        ban_expires_at: Some(Some(instant(3600))),
        updated_at: Some(instant(50)),
        ..UserPatch::default()
    };
    let want = User {
        name: Some("Lin Yu".into()),
        username: None,
        metadata: Some(json!({"scim": {"active": false}})),
        banned: true,
        ban_expires_at: Some(instant(3600)),
        updated_at: instant(50),
        ..before.clone()
    };
    assert_returns(ctx, s.update_user(&before.id, &patch).await, &want);
    assert_found(ctx, s.get_user(&before.id).await, &want);
    assert_found(ctx, s.get_user(&other.id).await, &other);
    assert_returns(
        ctx,
        s.update_user(&before.id, &UserPatch::default()).await,
        &want,
    );

    assert_not_found(s.update_user("usr_missing", &patch).await);
    assert_not_found(s.update_user("usr_missing", &UserPatch::default()).await);
    let rekey = UserPatch {
        id: Some(id("usr")),
        ..UserPatch::default()
    };
    match s.update_user(&before.id, &rekey).await {
        Err(e) if e.is_invalid_input() => {}
        other => panic!("changing the key must be InvalidInput, got {other:?}"),
    }
    let steal = UserPatch {
        email: Some(other.email.clone()),
        ..UserPatch::default()
    };
    assert_conflict(s.update_user(&before.id, &steal).await);
    assert_found(ctx, s.get_user(&before.id).await, &want);
}

/// `delete_user` removes the row only: `NotFound` when missing, `Reference`
/// (and nothing deleted) while an agent still names the user.
pub async fn user_delete_removes_row_or_refuses(ctx: &Ctx) {
    let s = ctx.store();
    let lone = b::seed_user(s).await;
    ok(s.delete_user(&lone.id).await);
    assert!(absent(s.get_user(&lone.id).await));
    assert_not_found(s.delete_user(&lone.id).await);

    let (owner, agent) = b::seed_user_agent(s).await;
    assert_reference(s.delete_user(&owner.id).await);
    assert!(present(s.get_user(&owner.id).await));
    assert!(present(s.get_agent(&agent.id).await));
}

/// `delete_user_cascade` removes the user with every row of theirs in
/// every table it documents, reports the counts per table, and leaves other
/// users' rows alone; `NotFound` for an unknown user.
pub async fn user_delete_cascade_removes_everything_of_the_user(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let o = b::seed_user(s).await;
    let a = b::seed_agent(s, &u.id).await;
    let ob = b::seed_agent(s, &o.id).await;

    // The user's agent and what hangs off it.
    ok(s.create_permission(b::permission(&a.id)).await);
    ok(s.increment_rate_limit(&a.id, "tool:x", instant(0)).await);
    s.create_budget_policy(b::budget_policy(Some(&a.id), None))
        .await
        .unwrap();
    ok(s.create_agent_card(b::agent_card(&a.id)).await);
    ok(s.create_approval_request(b::approval(&a.id, &u.id)).await);
    s.upsert_trust_score(b::trust_score(&a.id, 50, TrustLevel::Standard))
        .await
        .unwrap();
    ok(s.create_agent_did(b::agent_did(&a.id)).await);
    ok(s.create_cost_event(b::cost_event(&a.id, 0, 10)).await);
    b::seed_delegation(s, &a.id, &ob.id).await;
    b::seed_delegation(s, &ob.id, &a.id).await;
    s.create_audit_logs(&[
        b::audit(&a.id, &u.id, 0),
        b::audit(&a.id, &u.id, 2),
        b::audit(&ob.id, &u.id, 4),
    ])
    .await
    .unwrap();
    let other_audit = ok(s.create_audit_log(b::audit(&ob.id, &o.id, 6)).await);
    let eph = b::seed_ephemeral(s, &u.id, Some(3)).await;

    // Rows of the user in the other tables.
    for _ in 0..2 {
        ok(s.create_session(b::session(&u.id)).await);
    }
    let other_session = ok(s.create_session(b::session(&o.id)).await);
    let client = b::seed_oauth_client(s).await;
    s.create_oauth_access_token(b::oauth_access_token(&client.client_id, &u.id))
        .await
        .unwrap();
    let other_token = s
        .create_oauth_access_token(b::oauth_access_token(&client.client_id, &o.id))
        .await
        .unwrap();
    s.create_oauth_authorization_code(b::oauth_code(&client.client_id, &u.id))
        .await
        .unwrap();
    ok(s.create_oauth_account(b::oauth_account(&u.id)).await);
    ok(s.create_oidc_auth_code(b::oidc_code("rp", &u.id)).await);
    s.create_oidc_refresh_token(b::oidc_refresh_token("rp", &u.id))
        .await
        .unwrap();
    s.create_budget_policy(b::budget_policy(None, Some(&u.id)))
        .await
        .unwrap();
    ok(s.create_approval_request(b::approval(&ob.id, &u.id)).await);
    // An organization the user owns, with a member from outside.
    let org1 = b::seed_org(s, &u.id).await;
    b::seed_member(s, &org1.id, &u.id, "owner").await;
    b::seed_member(s, &org1.id, &o.id, "member").await;
    b::seed_invitation(s, &org1.id, &u.id, "x@example.com").await;
    ok(s.create_org_role(b::org_role(&org1.id, "auditor")).await);
    s.create_sso_connection(b::sso_connection(&org1.id, "acme.example"))
        .await
        .unwrap();
    // Someone else's organization the user belongs to and invited into.
    let org2 = b::seed_org(s, &o.id).await;
    b::seed_member(s, &org2.id, &u.id, "admin").await;
    let o_member = b::seed_member(s, &org2.id, &o.id, "owner").await;
    b::seed_invitation(s, &org2.id, &u.id, "y@example.com").await;
    let o_invite = b::seed_invitation(s, &org2.id, &o.id, "z@example.com").await;
    s.create_passkey_credential(b::passkey_credential(&u.id))
        .await
        .unwrap();
    s.create_passkey_challenge(b::passkey_challenge(Some(&u.id)))
        .await
        .unwrap();
    let anon_challenge = ok(s.create_passkey_challenge(b::passkey_challenge(None)).await);
    ok(s.upsert_totp(b::totp(&u.id)).await);
    ok(s.create_api_key(b::api_key(&u.id)).await);
    let other_key = ok(s.create_api_key(b::api_key(&o.id)).await);
    ok(s.create_magic_link(b::magic_link(&u.email)).await);
    let other_link = ok(s.create_magic_link(b::magic_link(&o.email)).await);
    ok(s.replace_email_otp(b::email_otp(&u.email)).await);
    s.create_one_time_token(b::one_time_token(&u.id, TokenPurpose::PasswordReset))
        .await
        .unwrap();
    s.create_one_time_token(b::one_time_token(&u.email, TokenPurpose::EmailVerify))
        .await
        .unwrap();
    let other_ott = s
        .create_one_time_token(b::one_time_token(&o.id, TokenPurpose::PasswordReset))
        .await
        .unwrap();
    s.create_stream_event(StreamEvent {
        user_id: Some(u.id.clone()),
        ..b::stream_event("login", 0)
    })
    .await
    .unwrap();
    s.create_stream_event(StreamEvent {
        user_id: Some(o.id.clone()),
        ..b::stream_event("login", 2)
    })
    .await
    .unwrap();
    s.create_username_account(b::username_account(&u.id, "ulogin"))
        .await
        .unwrap();
    s.create_trusted_device(b::trusted_device(&u.id, "fp"))
        .await
        .unwrap();
    ok(s.record_login(b::login(&u.id, 0), 10).await);
    ok(s.record_login(b::login(&u.id, 2), 10).await);
    s.create_jwt_refresh_token(b::jwt_refresh_token(&u.id))
        .await
        .unwrap();
    let fam = b::seed_token_family(s, &u.id).await;
    ok(s.create_refresh_token(b::refresh_token(&fam.id)).await);
    ok(s.create_refresh_token(b::refresh_token(&fam.id)).await);
    let other_fam = b::seed_token_family(s, &o.id).await;
    let other_rt = b::seed_refresh_token(s, &other_fam.id).await;

    let report = ok(s.delete_user_cascade(&u.id).await);
    assert_deletion_report(
        &report,
        &[
            ("kavach_agents", 2),
            ("kavach_permissions", 1),
            ("kavach_rate_limits", 1),
            ("kavach_budget_policies", 2),
            ("kavach_agent_cards", 1),
            ("kavach_approval_requests", 2),
            ("kavach_trust_scores", 1),
            ("kavach_agent_dids", 1),
            ("kavach_cost_events", 1),
            ("kavach_delegation_chains", 2),
            ("kavach_audit_logs", 3),
            ("kavach_ephemeral_sessions", 1),
            ("kavach_sessions", 2),
            ("kavach_oauth_access_tokens", 1),
            ("kavach_oauth_authorization_codes", 1),
            ("kavach_oauth_accounts", 1),
            ("kavach_oidc_auth_codes", 1),
            ("kavach_oidc_refresh_tokens", 1),
            ("kavach_organizations", 1),
            ("kavach_org_members", 3),
            ("kavach_org_invitations", 2),
            ("kavach_org_roles", 1),
            ("kavach_sso_connections", 1),
            ("kavach_passkey_credentials", 1),
            ("kavach_passkey_challenges", 1),
            ("kavach_totp", 1),
            ("kavach_api_keys", 1),
            ("kavach_magic_links", 1),
            ("kavach_email_otps", 1),
            ("kavach_one_time_tokens", 2),
            ("kavach_stream_events", 1),
            ("kavach_username_accounts", 1),
            ("kavach_trusted_devices", 1),
            ("kavach_login_history", 2),
            ("kavach_jwt_refresh_tokens", 1),
            ("kavach_refresh_tokens", 2),
            ("kavach_refresh_token_families", 1),
            ("kavach_users", 1),
        ],
    );

    // The user's rows are gone …
    assert!(absent(s.get_user(&u.id).await));
    assert!(absent(s.get_agent(&a.id).await));
    assert!(absent(s.get_agent(&eph.agent_id).await));
    assert!(ok(s.list_sessions_by_user(&u.id).await).is_empty());
    assert!(absent(s.get_organization(&org1.id).await));
    assert!(absent(s.get_org_member(&org2.id, &u.id).await));
    assert!(absent(s.find_username_account_by_username("ulogin").await));
    // … and everyone else's are not.
    assert!(present(s.get_user(&o.id).await));
    assert!(present(s.get_agent(&ob.id).await));
    assert!(present(s.get_audit_log(&other_audit.id).await));
    assert!(present(s.get_session(&other_session.id).await));
    assert!(present(
        s.find_oauth_access_token(&other_token.access_token).await
    ));
    assert!(present(s.get_organization(&org2.id).await));
    assert_eq!(keys(&ok(s.list_org_members(&org2.id).await)), [o_member.id]);
    assert_eq!(
        keys(&ok(s.list_org_invitations(&org2.id).await)),
        [o_invite.id]
    );
    assert!(present(
        s.consume_passkey_challenge(&anon_challenge.challenge, b::now_valid())
            .await
    ));
    assert!(present(s.get_api_key(&other_key.id).await));
    assert!(present(s.find_magic_link(&other_link.token).await));
    assert!(present(s.find_one_time_token(&other_ott.token_hash).await));
    assert_eq!(
        ok(s.replay_stream_events(&StreamEventFilter::default()).await).len(),
        1
    );
    assert!(present(s.find_refresh_token(&other_rt.token_hash).await));
    assert_eq!(ok(s.count_users(&UserFilter::default()).await), 1);

    assert_not_found(s.delete_user_cascade(&u.id).await);
}

/// `TenantStore`: create (slug unique), get, find by slug, list by status
/// oldest first, patch, delete (`NotFound`, `Reference` while an agent
/// names the tenant).
pub async fn tenant_operations(ctx: &Ctx) {
    let s = ctx.store();
    let t1 = ok(s.create_tenant(b::tenant()).await);
    let t2 = s
        .create_tenant(Tenant {
            status: TenantStatus::Suspended,
            created_at: instant(10),
            ..b::tenant()
        })
        .await
        .unwrap();
    let t3 = ok(s.create_tenant(b::tenant().created(20)).await);
    assert_conflict(
        s.create_tenant(Tenant {
            slug: t1.slug.clone(),
            ..b::tenant()
        })
        .await,
    );

    assert_found(ctx, s.get_tenant(&t1.id).await, &t1);
    assert_found(ctx, s.find_tenant_by_slug(&t2.slug).await, &t2);
    assert!(absent(s.get_tenant("ten_missing").await));
    assert!(absent(s.find_tenant_by_slug("no-such-slug").await));

    assert_eq!(
        keys(&ok(s.list_tenants(None).await)),
        keys_of(&[&t1, &t2, &t3])
    );
    assert_eq!(
        keys(&ok(s.list_tenants(Some(TenantStatus::Active)).await)),
        keys_of(&[&t1, &t3])
    );
    assert_eq!(
        keys(&ok(s.list_tenants(Some(TenantStatus::Suspended)).await)),
        keys_of(&[&t2])
    );

    let patch = TenantPatch {
        status: Some(TenantStatus::Suspended),
        settings: Some(None),
        updated_at: Some(instant(30)),
        ..TenantPatch::default()
    };
    let want = Tenant {
        status: TenantStatus::Suspended,
        settings: None,
        updated_at: instant(30),
        ..t1.clone()
    };
    assert_returns(ctx, s.update_tenant(&t1.id, &patch).await, &want);
    assert_eq!(
        keys(&ok(s.list_tenants(Some(TenantStatus::Active)).await)),
        keys_of(&[&t3])
    );
    assert_not_found(s.update_tenant("ten_missing", &patch).await);

    let owner = b::seed_user(s).await;
    s.create_agent(Agent {
        tenant_id: Some(t3.id.clone()),
        ..b::agent(&owner.id)
    })
    .await
    .unwrap();
    assert_reference(s.delete_tenant(&t3.id).await);
    assert!(present(s.get_tenant(&t3.id).await));
    ok(s.delete_tenant(&t2.id).await);
    assert!(absent(s.get_tenant(&t2.id).await));
    assert_not_found(s.delete_tenant(&t2.id).await);
}
