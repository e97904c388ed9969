//! Error tier: uniqueness, references, cascades, missing keys and patches
//! of the key, checked generically over every table, key, unique constraint
//! and foreign key of the schema (so a new table is covered without a new
//! case), plus the cascading deletes' reports against what really changed.
//!
//! Every expected error is checked for its kind, its helper predicates and
//! that it is not retryable (see [`super::support::expect_err`]).

use kavach_store_core::prelude::*;

use super::builders as b;
use super::support::{Kind, absent, by_key, count, count_all, existing, expect_err, ok, present};
use crate::Ctx;
use crate::fixtures::{Variant, cascading_children, id, insert_with_parents, row_with_parents};

/// Asserts the error names `table` (the table the statement ran on).
fn assert_table(err: &StoreError, table: &str, what: &str) {
    let named = match err {
        StoreError::Conflict { table, .. }
        | StoreError::Reference { table, .. }
        | StoreError::NotFound { table, .. } => *table,
        other => panic!("{what}: no table in {other:?}"),
    };
    assert_eq!(
        named, table,
        "{what}: the error names the wrong table: {err:?}"
    );
}

/// `result` is a `Conflict` (see [`expect_err`]) naming `table`.
fn assert_conflict_on<T: std::fmt::Debug>(result: Result<T>, table: &str, what: &str) {
    assert_table(&expect_err(result, Kind::Conflict, what), table, what);
}

/// Inserting `rows` into `table` fails with `kind` (see [`expect_err`]) and
/// stores none of them; returns the error.
async fn insert_refused(
    store: &dyn KavachStore,
    table: &'static TableDef,
    rows: Vec<Row>,
    kind: Kind,
    what: &str,
) -> StoreError {
    let before = count_all(store, table).await;
    let err = expect_err(store.insert_rows(table, rows).await, kind, what);
    assert_eq!(
        count_all(store, table).await,
        before,
        "{what}: nothing stored"
    );
    err
}

/// Copies the values of `columns` from one row of `table` into another.
fn copy_columns(to: &mut Row, from: &Row, table: &TableDef, columns: &[&str]) {
    for column in columns {
        let i = table.expect_column(column);
        to[i] = from[i].clone();
    }
}

/// Inserting a row whose primary key exists is `Conflict` on every table
/// (the other unique columns are fresh), and stores nothing.
pub async fn duplicate_primary_key_is_conflict_on_every_table(ctx: &Ctx) {
    let store = ctx.store();
    for &table in all_tables() {
        let original = insert_with_parents(store, table, Variant::Full).await;
        let mut clash = row_with_parents(store, table, Variant::Full).await;
        copy_columns(&mut clash, &original, table, &[table.primary_key]);
        let what = format!("{}: duplicate primary key", table.name);
        let err = insert_refused(store, table, vec![clash], Kind::Conflict, &what).await;
        assert_table(&err, table.name, &what);
    }
}

/// Inserting a row that repeats the values of any unique constraint
/// (single or composite: email, token hashes, org membership, ReBAC tuple,
/// rate-limit bucket, …) is `Conflict` on every table, with a fresh key.
pub async fn duplicate_unique_key_is_conflict_on_every_table(ctx: &Ctx) {
    let store = ctx.store();
    let mut checked = 0;
    for &table in all_tables() {
        for unique in &table.uniques {
            let original = insert_with_parents(store, table, Variant::Full).await;
            let mut clash = row_with_parents(store, table, Variant::Full).await;
            copy_columns(&mut clash, &original, table, unique.columns);
            let pk = table.primary_key_index();
            assert_ne!(clash[pk], original[pk]);
            let what = format!("{}: duplicate {}", table.name, unique.name);
            let err = insert_refused(store, table, vec![clash], Kind::Conflict, &what).await;
            assert_table(&err, table.name, &what);
            checked += 1;
        }
    }
    assert!(
        checked >= 30,
        "every unique constraint is checked ({checked})"
    );
}

