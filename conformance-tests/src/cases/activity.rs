//! Domain operations: audit log (`AuditStore`), rate limits
//! (`RateLimitStore`), delegation chains (`DelegationStore`), budgets and
//! costs (`BudgetStore`, `CostStore`), approvals (`ApprovalStore`) and MCP
//! servers (`McpServerStore`).

use chrono::{DateTime, Utc};
use kavach_store_core::prelude::*;
use serde_json::json;

use super::builders::{self as b, Created, Expires};
use super::support::{
    absent, assert_conflict, assert_found, assert_instant, assert_not_found, assert_reference,
    assert_returns, assert_same, existing, keys, keys_of, ok, page_keys, present, walk_pages,
};
use crate::Ctx;
use crate::fixtures::instant;

/// Start of the `k`-th five-minute rate-limit window (whole seconds, as
/// KavachOS floors them).
fn window(k: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_774_234_500 + k * 300, 0).expect("valid window")
}

/// Audit writes (one, many, none; a bulk insert with a bad row stores
/// nothing), `get_audit_log`, `count_audit_logs` per filter, a plain query
/// and page, and the strict `delete_audit_logs_before` retention cut-off.
pub async fn audit_log_write_count_and_retention(ctx: &Ctx) {
    let s = ctx.store();
    let (u, a) = b::seed_user_agent(s).await;
    let other = b::seed_agent(s, &u.id).await;
    let v = b::seed_user(s).await;
    let one = AuditLog {
        result: AuditResult::Denied,
        reason: Some("no permission".into()),
        tokens_cost: Some(12),
        user_agent: Some("kavach-sdk/1".into()),
        ..b::audit(&a.id, &u.id, 0)
    };
    assert_returns(ctx, s.create_audit_log(one.clone()).await, &one);
    let bulk = [
        AuditLog {
            action: "read".into(),
            ..b::audit(&a.id, &u.id, 2)
        },
        AuditLog {
            result: AuditResult::RateLimited,
            ..b::audit(&other.id, &v.id, 4)
        },
        AuditLog {
            resource: "tool:deploy".into(),
            ..b::audit(&a.id, &v.id, 10)
        },
    ];
    ok(s.create_audit_logs(&bulk).await);
    ok(s.create_audit_logs(&[]).await);
    let bad = [
        b::audit(&a.id, &u.id, 20),
        b::audit("agt_missing", &u.id, 22),
    ];
    assert_reference(s.create_audit_logs(&bad).await);
    assert!(
        absent(s.get_audit_log(&bad[0].id).await),
        "bulk insert must be all or nothing"
    );

    assert_found(ctx, s.get_audit_log(&one.id).await, &one);
    assert_found(ctx, s.get_audit_log(&bulk[2].id).await, &bulk[2]);
    assert!(absent(s.get_audit_log("aud_missing").await));

    let counts: Vec<(AuditFilter, u64)> = vec![
        (AuditFilter::default(), 4),
        (AuditFilter::agent(a.id.clone()), 3),
        (
            AuditFilter {
                user_id: Some(v.id.clone()),
                ..Default::default()
            },
            2,
        ),
        (
            AuditFilter {
                actions: Some(vec!["read".into(), "write".into()]),
                ..Default::default()
            },
            1,
        ),
        (
            AuditFilter {
                resource: Some("tool:deploy".into()),
                ..Default::default()
            },
            1,
        ),
        (
            AuditFilter {
                result: Some(AuditResult::Denied),
                ..Default::default()
            },
            1,
        ),
        (
            AuditFilter {
                since: Some(instant(3)),
                ..Default::default()
            },
            2,
        ),
        (
            AuditFilter {
                until: Some(instant(3)),
                ..Default::default()
            },
            2,
        ),
        (
            AuditFilter {
                agent_id: Some(a.id.clone()),
                since: Some(instant(1)),
                until: Some(instant(5)),
                ..Default::default()
            },
            1,
        ),
    ];
    for (filter, n) in counts {
        assert_eq!(
            ok(s.count_audit_logs(&filter).await),
            n,
            "count_audit_logs({filter:?})"
        );
    }
    let of_a = &AuditFilter::agent(a.id.clone());
    let newest = ok(s.query_audit_logs(of_a, None, None).await);
    assert_eq!(keys(&newest), keys_of(&[&bulk[2], &bulk[0], &one]));
    let walked = walk_pages("list_audit_logs", Some(2), |req| async move {
        s.list_audit_logs(of_a, &req).await.map(page_keys)
    })
    .await;
    assert_eq!(walked, keys_of(&[&bulk[2], &bulk[0], &one]));

    // Strictly older than the cut-off: rows at 0, 2 and 4 s go, the one at 10 s stays.
    assert_eq!(ok(s.delete_audit_logs_before(instant(7)).await), 3);
    assert_eq!(
        keys(
            &s.query_audit_logs(&AuditFilter::default(), None, None)
                .await
                .unwrap()
        ),
        [bulk[2].id.clone()]
    );
    assert_eq!(ok(s.delete_audit_logs_before(instant(7)).await), 0);
}

