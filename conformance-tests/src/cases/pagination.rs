//! Pagination tier: keyset pages of the five growing lists (audit logs,
//! agents, cost events, login history, stream events) and the audit log's
//! KavachOS-compatible limit/offset query.
//!
//! Every walk checks: pages with a `next` cursor are full, the last page has
//! `next == None` and is not empty (unless the list is), no row appears twice,
//! none is skipped, and the order is (time, id) newest first with ties broken
//! by id in byte order.

use chrono::{DateTime, Utc};
use kavach_store_core::prelude::*;

use super::builders as b;
use super::support::{Kind, expect_err, ok, page_keys, walk_pages};
use crate::Ctx;
use crate::fixtures::{at, id};

/// A named filter with the predicate that selects the same rows in Rust.
type Named<'a, F, T> = (&'static str, F, Box<dyn Fn(&T) -> bool + Send + Sync + 'a>);

/// One of the keyset-paginated lists, with its filter.
enum List {
    Audit(AuditFilter),
    Agents(AgentFilter),
    Cost(CostFilter),
    Login(String),
    Stream(StreamEventFilter),
}

impl List {
    fn name(&self) -> &'static str {
        match self {
            List::Audit(_) => "list_audit_logs",
            List::Agents(_) => "list_agents_page",
            List::Cost(_) => "list_cost_events",
            List::Login(_) => "list_login_history",
            List::Stream(_) => "list_stream_events",
        }
    }
}

/// One page of `list`, reduced to the ids of its items.
async fn page_ids(
    store: &dyn KavachStore,
    list: &List,
    request: PageRequest,
) -> Result<Page<String>, StoreError> {
    Ok(match list {
        List::Audit(f) => page_keys(store.list_audit_logs(f, &request).await?),
        List::Agents(f) => page_keys(store.list_agents_page(f, &request).await?),
        List::Cost(f) => page_keys(store.list_cost_events(f, &request).await?),
        List::Login(user_id) => page_keys(store.list_login_history(user_id, &request).await?),
        List::Stream(f) => page_keys(store.list_stream_events(f, &request).await?),
    })
}

/// Page sizes 1, 2, 3, the default and the maximum.
const EVERY_SIZE: [Option<u32>; 5] = [Some(1), Some(2), Some(3), None, Some(MAX_PAGE_SIZE)];

/// Walks `list` with each page size of `limits` (see [`walk_pages`]) and
/// compares each walk with `expected`.
async fn walk_with_limits(
    store: &dyn KavachStore,
    list: &List,
    what: &str,
    limits: &[Option<u32>],
    expected: &[String],
) {
    for &limit in limits {
        let got = walk_pages(what, limit, |req| page_ids(store, list, req)).await;
        assert_eq!(
            got, expected,
            "{what} (limit {limit:?}): wrong rows or order"
        );
    }
}

/// The keyset position of a row of a paginated list: (time, id).
trait Keyset {
    fn position(&self) -> (DateTime<Utc>, String);
}

impl Keyset for AuditLog {
    fn position(&self) -> (DateTime<Utc>, String) {
        (self.timestamp, self.id.clone())
    }
}

impl Keyset for Agent {
    fn position(&self) -> (DateTime<Utc>, String) {
        (self.created_at, self.id.clone())
    }
}

impl Keyset for CostEvent {
    fn position(&self) -> (DateTime<Utc>, String) {
        (self.recorded_at, self.id.clone())
    }
}

impl Keyset for LoginHistory {
    fn position(&self) -> (DateTime<Utc>, String) {
        (self.timestamp, self.id.clone())
    }
}

impl Keyset for StreamEvent {
    fn position(&self) -> (DateTime<Utc>, String) {
        (self.timestamp, self.id.clone())
    }
}

/// Ids of the `rows` that `keep` selects, in keyset order: (time, id)
/// newest first.
fn newest_first<T: Keyset>(rows: &[T], keep: impl Fn(&T) -> bool) -> Vec<String> {
    let mut positions: Vec<_> = rows.iter().filter(|r| keep(r)).map(T::position).collect();
    positions.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    positions.into_iter().map(|(_, id)| id).collect()
}

