//! Domain operations: agents (`AgentStore`), their permissions
//! (`PermissionStore`), cards (`AgentCardStore`), DIDs (`AgentDidStore`) and
//! trust scores (`TrustStore`).

use kavach_store_core::prelude::*;
use serde_json::json;

use super::builders::{self as b, Created, Expires};
use super::support::{
    absent, assert_conflict, assert_deletion_report, assert_found, assert_instant,
    assert_not_found, assert_reference, assert_returns, assert_same, existing, keys, keys_of, ok,
    page_keys, present, walk_pages,
};
use crate::Ctx;
use crate::fixtures::instant;

/// `create_agent`, `get_agent` and `find_agent_by_token_hash` return the
/// stored row (`None` for unknown keys); a missing owner or tenant is a
/// `Reference` error and a reused token hash a `Conflict`.
pub async fn agent_create_and_lookups(ctx: &Ctx) {
    let s = ctx.store();
    let owner = b::seed_user(s).await;
    let tenant = ok(s.create_tenant(b::tenant()).await);
    let want = Agent {
        tenant_id: Some(tenant.id.clone()),
        r#type: AgentType::Service,
        last_active_at: Some(instant(5)),
        metadata: Some(json!({"team": "infra"})),
        ..b::agent(&owner.id)
    };
    assert_returns(ctx, s.create_agent(want.clone()).await, &want);
    let other = b::seed_agent(s, &owner.id).await;

    assert_found(ctx, s.get_agent(&want.id).await, &want);
    assert_found(
        ctx,
        s.find_agent_by_token_hash(&want.token_hash).await,
        &want,
    );
    assert_eq!(
        ok(s.find_agent_by_token_hash(&other.token_hash).await).map(|a| a.id),
        Some(other.id.clone())
    );
    assert!(absent(s.get_agent("agt_missing").await));
    assert!(absent(s.find_agent_by_token_hash("no-such-hash").await));

    assert_reference(s.create_agent(b::agent("usr_missing")).await);
    assert_reference(
        s.create_agent(Agent {
            tenant_id: Some("ten_missing".into()),
            ..b::agent(&owner.id)
        })
        .await,
    );
    assert_conflict(
        s.create_agent(Agent {
            token_hash: want.token_hash.clone(),
            ..b::agent(&owner.id)
        })
        .await,
    );
    assert_eq!(ok(s.count_agents(&AgentFilter::default()).await), 2);
}

/// `create_agent_with_permissions` stores the agent and its permissions
/// together, and nothing at all when one permission is rejected.
pub async fn agent_create_with_permissions_is_all_or_nothing(ctx: &Ctx) {
    let s = ctx.store();
    let owner = b::seed_user(s).await;
    let agent = b::agent(&owner.id);
    let p1 = b::permission(&agent.id).created(0);
    let p2 = Permission {
        resource: "tool:file_read".into(),
        actions: vec!["execute".into()],
        constraints: None,
        created_at: instant(5),
        ..b::permission(&agent.id)
    };
    let created = s
        .create_agent_with_permissions(agent.clone(), &[p1.clone(), p2.clone()])
        .await
        .expect("create");
    assert_same(ctx, &created, &agent);
    let perms = ok(s.list_permissions_by_agent(&agent.id).await);
    assert_eq!(keys(&perms), keys_of(&[&p1, &p2]));
    assert_same(ctx, &perms[1], &p2);

    // The second permission reuses p1's id: the agent must not be stored either.
    let agent2 = b::agent(&owner.id);
    let fresh = b::permission(&agent2.id);
    let dup = Permission {
        id: p1.id.clone(),
        ..b::permission(&agent2.id)
    };
    assert_conflict(
        s.create_agent_with_permissions(agent2.clone(), &[fresh.clone(), dup])
            .await,
    );
    assert!(absent(s.get_agent(&agent2.id).await));
    assert!(absent(s.get_permission(&fresh.id).await));

    // No permissions at all is fine.
    let bare = b::agent(&owner.id);
    ok(s.create_agent_with_permissions(bare.clone(), &[]).await);
    assert!(ok(s.list_permissions_by_agent(&bare.id).await).is_empty());
}