/// Rate-limit buckets: increments return 1, 2, 3 per (agent, resource,
/// window) with KavachOS's bucket id, `set_rate_limit` writes an absolute
/// count (creating the bucket), sums cover windows from `since` on, and
/// purges drop windows that started before the cut-off.
pub async fn rate_limit_counters(ctx: &Ctx) {
    let s = ctx.store();
    let (_, a) = b::seed_user_agent(s).await;
    let other = b::seed_agent(s, &a.owner_id).await;
    for want in 1..=3 {
        assert_eq!(
            ok(s.increment_rate_limit(&a.id, "tool:x", window(0)).await),
            want
        );
    }
    assert_eq!(
        ok(s.increment_rate_limit(&a.id, "tool:y", window(0)).await),
        1
    );
    assert_eq!(
        ok(s.increment_rate_limit(&a.id, "tool:x", window(1)).await),
        1
    );
    assert_eq!(
        ok(s.increment_rate_limit(&other.id, "tool:x", window(0)).await),
        1
    );

    let bucket = existing(s.get_rate_limit(&a.id, "tool:x", window(0)).await);
    assert_same(
        ctx,
        &bucket,
        &RateLimit {
            id: rate_limit_bucket_id(&a.id, "tool:x", window(0)),
            agent_id: a.id.clone(),
            resource: "tool:x".into(),
            window_start: window(0),
            count: 3,
        },
    );
    assert!(absent(s.get_rate_limit(&a.id, "tool:x", window(5)).await));
    assert!(absent(s.get_rate_limit(&a.id, "tool:z", window(0)).await));

    assert_eq!(
        ok(s.set_rate_limit(&a.id, "tool:x", window(0), 10).await).count,
        10
    );
    assert_eq!(
        ok(s.increment_rate_limit(&a.id, "tool:x", window(0)).await),
        11
    );
    let created = ok(s.set_rate_limit(&a.id, "tool:x", window(2), 5).await);
    assert_eq!(created.id, rate_limit_bucket_id(&a.id, "tool:x", window(2)));
    assert_eq!(created.count, 5);
    assert_eq!(
        ok(s.get_rate_limit(&a.id, "tool:x", window(2)).await).map(|r| r.count),
        Some(5)
    );

    assert_eq!(
        ok(s.sum_rate_limit_since(&a.id, "tool:x", window(0)).await),
        11 + 1 + 5
    );
    assert_eq!(
        ok(s.sum_rate_limit_since(&a.id, "tool:x", window(1)).await),
        1 + 5
    );
    assert_eq!(
        ok(s.sum_rate_limit_since(&a.id, "tool:x", window(3)).await),
        0
    );
    assert_eq!(
        ok(s.sum_rate_limit_since(&a.id, "tool:none", window(0)).await),
        0
    );
    assert_eq!(
        ok(s.sum_rate_limit_since(&other.id, "tool:x", window(0)).await),
        1
    );

    assert_reference(
        s.increment_rate_limit("agt_missing", "tool:x", window(0))
            .await,
    );

    // Windows starting before window(1): (a, x, 0), (a, y, 0), (other, x, 0).
    assert_eq!(ok(s.purge_rate_limits_before(window(1)).await), 3);
    assert!(absent(s.get_rate_limit(&a.id, "tool:x", window(0)).await));
    assert_eq!(
        ok(s.sum_rate_limit_since(&a.id, "tool:x", window(0)).await),
        6
    );
    assert_eq!(ok(s.purge_rate_limits_before(window(1)).await), 0);
}