/// A scrambled insertion order (every 7th, wrapping), so that neither the
/// insertion order nor the id order equals the expected order.
fn scrambled<T: Clone>(rows: &[T]) -> Vec<T> {
    let n = rows.len();
    let mut order: Vec<usize> = (0..n).map(|i| (i * 7) % n.max(1)).collect();
    if n.is_multiple_of(7) {
        order = (0..n).rev().collect();
    }
    order.into_iter().map(|i| rows[i].clone()).collect()
}

/// Time offset (seconds) of the `i`-th generated row: not monotonic in `i`
/// (ids grow with `i`) and with three rows per instant, so ties are common.
fn tied_secs(i: usize) -> i64 {
    ((i * 7) % 54 / 3) as i64
}

/// Audit-log pages of one agent, with sizes 1, 2, 3, default (a full first
/// page of 50 when there are more) and maximum, cover every row once, in
/// (timestamp, id) order newest first.
pub async fn audit_log_pages_walk_every_size(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let agent = b::seed_agent(store, &user.id).await;
    let other = b::seed_agent(store, &user.id).await;
    let rows: Vec<AuditLog> = (0..53)
        .map(|i| b::audit_at(&agent.id, &user.id, at(tied_secs(i))))
        .collect();
    let noise: Vec<AuditLog> = (0..5)
        .map(|i| b::audit_at(&other.id, &user.id, at(i)))
        .collect();
    ok(store.create_audit_logs(&scrambled(&rows)).await);
    store
        .create_audit_logs(&noise)
        .await
        .expect("bulk insert noise");

    let expected = newest_first(&rows, |_| true);
    let list = List::Audit(AuditFilter::agent(agent.id.clone()));
    walk_with_limits(
        store,
        &list,
        "list_audit_logs by agent",
        &EVERY_SIZE,
        &expected,
    )
    .await;

    let first = store
        .list_audit_logs(
            &AuditFilter::agent(agent.id.clone()),
            &PageRequest::default(),
        )
        .await
        .expect("default page");
    assert_eq!(
        first.items.len(),
        DEFAULT_PAGE_SIZE as usize,
        "default page size"
    );
    assert!(
        first.next.is_some(),
        "53 rows: the default page is not the last"
    );

    let all = newest_first(&[rows, noise].concat(), |_| true);
    let unfiltered = List::Audit(AuditFilter::default());
    let got = walk_pages("list_audit_logs unfiltered", Some(4), |req| {
        page_ids(store, &unfiltered, req)
    })
    .await;
    assert_eq!(got, all, "unfiltered audit pages");
}

/// Rows sharing one timestamp are paged by id (descending) across page
/// boundaries: the cursor's `time = t AND id < last` branch.
pub async fn audit_log_pages_break_time_ties_by_id(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let agent = b::seed_agent(store, &user.id).await;
    let mut rows: Vec<AuditLog> = (0..9)
        .map(|_| b::audit_at(&agent.id, &user.id, at(10)))
        .collect();
    // One newer and one older row around the tie.
    rows.push(b::audit_at(&agent.id, &user.id, at(11)));
    rows.push(b::audit_at(&agent.id, &user.id, at(9)));
    for row in rows.iter().rev() {
        ok(store.create_audit_log(row.clone()).await);
    }
    let expected = newest_first(&rows, |_| true);
    assert_eq!(expected.first(), Some(&rows[9].id));
    assert_eq!(expected.last(), Some(&rows[10].id));
    walk_with_limits(
        store,
        &List::Audit(AuditFilter::agent(agent.id.clone())),
        "tied audit rows",
        &EVERY_SIZE,
        &expected,
    )
    .await;
}

