//! Transaction tier: commit, rollback (explicit, on drop, on error, on panic),
//! isolation from readers outside, nested transactions (savepoints), domain
//! operations through a transaction object, and the all-or-nothing guarantee
//! of the core's multi-step operations.
//!
//! While a transaction is open these cases only *read* through `ctx.store`:
//! a backend may serialize writers, so writing outside an open transaction
//! from the same task could wait for it forever.

use std::sync::Arc;

use kavach_store_core::prelude::*;

use super::builders as b;
use super::support::{Kind, absent, assert_same, count_all, existing, expect_err, ok, present};
use crate::Ctx;
use crate::fixtures::{at, id};

/// Writes made in a transaction are visible inside it, invisible outside
/// until `commit`, and all visible after it.
pub async fn transaction_commit_publishes_writes(ctx: &Ctx) {
    let store = ctx.store();
    let tx = ok(store.begin().await);
    let user = tx.create_user(b::user()).await.expect("create user in tx");
    let agent = tx
        .create_agent(b::agent(&user.id))
        .await
        .expect("create agent in tx");
    tx.create_permissions(&[b::permission(&agent.id), b::permission(&agent.id)])
        .await
        .expect("permissions in tx");
    let own = tx.get_user(&user.id).await.expect("read in tx");
    assert_same(
        ctx,
        &own.expect("a transaction reads its own writes"),
        &user,
    );
    assert!(present(
        tx.find_agent_by_token_hash(&agent.token_hash).await
    ));
    assert!(
        absent(store.get_user(&user.id).await),
        "uncommitted user visible outside"
    );
    ok(tx.commit().await);

    assert!(present(store.get_user(&user.id).await), "committed user");
    let found = ok(store.find_agent_by_token_hash(&agent.token_hash).await);
    assert_eq!(
        found.map(|a| a.id),
        Some(agent.id.clone()),
        "committed agent by token hash"
    );
    assert_eq!(
        ok(store.list_permissions_by_agent(&agent.id).await).len(),
        2
    );
}

/// Writes of every kind through `tx` on seeded rows: inserts a user,
/// renames `user` to `name`, deletes `session`, increments `agent`'s
/// `tool:x` bucket of window `at(0)` and bulk-inserts two audit rows.
/// Returns the inserted user and the bucket's count after the increment.
async fn write_every_kind(
    tx: &dyn Transaction,
    user: &User,
    agent: &Agent,
    session: &Session,
    name: &str,
) -> (User, i64) {
    let inserted = ok(tx.create_user(b::user()).await);
    ok(tx.update_user(&user.id, &b::user_rename(name)).await);
    ok(tx.delete_session(&session.id).await);
    let count = ok(tx.increment_rate_limit(&agent.id, "tool:x", at(0)).await);
    let logs = [
        b::audit(&agent.id, &user.id, 1),
        b::audit(&agent.id, &user.id, 2),
    ];
    ok(tx.create_audit_logs(&logs).await);
    (inserted, count)
}

/// Existing rows a transaction touched and rows it inserted (one statement
/// or many, inserts, updates, deletes, increments, bulk inserts) are all as
/// before after `rollback`.
pub async fn transaction_rollback_discards_writes(ctx: &Ctx) {
    let store = ctx.store();
    let (user, agent) = b::seed_user_agent(store).await;
    let session = ok(store.create_session(b::session(&user.id)).await);
    let before_users = count_all(store, User::table_def()).await;
    let tx = ok(store.begin().await);
    let (stranger, count) = write_every_kind(tx.as_ref(), &user, &agent, &session, "changed").await;
    assert_eq!(count, 1);
    ok(tx.rollback().await);

    assert!(
        absent(store.get_user(&stranger.id).await),
        "inserted row rolled back"
    );
    assert_eq!(
        existing(store.get_user(&user.id).await).name,
        None,
        "update rolled back"
    );
    assert!(
        present(store.get_session(&session.id).await),
        "delete rolled back"
    );
    assert!(
        absent(store.get_rate_limit(&agent.id, "tool:x", at(0)).await),
        "upsert rolled back"
    );
    assert_eq!(
        ok(store.count_audit_logs(&AuditFilter::default()).await),
        0,
        "bulk insert rolled back"
    );
    assert_eq!(count_all(store, User::table_def()).await, before_users);
}