/// Delegation lookups: `get_delegation_chain`, chains granted by an agent
/// (any status, newest first) and the active, unexpired chains granted to
/// an agent; a missing agent is a `Reference` error.
pub async fn delegation_lookups_and_listings(ctx: &Ctx) {
    let s = ctx.store();
    let owner = b::seed_user(s).await;
    let [a, bb, c, d] = b::seed_agents(s, &owner.id).await;
    let ab = s
        .create_delegation_chain(b::delegation(&a.id, &bb.id))
        .await
        .expect("create");
    let ac = s
        .create_delegation_chain(DelegationChain {
            status: DelegationStatus::Revoked,
            created_at: instant(10),
            ..b::delegation(&a.id, &c.id)
        })
        .await
        .unwrap();
    let ba = s
        .create_delegation_chain(b::delegation(&bb.id, &a.id).created(20))
        .await
        .unwrap();
    let db = s
        .create_delegation_chain(DelegationChain {
            depth: 2,
            expires_at: instant(7200),
            created_at: instant(30),
            ..b::delegation(&d.id, &bb.id)
        })
        .await
        .unwrap();
    assert_reference(
        s.create_delegation_chain(b::delegation(&a.id, "agt_missing"))
            .await,
    );
    assert_reference(
        s.create_delegation_chain(b::delegation("agt_missing", &a.id))
            .await,
    );

    assert_found(ctx, s.get_delegation_chain(&db.id).await, &db);
    assert!(absent(s.get_delegation_chain("dlg_missing").await));

    assert_eq!(
        keys(&ok(s.list_delegation_chains_from_agent(&a.id).await)),
        keys_of(&[&ac, &ab])
    );
    assert_eq!(
        keys(&ok(s.list_delegation_chains_from_agent(&bb.id).await)),
        keys_of(&[&ba])
    );
    assert!(ok(s.list_delegation_chains_from_agent(&c.id).await).is_empty());

    let to = |agent: String, at: i64| async move {
        keys(
            &s.list_active_delegations_to_agent(&agent, instant(at))
                .await
                .unwrap(),
        )
    };
    assert_eq!(to(bb.id.clone(), 60).await, keys_of(&[&db, &ab]));
    // ab expires at 3600 s, db at 7200 s.
    assert_eq!(to(bb.id.clone(), 5000).await, keys_of(&[&db]));
    assert_eq!(to(bb.id.clone(), 9000).await, Vec::<String>::new());
    assert_eq!(
        to(c.id.clone(), 60).await,
        Vec::<String>::new(),
        "revoked chains are not active"
    );
    assert_eq!(to(a.id.clone(), 60).await, keys_of(&[&ba]));
}

/// `revoke_delegation_chain` revokes the chain and, transitively, every
/// active chain its receiver passed on (stopping at cycles), returns the
/// ids with the given one first, and leaves unrelated chains alone.
pub async fn delegation_revoke_follows_the_chain(ctx: &Ctx) {
    let s = ctx.store();
    let owner = b::seed_user(s).await;
    let [a, bb, c, d, e, f] = b::seed_agents(s, &owner.id).await;
    let chain = |from: &Agent, to: &Agent| b::delegation(&from.id, &to.id);
    let c1 = ok(s.create_delegation_chain(chain(&a, &bb)).await);
    let c2 = ok(s.create_delegation_chain(chain(&bb, &c)).await);
    let c3 = ok(s.create_delegation_chain(chain(&c, &d)).await);
    let c4 = s
        .create_delegation_chain(DelegationChain {
            status: DelegationStatus::Revoked,
            ..chain(&bb, &e)
        })
        .await
        .unwrap();
    let c5 = ok(s.create_delegation_chain(chain(&d, &bb)).await); // a cycle back to bb
    let c6 = ok(s.create_delegation_chain(chain(&a, &f)).await); // a sibling, not onward
    let c7 = ok(s.create_delegation_chain(chain(&e, &f)).await); // behind a revoked link

    let revoked = ok(s.revoke_delegation_chain(&c1.id).await);
    assert_eq!(revoked[0], c1.id, "the given chain comes first");
    let mut rest = revoked[1..].to_vec();
    rest.sort();
    let mut want = vec![c2.id.clone(), c3.id.clone(), c5.id.clone()];
    want.sort();
    assert_eq!(rest, want);
    for id in [&c1.id, &c2.id, &c3.id, &c4.id, &c5.id] {
        assert_eq!(
            existing(s.get_delegation_chain(id).await).status,
            DelegationStatus::Revoked,
            "{id}"
        );
    }
    for id in [&c6.id, &c7.id] {
        assert_eq!(
            existing(s.get_delegation_chain(id).await).status,
            DelegationStatus::Active,
            "{id}"
        );
    }
    assert_not_found(s.revoke_delegation_chain("dlg_missing").await);
}