/// Every audit filter (user, actions, resource, result, inclusive since and
/// until, and all of them together) keeps applying on the pages after the
/// first: the cursor narrows the filter, never replaces it.
pub async fn audit_log_pages_combine_filters_with_cursors(ctx: &Ctx) {
    let store = ctx.store();
    let alice = b::seed_user(store).await;
    let bob = b::seed_user(store).await;
    let agent = b::seed_agent(store, &alice.id).await;
    let actions = ["read", "write", "delete"];
    let resources = ["mcp:github:repos", "tool:file_read"];
    let results = [
        AuditResult::Allowed,
        AuditResult::Denied,
        AuditResult::RateLimited,
    ];
    let mut rows = Vec::new();
    for i in 0..60usize {
        let user = if i % 4 == 0 { &bob.id } else { &alice.id };
        rows.push(AuditLog {
            action: actions[i % 3].to_string(),
            resource: resources[i % 5 % 2].to_string(),
            result: results[i % 7 % 3].clone(),
            ..b::audit_at(&agent.id, user, at(tied_secs(i)))
        });
    }
    ok(store.create_audit_logs(&scrambled(&rows)).await);

    let since = at(4);
    let until = at(12);
    let filters: Vec<Named<'_, AuditFilter, AuditLog>> = vec![
        (
            "user",
            AuditFilter {
                user_id: Some(alice.id.clone()),
                ..Default::default()
            },
            Box::new(|r| r.user_id == alice.id),
        ),
        (
            "actions",
            AuditFilter {
                actions: Some(vec!["read".into(), "delete".into()]),
                ..Default::default()
            },
            Box::new(|r| r.action == "read" || r.action == "delete"),
        ),
        (
            "resource",
            AuditFilter {
                resource: Some("tool:file_read".into()),
                ..Default::default()
            },
            Box::new(|r| r.resource == "tool:file_read"),
        ),
        (
            "result",
            AuditFilter {
                result: Some(AuditResult::Denied),
                ..Default::default()
            },
            Box::new(|r| r.result == AuditResult::Denied),
        ),
        (
            "since",
            AuditFilter {
                since: Some(since),
                ..Default::default()
            },
            Box::new(move |r| r.timestamp >= since),
        ),
        (
            "until",
            AuditFilter {
                until: Some(until),
                ..Default::default()
            },
            Box::new(move |r| r.timestamp <= until),
        ),
        (
            "all together",
            AuditFilter {
                agent_id: Some(agent.id.clone()),
                user_id: Some(alice.id.clone()),
                actions: Some(vec!["read".into(), "write".into()]),
                resource: Some("mcp:github:repos".into()),
                result: Some(AuditResult::Allowed),
                since: Some(since),
                until: Some(until),
            },
            Box::new(|r| {
                r.user_id == alice.id
                    && (r.action == "read" || r.action == "write")
                    && r.resource == "mcp:github:repos"
                    && r.result == AuditResult::Allowed
                    && r.timestamp >= since
                    && r.timestamp <= until
            }),
        ),
    ];
    for (name, filter, keep) in filters {
        let expected = newest_first(&rows, &keep);
        assert!(!expected.is_empty(), "filter {name} selects some rows");
        assert!(
            expected.len() < rows.len(),
            "filter {name} excludes some rows"
        );
        let list = List::Audit(filter.clone());
        let what = format!("audit filter {name}");
        walk_with_limits(store, &list, &what, &[Some(1), Some(2), Some(5)], &expected).await;
        let counted = ok(store.count_audit_logs(&filter).await);
        assert_eq!(
            counted,
            expected.len() as u64,
            "count_audit_logs with filter {name}"
        );
    }
}

/// A cursor is a position, not an offset: rows inserted after the first page
/// (newer, older, or tied with the cursor row on either side of its id)
/// neither duplicate nor hide rows on the following pages.
pub async fn audit_log_pages_are_stable_under_inserts(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let agent = b::seed_agent(store, &user.id).await;
    let rows: Vec<AuditLog> = (0..12)
        .map(|i| b::audit_at(&agent.id, &user.id, at(20 + i / 2)))
        .collect();
    ok(store.create_audit_logs(&rows).await);
    let filter = AuditFilter::agent(agent.id.clone());
    let first = ok(store.list_audit_logs(&filter, &PageRequest::first(3)).await);
    let last_seen = first.items.last().expect("three items").clone();

    let newer = b::audit_at(&agent.id, &user.id, at(100));
    let older = b::audit_at(&agent.id, &user.id, at(0));
    // Same instant as the cursor row: a smaller id sorts after it, a larger before.
    let tie_after = AuditLog {
        id: format!("aud_000{}", id("x")),
        ..b::audit_at(&agent.id, &user.id, last_seen.timestamp)
    };
    let tie_before = AuditLog {
        id: format!("aud_zzz{}", id("x")),
        ..b::audit_at(&agent.id, &user.id, last_seen.timestamp)
    };
    for row in [&newer, &older, &tie_after, &tie_before] {
        store
            .create_audit_log(row.clone())
            .await
            .expect("insert during paging");
    }

    let mut seen: Vec<String> = first.items.iter().map(|r| r.id.clone()).collect();
    let mut after = first.next.clone();
    while let Some(cursor) = after {
        let page = store
            .list_audit_logs(&filter, &PageRequest::after(3, cursor))
            .await
            .expect("next page");
        seen.extend(page.items.iter().map(|r| r.id.clone()));
        after = page.next;
    }
    let expected = newest_first(&[rows, vec![older, tie_after]].concat(), |_| true);
    assert_eq!(
        seen, expected,
        "pages after inserts: no duplicates, nothing hidden behind the cursor"
    );
    assert!(
        !seen.contains(&newer.id) && !seen.contains(&tie_before.id),
        "rows before the cursor are not revisited"
    );
}