/// A transaction dropped without `commit` rolls back, and the store is
/// fully usable afterwards (no lock left behind).
pub async fn transaction_dropped_without_commit_rolls_back(ctx: &Ctx) {
    let store = ctx.store();
    let (user, _agent) = b::seed_user_agent(store).await;
    let inserted = {
        let tx = ok(store.begin().await);
        let other = ok(tx.create_user(b::user()).await);
        tx.update_user(
            &user.id,
            &UserPatch {
                banned: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("update");
        other
        // `tx` dropped here.
    };
    assert!(
        absent(store.get_user(&inserted.id).await),
        "dropped transaction's insert"
    );
    assert!(
        !existing(store.get_user(&user.id).await).banned,
        "dropped transaction's update"
    );

    // Writers are not blocked by the dropped transaction.
    let later = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        store.create_user(b::user()),
    )
    .await
    .expect("a write after a dropped transaction must not hang")
    .expect("write after drop");
    let tx = ok(store.begin().await);
    ok(tx.update_user(&later.id, &b::user_rename("x")).await);
    tx.commit().await.expect("commit after drop");
    assert_eq!(
        existing(store.get_user(&later.id).await).name.as_deref(),
        Some("x")
    );
}

/// `transaction(store, f)` commits when `f` returns `Ok` and hands back its value.
pub async fn transaction_helper_commits_on_ok(ctx: &Ctx) {
    let store = ctx.store();
    let user = b::user();
    let agent = b::agent(&user.id);
    let (u, a) = (user.clone(), agent.clone());
    let n = transaction(store, move |tx| {
        Box::pin(async move {
            tx.create_user(u).await?;
            tx.create_agent(a).await?;
            tx.count::<Agent>(Cond::All).await
        })
    })
    .await
    .expect("transaction");
    assert_eq!(n, 1, "value returned by the closure");
    assert!(present(store.get_user(&user.id).await));
    assert!(present(store.get_agent(&agent.id).await));
}

/// `transaction(store, f)` rolls back every write of `f` when it fails,
/// whether the error came from the store (a `Conflict` propagated with `?`)
/// or from the caller, and returns that error unchanged.
pub async fn transaction_helper_rolls_back_on_error(ctx: &Ctx) {
    let store = ctx.store();
    let first = b::user();
    let clash = User {
        email: first.email.clone(),
        ..b::user()
    };
    let (f, c) = (first.clone(), clash.clone());
    let result: Result<(), StoreError> = transaction(store, move |tx| {
        Box::pin(async move {
            tx.create_user(f).await?;
            tx.create_user(c).await?;
            Ok(())
        })
    })
    .await;
    expect_err(
        result,
        Kind::Conflict,
        "duplicate email inside transaction()",
    );
    assert!(
        absent(store.get_user(&first.id).await),
        "first insert rolled back"
    );

    let other = b::user();
    let o = other.clone();
    let result: Result<u64, StoreError> = transaction(store, move |tx| {
        Box::pin(async move {
            tx.create_user(o).await?;
            Err(StoreError::invalid_input(
                "caller.field",
                "the caller changed its mind",
            ))
        })
    })
    .await;
    let err = expect_err(
        result,
        Kind::InvalidInput,
        "caller error inside transaction()",
    );
    assert!(
        err.to_string().contains("changed its mind"),
        "the caller's error comes back unchanged: {err}"
    );
    assert!(
        absent(store.get_user(&other.id).await),
        "rolled back on the caller's error"
    );
}

/// A panic inside `transaction(store, f)` unwinds through the transaction
/// object, which rolls back on drop; the store stays writable.
pub async fn transaction_helper_rolls_back_on_panic(ctx: &Ctx) {
    let store: Arc<dyn KavachStore> = ctx.store.clone();
    let user = b::user();
    let u = user.clone();
    let task = tokio::spawn(async move {
        let store = store;
        transaction(store.as_ref(), move |tx| {
            Box::pin(async move {
                tx.create_user(u).await?;
                if tx.count::<User>(Cond::All).await? > 0 {
                    panic!("deliberate panic inside a transaction (expected by this case)");
                }
                Ok(())
            })
        })
        .await
    });
    let joined = task.await;
    assert!(joined.is_err_and(|e| e.is_panic()), "the task panicked");
    assert!(
        absent(ctx.store().get_user(&user.id).await),
        "panicking transaction rolled back"
    );
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        ctx.store().create_user(b::user()),
    )
    .await
    .expect("a write after a panicked transaction must not hang")
    .expect("write after panic");
}