/// `NULL` never equals `NULL`: rows whose nullable unique columns are all
/// `NULL` never conflict on them (several users without a username, tokens
/// without a refresh token, …).
pub async fn null_unique_values_never_conflict(ctx: &Ctx) {
    let store = ctx.store();
    let mut checked = 0;
    for &table in all_tables() {
        for unique in &table.uniques {
            let nullable = unique
                .columns
                .iter()
                .any(|c| table.column(c).is_some_and(|c| c.nullable));
            if !nullable {
                continue;
            }
            let first = insert_with_parents(store, table, Variant::Minimal).await;
            let mut second = row_with_parents(store, table, Variant::Minimal).await;
            copy_columns(&mut second, &first, table, unique.columns);
            assert!(
                unique
                    .columns
                    .iter()
                    .any(|c| second[table.expect_column(c)].is_null())
            );
            store
                .insert_rows(table, vec![second])
                .await
                .unwrap_or_else(|e| {
                    panic!("{}: {} with NULLs conflicted: {e}", table.name, unique.name)
                });
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "nullable unique constraints checked ({checked})"
    );
}

/// The named operations report a duplicate as `Conflict` on their table:
/// user email, agent token hash, organization membership, ReBAC tuple,
/// rate-limit bucket (raw insert), federation token id and SSO domain
/// (compared lower-cased).
pub async fn named_inserts_report_conflict(ctx: &Ctx) {
    let store = ctx.store();
    let (user, agent) = b::seed_user_agent(store).await;

    let twin = User {
        email: user.email.clone(),
        ..b::user()
    };
    let err = store.create_user(twin).await;
    assert_conflict_on(err, User::TABLE, "duplicate email");
    let twin = Agent {
        token_hash: agent.token_hash.clone(),
        ..b::agent(&user.id)
    };
    let err = store.create_agent(twin).await;
    assert_conflict_on(err, Agent::TABLE, "duplicate token hash");

    let org = b::seed_org(store, &user.id).await;
    ok(store
        .add_org_member(b::org_member(&org.id, &user.id, "owner"))
        .await);
    let err = store
        .add_org_member(b::org_member(&org.id, &user.id, "admin"))
        .await;
    assert_conflict_on(err, OrgMember::TABLE, "duplicate membership");
    assert_eq!(ok(store.list_org_members(&org.id).await).len(), 1);

    let tuple = b::tuple(("user", &user.id), "viewer", ("document", "doc_1"));
    ok(store
        .create_rebac_relationship(b::rebac_relationship(&tuple))
        .await);
    let err = store
        .create_rebac_relationship(b::rebac_relationship(&tuple))
        .await;
    assert_conflict_on(err, RebacRelationship::TABLE, "duplicate tuple");

    let window = b::now_valid();
    ok(store
        .increment_rate_limit(&agent.id, "tool:x", window)
        .await);
    let raw = RateLimit {
        id: id("rl"),
        agent_id: agent.id.clone(),
        resource: "tool:x".into(),
        window_start: window,
        count: 7,
    };
    let err = store
        .insert_rows(RateLimit::table_def(), vec![raw.to_row()])
        .await;
    assert_conflict_on(err, RateLimit::TABLE, "duplicate bucket");
    let bucket = existing(store.get_rate_limit(&agent.id, "tool:x", window).await);
    assert_eq!(bucket.count, 1, "the existing bucket is untouched");

    let token = ok(store
        .record_federation_token(b::federation_token(&agent.id))
        .await);
    let replay = FederationToken {
        token_jti: token.token_jti.clone(),
        ..b::federation_token(&agent.id)
    };
    expect_err(
        store.record_federation_token(replay).await,
        Kind::Conflict,
        "replayed federation token",
    );

    let domain = format!("{}.example.com", id("corp"));
    ok(store
        .create_sso_connection(b::sso_connection(&org.id, &domain))
        .await);
    let err = store
        .create_sso_connection(b::sso_connection(&org.id, &domain.to_uppercase()))
        .await;
    expect_err(err, Kind::Conflict, "SSO domain differing only in case");
}

/// Inserting or updating a row so that any foreign key (nullable ones too,
/// keys on non-primary columns too) names a missing parent is `Reference`
/// on every table, and changes nothing.
pub async fn missing_parent_is_reference_on_every_foreign_key(ctx: &Ctx) {
    let store = ctx.store();
    let mut checked = 0;
    for &table in all_tables() {
        for fk in &table.foreign_keys {
            let what = format!("{}.{} -> {}", table.name, fk.column, fk.parent_table);
            let i = table.expect_column(fk.column);
            let missing = Value::Text(id("missing"));

            let mut row = row_with_parents(store, table, Variant::Full).await;
            row[i] = missing.clone();
            let insert = format!("insert {what}");
            let err = insert_refused(store, table, vec![row], Kind::Reference, &insert).await;
            assert_table(&err, table.name, &what);

            let stored = row_with_parents(store, table, Variant::Full).await;
            ok(store.insert_rows(table, vec![stored.clone()]).await);
            let update = Update {
                table,
                filter: by_key(table, &stored),
                set: vec![Assign::Set(fk.column, missing)],
            };
            let err = expect_err(
                store.update_rows(&update).await,
                Kind::Reference,
                &format!("update {what}"),
            );
            assert_table(&err, table.name, &what);
            let now = ok(store
                .select_rows(&Select::new(table, by_key(table, &stored)))
                .await);
            assert_eq!(now.len(), 1, "{what}: row still there");
            assert_eq!(now[0][i], stored[i], "{what}: reference unchanged");
            checked += 1;
        }
    }
    assert!(checked >= 30, "every foreign key is checked ({checked})");
}

/// Deleting a parent still referenced through a `NO ACTION` key is
/// `Reference` and deletes nothing (neither the parent nor the child);
/// changing a referenced key column is refused the same way (no key has
/// `ON UPDATE CASCADE`).
pub async fn referenced_parent_cannot_be_deleted_or_rekeyed(ctx: &Ctx) {
    let store = ctx.store();
    let mut checked = 0;
    for &table in all_tables() {
        for fk in &table.foreign_keys {
            let parent = table_by_name(fk.parent_table).expect("parent");
            let child = insert_with_parents(store, table, Variant::Full).await;
            let value = child[table.expect_column(fk.column)].clone();
            let what = format!(
                "{}.{} -> {}.{}",
                table.name, fk.column, parent.name, fk.parent_column
            );
            let parent_row = || Cond::eq(fk.parent_column, value.clone());

            let update = Update {
                table: parent,
                filter: parent_row(),
                set: vec![Assign::Set(fk.parent_column, Value::Text(id("rekeyed")))],
            };
            let err = store.update_rows(&update).await;
            expect_err(
                err,
                Kind::Reference,
                &format!("re-keying the parent of {what}"),
            );
            assert_eq!(
                count(store, parent, parent_row()).await,
                1,
                "{what}: parent key unchanged"
            );

            if fk.on_delete == OnDelete::NoAction {
                let delete = Delete {
                    table: parent,
                    filter: parent_row(),
                };
                let err = store.delete_rows(&delete).await;
                expect_err(
                    err,
                    Kind::Reference,
                    &format!("deleting the parent of {what}"),
                );
                assert_eq!(
                    count(store, parent, parent_row()).await,
                    1,
                    "{what}: parent kept"
                );
                assert_eq!(
                    count(store, table, by_key(table, &child)).await,
                    1,
                    "{what}: child kept"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "every NO ACTION key is checked ({checked})");

    // The named deletes report it too, and delete nothing.
    let (user, agent) = b::seed_user_agent(store).await;
    store
        .create_audit_log(b::audit(&agent.id, &user.id, 1))
        .await
        .expect("audit");
    expect_err(
        store.delete_user(&user.id).await,
        Kind::Reference,
        "delete_user with an agent",
    );
    expect_err(
        store.delete_agent(&agent.id).await,
        Kind::Reference,
        "delete_agent with audit rows",
    );
    assert!(present(store.get_user(&user.id).await));
    assert!(present(store.get_agent(&agent.id).await));
    let client = b::seed_oauth_client(store).await;
    store
        .create_oauth_access_token(b::oauth_access_token(&client.client_id, &user.id))
        .await
        .expect("token");
    expect_err(
        store.delete_oauth_client(&client.client_id).await,
        Kind::Reference,
        "delete_oauth_client with tokens",
    );
    assert!(present(
        store
            .find_oauth_client_by_client_id(&client.client_id)
            .await
    ));
    let tenant = ok(store.create_tenant(b::tenant()).await);
    store
        .create_agent(Agent {
            tenant_id: Some(tenant.id.clone()),
            ..b::agent(&user.id)
        })
        .await
        .expect("agent");
    expect_err(
        store.delete_tenant(&tenant.id).await,
        Kind::Reference,
        "delete_tenant with agents",
    );
}

/// Deleting a parent deletes its children on every `ON DELETE CASCADE` key
/// (and their own cascading children: user → token family → tokens), and
/// nothing else.
pub async fn cascading_keys_delete_children(ctx: &Ctx) {
    let store = ctx.store();
    let mut checked = 0;
    for &parent in all_tables() {
        for child_table in cascading_children(parent) {
            for fk in child_table
                .foreign_keys
                .iter()
                .filter(|fk| fk.parent_table == parent.name && fk.on_delete == OnDelete::Cascade)
            {
                let what = format!("{}.{} -> {}", child_table.name, fk.column, parent.name);
                let child = insert_with_parents(store, child_table, Variant::Full).await;
                let bystander = insert_with_parents(store, child_table, Variant::Full).await;
                let value = child[child_table.expect_column(fk.column)].clone();
                let deleted = store
                    .delete_rows(&Delete {
                        table: parent,
                        filter: Cond::eq(fk.parent_column, value.clone()),
                    })
                    .await
                    .unwrap_or_else(|e| panic!("{what}: deleting the parent failed: {e}"));
                assert_eq!(
                    deleted, 1,
                    "{what}: the parent row is deleted (children are not counted)"
                );
                assert_eq!(
                    count(store, child_table, by_key(child_table, &child)).await,
                    0,
                    "{what}: child cascaded"
                );
                assert_eq!(
                    count(store, child_table, by_key(child_table, &bystander)).await,
                    1,
                    "{what}: other parents' child kept"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "every cascading key is checked ({checked})");

    // Two levels: user → refresh-token family → refresh token.
    let user = b::seed_user(store).await;
    let family = b::seed_token_family(store, &user.id).await;
    let token = b::seed_refresh_token(store, &family.id).await;
    store
        .delete_rows(&Delete {
            table: User::table_def(),
            filter: Cond::eq("id", user.id.clone()),
        })
        .await
        .expect("delete user");
    assert!(
        absent(store.get_refresh_token_family(&family.id).await),
        "family cascaded"
    );
    assert!(
        absent(store.find_refresh_token(&token.token_hash).await),
        "token cascaded two levels down"
    );
}

/// Several rows in one insert are all stored or none: a duplicate or a
/// missing parent in the last row leaves no row of the batch behind, on
/// every table and through the bulk domain inserts.
pub async fn multi_row_insert_is_all_or_nothing(ctx: &Ctx) {
    let store = ctx.store();
    for &table in all_tables() {
        let first = row_with_parents(store, table, Variant::Full).await;
        let second = row_with_parents(store, table, Variant::Full).await;
        let mut dup = row_with_parents(store, table, Variant::Full).await;
        copy_columns(&mut dup, &first, table, &[table.primary_key]);
        let what = format!("{}: batch ending in a duplicate key", table.name);
        insert_refused(
            store,
            table,
            vec![first, second, dup],
            Kind::Conflict,
            &what,
        )
        .await;
    }

    let (user, agent) = b::seed_user_agent(store).await;
    let logs = [
        b::audit(&agent.id, &user.id, 1),
        b::audit(&agent.id, &user.id, 2),
        b::audit(&id("ghost"), &user.id, 3),
    ];
    expect_err(
        store.create_audit_logs(&logs).await,
        Kind::Reference,
        "create_audit_logs with a missing agent",
    );
    assert_eq!(ok(store.count_audit_logs(&AuditFilter::default()).await), 0);
    let events = [
        b::cost_event(&agent.id, 1, 5),
        b::cost_event(&id("ghost"), 2, 5),
    ];
    expect_err(
        store.create_cost_events(&events).await,
        Kind::Reference,
        "create_cost_events with a missing agent",
    );
    assert_eq!(count_all(store, CostEvent::table_def()).await, 0);
    let p = b::permission(&agent.id);
    expect_err(
        store.create_permissions(&[p.clone(), p]).await,
        Kind::Conflict,
        "create_permissions with a repeated id",
    );
    assert!(ok(store.list_permissions_by_agent(&agent.id).await).is_empty());
}

/// For every model type: `update` and `delete` of a missing key are
/// `NotFound` naming the table and key; a patch that sets the primary key
/// (even to its current value) is `InvalidInput` naming `table.key` and
/// changes nothing.
pub async fn missing_keys_and_key_patches_are_rejected(ctx: &Ctx) {
    let store = ctx.store();
    macro_rules! check {
        ($($ty:ident { $pk:ident }),* $(,)?) => {
            let mut checked = 0;
            $(
                check_record::<$ty>(store, |p, k| p.$pk = Some(k)).await;
                checked += 1;
            )*
            assert_eq!(checked, all_tables().len(), "every table has a model type in this list");
        };
    }
    check!(
        User { id },
        Tenant { id },
        Agent { id },
        Permission { id },
        DelegationChain { id },
        AuditLog { id },
        RateLimit { id },
        McpServer { id },
        Session { id },
        OAuthClient { id },
        OAuthAccessToken { id },
        OAuthAuthorizationCode { id },
        OAuthAccount { id },
        OAuthState { state },
        BudgetPolicy { id },
        AgentCard { id },
        ApprovalRequest { id },
        TrustScore { agent_id },
        Organization { id },
        OrgMember { id },
        OrgInvitation { id },
        OrgRole { id },
        PasskeyCredential { id },
        PasskeyChallenge { id },
        OneTimeToken { id },
        AgentDid { agent_id },
        MagicLink { id },
        EmailOtp { id },
        Totp { user_id },
        SsoConnection { id },
        ApiKey { id },
        UsernameAccount { id },
        PhoneVerification { id },
        TrustedDevice { id },
        LoginHistory { id },
        OidcClient { id },
        OidcAuthCode { id },
        OidcRefreshToken { id },
        CostEvent { id },
        EphemeralSession { id },
        JwtRefreshToken { id },
        StreamEvent { id },
        RebacResource { id },
        RebacRelationship { id },
        FederationInstance { id },
        FederationToken { id },
        RefreshTokenFamily { id },
        RefreshToken { id },
    );
}

async fn check_record<R: Record + std::fmt::Debug>(
    store: &dyn KavachStore,
    set_key: impl Fn(&mut R::Patch, String),
) {
    let def = R::table_def();
    let row = insert_with_parents(store, def, Variant::Minimal).await;
    let key = row[def.primary_key_index()]
        .as_str()
        .expect("text key")
        .to_string();
    let stored: R = store
        .get(&key)
        .await
        .unwrap_or_else(|e| panic!("{}: get: {e}", def.name))
        .expect("stored");
    let missing = id("missing");

    let err = expect_err(
        store.update::<R>(&missing, &R::Patch::default()).await,
        Kind::NotFound,
        def.name,
    );
    assert!(
        matches!(&err, StoreError::NotFound { table, key } if *table == def.name && *key == missing),
        "{}: NotFound names the table and key: {err:?}",
        def.name
    );
    let err = expect_err(store.delete::<R>(&missing).await, Kind::NotFound, def.name);
    assert!(
        matches!(&err, StoreError::NotFound { table, key } if *table == def.name && *key == missing),
        "{}: NotFound names the table and key: {err:?}",
        def.name
    );

    for new_key in [id("rekey"), key.clone()] {
        let mut patch = R::Patch::default();
        set_key(&mut patch, new_key.clone());
        let what = format!("{}: patch setting {}", def.name, def.primary_key);
        let err = expect_err(
            store.update::<R>(&key, &patch).await,
            Kind::InvalidInput,
            &what,
        );
        assert!(
            matches!(&err, StoreError::InvalidInput { field, .. } if *field == format!("{}.{}", def.name, def.primary_key)),
            "{what}: InvalidInput names the key column: {err:?}"
        );
        expect_err(
            store.update::<R>(&missing, &patch).await,
            Kind::InvalidInput,
            &what,
        );
    }
    let again: Option<R> = ok(store.get(&key).await);
    assert_eq!(
        again.map(|r| r.to_row()),
        Some(stored.to_row()),
        "{}: row unchanged by rejected patches",
        def.name
    );

    store
        .delete::<R>(&key)
        .await
        .unwrap_or_else(|e| panic!("{}: delete: {e}", def.name));
    let err = expect_err(store.delete::<R>(&key).await, Kind::NotFound, def.name);
    assert_table(&err, def.name, "second delete");
}

/// `result` is a `NotFound` (see [`expect_err`]).
fn not_found<T: std::fmt::Debug>(result: Result<T>, what: &str) {
    expect_err(result, Kind::NotFound, what);
}

/// Named updates and deletes of something missing are `NotFound` (with a
/// real patch, not only an empty one) and create nothing.
pub async fn named_updates_of_missing_rows_are_not_found(ctx: &Ctx) {
    let store = ctx.store();
    let missing = id("missing");
    let now = b::now_valid();
    let name = AgentPatch {
        name: Some("x".into()),
        ..Default::default()
    };
    not_found(store.update_agent(&missing, &name).await, "update_agent");
    not_found(
        store.rotate_agent_token(&missing, "h", "kv_1", now).await,
        "rotate_agent_token",
    );
    not_found(store.revoke_agent(&missing, now).await, "revoke_agent");
    not_found(store.delete_agent(&missing).await, "delete_agent");
    let user = b::user_rename("x");
    not_found(store.update_user(&missing, &user).await, "update_user");
    not_found(store.delete_user(&missing).await, "delete_user");
    not_found(store.delete_session(&missing).await, "delete_session");
    not_found(
        store.mark_jwt_refresh_token_used(&missing).await,
        "mark_jwt_refresh_token_used",
    );
    not_found(
        store.update_api_key_last_used(&missing, now).await,
        "update_api_key_last_used",
    );
    let client = OAuthClientPatch {
        disabled: Some(true),
        ..Default::default()
    };
    not_found(
        store.update_oauth_client(&missing, &client).await,
        "update_oauth_client",
    );
    not_found(
        store.delete_oauth_client(&missing).await,
        "delete_oauth_client",
    );
    not_found(
        store
            .update_org_member_role(&missing, &missing, "admin")
            .await,
        "update_org_member_role",
    );
    not_found(
        store.revoke_ephemeral_session(&missing, now).await,
        "revoke_ephemeral_session",
    );
    not_found(
        store.revoke_delegation_chain(&missing).await,
        "revoke_delegation_chain",
    );
    not_found(
        store.delete_user_cascade(&missing).await,
        "delete_user_cascade",
    );
    not_found(
        store.delete_agent_cascade(&missing).await,
        "delete_agent_cascade",
    );
    not_found(
        store.delete_organization_cascade(&missing).await,
        "delete_organization_cascade",
    );
    let approval = ApprovalRequestPatch {
        status: Some(ApprovalStatus::Approved),
        ..Default::default()
    };
    not_found(
        store.update_approval_request(&missing, &approval).await,
        "update_approval_request",
    );
    for &table in all_tables() {
        assert_eq!(
            count_all(store, table).await,
            0,
            "{}: a failed update created a row",
            table.name
        );
    }
}

/// Row counts of every table.
async fn snapshot(store: &dyn KavachStore) -> Vec<(&'static str, u64)> {
    let mut out = Vec::new();
    for &table in all_tables() {
        out.push((table.name, count_all(store, table).await));
    }
    out
}

/// Asserts that `report` lists exactly the rows that disappeared between
/// two snapshots, table by table, and that no row appeared.
fn assert_report_matches(
    before: &[(&'static str, u64)],
    after: &[(&'static str, u64)],
    report: &DeletionReport,
    what: &str,
) {
    let mut total = 0;
    for ((table, b), (_, a)) in before.iter().zip(after) {
        assert!(a <= b, "{what}: rows appeared in {table}");
        assert_eq!(
            report.count(table),
            b - a,
            "{what}: report for {table} differs from the rows removed"
        );
        total += b - a;
    }
    assert_eq!(report.total(), total, "{what}: report total");
    let mut names: Vec<&str> = report.deleted.iter().map(|(t, _)| *t).collect();
    let listed = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        listed,
        "{what}: a table is listed twice in the report: {report:?}"
    );
}

/// One row of every kind a user can own or be named in, linked to a peer's
/// agent and organization where the schema allows; returns the user's
/// agent and organization, to be the next user's peers.
async fn seed_footprint(
    store: &dyn KavachStore,
    user: &User,
    peer: &User,
    peer_agent: &Agent,
    peer_org: &Organization,
    client: &OAuthClient,
) -> (Agent, Organization) {
    let agent = b::seed_agent(store, &user.id).await;
    ok(store.create_permission(b::permission(&agent.id)).await);
    store
        .increment_rate_limit(&agent.id, "tool:x", b::now_valid())
        .await
        .expect("rate limit");
    store
        .create_budget_policy(b::budget_policy(Some(&agent.id), Some(&user.id)))
        .await
        .expect("agent budget");
    ok(store.create_agent_card(b::agent_card(&agent.id)).await);
    store
        .create_approval_request(b::approval(&agent.id, &user.id))
        .await
        .expect("approval");
    store
        .upsert_trust_score(b::trust_score(&agent.id, 60, TrustLevel::Standard))
        .await
        .expect("trust");
    ok(store.create_agent_did(b::agent_did(&agent.id)).await);
    store
        .create_cost_event(b::cost_event(&agent.id, 1, 100))
        .await
        .expect("cost");
    store
        .create_audit_log(b::audit(&agent.id, &user.id, 1))
        .await
        .expect("audit");
    b::seed_delegation(store, &agent.id, &peer_agent.id).await;
    b::seed_delegation(store, &peer_agent.id, &agent.id).await;
    b::seed_ephemeral(store, &user.id, Some(5)).await;
    store
        .create_audit_log(b::audit(&peer_agent.id, &user.id, 2))
        .await
        .expect("audit on a peer agent");
    ok(store.create_session(b::session(&user.id)).await);
    store
        .create_oauth_access_token(b::oauth_access_token(&client.client_id, &user.id))
        .await
        .expect("oauth token");
    store
        .create_oauth_authorization_code(b::oauth_code(&client.client_id, &user.id))
        .await
        .expect("oauth code");
    ok(store.create_oauth_account(b::oauth_account(&user.id)).await);
    store
        .create_oidc_auth_code(b::oidc_code("rp", &user.id))
        .await
        .expect("oidc code");
    store
        .create_oidc_refresh_token(b::oidc_refresh_token("rp", &user.id))
        .await
        .expect("oidc refresh");
    store
        .create_budget_policy(b::budget_policy(None, Some(&user.id)))
        .await
        .expect("user budget");
    store
        .create_approval_request(b::approval(&peer_agent.id, &user.id))
        .await
        .expect("approval on a peer agent");
    let org = b::seed_org(store, &user.id).await;
    b::seed_member(store, &org.id, &user.id, "owner").await;
    b::seed_member(store, &org.id, &peer.id, "member").await;
    b::seed_invitation(store, &org.id, &user.id, "guest@example.com").await;
    ok(store.create_org_role(b::org_role(&org.id, "auditor")).await);
    store
        .create_sso_connection(b::sso_connection(
            &org.id,
            &format!("{}.example.com", id("d")),
        ))
        .await
        .expect("sso");
    b::seed_member(store, &peer_org.id, &user.id, "member").await;
    b::seed_invitation(store, &peer_org.id, &user.id, "friend@example.com").await;
    store
        .create_passkey_credential(b::passkey_credential(&user.id))
        .await
        .expect("passkey");
    store
        .create_passkey_challenge(b::passkey_challenge(Some(&user.id)))
        .await
        .expect("challenge");
    ok(store.upsert_totp(b::totp(&user.id)).await);
    ok(store.create_api_key(b::api_key(&user.id)).await);
    ok(store.create_magic_link(b::magic_link(&user.email)).await);
    ok(store.replace_email_otp(b::email_otp(&user.email)).await);
    store
        .create_one_time_token(b::one_time_token(&user.id, TokenPurpose::EmailVerify))
        .await
        .expect("ott by id");
    store
        .create_one_time_token(b::one_time_token(&user.email, TokenPurpose::PasswordReset))
        .await
        .expect("ott by email");
    store
        .create_stream_event(StreamEvent {
            user_id: Some(user.id.clone()),
            ..b::stream_event("login", 1)
        })
        .await
        .expect("stream event");
    store
        .create_username_account(b::username_account(&user.id, &id("name")))
        .await
        .expect("username");
    store
        .create_trusted_device(b::trusted_device(&user.id, "fp"))
        .await
        .expect("device");
    ok(store.create(b::login(&user.id, 1)).await);
    store
        .create_jwt_refresh_token(b::jwt_refresh_token(&user.id))
        .await
        .expect("jwt refresh");
    let family = b::seed_token_family(store, &user.id).await;
    b::seed_refresh_token(store, &family.id).await;
    (agent, org)
}

/// `delete_user_cascade`, `delete_agent_cascade` and
/// `delete_organization_cascade` report, table by table, exactly the rows
/// that disappeared from the whole database (compared over all 48 tables),
/// leave no row naming the deleted user, and touch nothing else.
pub async fn cascade_reports_equal_rows_removed(ctx: &Ctx) {
    let store = ctx.store();
    let client = b::seed_oauth_client(store).await;
    let base = b::seed_user(store).await;
    let base_agent = b::seed_agent(store, &base.id).await;
    let base_org = b::seed_org(store, &base.id).await;
    let peer = b::seed_user(store).await;
    let (peer_agent, peer_org) =
        seed_footprint(store, &peer, &base, &base_agent, &base_org, &client).await;
    let victim = b::seed_user(store).await;
    let (victim_agent, victim_org) =
        seed_footprint(store, &victim, &peer, &peer_agent, &peer_org, &client).await;

    let before = snapshot(store).await;
    let report = ok(store.delete_user_cascade(&victim.id).await);
    let after = snapshot(store).await;
    assert_report_matches(&before, &after, &report, "delete_user_cascade");
    for table in [
        User::TABLE,
        Agent::TABLE,
        Permission::TABLE,
        RateLimit::TABLE,
        BudgetPolicy::TABLE,
        AgentCard::TABLE,
        ApprovalRequest::TABLE,
        TrustScore::TABLE,
        AgentDid::TABLE,
        CostEvent::TABLE,
        AuditLog::TABLE,
        DelegationChain::TABLE,
        EphemeralSession::TABLE,
        Session::TABLE,
        OAuthAccessToken::TABLE,
        OAuthAuthorizationCode::TABLE,
        OAuthAccount::TABLE,
        OidcAuthCode::TABLE,
        OidcRefreshToken::TABLE,
        Organization::TABLE,
        OrgMember::TABLE,
        OrgInvitation::TABLE,
        OrgRole::TABLE,
        SsoConnection::TABLE,
        PasskeyCredential::TABLE,
        PasskeyChallenge::TABLE,
        Totp::TABLE,
        ApiKey::TABLE,
        MagicLink::TABLE,
        EmailOtp::TABLE,
        OneTimeToken::TABLE,
        StreamEvent::TABLE,
        UsernameAccount::TABLE,
        TrustedDevice::TABLE,
        LoginHistory::TABLE,
        JwtRefreshToken::TABLE,
        RefreshTokenFamily::TABLE,
        RefreshToken::TABLE,
    ] {
        assert!(
            report.count(table) > 0,
            "delete_user_cascade removed nothing from {table}: {report:?}"
        );
    }
    assert_eq!(
        report.count(DelegationChain::TABLE),
        2,
        "chains from and to the user's agent"
    );
    assert_eq!(
        report.count(OneTimeToken::TABLE),
        2,
        "one-time tokens by id and by email"
    );
    for &table in all_tables() {
        for column in ["user_id", "owner_id", "invited_by", "identifier", "email"] {
            if table.column(column).is_none() {
                continue;
            }
            for value in [&victim.id, &victim.email] {
                let left = count(store, table, Cond::eq(column, value.as_str())).await;
                assert_eq!(
                    left, 0,
                    "{}.{column} still names the deleted user",
                    table.name
                );
            }
        }
    }
    assert!(absent(store.get_agent(&victim_agent.id).await));
    assert!(absent(store.get_organization(&victim_org.id).await));
    expect_err(
        store.delete_user_cascade(&victim.id).await,
        Kind::NotFound,
        "second delete_user_cascade",
    );

    let before = snapshot(store).await;
    let report = ok(store.delete_agent_cascade(&peer_agent.id).await);
    assert_report_matches(
        &before,
        &snapshot(store).await,
        &report,
        "delete_agent_cascade",
    );
    assert_eq!(report.count(Agent::TABLE), 1);
    assert!(report.count(DelegationChain::TABLE) >= 1 && report.count(Permission::TABLE) == 1);

    let before = snapshot(store).await;
    let report = store
        .delete_organization_cascade(&peer_org.id)
        .await
        .expect("delete_organization_cascade");
    assert_report_matches(
        &before,
        &snapshot(store).await,
        &report,
        "delete_organization_cascade",
    );
    assert_eq!(report.count(Organization::TABLE), 1);
    assert_eq!(
        report.count(OrgMember::TABLE),
        2,
        "the owner and the base user"
    );
    assert_eq!(report.count(SsoConnection::TABLE), 1);
    assert!(
        present(store.get_organization(&base_org.id).await),
        "other organizations kept"
    );

    let before = snapshot(store).await;
    let report = store
        .delete_user_cascade(&peer.id)
        .await
        .expect("delete the peer too");
    assert_report_matches(
        &before,
        &snapshot(store).await,
        &report,
        "second delete_user_cascade",
    );
    assert!(
        present(store.get_user(&base.id).await),
        "the bystander is kept"
    );
    assert!(present(store.get_agent(&base_agent.id).await));
}