/// `list_agents` and `count_agents`: each `AgentFilter` field (tenant
/// `Some(None)` = no tenant), ANDed, newest first with an id tie-break.
pub async fn agent_list_filters_newest_first(ctx: &Ctx) {
    let s = ctx.store();
    let o1 = b::seed_user(s).await;
    let o2 = b::seed_user(s).await;
    let t = ok(s.create_tenant(b::tenant()).await);
    let mk = |id: &str,
              owner: &str,
              tenant: Option<&str>,
              status: AgentStatus,
              ty: AgentType,
              at: i64| Agent {
        id: id.into(),
        tenant_id: tenant.map(Into::into),
        status,
        r#type: ty,
        created_at: instant(at),
        ..b::agent(owner)
    };
    let agents = [
        mk(
            "agt_c",
            &o1.id,
            Some(&t.id),
            AgentStatus::Active,
            AgentType::Service,
            20,
        ),
        mk(
            "agt_a",
            &o1.id,
            Some(&t.id),
            AgentStatus::Active,
            AgentType::Autonomous,
            0,
        ),
        mk(
            "agt_d",
            &o2.id,
            None,
            AgentStatus::Active,
            AgentType::Autonomous,
            30,
        ),
        mk(
            "agt_b",
            &o1.id,
            None,
            AgentStatus::Revoked,
            AgentType::Delegated,
            10,
        ),
        // Same instant as agt_d: the id breaks the tie (descending).
        mk(
            "agt_e",
            &o2.id,
            None,
            AgentStatus::Expired,
            AgentType::Autonomous,
            30,
        ),
    ];
    for a in &agents {
        ok(s.create_agent(a.clone()).await);
    }
    let cases: Vec<(AgentFilter, Vec<&str>)> = vec![
        (
            AgentFilter::default(),
            vec!["agt_e", "agt_d", "agt_c", "agt_b", "agt_a"],
        ),
        (
            AgentFilter::owner(o1.id.clone()),
            vec!["agt_c", "agt_b", "agt_a"],
        ),
        (
            AgentFilter {
                tenant_id: Some(Some(t.id.clone())),
                ..Default::default()
            },
            vec!["agt_c", "agt_a"],
        ),
        (
            AgentFilter {
                tenant_id: Some(None),
                ..Default::default()
            },
            vec!["agt_e", "agt_d", "agt_b"],
        ),
        (
            AgentFilter {
                status: Some(AgentStatus::Active),
                ..Default::default()
            },
            vec!["agt_d", "agt_c", "agt_a"],
        ),
        (
            AgentFilter {
                status: Some(AgentStatus::Revoked),
                ..Default::default()
            },
            vec!["agt_b"],
        ),
        (
            AgentFilter {
                r#type: Some(AgentType::Delegated),
                ..Default::default()
            },
            vec!["agt_b"],
        ),
        (
            AgentFilter {
                r#type: Some(AgentType::Autonomous),
                ..Default::default()
            },
            vec!["agt_e", "agt_d", "agt_a"],
        ),
        (
            AgentFilter {
                owner_id: Some(o1.id.clone()),
                tenant_id: Some(Some(t.id.clone())),
                status: Some(AgentStatus::Active),
                r#type: Some(AgentType::Autonomous),
            },
            vec!["agt_a"],
        ),
        (
            AgentFilter {
                owner_id: Some(o2.id.clone()),
                tenant_id: Some(Some(t.id.clone())),
                ..Default::default()
            },
            vec![],
        ),
        (AgentFilter::owner("usr_missing"), vec![]),
    ];
    for (filter, want) in cases {
        assert_eq!(
            keys(&ok(s.list_agents(&filter).await)),
            want,
            "list_agents({filter:?})"
        );
        assert_eq!(
            ok(s.count_agents(&filter).await),
            want.len() as u64,
            "count_agents({filter:?})"
        );
    }
}

/// `list_agents_page` walks a filtered list newest first, page by page,
/// ending with no cursor.
pub async fn agent_list_page_walks_newest_first(ctx: &Ctx) {
    let s = ctx.store();
    let owner = b::seed_user(s).await;
    let stranger = b::seed_user(s).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let a = ok(s.create_agent(b::agent(&owner.id).created(2 * i)).await);
        ids.insert(0, a.id);
        b::seed_agent(s, &stranger.id).await;
    }
    let filter = &AgentFilter::owner(owner.id.clone());
    let walked = walk_pages("list_agents_page", Some(2), |req| async move {
        s.list_agents_page(filter, &req).await.map(page_keys)
    })
    .await;
    assert_eq!(walked, ids, "pages of 2, newest first");
    let all = ok(s.list_agents_page(filter, &PageRequest::default()).await);
    assert_eq!(keys(&all.items), ids);
    assert!(all.next.is_none());
    let none = s
        .list_agents_page(&AgentFilter::owner("usr_missing"), &PageRequest::first(2))
        .await
        .unwrap();
    assert!(none.items.is_empty() && none.next.is_none());
}