/// Agent pages (keyset on `created_at`, `id`) of one owner with every page
/// size, alone and combined with the status, type and tenant filters.
pub async fn agent_pages_walk_every_size(ctx: &Ctx) {
    let store = ctx.store();
    let owner = b::seed_user(store).await;
    let stranger = b::seed_user(store).await;
    let tenant = ok(store.create_tenant(b::tenant()).await);
    let mut agents = Vec::new();
    for i in 0..53usize {
        agents.push(Agent {
            created_at: at(tied_secs(i)),
            status: if i % 5 == 0 {
                AgentStatus::Revoked
            } else {
                AgentStatus::Active
            },
            r#type: if i % 3 == 0 {
                AgentType::Service
            } else {
                AgentType::Autonomous
            },
            tenant_id: (i % 4 == 0).then(|| tenant.id.clone()),
            ..b::agent(&owner.id)
        });
    }
    ok(store.create_many(&scrambled(&agents)).await);
    for i in 0..4 {
        store
            .create_agent(Agent {
                created_at: at(i),
                ..b::agent(&stranger.id)
            })
            .await
            .expect("noise");
    }

    let by_owner = AgentFilter::owner(owner.id.clone());
    walk_with_limits(
        store,
        &List::Agents(by_owner.clone()),
        "agents of owner",
        &EVERY_SIZE,
        &newest_first(&agents, |_| true),
    )
    .await;

    let combos: Vec<Named<'_, AgentFilter, Agent>> = vec![
        (
            "active",
            AgentFilter {
                status: Some(AgentStatus::Active),
                ..by_owner.clone()
            },
            Box::new(|a| a.status == AgentStatus::Active),
        ),
        (
            "service",
            AgentFilter {
                r#type: Some(AgentType::Service),
                ..by_owner.clone()
            },
            Box::new(|a| a.r#type == AgentType::Service),
        ),
        (
            "tenant",
            AgentFilter {
                tenant_id: Some(Some(tenant.id.clone())),
                ..by_owner.clone()
            },
            Box::new(|a| a.tenant_id.is_some()),
        ),
        (
            "no tenant, active, autonomous",
            AgentFilter {
                tenant_id: Some(None),
                status: Some(AgentStatus::Active),
                r#type: Some(AgentType::Autonomous),
                ..by_owner.clone()
            },
            Box::new(|a| {
                a.tenant_id.is_none()
                    && a.status == AgentStatus::Active
                    && a.r#type == AgentType::Autonomous
            }),
        ),
    ];
    for (name, filter, keep) in combos {
        let expected = newest_first(&agents, &keep);
        assert!(!expected.is_empty());
        let list = List::Agents(filter.clone());
        let what = format!("agents {name}");
        walk_with_limits(store, &list, &what, &[Some(1), Some(2), None], &expected).await;
        assert_eq!(
            ok(store.count_agents(&filter).await),
            expected.len() as u64,
            "count_agents {name}"
        );
    }
}