/// Readers outside an open transaction (same task or another task) never
/// see its inserts, updates, deletes, increments or bulk inserts, through
/// key lookups, secondary-index lookups, filtered lists, counts or pages;
/// after `commit` they see all of them.
pub async fn reader_outside_never_sees_uncommitted_writes(ctx: &Ctx) {
    let store = ctx.store();
    let (user, agent) = b::seed_user_agent(store).await;
    let session = ok(store.create_session(b::session(&user.id)).await);
    let users_before = count_all(store, User::table_def()).await;

    let tx = ok(store.begin().await);
    let (new_user, _) = write_every_kind(tx.as_ref(), &user, &agent, &session, "renamed").await;
    let new_agent = ok(tx.create_agent(b::agent(&new_user.id)).await);
    tx.update_agent(
        &agent.id,
        &AgentPatch {
            status: Some(AgentStatus::Revoked),
            ..Default::default()
        },
    )
    .await
    .expect("update agent");

    let check_unchanged = |store: Arc<dyn KavachStore>| {
        let (user, agent, session, new_user, new_agent) = (
            user.clone(),
            agent.clone(),
            session.clone(),
            new_user.clone(),
            new_agent.clone(),
        );
        async move {
            let s = store.as_ref();
            assert!(
                absent(s.get_user(&new_user.id).await),
                "uncommitted insert by key"
            );
            assert!(
                absent(s.find_user_by_email(&new_user.email).await),
                "uncommitted insert by unique"
            );
            assert!(
                absent(s.find_agent_by_token_hash(&new_agent.token_hash).await),
                "by index"
            );
            assert_eq!(
                existing(s.get_user(&user.id).await).name,
                None,
                "uncommitted update"
            );
            let listed = s
                .list_agents(&AgentFilter {
                    status: Some(AgentStatus::Active),
                    ..Default::default()
                })
                .await;
            assert_eq!(
                listed.expect("list").len(),
                1,
                "uncommitted status change in a filtered list"
            );
            assert!(
                present(s.get_session(&session.id).await),
                "uncommitted delete"
            );
            assert!(
                absent(s.get_rate_limit(&agent.id, "tool:x", at(0)).await),
                "uncommitted upsert"
            );
            assert_eq!(
                ok(s.count_audit_logs(&AuditFilter::default()).await),
                0,
                "uncommitted bulk insert"
            );
            let page = s
                .list_audit_logs(&AuditFilter::default(), &PageRequest::first(10))
                .await
                .expect("page");
            assert!(page.items.is_empty(), "uncommitted rows in a page");
            assert_eq!(
                count_all(s, User::table_def()).await,
                users_before,
                "uncommitted insert in a count"
            );
        }
    };
    check_unchanged(ctx.store.clone()).await;
    tokio::spawn(check_unchanged(ctx.store.clone()))
        .await
        .expect("reader task");

    ok(tx.commit().await);
    assert!(present(store.get_user(&new_user.id).await));
    assert!(present(
        store.find_agent_by_token_hash(&new_agent.token_hash).await
    ));
    assert_eq!(
        existing(store.get_user(&user.id).await).name.as_deref(),
        Some("renamed")
    );
    assert_eq!(
        existing(store.get_agent(&agent.id).await).status,
        AgentStatus::Revoked
    );
    assert!(absent(store.get_session(&session.id).await));
    assert_eq!(
        ok(store.get_rate_limit(&agent.id, "tool:x", at(0)).await).map(|r| r.count),
        Some(1)
    );
    assert_eq!(ok(store.count_audit_logs(&AuditFilter::default()).await), 2);
}