/// `update_agent`, `touch_agent` and `rotate_agent_token` change exactly
/// what they say; a missing agent is `NotFound` (or `false` for touch).
pub async fn agent_update_touch_and_rotate(ctx: &Ctx) {
    let s = ctx.store();
    let (_, agent) = b::seed_user_agent(s).await;
    let patch = AgentPatch {
        name: Some("renamed".into()),
        expires_at: Some(None),
        metadata: Some(None),
        updated_at: Some(instant(40)),
        ..AgentPatch::default()
    };
    let want = Agent {
        name: "renamed".into(),
        expires_at: None,
        metadata: None,
        updated_at: instant(40),
        ..agent.clone()
    };
    assert_returns(ctx, s.update_agent(&agent.id, &patch).await, &want);
    assert_not_found(s.update_agent("agt_missing", &patch).await);

    assert!(ok(s.touch_agent(&agent.id, instant(50)).await));
    let touched = existing(s.get_agent(&agent.id).await);
    assert_same(
        ctx,
        &touched,
        &Agent {
            last_active_at: Some(instant(50)),
            ..want.clone()
        },
    );
    assert!(!ok(s.touch_agent("agt_missing", instant(50)).await));

    let rotated = s
        .rotate_agent_token(&agent.id, "new-hash", "kv_newtoken", instant(60))
        .await
        .expect("rotate");
    let want = Agent {
        token_hash: "new-hash".into(),
        token_prefix: "kv_newtoken".into(),
        updated_at: instant(60),
        ..touched
    };
    assert_same(ctx, &rotated, &want);
    assert!(absent(s.find_agent_by_token_hash(&agent.token_hash).await));
    assert_found(ctx, s.find_agent_by_token_hash("new-hash").await, &want);
    assert_not_found(
        s.rotate_agent_token("agt_missing", "h", "p", instant(60))
            .await,
    );
}

/// `revoke_agent` revokes the agent and the active chains it granted, and
/// nothing else; `NotFound` when missing.
pub async fn agent_revoke_revokes_granted_delegations(ctx: &Ctx) {
    let s = ctx.store();
    let owner = b::seed_user(s).await;
    let a = b::seed_agent(s, &owner.id).await;
    let bb = b::seed_agent(s, &owner.id).await;
    let c = b::seed_agent(s, &owner.id).await;
    let granted = b::seed_delegation(s, &a.id, &bb.id).await;
    let old = s
        .create_delegation_chain(DelegationChain {
            status: DelegationStatus::Expired,
            ..b::delegation(&a.id, &c.id)
        })
        .await
        .unwrap();
    let received = b::seed_delegation(s, &bb.id, &a.id).await;

    let revoked = ok(s.revoke_agent(&a.id, instant(70)).await);
    let want = Agent {
        status: AgentStatus::Revoked,
        updated_at: instant(70),
        ..a.clone()
    };
    assert_same(ctx, &revoked, &want);
    assert_found(ctx, s.get_agent(&a.id).await, &want);
    let status = |id: String| async move { existing(s.get_delegation_chain(&id).await).status };
    assert_eq!(status(granted.id).await, DelegationStatus::Revoked);
    assert_eq!(status(old.id).await, DelegationStatus::Expired);
    assert_eq!(status(received.id).await, DelegationStatus::Active);
    assert_eq!(
        existing(s.get_agent(&bb.id).await).status,
        AgentStatus::Active
    );
    assert_not_found(s.revoke_agent("agt_missing", instant(70)).await);
}