/// Cost-event pages (keyset on `recorded_at`, `id`) with every page size and
/// with the agent, agent list, delegation chain, inclusive `since` and
/// exclusive `until` filters.
pub async fn cost_event_pages_walk_every_size(ctx: &Ctx) {
    let store = ctx.store();
    let owner = b::seed_user(store).await;
    let a = b::seed_agent(store, &owner.id).await;
    let b = b::seed_agent(store, &owner.id).await;
    let c = b::seed_agent(store, &owner.id).await;
    let mut events = Vec::new();
    for i in 0..53usize {
        let agent = [&a.id, &b.id, &c.id][i % 3];
        events.push(CostEvent {
            delegation_chain_id: (i % 2 == 0).then(|| "chain_1".to_string()),
            ..b::cost_at(agent, at(tied_secs(i)))
        });
    }
    ok(store.create_cost_events(&scrambled(&events)).await);
    walk_with_limits(
        store,
        &List::Cost(CostFilter::default()),
        "all cost events",
        &EVERY_SIZE,
        &newest_first(&events, |_| true),
    )
    .await;

    let since = at(3);
    let until = at(9);
    let filters: Vec<Named<'_, CostFilter, CostEvent>> = vec![
        (
            "agent",
            CostFilter {
                agent_id: Some(a.id.clone()),
                ..Default::default()
            },
            Box::new(|e| e.agent_id == a.id),
        ),
        (
            "agents",
            CostFilter {
                agent_ids: Some(vec![b.id.clone(), c.id.clone()]),
                ..Default::default()
            },
            Box::new(|e| e.agent_id != a.id),
        ),
        (
            "chain",
            CostFilter {
                delegation_chain_id: Some("chain_1".into()),
                ..Default::default()
            },
            Box::new(|e| e.delegation_chain_id.is_some()),
        ),
        (
            "since inclusive, until exclusive",
            CostFilter {
                since: Some(since),
                until: Some(until),
                ..Default::default()
            },
            Box::new(move |e| e.recorded_at >= since && e.recorded_at < until),
        ),
        (
            "agent and window",
            CostFilter {
                agent_id: Some(b.id.clone()),
                since: Some(since),
                until: Some(until),
                ..Default::default()
            },
            Box::new(move |e| {
                e.agent_id == b.id && e.recorded_at >= since && e.recorded_at < until
            }),
        ),
    ];
    for (name, filter, keep) in filters {
        let expected = newest_first(&events, &keep);
        assert!(
            !expected.is_empty() && expected.len() < events.len(),
            "filter {name} is selective"
        );
        let list = List::Cost(filter);
        let what = format!("cost events {name}");
        walk_with_limits(store, &list, &what, &[Some(1), Some(2), None], &expected).await;
    }
}

/// Login-history pages of one user (keyset on `timestamp`, `id`) with every
/// page size; other users' logins never appear.
pub async fn login_history_pages_walk_every_size(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let other = b::seed_user(store).await;
    let logins: Vec<LoginHistory> = (0..53)
        .map(|i| b::login_at(&user.id, at(tied_secs(i))))
        .collect();
    for login in scrambled(&logins) {
        ok(store.create(login).await);
    }
    for i in 0..3 {
        store
            .create(b::login_at(&other.id, at(i)))
            .await
            .expect("insert other login");
    }
    let expected = newest_first(&logins, |_| true);
    walk_with_limits(
        store,
        &List::Login(user.id.clone()),
        "login history",
        &EVERY_SIZE,
        &expected,
    )
    .await;
    let nobody = List::Login(id("nobody"));
    let none = walk_pages("login history of nobody", Some(2), |req| {
        page_ids(store, &nobody, req)
    })
    .await;
    assert!(none.is_empty());
}

/// Stream-event pages (keyset on `timestamp`, `id`) with every page size and
/// with the type, since, agent and user filters.
pub async fn stream_event_pages_walk_every_size(ctx: &Ctx) {
    let store = ctx.store();
    let types = ["agent.created", "audit.denied", "session.ended"];
    let mut events = Vec::new();
    for i in 0..53usize {
        events.push(StreamEvent {
            agent_id: (i % 2 == 0).then(|| "agent_1".to_string()),
            user_id: (i % 3 == 0).then(|| "user_1".to_string()),
            ..b::event_at(types[i % 3], at(tied_secs(i)))
        });
    }
    for event in scrambled(&events) {
        ok(store.create_stream_event(event).await);
    }
    walk_with_limits(
        store,
        &List::Stream(StreamEventFilter::default()),
        "all stream events",
        &EVERY_SIZE,
        &newest_first(&events, |_| true),
    )
    .await;
    let since = at(7);
    let filters: Vec<Named<'_, StreamEventFilter, StreamEvent>> = vec![
        (
            "types",
            StreamEventFilter {
                types: Some(vec![types[0].into(), types[2].into()]),
                ..Default::default()
            },
            Box::new(|e| e.r#type != types[1]),
        ),
        (
            "since",
            StreamEventFilter {
                since: Some(since),
                ..Default::default()
            },
            Box::new(move |e| e.timestamp >= since),
        ),
        (
            "agent",
            StreamEventFilter {
                agent_id: Some("agent_1".into()),
                ..Default::default()
            },
            Box::new(|e| e.agent_id.is_some()),
        ),
        (
            "user and since",
            StreamEventFilter {
                user_id: Some("user_1".into()),
                since: Some(since),
                ..Default::default()
            },
            Box::new(move |e| e.user_id.is_some() && e.timestamp >= since),
        ),
    ];
    for (name, filter, keep) in filters {
        let expected = newest_first(&events, &keep);
        assert!(
            !expected.is_empty() && expected.len() < events.len(),
            "filter {name} is selective"
        );
        let list = List::Stream(filter);
        let what = format!("stream events {name}");
        walk_with_limits(store, &list, &what, &[Some(1), Some(2), None], &expected).await;
    }
}