/// `update_delegation_chain` patches one chain (no cascade), delete is
/// `NotFound` when missing, and the purge drops chains with
/// `expires_at < now` whatever their status.
pub async fn delegation_update_delete_and_purge(ctx: &Ctx) {
    let s = ctx.store();
    let owner = b::seed_user(s).await;
    let [a, bb, c] = b::seed_agents(s, &owner.id).await;
    let ab = s
        .create_delegation_chain(b::delegation(&a.id, &bb.id))
        .await
        .unwrap();
    let bc = s
        .create_delegation_chain(b::delegation(&bb.id, &c.id))
        .await
        .unwrap();
    let patch = DelegationChainPatch {
        status: Some(DelegationStatus::Revoked),
        permissions: Some(json!([])),
        ..DelegationChainPatch::default()
    };
    let want = DelegationChain {
        status: DelegationStatus::Revoked,
        permissions: json!([]),
        ..ab.clone()
    };
    assert_returns(ctx, s.update_delegation_chain(&ab.id, &patch).await, &want);
    assert_eq!(
        existing(s.get_delegation_chain(&bc.id).await).status,
        DelegationStatus::Active
    );
    assert_not_found(s.update_delegation_chain("dlg_missing", &patch).await);

    ok(s.delete_delegation_chain(&bc.id).await);
    assert!(absent(s.get_delegation_chain(&bc.id).await));
    assert_not_found(s.delete_delegation_chain(&bc.id).await);

    let soon = s
        .create_delegation_chain(b::delegation(&c.id, &a.id).expiring(100))
        .await
        .unwrap();
    let later = s
        .create_delegation_chain(b::delegation(&c.id, &bb.id).expiring(10_000))
        .await
        .unwrap();
    // ab (revoked, expiring at 3600 s) and soon go; later stays.
    assert_eq!(
        ok(s.purge_expired_delegation_chains(instant(5000)).await),
        2
    );
    assert!(absent(s.get_delegation_chain(&soon.id).await));
    assert!(absent(s.get_delegation_chain(&ab.id).await));
    assert!(present(s.get_delegation_chain(&later.id).await));
    assert_eq!(
        ok(s.purge_expired_delegation_chains(instant(5000)).await),
        0
    );
}