/// `revoke_agents_by_owner` revokes only the owner's active agents and
/// `expire_agents` only active agents with `expires_at <= now`; both
/// return how many rows changed.
pub async fn agent_bulk_revoke_and_expire(ctx: &Ctx) {
    let s = ctx.store();
    let o = b::seed_user(s).await;
    let other = b::seed_user(s).await;
    let a1 = b::seed_agent(s, &o.id).await;
    let a2 = b::seed_agent(s, &o.id).await;
    let a3 = s
        .create_agent(Agent {
            status: AgentStatus::Expired,
            ..b::agent(&o.id)
        })
        .await
        .unwrap();
    let a4 = b::seed_agent(s, &other.id).await;
    assert_eq!(ok(s.revoke_agents_by_owner(&o.id, instant(80)).await), 2);
    for id in [&a1.id, &a2.id] {
        let got = existing(s.get_agent(id).await);
        assert_eq!(got.status, AgentStatus::Revoked);
        assert_instant::<Agent>(ctx, "updated_at", got.updated_at, instant(80));
    }
    assert_found(ctx, s.get_agent(&a3.id).await, &a3);
    assert_found(ctx, s.get_agent(&a4.id).await, &a4);
    assert_eq!(ok(s.revoke_agents_by_owner(&o.id, instant(81)).await), 0);
    assert_eq!(
        ok(s.revoke_agents_by_owner("usr_missing", instant(81)).await),
        0
    );

    let owner = b::seed_user(s).await;
    let due = ok(s.create_agent(b::agent(&owner.id).expiring(100)).await);
    let later = ok(s.create_agent(b::agent(&owner.id).expiring(10_000)).await);
    let never = s
        .create_agent(Agent {
            expires_at: None,
            ..b::agent(&owner.id)
        })
        .await
        .unwrap();
    let revoked_due = s
        .create_agent(Agent {
            status: AgentStatus::Revoked,
            expires_at: Some(instant(100)),
            ..b::agent(&owner.id)
        })
        .await
        .unwrap();
    assert_eq!(ok(s.expire_agents(instant(5000)).await), 1);
    let got = existing(s.get_agent(&due.id).await);
    assert_eq!(got.status, AgentStatus::Expired);
    assert_instant::<Agent>(ctx, "updated_at", got.updated_at, instant(5000));
    for a in [&later, &never, &revoked_due] {
        assert_found(ctx, s.get_agent(&a.id).await, a);
    }
    assert_eq!(ok(s.expire_agents(instant(5000)).await), 0);
}

/// `delete_agent` deletes the row (its permissions go by cascade), is
/// `NotFound` when missing and `Reference` while audit rows or delegation
/// chains still name the agent.
pub async fn agent_delete_removes_row_or_refuses(ctx: &Ctx) {
    let s = ctx.store();
    let (user, plain) = b::seed_user_agent(s).await;
    let perm = ok(s.create_permission(b::permission(&plain.id)).await);
    ok(s.delete_agent(&plain.id).await);
    assert!(absent(s.get_agent(&plain.id).await));
    assert!(absent(s.get_permission(&perm.id).await));
    assert_not_found(s.delete_agent(&plain.id).await);

    let audited = b::seed_agent(s, &user.id).await;
    ok(s.create_audit_log(b::audit(&audited.id, &user.id, 0)).await);
    assert_reference(s.delete_agent(&audited.id).await);
    assert!(present(s.get_agent(&audited.id).await));

    let delegating = b::seed_agent(s, &user.id).await;
    let peer = b::seed_agent(s, &user.id).await;
    b::seed_delegation(s, &peer.id, &delegating.id).await;
    assert_reference(s.delete_agent(&delegating.id).await);
    assert!(present(s.get_agent(&delegating.id).await));
}