/// One row of each paginated list, for the argument-checking cases.
async fn one_of_each(store: &dyn KavachStore) -> Vec<List> {
    let user = b::seed_user(store).await;
    let agent = b::seed_agent(store, &user.id).await;
    for i in 0..3 {
        store
            .create_audit_log(b::audit_at(&agent.id, &user.id, at(i)))
            .await
            .expect("audit");
        ok(store.create_cost_event(b::cost_at(&agent.id, at(i))).await);
        ok(store.create(b::login_at(&user.id, at(i))).await);
        ok(store.create_stream_event(b::event_at("t", at(i))).await);
    }
    for i in 0..2 {
        store
            .create_agent(Agent {
                created_at: at(i + 1),
                ..b::agent(&user.id)
            })
            .await
            .expect("agent");
    }
    vec![
        List::Audit(AuditFilter::agent(agent.id.clone())),
        List::Agents(AgentFilter::owner(user.id.clone())),
        List::Cost(CostFilter {
            agent_id: Some(agent.id.clone()),
            ..Default::default()
        }),
        List::Login(user.id.clone()),
        List::Stream(StreamEventFilter::default()),
    ]
}

/// A page size of 0 or above `MAX_PAGE_SIZE` is `InvalidInput` on every
/// list, with or without a cursor; 1 and `MAX_PAGE_SIZE` are accepted.
pub async fn pages_reject_bad_limits(ctx: &Ctx) {
    let store = ctx.store();
    for list in one_of_each(store).await {
        let what = list.name();
        let first = ok(page_ids(store, &list, PageRequest::first(1)).await);
        let cursor = first
            .next
            .clone()
            .unwrap_or_else(|| panic!("{what}: 3 rows, page of 1 has a next cursor"));
        for bad in [0, MAX_PAGE_SIZE + 1, u32::MAX] {
            expect_err(
                page_ids(store, &list, PageRequest::first(bad)).await,
                Kind::InvalidInput,
                &format!("{what} limit {bad}"),
            );
            expect_err(
                page_ids(store, &list, PageRequest::after(bad, cursor.clone())).await,
                Kind::InvalidInput,
                &format!("{what} limit {bad} after a cursor"),
            );
        }
        let max = page_ids(store, &list, PageRequest::first(MAX_PAGE_SIZE))
            .await
            .expect("limit MAX_PAGE_SIZE");
        assert!(
            max.next.is_none(),
            "{what}: everything fits in a maximal page"
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Garbage and tampered cursors (not hex, odd length, a flipped digit, no
/// separator, a non-numeric or out-of-range time, invalid UTF-8) are
/// `InvalidInput` on every list, never a backend error or a silent first page.
pub async fn pages_reject_bad_cursors(ctx: &Ctx) {
    let store = ctx.store();
    for list in one_of_each(store).await {
        let what = list.name();
        let first = ok(page_ids(store, &list, PageRequest::first(1)).await);
        let good = first
            .next
            .clone()
            .unwrap_or_else(|| panic!("{what}: page of 1 has a next cursor"));
        let good = good.as_str().to_string();
        assert!(!good.is_empty());
        let mut flipped: Vec<char> = good.chars().collect();
        flipped[0] = 'g';
        let bad: Vec<String> = vec![
            String::new(),
            "not a cursor".into(),
            "zz".into(),
            "💥".into(),
            good[..good.len() - 1].to_string(),
            format!("{good}0"),
            format!(" {good}"),
            flipped.into_iter().collect(),
            hex(b"no separator"),
            hex(b"abc:aud_1"),
            hex(b":aud_1"),
            hex(b"99999999999999999999999:aud_1"),
            hex(format!("{}:aud_1", i64::MAX).as_bytes()),
            hex(&[0xff, 0xfe, b':', b'1']),
        ];
        for cursor in bad {
            let request = PageRequest {
                limit: Some(2),
                after: Some(Cursor::from(cursor.clone())),
            };
            expect_err(
                page_ids(store, &list, request).await,
                Kind::InvalidInput,
                &format!("{what} with cursor {cursor:?}"),
            );
        }
        // The untampered cursor still works after all that.
        let next = page_ids(store, &list, PageRequest::after(2, Cursor::from(good)))
            .await
            .expect("good cursor");
        assert!(
            !next.items.is_empty(),
            "{what}: the page after the first is not empty"
        );
    }
}

/// A list with no matching rows is one empty page with `next == None`, on
/// every paginated list.
pub async fn pages_of_empty_lists_end_at_once(ctx: &Ctx) {
    let store = ctx.store();
    let lists = [
        List::Audit(AuditFilter::agent(id("nobody"))),
        List::Agents(AgentFilter::owner(id("nobody"))),
        List::Cost(CostFilter {
            agent_id: Some(id("nobody")),
            ..Default::default()
        }),
        List::Login(id("nobody")),
        List::Stream(StreamEventFilter {
            types: Some(vec![]),
            ..Default::default()
        }),
    ];
    for list in lists {
        for limit in [Some(1), None] {
            let page = page_ids(store, &list, PageRequest { limit, after: None })
                .await
                .expect("empty page");
            assert!(
                page.items.is_empty() && page.next.is_none(),
                "{}: empty list gives one empty last page",
                list.name()
            );
        }
    }
}

/// KavachOS's `queryAuditLogs` window: newest first with id tie-break,
/// limit defaults to 100, limit 0 returns nothing, offset skips rows, and
/// consecutive windows tile the whole list.
pub async fn query_audit_logs_limit_and_offset(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::seed_user(store).await;
    let agent = b::seed_agent(store, &user.id).await;
    let rows: Vec<AuditLog> = (0..103)
        .map(|i| b::audit_at(&agent.id, &user.id, at(tied_secs(i))))
        .collect();
    ok(store.create_audit_logs(&scrambled(&rows)).await);
    let expected = newest_first(&rows, |_| true);
    let filter = &AuditFilter::default();
    // The ids of one `query_audit_logs` window.
    let query = |limit: Option<u64>, offset: Option<u64>| async move {
        let rows = ok(store.query_audit_logs(filter, limit, offset).await);
        rows.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };

    let default = query(None, None).await;
    assert_eq!(
        default.len() as u64,
        DEFAULT_AUDIT_QUERY_LIMIT,
        "default limit"
    );
    assert_eq!(default, expected[..100], "default window order");
    assert_eq!(
        query(None, Some(100)).await,
        expected[100..],
        "offset without limit keeps the default limit"
    );
    assert!(query(Some(0), None).await.is_empty(), "limit 0");
    assert!(
        query(Some(0), Some(5)).await.is_empty(),
        "limit 0, offset 5"
    );
    assert!(query(Some(10), Some(103)).await.is_empty(), "offset at end");
    assert!(
        query(Some(10), Some(1_000)).await.is_empty(),
        "offset past end"
    );
    assert_eq!(query(Some(500), Some(0)).await, expected, "large limit");
    assert_eq!(
        query(Some(7), None).await,
        query(Some(7), Some(0)).await,
        "offset None is offset 0"
    );
    for window in [1u64, 2, 10, 33] {
        let mut tiled = Vec::new();
        let mut offset = 0;
        loop {
            let part = query(Some(window), Some(offset)).await;
            assert!(part.len() as u64 <= window);
            if part.is_empty() {
                break;
            }
            offset += part.len() as u64;
            tiled.extend(part);
        }
        assert_eq!(tiled, expected, "windows of {window} tile the list");
    }
}

/// Each `query_audit_logs` filter on its own and together: agent, user, any
/// of several actions (an empty list matches nothing), resource, result, and
/// `since`/`until`, both inclusive at the exact boundary instant.
pub async fn query_audit_logs_filters_each_field(ctx: &Ctx) {
    let store = ctx.store();
    let alice = b::seed_user(store).await;
    let bob = b::seed_user(store).await;
    let a1 = b::seed_agent(store, &alice.id).await;
    let a2 = b::seed_agent(store, &bob.id).await;
    let actions = ["read", "write", "delete", "execute"];
    let results = [
        AuditResult::Allowed,
        AuditResult::Denied,
        AuditResult::RateLimited,
    ];
    let mut rows = Vec::new();
    for i in 0..48usize {
        let (agent, user) = if i % 3 == 0 {
            (&a2.id, &bob.id)
        } else {
            (&a1.id, &alice.id)
        };
        rows.push(AuditLog {
            action: actions[i % 4].to_string(),
            resource: format!("res:{}", i % 5),
            result: results[i % 3].clone(),
            ..b::audit_at(agent, user, at(i as i64 / 2))
        });
    }
    ok(store.create_audit_logs(&scrambled(&rows)).await);
    let since = at(5);
    let until = at(17);
    let cases: Vec<Named<'_, AuditFilter, AuditLog>> = vec![
        (
            "agent",
            AuditFilter::agent(a1.id.clone()),
            Box::new(|r| r.agent_id == a1.id),
        ),
        (
            "user",
            AuditFilter {
                user_id: Some(bob.id.clone()),
                ..Default::default()
            },
            Box::new(|r| r.user_id == bob.id),
        ),
        (
            "one action",
            AuditFilter {
                actions: Some(vec!["write".into()]),
                ..Default::default()
            },
            Box::new(|r| r.action == "write"),
        ),
        (
            "several actions",
            AuditFilter {
                actions: Some(vec!["read".into(), "execute".into(), "missing".into()]),
                ..Default::default()
            },
            Box::new(|r| r.action == "read" || r.action == "execute"),
        ),
        (
            "no actions",
            AuditFilter {
                actions: Some(vec![]),
                ..Default::default()
            },
            Box::new(|_| false),
        ),
        (
            "resource",
            AuditFilter {
                resource: Some("res:2".into()),
                ..Default::default()
            },
            Box::new(|r| r.resource == "res:2"),
        ),
        (
            "result",
            AuditFilter {
                result: Some(AuditResult::RateLimited),
                ..Default::default()
            },
            Box::new(|r| r.result == AuditResult::RateLimited),
        ),
        (
            "since (inclusive)",
            AuditFilter {
                since: Some(since),
                ..Default::default()
            },
            Box::new(move |r| r.timestamp >= since),
        ),
        (
            "until (inclusive)",
            AuditFilter {
                until: Some(until),
                ..Default::default()
            },
            Box::new(move |r| r.timestamp <= until),
        ),
        (
            "since = until",
            AuditFilter {
                since: Some(since),
                until: Some(since),
                ..Default::default()
            },
            Box::new(move |r| r.timestamp == since),
        ),
        (
            "since after until",
            AuditFilter {
                since: Some(until),
                until: Some(since),
                ..Default::default()
            },
            Box::new(|_| false),
        ),
        (
            "everything",
            AuditFilter {
                agent_id: Some(a1.id.clone()),
                user_id: Some(alice.id.clone()),
                actions: Some(vec!["read".into(), "write".into()]),
                resource: None,
                result: Some(AuditResult::Allowed),
                since: Some(since),
                until: Some(until),
            },
            Box::new(|r| {
                r.agent_id == a1.id
                    && (r.action == "read" || r.action == "write")
                    && r.result == AuditResult::Allowed
                    && r.timestamp >= since
                    && r.timestamp <= until
            }),
        ),
    ];
    for (name, filter, keep) in cases {
        let expected = newest_first(&rows, &keep);
        let got: Vec<String> = store
            .query_audit_logs(&filter, Some(1_000), None)
            .await
            .unwrap_or_else(|e| panic!("query_audit_logs {name}: {e}"))
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(got, expected, "query_audit_logs filter {name}");
        if expected.len() > 2 {
            let window: Vec<String> = ok(store.query_audit_logs(&filter, Some(2), Some(1)).await)
                .into_iter()
                .map(|r| r.id)
                .collect();
            assert_eq!(
                window,
                expected[1..3],
                "query_audit_logs filter {name} with limit 2 offset 1"
            );
        }
    }
    // The boundary rows themselves are included.
    let at_since = rows.iter().filter(|r| r.timestamp == since).count();
    assert!(at_since > 0, "rows exist exactly at `since`");
}