/// Every `BudgetStore` method: filters of `list_budget_policies` (oldest
/// first), the policies that apply to an agent (its own and agent-less
/// ones, never disabled ones), patch and delete.
pub async fn budget_policy_operations(ctx: &Ctx) {
    let s = ctx.store();
    let (u, a) = b::seed_user_agent(s).await;
    let other = b::seed_agent(s, &u.id).await;
    let t = ok(s.create_tenant(b::tenant()).await);
    let p1 = s
        .create_budget_policy(b::budget_policy(Some(&a.id), None))
        .await
        .expect("create");
    let p2 = s
        .create_budget_policy(b::budget_policy(None, Some(&u.id)).created(10))
        .await
        .unwrap();
    let p3 = s
        .create_budget_policy(b::budget_policy(Some(&other.id), None).created(20))
        .await
        .unwrap();
    let p4 = s
        .create_budget_policy(BudgetPolicy {
            status: BudgetStatus::Disabled,
            created_at: instant(30),
            ..b::budget_policy(Some(&a.id), None)
        })
        .await
        .unwrap();
    let p5 = s
        .create_budget_policy(BudgetPolicy {
            tenant_id: Some(t.id.clone()),
            status: BudgetStatus::Triggered,
            action: BudgetAction::Block,
            created_at: instant(40),
            ..b::budget_policy(None, None)
        })
        .await
        .unwrap();
    assert_reference(
        s.create_budget_policy(b::budget_policy(Some("agt_missing"), None))
            .await,
    );

    let cases: Vec<(BudgetPolicyFilter, Vec<String>)> = vec![
        (
            BudgetPolicyFilter::default(),
            keys_of(&[&p1, &p2, &p3, &p4, &p5]),
        ),
        (
            BudgetPolicyFilter {
                agent_id: Some(a.id.clone()),
                ..Default::default()
            },
            keys_of(&[&p1, &p4]),
        ),
        (
            BudgetPolicyFilter {
                user_id: Some(u.id.clone()),
                ..Default::default()
            },
            keys_of(&[&p2]),
        ),
        (
            BudgetPolicyFilter {
                tenant_id: Some(t.id.clone()),
                ..Default::default()
            },
            keys_of(&[&p5]),
        ),
        (
            BudgetPolicyFilter {
                status: Some(BudgetStatus::Disabled),
                ..Default::default()
            },
            keys_of(&[&p4]),
        ),
        (
            BudgetPolicyFilter {
                agent_id: Some(a.id.clone()),
                status: Some(BudgetStatus::Active),
                ..Default::default()
            },
            keys_of(&[&p1]),
        ),
        (
            BudgetPolicyFilter {
                agent_id: Some("agt_missing".into()),
                ..Default::default()
            },
            vec![],
        ),
    ];
    for (filter, want) in cases {
        assert_eq!(
            keys(&ok(s.list_budget_policies(&filter).await)),
            want,
            "{filter:?}"
        );
    }
    assert_eq!(
        keys(&ok(s.list_budget_policies_for_agent(&a.id).await)),
        keys_of(&[&p1, &p2, &p5])
    );
    assert_eq!(
        keys(&ok(s.list_budget_policies_for_agent(&other.id).await)),
        keys_of(&[&p2, &p3, &p5])
    );

    assert_found(ctx, s.get_budget_policy(&p5.id).await, &p5);
    assert!(absent(s.get_budget_policy("bud_missing").await));
    let patch = BudgetPolicyPatch {
        current_usage: Some(json!({"costToday": 42})),
        status: Some(BudgetStatus::Triggered),
        ..BudgetPolicyPatch::default()
    };
    let want = BudgetPolicy {
        current_usage: json!({"costToday": 42}),
        status: BudgetStatus::Triggered,
        ..p1.clone()
    };
    assert_returns(ctx, s.update_budget_policy(&p1.id, &patch).await, &want);
    assert_not_found(s.update_budget_policy("bud_missing", &patch).await);
    ok(s.delete_budget_policy(&p3.id).await);
    assert_not_found(s.delete_budget_policy(&p3.id).await);
    assert_eq!(
        keys(&ok(s.list_budget_policies_for_agent(&other.id).await)),
        keys_of(&[&p2, &p5])
    );
}