/// `delete_agent_cascade` removes the agent with every row of it, reports
/// the count per table, and leaves other agents' rows alone; `NotFound`
/// for an unknown agent.
pub async fn agent_delete_cascade_reports_every_table(ctx: &Ctx) {
    let s = ctx.store();
    let (user, a) = b::seed_user_agent(s).await;
    let other = b::seed_agent(s, &user.id).await;
    b::seed_delegation(s, &a.id, &other.id).await;
    b::seed_delegation(s, &other.id, &a.id).await;
    let other_chain = b::seed_delegation(s, &other.id, &other.id).await;
    s.create_audit_logs(&[b::audit(&a.id, &user.id, 0), b::audit(&a.id, &user.id, 2)])
        .await
        .unwrap();
    let other_audit = ok(s.create_audit_log(b::audit(&other.id, &user.id, 4)).await);
    s.create_permissions(&[b::permission(&a.id), b::permission(&a.id)])
        .await
        .unwrap();
    let other_perm = ok(s.create_permission(b::permission(&other.id)).await);
    ok(s.increment_rate_limit(&a.id, "tool:x", instant(0)).await);
    ok(s.increment_rate_limit(&a.id, "tool:y", instant(0)).await);
    s.create_budget_policy(b::budget_policy(Some(&a.id), None))
        .await
        .unwrap();
    let global = ok(s.create_budget_policy(b::budget_policy(None, None)).await);
    ok(s.create_agent_card(b::agent_card(&a.id)).await);
    s.create_approval_request(b::approval(&a.id, &user.id))
        .await
        .unwrap();
    s.upsert_trust_score(b::trust_score(&a.id, 10, TrustLevel::Limited))
        .await
        .unwrap();
    s.upsert_trust_score(b::trust_score(&other.id, 90, TrustLevel::Trusted))
        .await
        .unwrap();
    ok(s.create_agent_did(b::agent_did(&a.id)).await);
    s.create_cost_events(&[b::cost_event(&a.id, 0, 5), b::cost_event(&a.id, 2, 7)])
        .await
        .unwrap();

    let report = ok(s.delete_agent_cascade(&a.id).await);
    assert_deletion_report(
        &report,
        &[
            ("kavach_delegation_chains", 2),
            ("kavach_audit_logs", 2),
            ("kavach_permissions", 2),
            ("kavach_rate_limits", 2),
            ("kavach_budget_policies", 1),
            ("kavach_agent_cards", 1),
            ("kavach_approval_requests", 1),
            ("kavach_trust_scores", 1),
            ("kavach_agent_dids", 1),
            ("kavach_cost_events", 2),
            ("kavach_ephemeral_sessions", 0),
            ("kavach_agents", 1),
        ],
    );
    assert!(absent(s.get_agent(&a.id).await));
    assert!(ok(s.list_permissions_by_agent(&a.id).await).is_empty());
    assert!(absent(s.get_trust_score(&a.id).await));

    assert!(present(s.get_agent(&other.id).await));
    assert!(present(s.get_delegation_chain(&other_chain.id).await));
    assert!(present(s.get_audit_log(&other_audit.id).await));
    assert!(present(s.get_permission(&other_perm.id).await));
    assert!(present(s.get_budget_policy(&global.id).await));
    assert!(present(s.get_trust_score(&other.id).await));

    // The temporary agent of an ephemeral session takes its session along.
    let eph = b::seed_ephemeral(s, &user.id, None).await;
    let report = s
        .delete_agent_cascade(&eph.agent_id)
        .await
        .expect("cascade ephemeral agent");
    assert_eq!(report.count("kavach_ephemeral_sessions"), 1);
    assert_eq!(report.count("kavach_agents"), 1);
    assert!(absent(s.get_ephemeral_session(&eph.id).await));

    assert_not_found(s.delete_agent_cascade(&a.id).await);
}

/// Every `PermissionStore` method: create one or many, get, list oldest
/// first, patch, delete one (`NotFound` when missing) or all of an agent.
pub async fn permission_operations(ctx: &Ctx) {
    let s = ctx.store();
    let (_, a) = b::seed_user_agent(s).await;
    let other = b::seed_agent(s, &a.owner_id).await;
    let p1 = ok(s.create_permission(b::permission(&a.id).created(10)).await);
    let p2 = b::permission(&a.id).created(0);
    let p3 = Permission {
        created_at: instant(20),
        constraints: None,
        ..b::permission(&a.id)
    };
    ok(s.create_permissions(&[p2.clone(), p3.clone()]).await);
    ok(s.create_permissions(&[]).await);
    let q = ok(s.create_permission(b::permission(&other.id)).await);
    assert_reference(s.create_permission(b::permission("agt_missing")).await);

    assert_eq!(
        keys(&ok(s.list_permissions_by_agent(&a.id).await)),
        keys_of(&[&p2, &p1, &p3])
    );
    assert!(ok(s.list_permissions_by_agent("agt_missing").await).is_empty());
    assert_found(ctx, s.get_permission(&p3.id).await, &p3);
    assert!(absent(s.get_permission("perm_missing").await));

    let patch = PermissionPatch {
        actions: Some(vec!["read".into()]),
        constraints: Some(None),
        ..PermissionPatch::default()
    };
    let want = Permission {
        actions: vec!["read".into()],
        constraints: None,
        ..p1.clone()
    };
    assert_returns(ctx, s.update_permission(&p1.id, &patch).await, &want);
    assert_not_found(s.update_permission("perm_missing", &patch).await);

    ok(s.delete_permission(&p1.id).await);
    assert_not_found(s.delete_permission(&p1.id).await);
    assert_eq!(ok(s.delete_permissions_by_agent(&a.id).await), 2);
    assert_eq!(ok(s.delete_permissions_by_agent(&a.id).await), 0);
    assert_eq!(
        keys(&ok(s.list_permissions_by_agent(&other.id).await)),
        [q.id]
    );
}