/// A nested transaction's committed writes become part of the outer one:
/// visible to it, invisible outside until the outer commits.
pub async fn nested_transaction_commit_joins_outer(ctx: &Ctx) {
    let store = ctx.store();
    let outer = ok(store.begin().await);
    let a = ok(outer.create_user(b::user()).await);
    let inner = ok(outer.begin().await);
    let c = ok(inner.create_user(b::user()).await);
    assert!(
        present(inner.get_user(&a.id).await),
        "inner sees the outer's writes"
    );
    ok(inner.commit().await);
    assert!(
        present(outer.get_user(&c.id).await),
        "outer sees the committed inner write"
    );
    assert!(
        absent(store.get_user(&c.id).await),
        "not visible outside before the outer commits"
    );
    ok(outer.commit().await);
    assert!(present(store.get_user(&a.id).await));
    assert!(present(store.get_user(&c.id).await));
}

/// Rolling back (or dropping) a nested transaction undoes only its own
/// writes; the outer transaction keeps its own and can still commit.
pub async fn nested_transaction_rollback_undoes_only_inner(ctx: &Ctx) {
    let store = ctx.store();
    let outer = ok(store.begin().await);
    let a = ok(outer.create_user(b::user()).await);

    let inner = ok(outer.begin().await);
    let c = ok(inner.create_user(b::user()).await);
    ok(inner.update_user(&a.id, &b::user_rename("inner")).await);
    inner.rollback().await.expect("rollback to savepoint");
    assert!(absent(outer.get_user(&c.id).await), "inner insert undone");
    assert_eq!(
        existing(outer.get_user(&a.id).await).name,
        None,
        "inner update undone"
    );

    let d = {
        let dropped = ok(outer.begin().await);
        ok(dropped.create_user(b::user()).await)
    };
    assert!(
        absent(outer.get_user(&d.id).await),
        "dropped nested transaction undone"
    );

    let e = ok(outer.create_user(b::user()).await);
    ok(outer.commit().await);
    assert!(present(store.get_user(&a.id).await));
    assert!(present(store.get_user(&e.id).await));
    assert!(absent(store.get_user(&c.id).await));
    assert!(absent(store.get_user(&d.id).await));
}

/// Rolling back the outer transaction undoes what nested transactions
/// committed into it, at any depth.
pub async fn outer_rollback_undoes_committed_inner(ctx: &Ctx) {
    let store = ctx.store();
    let outer = ok(store.begin().await);
    let a = ok(outer.create_user(b::user()).await);
    let middle = ok(outer.begin().await);
    let m = ok(middle.create_user(b::user()).await);
    let inner = ok(middle.begin().await);
    let i = ok(inner.create_user(b::user()).await);
    ok(inner.commit().await);
    assert!(present(middle.get_user(&i.id).await));
    ok(middle.commit().await);
    assert!(present(outer.get_user(&i.id).await));
    ok(outer.rollback().await);
    for id in [&a.id, &m.id, &i.id] {
        assert!(
            absent(store.get_user(id).await),
            "{id} survived the outer rollback"
        );
    }

    // Rolling back a middle level undoes the committed innermost level too.
    let outer = ok(store.begin().await);
    let middle = ok(outer.begin().await);
    let inner = ok(middle.begin().await);
    let deep = ok(inner.create_user(b::user()).await);
    ok(inner.commit().await);
    ok(middle.rollback().await);
    assert!(
        absent(outer.get_user(&deep.id).await),
        "middle rollback undoes the committed inner level"
    );
    ok(outer.commit().await);
    assert!(absent(store.get_user(&deep.id).await));
}

/// A failed statement inside a nested transaction (a `Conflict`) is undone
/// by rolling that nested transaction back; the outer one carries on and
/// commits (the savepoint pattern; on PostgreSQL a failed statement would
/// otherwise poison the whole transaction).
pub async fn nested_transaction_recovers_from_failed_statement(ctx: &Ctx) {
    let store = ctx.store();
    let outer = ok(store.begin().await);
    let a = ok(outer.create_user(b::user()).await);
    let inner = ok(outer.begin().await);
    let half = inner
        .create_user(b::user())
        .await
        .expect("insert before the failure");
    let clash = User {
        email: a.email.clone(),
        ..b::user()
    };
    expect_err(
        inner.create_user(clash.clone()).await,
        Kind::Conflict,
        "duplicate email in a nested transaction",
    );
    inner
        .rollback()
        .await
        .expect("rollback to savepoint after the failure");
    let later = outer
        .create_user(b::user())
        .await
        .expect("outer continues after the failed nested transaction");

    // The same through the helper, nested in the outer transaction.
    let clash2 = User {
        email: later.email.clone(),
        ..b::user()
    };
    let result: Result<(), StoreError> = transaction(outer.as_ref(), move |tx| {
        Box::pin(async move {
            tx.create_user(clash2).await?;
            Ok(())
        })
    })
    .await;
    expect_err(
        result,
        Kind::Conflict,
        "duplicate email through transaction() on a transaction",
    );
    let last = outer
        .create_user(b::user())
        .await
        .expect("outer continues again");
    ok(outer.commit().await);

    for (id, committed) in [
        (&a.id, true),
        (&later.id, true),
        (&last.id, true),
        (&half.id, false),
        (&clash.id, false),
    ] {
        assert_eq!(present(store.get_user(id).await), committed, "user {id}");
    }
}