/// Every `CostStore` method: writes, a page, sums under each `CostFilter`
/// field (`since` inclusive, `until` exclusive), the top-agents ranking
/// (highest first, ties by agent id, limited) and the `<=` cleanup.
pub async fn cost_event_operations(ctx: &Ctx) {
    let s = ctx.store();
    let owner = b::seed_user(s).await;
    b::seed_agents_with_ids(s, &owner.id, &["agt_a", "agt_b", "agt_c", "agt_d"]).await;
    let a0 = ok(s.create_cost_event(b::cost_event("agt_a", 0, 100)).await);
    let batch = [
        b::cost_event("agt_a", 10, 200),
        CostEvent {
            delegation_chain_id: Some("dlg_1".into()),
            metadata: Some(json!({"model": "x"})),
            ..b::cost_event("agt_a", 20, 300)
        },
        b::cost_event("agt_b", 6, 1000),
        CostEvent {
            input_tokens: None,
            output_tokens: None,
            ..b::cost_event("agt_c", 16, 200)
        },
    ];
    ok(s.create_cost_events(&batch).await);
    ok(s.create_cost_events(&[]).await);
    assert_reference(
        s.create_cost_event(b::cost_event("agt_missing", 0, 1))
            .await,
    );

    assert_found(ctx, s.get_cost_event(&batch[1].id).await, &batch[1]);
    assert!(absent(s.get_cost_event("cost_missing").await));
    let page = s
        .list_cost_events(
            &CostFilter {
                agent_id: Some("agt_a".into()),
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(keys(&page.items), keys_of(&[&batch[1], &batch[0], &a0]));
    assert!(page.next.is_none());

    let sums: Vec<(CostFilter, i64)> = vec![
        (CostFilter::default(), 1800),
        (
            CostFilter {
                agent_id: Some("agt_a".into()),
                ..Default::default()
            },
            600,
        ),
        (
            CostFilter {
                agent_ids: Some(vec!["agt_a".into(), "agt_c".into()]),
                ..Default::default()
            },
            800,
        ),
        (
            CostFilter {
                agent_ids: Some(vec![]),
                ..Default::default()
            },
            0,
        ),
        (
            CostFilter {
                delegation_chain_id: Some("dlg_1".into()),
                ..Default::default()
            },
            300,
        ),
        (
            CostFilter {
                since: Some(instant(10)),
                ..Default::default()
            },
            700,
        ),
        (
            CostFilter {
                until: Some(instant(10)),
                ..Default::default()
            },
            1100,
        ),
        (
            CostFilter {
                since: Some(instant(5)),
                until: Some(instant(15)),
                ..Default::default()
            },
            1200,
        ),
        (
            CostFilter {
                agent_id: Some("agt_d".into()),
                ..Default::default()
            },
            0,
        ),
    ];
    for (filter, want) in sums {
        assert_eq!(
            ok(s.sum_cost_micros(&filter).await),
            want,
            "sum_cost_micros({filter:?})"
        );
    }

    ok(s.create_cost_event(b::cost_event("agt_d", 30, 600)).await);
    let all = CostFilter::default();
    let top = |f: CostFilter, n: u64| async move { ok(s.top_agents_by_cost(&f, n).await) };
    let pairs = |v: &[(&str, i64)]| {
        v.iter()
            .map(|(a, n)| (a.to_string(), *n))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        top(all.clone(), 10).await,
        pairs(&[
            ("agt_b", 1000),
            ("agt_a", 600),
            ("agt_d", 600),
            ("agt_c", 200)
        ])
    );
    assert_eq!(
        top(all.clone(), 2).await,
        pairs(&[("agt_b", 1000), ("agt_a", 600)])
    );
    assert_eq!(
        top(
            CostFilter {
                since: Some(instant(10)),
                ..Default::default()
            },
            10
        )
        .await,
        pairs(&[("agt_d", 600), ("agt_a", 500), ("agt_c", 200)])
    );
    assert_eq!(
        top(
            CostFilter {
                agent_id: Some("agt_x".into()),
                ..Default::default()
            },
            10
        )
        .await,
        vec![]
    );

    // `<=`: the events at 0, 6 and 10 s go.
    assert_eq!(ok(s.delete_cost_events_before(instant(10)).await), 3);
    assert_eq!(ok(s.sum_cost_micros(&all).await), 300 + 200 + 600);
    assert_eq!(ok(s.delete_cost_events_before(instant(10)).await), 0);
}

/// Approval listings: pending requests of an agent (expired ones included)
/// and of everyone or one user, oldest first; `get_approval_request`.
pub async fn approval_listings(ctx: &Ctx) {
    let s = ctx.store();
    let (u, a) = b::seed_user_agent(s).await;
    let v = b::seed_user(s).await;
    let other = b::seed_agent(s, &v.id).await;
    let r1 = ok(s.create_approval_request(b::approval(&a.id, &u.id)).await);
    let r2 = s
        .create_approval_request(b::approval(&a.id, &v.id).created(10).expiring(20))
        .await
        .unwrap();
    let r3 = s
        .create_approval_request(b::approval(&other.id, &u.id).created(20))
        .await
        .unwrap();
    let r4 = s
        .create_approval_request(ApprovalRequest {
            status: ApprovalStatus::Approved,
            responded_at: Some(instant(25)),
            responded_by: Some("admin".into()),
            created_at: instant(30),
            ..b::approval(&a.id, &u.id)
        })
        .await
        .unwrap();
    assert_reference(
        s.create_approval_request(b::approval("agt_missing", &u.id))
            .await,
    );

    assert_found(ctx, s.get_approval_request(&r4.id).await, &r4);
    assert!(absent(s.get_approval_request("apr_missing").await));
    assert_eq!(
        keys(&ok(s.list_pending_approvals_by_agent(&a.id).await)),
        keys_of(&[&r1, &r2])
    );
    assert_eq!(
        keys(&ok(s.list_pending_approvals_by_agent(&other.id).await)),
        keys_of(&[&r3])
    );
    assert!(ok(s.list_pending_approvals_by_agent("agt_missing").await).is_empty());
    assert_eq!(
        keys(&ok(s.list_pending_approvals(None).await)),
        keys_of(&[&r1, &r2, &r3])
    );
    assert_eq!(
        keys(&ok(s.list_pending_approvals(Some(&u.id)).await)),
        keys_of(&[&r1, &r3])
    );
    assert_eq!(
        keys(&ok(s.list_pending_approvals(Some(&v.id)).await)),
        keys_of(&[&r2])
    );
}

/// `resolve_approval_request` is a compare-and-set: it resolves a pending,
/// unexpired request once (recording who and when) and returns `None` for
/// resolved, expired or missing ones; `update_approval_request` patches
/// without a state check; delete is `NotFound` when missing.
pub async fn approval_resolve_is_compare_and_set(ctx: &Ctx) {
    let s = ctx.store();
    let (u, a) = b::seed_user_agent(s).await;
    let r = ok(s.create_approval_request(b::approval(&a.id, &u.id)).await);
    let approved = existing(
        s.resolve_approval_request(
            &r.id,
            ApprovalDecision::Approve,
            "admin@example.com",
            instant(60),
        )
        .await,
    );
    let want = ApprovalRequest {
        status: ApprovalStatus::Approved,
        responded_at: Some(instant(60)),
        responded_by: Some("admin@example.com".into()),
        ..r.clone()
    };
    assert_same(ctx, &approved, &want);
    assert!(absent(
        s.resolve_approval_request(&r.id, ApprovalDecision::Deny, "other", instant(61))
            .await
    ));
    assert!(absent(
        s.resolve_approval_request(&r.id, ApprovalDecision::Approve, "other", instant(61))
            .await
    ));
    assert_found(ctx, s.get_approval_request(&r.id).await, &want);

    let d = ok(s.create_approval_request(b::approval(&a.id, &u.id)).await);
    let denied = existing(
        s.resolve_approval_request(&d.id, ApprovalDecision::Deny, "bob", instant(70))
            .await,
    );
    assert_eq!(denied.status, ApprovalStatus::Denied);
    assert_eq!(denied.responded_by.as_deref(), Some("bob"));

    // Expires at 600 s: too late at 5000 s, and the request stays pending.
    let late = ok(s.create_approval_request(b::approval(&a.id, &u.id)).await);
    assert!(absent(
        s.resolve_approval_request(&late.id, ApprovalDecision::Approve, "x", instant(5000))
            .await
    ));
    assert_found(ctx, s.get_approval_request(&late.id).await, &late);
    assert!(absent(
        s.resolve_approval_request("apr_missing", ApprovalDecision::Approve, "x", instant(60))
            .await
    ));

    // The plain patch has no state guard.
    let patch = ApprovalRequestPatch {
        status: Some(ApprovalStatus::Pending),
        responded_at: Some(None),
        ..Default::default()
    };
    let reopened = ok(s.update_approval_request(&r.id, &patch).await);
    assert_eq!(reopened.status, ApprovalStatus::Pending);
    assert_eq!(reopened.responded_at, None);
    assert_not_found(s.update_approval_request("apr_missing", &patch).await);

    ok(s.delete_approval_request(&d.id).await);
    assert!(absent(s.get_approval_request(&d.id).await));
    assert_not_found(s.delete_approval_request(&d.id).await);
}

/// `expire_approval_requests` marks only pending requests past their expiry;
/// `purge_expired_approval_requests` deletes expired ones whatever their status.
pub async fn approval_expire_and_purge(ctx: &Ctx) {
    let s = ctx.store();
    let (u, a) = b::seed_user_agent(s).await;
    let due = s
        .create_approval_request(b::approval(&a.id, &u.id).expiring(100))
        .await
        .unwrap();
    let later = s
        .create_approval_request(b::approval(&a.id, &u.id).expiring(10_000))
        .await
        .unwrap();
    let answered = s
        .create_approval_request(ApprovalRequest {
            status: ApprovalStatus::Approved,
            expires_at: instant(100),
            ..b::approval(&a.id, &u.id)
        })
        .await
        .unwrap();
    assert_eq!(ok(s.expire_approval_requests(instant(5000)).await), 1);
    assert_eq!(
        existing(s.get_approval_request(&due.id).await).status,
        ApprovalStatus::Expired
    );
    assert_eq!(
        existing(s.get_approval_request(&later.id).await).status,
        ApprovalStatus::Pending
    );
    assert_eq!(
        existing(s.get_approval_request(&answered.id).await).status,
        ApprovalStatus::Approved
    );
    assert_eq!(ok(s.expire_approval_requests(instant(5000)).await), 0);

    assert_eq!(
        ok(s.purge_expired_approval_requests(instant(5000)).await),
        2
    );
    assert!(absent(s.get_approval_request(&due.id).await));
    assert!(absent(s.get_approval_request(&answered.id).await));
    assert!(present(s.get_approval_request(&later.id).await));
}

/// Every `McpServerStore` method: unique endpoint, lookups, oldest-first
/// listing, patch and delete (`NotFound` when missing).
pub async fn mcp_server_operations(ctx: &Ctx) {
    let s = ctx.store();
    let m1 = ok(s.create_mcp_server(b::mcp_server().created(20)).await);
    let m2 = s
        .create_mcp_server(McpServer {
            auth_required: false,
            rate_limit_rpm: None,
            ..b::mcp_server()
        })
        .await
        .unwrap();
    let m3 = ok(s.create_mcp_server(b::mcp_server().created(10)).await);
    assert_conflict(
        s.create_mcp_server(McpServer {
            endpoint: m1.endpoint.clone(),
            ..b::mcp_server()
        })
        .await,
    );

    assert_found(ctx, s.get_mcp_server(&m2.id).await, &m2);
    assert_found(ctx, s.find_mcp_server_by_endpoint(&m1.endpoint).await, &m1);
    assert!(absent(s.get_mcp_server("mcp_missing").await));
    assert!(absent(
        s.find_mcp_server_by_endpoint("https://nowhere.example.com")
            .await
    ));
    assert_eq!(
        keys(&ok(s.list_mcp_servers().await)),
        keys_of(&[&m2, &m3, &m1])
    );

    let patch = McpServerPatch {
        status: Some(McpServerStatus::Inactive),
        tools: Some(vec![]),
        rate_limit_rpm: Some(None),
        updated_at: Some(instant(30)),
        ..McpServerPatch::default()
    };
    let updated = ok(s.update_mcp_server(&m1.id, &patch).await);
    let want = McpServer {
        status: McpServerStatus::Inactive,
        tools: vec![],
        rate_limit_rpm: None,
        updated_at: instant(30),
        ..m1.clone()
    };
    assert_same(ctx, &updated, &want);
    assert_instant::<McpServer>(ctx, "created_at", updated.created_at, m1.created_at);
    assert_not_found(s.update_mcp_server("mcp_missing", &patch).await);

    ok(s.delete_mcp_server(&m3.id).await);
    assert_not_found(s.delete_mcp_server(&m3.id).await);
    assert_eq!(keys(&ok(s.list_mcp_servers().await)), keys_of(&[&m2, &m1]));
}