/// `replace_agent_permissions` swaps an agent's whole set in one step, keeps
/// the old set when the new one is rejected, and touches no other agent.
pub async fn permission_replace_swaps_the_set(ctx: &Ctx) {
    let s = ctx.store();
    let (_, a) = b::seed_user_agent(s).await;
    let other = b::seed_agent(s, &a.owner_id).await;
    let old = [b::permission(&a.id), b::permission(&a.id)];
    ok(s.create_permissions(&old).await);
    let q = ok(s.create_permission(b::permission(&other.id)).await);

    let new = [
        b::permission(&a.id).created(1),
        Permission {
            created_at: instant(3),
            resource: "tool:*".into(),
            ..b::permission(&a.id)
        },
    ];
    ok(s.replace_agent_permissions(&a.id, &new).await);
    let got = ok(s.list_permissions_by_agent(&a.id).await);
    assert_eq!(keys(&got), keys_of(&[&new[0], &new[1]]));
    assert_same(ctx, &got[1], &new[1]);

    // A rejected set (duplicate ids) leaves the current one in place.
    let bad = b::permission(&a.id);
    assert_conflict(
        s.replace_agent_permissions(&a.id, &[bad.clone(), bad])
            .await,
    );
    assert_eq!(
        keys(&ok(s.list_permissions_by_agent(&a.id).await)),
        keys_of(&[&new[0], &new[1]])
    );

    ok(s.replace_agent_permissions(&a.id, &[]).await);
    assert!(ok(s.list_permissions_by_agent(&a.id).await).is_empty());
    assert_eq!(
        keys(&ok(s.list_permissions_by_agent(&other.id).await)),
        [q.id]
    );
}

/// Every `AgentCardStore` method, with oldest-first listing per agent and
/// `NotFound` for updates and deletes of missing cards.
pub async fn agent_card_operations(ctx: &Ctx) {
    let s = ctx.store();
    let (_, a) = b::seed_user_agent(s).await;
    let other = b::seed_agent(s, &a.owner_id).await;
    let late = ok(s.create_agent_card(b::agent_card(&a.id).created(10)).await);
    let early = ok(s.create_agent_card(b::agent_card(&a.id)).await);
    let foreign = ok(s.create_agent_card(b::agent_card(&other.id)).await);
    assert_reference(s.create_agent_card(b::agent_card("agt_missing")).await);

    assert_found(ctx, s.get_agent_card(&late.id).await, &late);
    assert!(absent(s.get_agent_card("card_missing").await));
    assert_eq!(
        keys(&ok(s.list_agent_cards_by_agent(&a.id).await)),
        keys_of(&[&early, &late])
    );

    let patch = AgentCardPatch {
        description: Some(None),
        protocols: Some(vec!["a2a".into(), "mcp".into()]),
        version: Some("2.0.0".into()),
        updated_at: Some(instant(20)),
        ..AgentCardPatch::default()
    };
    let want = AgentCard {
        description: None,
        protocols: vec!["a2a".into(), "mcp".into()],
        version: "2.0.0".into(),
        updated_at: instant(20),
        ..late.clone()
    };
    assert_returns(ctx, s.update_agent_card(&late.id, &patch).await, &want);
    assert_not_found(s.update_agent_card("card_missing", &patch).await);

    ok(s.delete_agent_card(&late.id).await);
    assert_not_found(s.delete_agent_card(&late.id).await);
    assert_eq!(
        keys(&ok(s.list_agent_cards_by_agent(&a.id).await)),
        [early.id]
    );
    assert_eq!(
        keys(&ok(s.list_agent_cards_by_agent(&other.id).await)),
        [foreign.id]
    );
}

