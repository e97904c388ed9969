//! Domain operations: stream events (`StreamEventStore`), ReBAC
//! (`RebacStore`), federation (`FederationStore`) and the all-tables expiry
//! purge (`PurgeStore`).

use kavach_store_core::prelude::*;

use super::builders::{self as b, Created, Expires};
use super::support::{
    absent, assert_conflict, assert_found, assert_not_found, assert_returns, assert_same, keys,
    keys_of, ok, present, purged_from,
};
use crate::Ctx;
use crate::fixtures::{id, instant};

/// Stream events: unique ids, replay newest first under each filter
/// (`since` inclusive, any of several types, agent, user), capped at
/// `STREAM_REPLAY_LIMIT`, one page, and the strict retention cut-off.
pub async fn stream_event_replay_and_retention(ctx: &Ctx) {
    let s = ctx.store();
    let e0 = s
        .create_stream_event(StreamEvent {
            agent_id: Some("agt_1".into()),
            ..b::stream_event("audit", 0)
        })
        .await
        .expect("create");
    let e1 = s
        .create_stream_event(StreamEvent {
            user_id: Some("usr_1".into()),
            ..b::stream_event("login", 10)
        })
        .await
        .unwrap();
    let e2 = s
        .create_stream_event(StreamEvent {
            agent_id: Some("agt_1".into()),
            user_id: Some("usr_1".into()),
            ..b::stream_event("approval", 20)
        })
        .await
        .unwrap();
    let e3 = ok(s.create_stream_event(b::stream_event("audit", 30)).await);
    assert_conflict(
        s.create_stream_event(StreamEvent {
            id: e0.id.clone(),
            ..b::stream_event("audit", 40)
        })
        .await,
    );

    let replay = |f: StreamEventFilter| async move { keys(&ok(s.replay_stream_events(&f).await)) };
    assert_eq!(
        replay(StreamEventFilter::default()).await,
        keys_of(&[&e3, &e2, &e1, &e0])
    );
    assert_eq!(
        replay(StreamEventFilter {
            since: Some(instant(15)),
            ..Default::default()
        })
        .await,
        keys_of(&[&e3, &e2])
    );
    assert_eq!(
        replay(StreamEventFilter {
            types: Some(vec!["audit".into(), "login".into()]),
            ..Default::default()
        })
        .await,
        keys_of(&[&e3, &e1, &e0])
    );
    assert_eq!(
        replay(StreamEventFilter {
            types: Some(vec![]),
            ..Default::default()
        })
        .await,
        Vec::<String>::new()
    );
    assert_eq!(
        replay(StreamEventFilter {
            agent_id: Some("agt_1".into()),
            ..Default::default()
        })
        .await,
        keys_of(&[&e2, &e0])
    );
    assert_eq!(
        replay(StreamEventFilter {
            user_id: Some("usr_1".into()),
            ..Default::default()
        })
        .await,
        keys_of(&[&e2, &e1])
    );
    assert_eq!(
        replay(StreamEventFilter {
            since: Some(instant(5)),
            types: Some(vec!["approval".into(), "audit".into()]),
            agent_id: Some("agt_1".into()),
            user_id: Some("usr_1".into()),
        })
        .await,
        keys_of(&[&e2])
    );
    assert_same(
        ctx,
        &ok(s.replay_stream_events(&StreamEventFilter::default()).await)[1],
        &e2,
    );

    let page = s
        .list_stream_events(&StreamEventFilter::default(), &PageRequest::first(3))
        .await
        .unwrap();
    assert_eq!(keys(&page.items), keys_of(&[&e3, &e2, &e1]));
    let rest = s
        .list_stream_events(
            &StreamEventFilter::default(),
            &PageRequest::after(3, page.next.expect("more")),
        )
        .await
        .unwrap();
    assert_eq!(keys(&rest.items), keys_of(&[&e0]));

    assert_eq!(ok(s.delete_stream_events_before(instant(15)).await), 2);
    assert_eq!(
        replay(StreamEventFilter::default()).await,
        keys_of(&[&e3, &e2])
    );
    assert_eq!(ok(s.delete_stream_events_before(instant(15)).await), 0);

    // A replay returns at most STREAM_REPLAY_LIMIT events, the newest ones.
    let many: Vec<StreamEvent> = (0..=STREAM_REPLAY_LIMIT as i64)
        .map(|i| b::stream_event("tick", 100 + 2 * i))
        .collect();
    ok(s.create_many(&many).await);
    let ticks = s
        .replay_stream_events(&StreamEventFilter {
            types: Some(vec!["tick".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ticks.len() as u64, STREAM_REPLAY_LIMIT);
    assert_eq!(ticks[0].id, many.last().unwrap().id);
    assert_eq!(
        ticks.last().unwrap().id,
        many[1].id,
        "the oldest event is the one left out"
    );
}

/// ReBAC resources: addressed by (id, type), listed as children of a parent
/// or by type, and `delete_rebac_resource` removes the resource, its
/// descendants and every tuple naming any of them, returning the count.
pub async fn rebac_resource_tree_delete(ctx: &Ctx) {
    let s = ctx.store();
    let f1 = s
        .create_rebac_resource(b::rebac_resource("folder", None))
        .await
        .expect("create");
    let child = |at: i64, ty: &str| b::rebac_resource(ty, Some((&f1.id, "folder"))).created(at);
    let d1 = ok(s.create_rebac_resource(child(2, "doc")).await);
    let d2 = ok(s.create_rebac_resource(child(4, "doc")).await);
    let f2 = ok(s.create_rebac_resource(child(6, "folder")).await);
    let d3 = s
        .create_rebac_resource(b::rebac_resource("doc", Some((&f2.id, "folder"))).created(8))
        .await
        .unwrap();
    let d4 = s
        .create_rebac_resource(b::rebac_resource("doc", None).created(10))
        .await
        .unwrap();
    assert_conflict(
        s.create_rebac_resource(RebacResource {
            id: d1.id.clone(),
            ..b::rebac_resource("image", None)
        })
        .await,
    );

    assert_found(ctx, s.get_rebac_resource(&d1.id, "doc").await, &d1);
    assert!(
        absent(s.get_rebac_resource(&d1.id, "folder").await),
        "the type is part of the address"
    );
    assert!(absent(s.get_rebac_resource("doc_missing", "doc").await));
    assert_eq!(
        keys(&ok(s.list_child_rebac_resources(&f1.id, "folder").await)),
        keys_of(&[&d1, &d2, &f2])
    );
    assert!(ok(s.list_child_rebac_resources(&f1.id, "doc").await).is_empty());
    assert_eq!(
        keys(&ok(s.list_rebac_resources_by_type("doc").await)),
        keys_of(&[&d1, &d2, &d3, &d4])
    );
    assert_eq!(
        keys(&ok(s.list_rebac_resources_by_type("folder").await)),
        keys_of(&[&f1, &f2])
    );

    let tuples = [
        b::tuple(("user", "alice"), "viewer", ("doc", &d1.id)),
        b::tuple(("user", "bob"), "editor", ("folder", &f2.id)),
        b::tuple(("folder", &f1.id), "parent", ("doc", &d3.id)),
        b::tuple(("user", "carol"), "viewer", ("doc", &d4.id)),
    ];
    for t in &tuples {
        ok(s.create_rebac_relationship(b::rebac_relationship(t)).await);
    }
    assert_eq!(
        ok(s.delete_rebac_resource(&f1.id, "doc").await),
        0,
        "wrong type deletes nothing"
    );
    assert_eq!(ok(s.delete_rebac_resource(&f1.id, "folder").await), 5);
    for (id, ty) in [
        (&f1.id, "folder"),
        (&d1.id, "doc"),
        (&d2.id, "doc"),
        (&f2.id, "folder"),
        (&d3.id, "doc"),
    ] {
        assert!(absent(s.get_rebac_resource(id, ty).await), "{id}");
    }
    for t in &tuples[..3] {
        assert!(absent(s.find_rebac_relationship(t).await), "{t:?}");
    }
    assert!(present(s.find_rebac_relationship(&tuples[3]).await));
    assert_found(ctx, s.get_rebac_resource(&d4.id, "doc").await, &d4);
    assert_eq!(ok(s.delete_rebac_resource(&f1.id, "folder").await), 0);
}

/// ReBAC tuples: unique per (subject, relation, object), exact lookup,
/// listings by subject and by object with their optional filters (oldest
/// first), delete (0 or 1).
pub async fn rebac_relationship_queries(ctx: &Ctx) {
    let s = ctx.store();
    let specs = [
        (("user", "alice"), "viewer", ("doc", "d1")),
        (("user", "alice"), "editor", ("doc", "d2")),
        (("user", "alice"), "viewer", ("folder", "f1")),
        (("group", "eng"), "viewer", ("doc", "d1")),
        (("user", "bob"), "editor", ("doc", "d1")),
    ];
    let mut rows = Vec::new();
    for (i, (subject, relation, object)) in specs.into_iter().enumerate() {
        let t = b::tuple(subject, relation, object);
        let row = b::rebac_relationship(&t).created(2 * i as i64);
        rows.push(ok(s.create_rebac_relationship(row).await));
    }
    let t0 = b::tuple(("user", "alice"), "viewer", ("doc", "d1"));
    assert_conflict(
        s.create_rebac_relationship(b::rebac_relationship(&t0))
            .await,
    );
    assert_found(ctx, s.find_rebac_relationship(&t0).await, &rows[0]);
    assert!(absent(
        s.find_rebac_relationship(&b::tuple(("user", "alice"), "owner", ("doc", "d1")))
            .await
    ));

    let ids = |idx: &[usize]| idx.iter().map(|&i| rows[i].id.clone()).collect::<Vec<_>>();
    let by_subject = |rel: Option<&'static str>, ot: Option<&'static str>| async move {
        keys(
            &s.list_rebac_relationships_by_subject("user", "alice", rel, ot)
                .await
                .unwrap(),
        )
    };
    assert_eq!(by_subject(None, None).await, ids(&[0, 1, 2]));
    assert_eq!(by_subject(Some("viewer"), None).await, ids(&[0, 2]));
    assert_eq!(by_subject(None, Some("doc")).await, ids(&[0, 1]));
    assert_eq!(by_subject(Some("viewer"), Some("folder")).await, ids(&[2]));
    assert_eq!(by_subject(Some("owner"), None).await, ids(&[]));
    let by_object = |rel: Option<&'static str>, st: Option<&'static str>| async move {
        keys(
            &s.list_rebac_relationships_by_object("doc", "d1", rel, st)
                .await
                .unwrap(),
        )
    };
    assert_eq!(by_object(None, None).await, ids(&[0, 3, 4]));
    assert_eq!(by_object(Some("viewer"), None).await, ids(&[0, 3]));
    assert_eq!(by_object(None, Some("user")).await, ids(&[0, 4]));
    assert_eq!(by_object(Some("editor"), Some("group")).await, ids(&[]));

    assert_eq!(ok(s.delete_rebac_relationship(&t0).await), 1);
    assert_eq!(ok(s.delete_rebac_relationship(&t0).await), 0);
    assert_eq!(by_object(None, None).await, ids(&[3, 4]));
}

/// Federated instances: unique `instance_id`, lookups by row id and
/// `instance_id`, oldest-first listing, patch and delete (`NotFound` when missing).
pub async fn federation_instance_operations(ctx: &Ctx) {
    let s = ctx.store();
    let i1 = s
        .create_federation_instance(b::federation_instance().created(10))
        .await
        .expect("create");
    let i2 = s
        .create_federation_instance(FederationInstance {
            public_key_jwk: None,
            discovered_at: None,
            ..b::federation_instance()
        })
        .await
        .unwrap();
    assert_conflict(
        s.create_federation_instance(FederationInstance {
            instance_id: i1.instance_id.clone(),
            ..b::federation_instance()
        })
        .await,
    );

    assert_found(ctx, s.get_federation_instance(&i2.id).await, &i2);
    assert_found(ctx, s.find_federation_instance(&i1.instance_id).await, &i1);
    assert!(absent(s.get_federation_instance("fed_missing").await));
    assert!(
        absent(s.find_federation_instance(&i1.id).await),
        "the row id is not an instance_id"
    );
    assert_eq!(
        keys(&ok(s.list_federation_instances().await)),
        keys_of(&[&i2, &i1])
    );

    let patch = FederationInstancePatch {
        trust_level: Some(FederationTrustLevel::Full),
        public_key_jwk: Some(None),
        updated_at: Some(instant(20)),
        ..Default::default()
    };
    let want = FederationInstance {
        trust_level: FederationTrustLevel::Full,
        public_key_jwk: None,
        updated_at: instant(20),
        ..i1.clone()
    };
    assert_returns(
        ctx,
        s.update_federation_instance(&i1.id, &patch).await,
        &want,
    );
    assert_not_found(s.update_federation_instance("fed_missing", &patch).await);

    ok(s.delete_federation_instance(&i1.id).await);
    assert!(absent(s.find_federation_instance(&i1.instance_id).await));
    assert_not_found(s.delete_federation_instance(&i1.id).await);
    assert_eq!(
        keys(&ok(s.list_federation_instances().await)),
        keys_of(&[&i2])
    );
}

/// The federation token ledger: recording a seen `token_jti` again is a
/// `Conflict` (replay detection); lookup by jti, an agent's tokens newest
/// first, and the expiry purge.
pub async fn federation_token_ledger(ctx: &Ctx) {
    let s = ctx.store();
    let t1 = s
        .record_federation_token(b::federation_token("remote-agent"))
        .await
        .expect("record");
    let t2 = s
        .record_federation_token(FederationToken {
            direction: FederationDirection::Issued,
            target_instance_id: None,
            trust_score: None,
            created_at: instant(10),
            expires_at: instant(10_000),
            ..b::federation_token("remote-agent")
        })
        .await
        .unwrap();
    let other = s
        .record_federation_token(b::federation_token("other-agent"))
        .await
        .unwrap();
    assert_conflict(
        s.record_federation_token(FederationToken {
            token_jti: t1.token_jti.clone(),
            ..b::federation_token("x")
        })
        .await,
    );

    assert_found(ctx, s.find_federation_token(&t2.token_jti).await, &t2);
    assert!(absent(s.find_federation_token("jti_missing").await));
    assert_eq!(
        keys(&ok(s.list_federation_tokens_by_agent("remote-agent").await)),
        keys_of(&[&t2, &t1])
    );
    assert_eq!(
        keys(&ok(s.list_federation_tokens_by_agent("other-agent").await)),
        keys_of(&[&other])
    );
    assert!(ok(s.list_federation_tokens_by_agent("nobody").await).is_empty());

    assert_eq!(
        ok(s.purge_expired_federation_tokens(instant(5000)).await),
        2
    );
    assert!(absent(s.find_federation_token(&t1.token_jti).await));
    assert!(present(s.find_federation_token(&t2.token_jti).await));
    assert_eq!(
        ok(s.purge_expired_federation_tokens(instant(5000)).await),
        0
    );
}

/// `purge_expired` runs every expiry purge it documents: with one expired
/// and one live row in each of those tables it reports one row per table,
/// removes exactly the expired rows, and a second run removes nothing.
pub async fn purge_expired_covers_every_table(ctx: &Ctx) {
    let s = ctx.store();
    let now = instant(5000);
    let (u, a) = b::seed_user_agent(s).await;
    let peer = b::seed_agent(s, &u.id).await;
    let client = b::seed_oauth_client(s).await;
    let org = b::seed_org(s, &u.id).await;
    let fam = b::seed_token_family(s, &u.id).await;
    // One row expiring before `now` (at 100 s) and one after it (10 000 s).
    for secs in [100, 10_000] {
        ok(s.create_session(b::session(&u.id).expiring(secs)).await);
        let jwt = b::jwt_refresh_token(&u.id).expiring(secs);
        ok(s.create_jwt_refresh_token(jwt).await);
        ok(
            s.create_refresh_token(b::refresh_token(&fam.id).expiring(secs))
                .await,
        );
        let access = OAuthAccessToken {
            access_token_expires_at: instant(secs),
            refresh_token: None,
            refresh_token_expires_at: None,
            ..b::oauth_access_token(&client.client_id, &u.id)
        };
        ok(s.create_oauth_access_token(access).await);
        let code = b::oauth_code(&client.client_id, &u.id).expiring(secs);
        ok(s.create_oauth_authorization_code(code).await);
        ok(s.create_oauth_state(b::oauth_state().expiring(secs)).await);
        ok(
            s.create_oidc_auth_code(b::oidc_code("rp", &u.id).expiring(secs))
                .await,
        );
        let oidc_refresh = b::oidc_refresh_token("rp", &u.id).expiring(secs);
        ok(s.create_oidc_refresh_token(oidc_refresh).await);
        ok(
            s.create_passkey_challenge(b::passkey_challenge(None).expiring(secs))
                .await,
        );
        let token = b::one_time_token(&u.id, TokenPurpose::Custom).expiring(secs);
        ok(s.create_one_time_token(token).await);
        ok(s.create_magic_link(b::magic_link(&u.email).expiring(secs))
            .await);
        ok(
            s.replace_email_otp(b::email_otp(&id("mail")).expiring(secs))
                .await,
        );
        let phone = b::phone_verification(&id("tel")).expiring(secs);
        ok(s.replace_phone_verification(phone).await);
        ok(
            s.create_trusted_device(b::trusted_device(&u.id, "fp").expiring(secs))
                .await,
        );
        let agent = b::ephemeral_agent(&u.id);
        let session = b::ephemeral_session(&agent, None).expiring(secs);
        ok(s.create_ephemeral_session(agent, &[], session).await);
        ok(
            s.create_approval_request(b::approval(&a.id, &u.id).expiring(secs))
                .await,
        );
        let invitation = b::org_invitation(&org.id, &u.id, "x@example.com").expiring(secs);
        ok(s.create_org_invitation(invitation).await);
        ok(s.create_api_key(b::api_key(&u.id).expiring(secs)).await);
        ok(
            s.record_federation_token(b::federation_token(&a.id).expiring(secs))
                .await,
        );
        ok(
            s.create_delegation_chain(b::delegation(&a.id, &peer.id).expiring(secs))
                .await,
        );
    }
    let never = ok(s.create_api_key(b::api_key(&u.id)).await);
    let tables = [
        "kavach_sessions",
        "kavach_jwt_refresh_tokens",
        "kavach_refresh_tokens",
        "kavach_oauth_access_tokens",
        "kavach_oauth_authorization_codes",
        "kavach_oauth_states",
        "kavach_oidc_auth_codes",
        "kavach_oidc_refresh_tokens",
        "kavach_passkey_challenges",
        "kavach_one_time_tokens",
        "kavach_magic_links",
        "kavach_email_otps",
        "kavach_phone_verifications",
        "kavach_trusted_devices",
        "kavach_ephemeral_sessions",
        "kavach_approval_requests",
        "kavach_org_invitations",
        "kavach_api_keys",
        "kavach_federation_tokens",
        "kavach_delegation_chains",
    ];
    let report = ok(s.purge_expired(now).await);
    for table in tables {
        assert_eq!(purged_from(&report, table), 1, "{table} in {report:?}");
    }
    assert_eq!(report.total(), tables.len() as u64, "{report:?}");
    for table in tables {
        let def = table_by_name(table).expect("table");
        let left = ok(s.count_rows(def, &Cond::All).await);
        let want = if table == "kavach_api_keys" { 2 } else { 1 };
        assert_eq!(left, want, "{table}: live rows must stay");
    }
    assert!(
        present(s.get_api_key(&never.id).await),
        "keys without expiry stay"
    );
    assert!(present(s.get_refresh_token_family(&fam.id).await));
    assert_eq!(ok(s.purge_expired(now).await).total(), 0);
}