/// Every domain operation works on a transaction object, including the
/// composite ones that open their own (nested) transaction; they all commit
/// or roll back with the outer transaction.
pub async fn domain_operations_run_inside_a_transaction(ctx: &Ctx) {
    let store = ctx.store();
    for commit in [false, true] {
        let tx = ok(store.begin().await);
        let t: &dyn Transaction = tx.as_ref();
        let user = ok(t.create_user(b::user()).await);
        let agent = ok(t.create_agent(b::agent(&user.id)).await);
        let composite_agent = b::agent(&user.id);
        let composite = t
            .create_agent_with_permissions(
                composite_agent.clone(),
                &[b::permission(&composite_agent.id)],
            )
            .await
            .expect("create_agent_with_permissions in a transaction");
        ok(t.create_permission(b::permission(&agent.id)).await);
        for expected in 1..=3 {
            assert_eq!(
                ok(t.increment_rate_limit(&agent.id, "tool:x", at(0)).await),
                expected
            );
        }
        t.create_audit_logs(&[
            b::audit(&agent.id, &user.id, 1),
            b::audit(&agent.id, &user.id, 2),
        ])
        .await
        .expect("audit");
        let page = t
            .list_audit_logs(
                &AuditFilter::agent(agent.id.clone()),
                &PageRequest::first(1),
            )
            .await
            .expect("page");
        assert!(page.next.is_some(), "pages work inside a transaction");
        assert_eq!(
            ok(t.count_agents(&AgentFilter::owner(user.id.clone())).await),
            2
        );
        let revoked = t
            .revoke_agent(&composite.id, at(5))
            .await
            .expect("revoke_agent in a transaction");
        assert_eq!(revoked.status, AgentStatus::Revoked);
        // A composite that fails (its member names no organization) is undone
        // as a whole; the outer transaction carries on.
        let org = b::organization(&user.id);
        let failed = t
            .create_organization_with_owner(
                org.clone(),
                b::org_member(&id("noorg"), &user.id, "owner"),
                &[],
            )
            .await;
        expect_err(
            failed,
            Kind::Reference,
            "create_organization_with_owner with a member of no organization",
        );
        assert!(
            absent(t.get_organization(&org.id).await),
            "failed composite undone inside the transaction"
        );
        let token = t
            .create_one_time_token(b::one_time_token(&user.id, TokenPurpose::EmailVerify))
            .await
            .expect("token");
        assert!(present(
            t.consume_one_time_token(&token.token_hash, None, b::now_valid())
                .await
        ));
        assert!(absent(
            t.consume_one_time_token(&token.token_hash, None, b::now_valid())
                .await
        ));
        let report = t
            .delete_agent_cascade(&agent.id)
            .await
            .expect("delete_agent_cascade in a transaction");
        assert_eq!(report.count(Permission::TABLE), 1);
        assert_eq!(report.count(AuditLog::TABLE), 2);
        assert!(
            absent(store.get_user(&user.id).await),
            "nothing visible outside yet"
        );
        if commit {
            ok(tx.commit().await);
        } else {
            ok(tx.rollback().await);
        }
        assert_eq!(
            present(store.get_user(&user.id).await),
            commit,
            "user after commit={commit}"
        );
        let kept = ok(store.get_agent(&composite.id).await);
        assert_eq!(
            kept.as_ref().map(|a| a.status.clone()),
            commit.then_some(AgentStatus::Revoked)
        );
        assert_eq!(
            ok(store.list_permissions_by_agent(&composite.id).await).len(),
            usize::from(commit)
        );
        assert!(
            absent(store.get_agent(&agent.id).await),
            "cascaded away or rolled back"
        );
        assert_eq!(
            ok(store.find_one_time_token(&token.token_hash).await).map(|t| t.used),
            commit.then_some(true)
        );
    }
}