/// Every `AgentDidStore` method: one DID per agent, unique DID strings,
/// lookups by agent and by DID, patch and delete (`NotFound` when missing).
pub async fn agent_did_operations(ctx: &Ctx) {
    let s = ctx.store();
    let (_, a) = b::seed_user_agent(s).await;
    let other = b::seed_agent(s, &a.owner_id).await;
    let did = ok(s.create_agent_did(b::agent_did(&a.id)).await);
    assert_conflict(s.create_agent_did(b::agent_did(&a.id)).await);
    assert_conflict(
        s.create_agent_did(AgentDid {
            did: did.did.clone(),
            ..b::agent_did(&other.id)
        })
        .await,
    );
    let web = s
        .create_agent_did(AgentDid {
            method: DidMethod::Web,
            did: "did:web:example.com".into(),
            ..b::agent_did(&other.id)
        })
        .await
        .unwrap();

    assert_found(ctx, s.get_agent_did(&a.id).await, &did);
    assert_found(
        ctx,
        s.find_agent_did_by_did("did:web:example.com").await,
        &web,
    );
    assert!(absent(s.get_agent_did("agt_missing").await));
    assert!(absent(s.find_agent_did_by_did("did:key:none").await));

    let patch = AgentDidPatch {
        did_document: Some(r#"{"id":"did","v":2}"#.into()),
        ..AgentDidPatch::default()
    };
    let want = AgentDid {
        did_document: r#"{"id":"did","v":2}"#.into(),
        ..did.clone()
    };
    assert_returns(ctx, s.update_agent_did(&a.id, &patch).await, &want);
    assert_not_found(s.update_agent_did("agt_missing", &patch).await);

    ok(s.delete_agent_did(&a.id).await);
    assert!(absent(s.get_agent_did(&a.id).await));
    assert_not_found(s.delete_agent_did(&a.id).await);
    assert!(present(s.get_agent_did(&other.id).await));
}

/// `TrustStore`: the upsert creates then replaces (never conflicts), the
/// listing filters by level and minimum score (inclusive), highest first
/// with agent-id ties, and delete is `NotFound` when missing.
pub async fn trust_score_operations(ctx: &Ctx) {
    let s = ctx.store();
    let owner = b::seed_user(s).await;
    b::seed_agents_with_ids(s, &owner.id, &["agt_a", "agt_b", "agt_c", "agt_d"]).await;
    assert!(absent(s.get_trust_score("agt_a").await));
    let first = b::trust_score("agt_a", 40, TrustLevel::Limited);
    assert_returns(ctx, s.upsert_trust_score(first.clone()).await, &first);
    let second = TrustScore {
        score: 80,
        level: TrustLevel::Trusted,
        factors: json!({"denials": 0, "age_days": 30}),
        computed_at: instant(100),
        ..first.clone()
    };
    assert_returns(ctx, s.upsert_trust_score(second.clone()).await, &second);
    assert_found(ctx, s.get_trust_score("agt_a").await, &second);

    s.upsert_trust_score(b::trust_score("agt_b", 80, TrustLevel::Trusted))
        .await
        .unwrap();
    s.upsert_trust_score(b::trust_score("agt_c", 20, TrustLevel::Untrusted))
        .await
        .unwrap();
    s.upsert_trust_score(b::trust_score("agt_d", 95, TrustLevel::Elevated))
        .await
        .unwrap();
    let list = |level: Option<TrustLevel>, min: Option<i64>| async move {
        keys(&ok(s.list_trust_scores(level, min).await))
    };
    assert_eq!(list(None, None).await, ["agt_d", "agt_a", "agt_b", "agt_c"]);
    assert_eq!(
        list(Some(TrustLevel::Trusted), None).await,
        ["agt_a", "agt_b"]
    );
    assert_eq!(list(None, Some(80)).await, ["agt_d", "agt_a", "agt_b"]);
    assert_eq!(
        list(Some(TrustLevel::Trusted), Some(81)).await,
        Vec::<String>::new()
    );
    assert_eq!(
        list(Some(TrustLevel::Standard), None).await,
        Vec::<String>::new()
    );

    ok(s.delete_trust_score("agt_a").await);
    assert!(absent(s.get_trust_score("agt_a").await));
    assert_not_found(s.delete_trust_score("agt_a").await);
    assert_reference(
        s.upsert_trust_score(b::trust_score("agt_missing", 1, TrustLevel::Untrusted))
            .await,
    );
}