/// The core's multi-step operations are all-or-nothing: when a later step
/// fails, the earlier steps are undone and the error is the step's.
pub async fn multi_step_operations_are_all_or_nothing(ctx: &Ctx) {
    let store = ctx.store();
    let (user, agent) = b::seed_user_agent(store).await;

    // Agent plus permissions: a duplicate permission id leaves no agent.
    let new_agent = b::agent(&user.id);
    let p = b::permission(&new_agent.id);
    let err = store
        .create_agent_with_permissions(new_agent.clone(), &[p.clone(), p.clone()])
        .await;
    expect_err(
        err,
        Kind::Conflict,
        "create_agent_with_permissions with a duplicate permission id",
    );
    assert!(
        absent(store.get_agent(&new_agent.id).await),
        "agent rolled back"
    );
    assert!(absent(store.get_permission(&p.id).await));
    // A permission of a missing agent: Reference, no agent either.
    let other = b::agent(&user.id);
    let stray = b::permission(&id("ghost"));
    let err = store
        .create_agent_with_permissions(other.clone(), &[stray])
        .await;
    expect_err(
        err,
        Kind::Reference,
        "create_agent_with_permissions with a permission of a missing agent",
    );
    assert!(absent(store.get_agent(&other.id).await));

    // Replacing permissions: the old set survives a failed replacement.
    let old = b::permission(&agent.id);
    ok(store.create_permission(old.clone()).await);
    let dup = b::permission(&agent.id);
    let err = store
        .replace_agent_permissions(&agent.id, &[dup.clone(), dup])
        .await;
    expect_err(
        err,
        Kind::Conflict,
        "replace_agent_permissions with a duplicate id",
    );
    let kept = ok(store.list_permissions_by_agent(&agent.id).await);
    assert_eq!(
        kept.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        vec![old.id.clone()],
        "old permissions kept"
    );

    // Organization, owner membership and roles.
    let org = b::organization(&user.id);
    let owner = b::org_member(&org.id, &user.id, "owner");
    let err = store
        .create_organization_with_owner(
            org.clone(),
            owner.clone(),
            &[b::org_role(&org.id, "admin"), b::org_role(&org.id, "admin")],
        )
        .await;
    expect_err(
        err,
        Kind::Conflict,
        "create_organization_with_owner with a duplicate role name",
    );
    assert!(
        absent(store.get_organization(&org.id).await),
        "organization rolled back"
    );
    assert!(
        absent(store.get_org_member(&org.id, &user.id).await),
        "membership rolled back"
    );

    // Ephemeral session: agent, permissions, session.
    let taken = b::seed_ephemeral(store, &user.id, Some(3)).await;
    let eph_agent = b::ephemeral_agent(&user.id);
    let eph_perm = b::permission(&eph_agent.id);
    let eph_session = EphemeralSession {
        token_hash: taken.token_hash.clone(),
        ..b::ephemeral_session(&eph_agent, Some(3))
    };
    let err = store
        .create_ephemeral_session(
            eph_agent.clone(),
            std::slice::from_ref(&eph_perm),
            eph_session.clone(),
        )
        .await;
    expect_err(
        err,
        Kind::Conflict,
        "create_ephemeral_session with a duplicate token hash",
    );
    assert!(
        absent(store.get_agent(&eph_agent.id).await),
        "ephemeral agent rolled back"
    );
    assert!(
        absent(store.get_permission(&eph_perm.id).await),
        "ephemeral permission rolled back"
    );
    assert!(absent(store.get_ephemeral_session(&eph_session.id).await));

    // Sign-up: user and username account.
    let taken = store
        .create_username_account(b::username_account(&user.id, &id("taken")))
        .await
        .expect("account");
    let newcomer = b::user();
    let err = store
        .sign_up_with_username(
            newcomer.clone(),
            b::username_account(&newcomer.id, &taken.username),
        )
        .await;
    expect_err(
        err,
        Kind::Conflict,
        "sign_up_with_username with a taken username",
    );
    assert!(
        absent(store.get_user(&newcomer.id).await),
        "user rolled back"
    );

    // API key rotation: the old key survives a failed rotation.
    let key = ok(store.create_api_key(b::api_key(&user.id)).await);
    let other_key = ok(store.create_api_key(b::api_key(&user.id)).await);
    let err = store
        .rotate_api_key(
            &key.id,
            ApiKey {
                key_hash: other_key.key_hash.clone(),
                ..b::api_key(&user.id)
            },
        )
        .await;
    expect_err(err, Kind::Conflict, "rotate_api_key to a duplicate hash");
    assert!(present(store.get_api_key(&key.id).await), "old key kept");
    let err = store
        .rotate_api_key(&id("missing"), b::api_key(&user.id))
        .await;
    expect_err(err, Kind::NotFound, "rotate_api_key of a missing key");

    // Email code replacement: the previous code survives a failed replacement.
    let email = format!("{}@example.com", id("otp"));
    let first = ok(store.replace_email_otp(b::email_otp(&email)).await);
    let elsewhere = store
        .replace_email_otp(b::email_otp("someone@example.com"))
        .await
        .expect("otp");
    let err = store
        .replace_email_otp(EmailOtp {
            id: elsewhere.id.clone(),
            ..b::email_otp(&email)
        })
        .await;
    expect_err(err, Kind::Conflict, "replace_email_otp with a duplicate id");
    let current = ok(store.find_email_otp(&email, b::now_valid()).await);
    assert_eq!(
        current.map(|o| o.id),
        Some(first.id.clone()),
        "previous code kept"
    );
    let phone = store
        .replace_phone_verification(b::phone_verification("+15550001"))
        .await
        .expect("phone");
    let other_phone = store
        .replace_phone_verification(b::phone_verification("+15550002"))
        .await
        .expect("phone");
    let err = store
        .replace_phone_verification(PhoneVerification {
            id: other_phone.id.clone(),
            ..b::phone_verification("+15550001")
        })
        .await;
    expect_err(
        err,
        Kind::Conflict,
        "replace_phone_verification with a duplicate id",
    );
    let current = store
        .find_phone_verification("+15550001", b::now_valid())
        .await
        .expect("read");
    assert_eq!(
        current.map(|p| p.id),
        Some(phone.id.clone()),
        "previous phone code kept"
    );

    // Accepting an invitation for a user who is already a member.
    let org = b::seed_org(store, &user.id).await;
    let member = b::seed_user(store).await;
    b::seed_member(store, &org.id, &member.id, "member").await;
    let invitation = b::seed_invitation(store, &org.id, &user.id, &member.email).await;
    let err = store
        .accept_org_invitation(
            &invitation.id,
            b::org_member(&org.id, &member.id, "admin"),
            b::now_valid(),
        )
        .await;
    expect_err(
        err,
        Kind::Conflict,
        "accept_org_invitation for an existing member",
    );
    let still = existing(store.get_org_invitation(&invitation.id).await);
    assert_eq!(
        still.status,
        InvitationStatus::Pending,
        "invitation still pending"
    );

    // Session refresh into an id that exists: the old session survives.
    let old = ok(store.create_session(b::session(&user.id)).await);
    let occupied = ok(store.create_session(b::session(&user.id)).await);
    let err = store
        .refresh_session(
            &old.id,
            Session {
                id: occupied.id.clone(),
                ..b::session(&user.id)
            },
        )
        .await;
    expect_err(err, Kind::Conflict, "refresh_session into an existing id");
    assert!(
        present(store.get_session(&old.id).await),
        "old session kept"
    );

    // Deleting a missing organization first deletes its children by org id;
    // the final NotFound must undo those deletes.
    let ghost = id("ghostorg");
    let sso = store
        .create_sso_connection(b::sso_connection(
            &ghost,
            &format!("{}.example.com", id("d")),
        ))
        .await
        .expect("sso");
    let err = store.delete_organization_cascade(&ghost).await;
    expect_err(
        err,
        Kind::NotFound,
        "delete_organization_cascade of a missing organization",
    );
    assert!(
        present(store.get_sso_connection(&sso.id).await),
        "children deletes rolled back"
    );
}
