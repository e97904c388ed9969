//! Domain operations: organizations with their members, invitations and
//! roles (`OrganizationStore`) and SSO connections (`SsoConnectionStore`).

use kavach_store_core::prelude::*;
use serde_json::json;

use super::builders::{self as b, Created, Expires};
use super::support::{
    absent, assert_conflict, assert_deletion_report, assert_found, assert_not_found,
    assert_reference, assert_returns, assert_same, existing, keys, keys_of, ok, present,
};
use crate::Ctx;
use crate::fixtures::instant;

/// `create_organization` stores the organization only (its owner is not
/// made a member); lookups by id and slug; the owner's organizations oldest
/// first and their count; duplicate slug `Conflict`, missing owner `Reference`.
pub async fn org_create_lookups_and_owner_listing(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let v = b::seed_user(s).await;
    let o1 = s
        .create_organization(Organization {
            created_at: instant(10),
            metadata: Some(json!({"tier": "pro"})),
            ..b::organization(&u.id)
        })
        .await
        .expect("create");
    let o2 = ok(s.create_organization(b::organization(&u.id)).await);
    let o3 = ok(s.create_organization(b::organization(&v.id)).await);
    assert_conflict(
        s.create_organization(Organization {
            slug: o1.slug.clone(),
            ..b::organization(&v.id)
        })
        .await,
    );
    assert_reference(s.create_organization(b::organization("usr_missing")).await);

    assert!(
        ok(s.list_org_members(&o1.id).await).is_empty(),
        "the owner is not added as a member"
    );
    assert_found(ctx, s.get_organization(&o1.id).await, &o1);
    assert_found(ctx, s.find_organization_by_slug(&o3.slug).await, &o3);
    assert!(absent(s.get_organization("org_missing").await));
    assert!(absent(s.find_organization_by_slug("no-such-slug").await));

    assert_eq!(
        keys(&ok(s.list_organizations_by_owner(&u.id).await)),
        keys_of(&[&o2, &o1])
    );
    assert_eq!(
        keys(&ok(s.list_organizations_by_owner(&v.id).await)),
        keys_of(&[&o3])
    );
    assert_eq!(ok(s.count_organizations_by_owner(&u.id).await), 2);
    assert_eq!(ok(s.count_organizations_by_owner(&v.id).await), 1);
    assert_eq!(ok(s.count_organizations_by_owner("usr_missing").await), 0);
}

/// `create_organization_with_owner` stores organization, owner membership
/// and roles together (nothing when a role is rejected);
/// `list_organizations_for_user` lists the organizations a user belongs to.
pub async fn org_create_with_owner_and_memberships(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let v = b::seed_user(s).await;
    let org = b::organization(&u.id).created(10);
    let owner = b::org_member(&org.id, &u.id, "owner");
    let roles = [
        b::org_role(&org.id, "viewer"),
        b::org_role(&org.id, "admin"),
    ];
    let created = s
        .create_organization_with_owner(org.clone(), owner.clone(), &roles)
        .await
        .expect("create");
    assert_same(ctx, &created, &org);
    assert_found(ctx, s.get_org_member(&org.id, &u.id).await, &owner);
    assert_eq!(
        keys(&ok(s.list_org_roles(&org.id).await)),
        keys_of(&[&roles[1], &roles[0]])
    );

    let bad = b::organization(&u.id);
    let dup_roles = [b::org_role(&bad.id, "admin"), b::org_role(&bad.id, "admin")];
    assert_conflict(
        s.create_organization_with_owner(
            bad.clone(),
            b::org_member(&bad.id, &u.id, "owner"),
            &dup_roles,
        )
        .await,
    );
    assert!(absent(s.get_organization(&bad.id).await));
    assert!(absent(s.get_org_member(&bad.id, &u.id).await));

    let early = ok(s.create_organization(b::organization(&v.id)).await);
    b::seed_member(s, &early.id, &u.id, "member").await;
    ok(s.create_organization(b::organization(&v.id)).await);
    assert_eq!(
        keys(&ok(s.list_organizations_for_user(&u.id).await)),
        keys_of(&[&early, &org])
    );
    assert!(
        ok(s.list_organizations_for_user(&v.id).await).is_empty(),
        "owning is not membership"
    );
    assert!(ok(s.list_organizations_for_user("usr_missing").await).is_empty());
}

/// `list_organizations`: name search (ASCII case-insensitive, contains or
/// prefix), oldest first, LIMIT/OFFSET window.
pub async fn org_list_search_and_window(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let mut orgs = Vec::new();
    for (i, name) in ["Acme Corp", "acme labs", "Globex", "Initech"]
        .into_iter()
        .enumerate()
    {
        let org = Organization {
            name: name.into(),
            created_at: instant(10 * i as i64),
            ..b::organization(&u.id)
        };
        orgs.push(ok(s.create_organization(org).await));
    }
    let list = |like: Option<LikePattern>, limit: Option<u64>, offset: Option<u64>| async move {
        keys(&ok(s.list_organizations(like, limit, offset).await))
    };
    let ids = |idx: &[usize]| idx.iter().map(|&i| orgs[i].id.clone()).collect::<Vec<_>>();
    assert_eq!(list(None, None, None).await, ids(&[0, 1, 2, 3]));
    assert_eq!(
        list(Some(LikePattern::Contains("ACME".into())), None, None).await,
        ids(&[0, 1])
    );
    assert_eq!(
        list(Some(LikePattern::Contains("e".into())), None, None).await,
        ids(&[0, 1, 2, 3])
    );
    assert_eq!(
        list(Some(LikePattern::Prefix("glo".into())), None, None).await,
        ids(&[2])
    );
    assert_eq!(
        list(Some(LikePattern::Prefix("corp".into())), None, None).await,
        ids(&[])
    );
    assert_eq!(list(None, Some(2), Some(1)).await, ids(&[1, 2]));
    assert_eq!(list(None, None, Some(3)).await, ids(&[3]));
    assert_eq!(
        list(Some(LikePattern::Contains("acme".into())), Some(1), Some(1)).await,
        ids(&[1])
    );
    assert_eq!(list(None, Some(5), Some(4)).await, ids(&[]));
}

/// `update_organization` patches (`NotFound` when missing, `Conflict` on a
/// taken slug); `delete_organization` removes members, invitations and
/// roles by cascade (`NotFound` when missing).
pub async fn org_update_and_delete(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let org = b::seed_org(s, &u.id).await;
    let other = b::seed_org(s, &u.id).await;
    let patch = OrganizationPatch {
        name: Some("Acme Inc".into()),
        metadata: Some(Some(json!({"seats": 10}))),
        updated_at: Some(instant(40)),
        ..OrganizationPatch::default()
    };
    let want = Organization {
        name: "Acme Inc".into(),
        metadata: Some(json!({"seats": 10})),
        updated_at: instant(40),
        ..org.clone()
    };
    assert_returns(ctx, s.update_organization(&org.id, &patch).await, &want);
    assert_not_found(s.update_organization("org_missing", &patch).await);
    assert_conflict(
        s.update_organization(
            &org.id,
            &OrganizationPatch {
                slug: Some(other.slug.clone()),
                ..Default::default()
            },
        )
        .await,
    );

    let m = b::seed_member(s, &org.id, &u.id, "owner").await;
    let inv = b::seed_invitation(s, &org.id, &u.id, "a@example.com").await;
    let role = ok(s.create_org_role(b::org_role(&org.id, "admin")).await);
    let kept = b::seed_member(s, &other.id, &u.id, "owner").await;
    ok(s.delete_organization(&org.id).await);
    assert!(absent(s.get_organization(&org.id).await));
    assert!(absent(s.get_org_member(&org.id, &m.user_id).await));
    assert!(absent(s.get_org_invitation(&inv.id).await));
    assert!(absent(s.find_org_role(&org.id, &role.name).await));
    assert_not_found(s.delete_organization(&org.id).await);
    assert_eq!(keys(&ok(s.list_org_members(&other.id).await)), [kept.id]);
}

/// `delete_organization_cascade` deletes members, invitations, roles and
/// SSO connections of the organization explicitly, reports the counts, and
/// leaves other organizations alone; `NotFound` for an unknown one.
pub async fn org_delete_cascade_reports_every_table(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let v = b::seed_user(s).await;
    let org = b::seed_org(s, &u.id).await;
    let other = b::seed_org(s, &v.id).await;
    b::seed_member(s, &org.id, &u.id, "owner").await;
    b::seed_member(s, &org.id, &v.id, "member").await;
    b::seed_invitation(s, &org.id, &u.id, "a@example.com").await;
    ok(s.create_org_role(b::org_role(&org.id, "admin")).await);
    ok(s.create_org_role(b::org_role(&org.id, "viewer")).await);
    s.create_sso_connection(b::sso_connection(&org.id, "acme.example"))
        .await
        .unwrap();
    let kept_member = b::seed_member(s, &other.id, &u.id, "member").await;
    let kept_invite = b::seed_invitation(s, &other.id, &v.id, "b@example.com").await;
    let kept_role = ok(s.create_org_role(b::org_role(&other.id, "admin")).await);
    let kept_sso = s
        .create_sso_connection(b::sso_connection(&other.id, "globex.example"))
        .await
        .unwrap();

    let report = ok(s.delete_organization_cascade(&org.id).await);
    assert_deletion_report(
        &report,
        &[
            ("kavach_org_members", 2),
            ("kavach_org_invitations", 1),
            ("kavach_org_roles", 2),
            ("kavach_sso_connections", 1),
            ("kavach_organizations", 1),
        ],
    );
    assert!(absent(s.get_organization(&org.id).await));
    assert!(ok(s.list_org_roles(&org.id).await).is_empty());
    assert!(ok(s.list_sso_connections_by_org(&org.id).await).is_empty());
    assert_eq!(
        keys(&ok(s.list_org_members(&other.id).await)),
        [kept_member.id]
    );
    assert_eq!(
        keys(&ok(s.list_org_invitations(&other.id).await)),
        [kept_invite.id]
    );
    assert_eq!(keys(&ok(s.list_org_roles(&other.id).await)), [kept_role.id]);
    assert_eq!(
        keys(&ok(s.list_sso_connections_by_org(&other.id).await)),
        [kept_sso.id]
    );
    assert_not_found(s.delete_organization_cascade(&org.id).await);
    assert!(present(s.get_organization(&other.id).await));
}

/// Membership operations: add (`Conflict` when already a member,
/// `Reference` for an unknown user), get, list earliest joined first,
/// count (optionally per role), change role (`NotFound` when not a
/// member), remove (0 or 1).
pub async fn org_member_operations(ctx: &Ctx) {
    let s = ctx.store();
    let [u, v, w] = b::seed_users(s).await;
    let org = b::seed_org(s, &u.id).await;
    let other = b::seed_org(s, &u.id).await;
    let mu = s
        .add_org_member(OrgMember {
            joined_at: instant(20),
            ..b::org_member(&org.id, &u.id, "owner")
        })
        .await
        .expect("add");
    let mv = s
        .add_org_member(b::org_member(&org.id, &v.id, "admin"))
        .await
        .unwrap();
    let mw = s
        .add_org_member(OrgMember {
            joined_at: instant(10),
            ..b::org_member(&org.id, &w.id, "admin")
        })
        .await
        .unwrap();
    s.add_org_member(b::org_member(&other.id, &v.id, "member"))
        .await
        .unwrap();
    assert_conflict(
        s.add_org_member(b::org_member(&org.id, &v.id, "member"))
            .await,
    );
    assert_reference(
        s.add_org_member(b::org_member(&org.id, "usr_missing", "member"))
            .await,
    );
    assert_reference(
        s.add_org_member(b::org_member("org_missing", &u.id, "member"))
            .await,
    );

    assert_found(ctx, s.get_org_member(&org.id, &v.id).await, &mv);
    assert!(absent(s.get_org_member(&org.id, "usr_missing").await));
    assert!(absent(s.get_org_member(&other.id, &u.id).await));
    assert_eq!(
        keys(&ok(s.list_org_members(&org.id).await)),
        keys_of(&[&mv, &mw, &mu])
    );
    assert_eq!(ok(s.count_org_members(&org.id, None).await), 3);
    assert_eq!(ok(s.count_org_members(&org.id, Some("admin")).await), 2);
    assert_eq!(ok(s.count_org_members(&org.id, Some("owner")).await), 1);
    assert_eq!(ok(s.count_org_members(&org.id, Some("billing")).await), 0);

    let promoted = ok(s.update_org_member_role(&org.id, &v.id, "owner").await);
    assert_same(
        ctx,
        &promoted,
        &OrgMember {
            role: "owner".into(),
            ..mv.clone()
        },
    );
    assert_eq!(ok(s.count_org_members(&org.id, Some("owner")).await), 2);
    assert_eq!(
        existing(s.get_org_member(&other.id, &v.id).await).role,
        "member"
    );
    assert_not_found(
        s.update_org_member_role(&org.id, "usr_missing", "owner")
            .await,
    );

    assert_eq!(ok(s.remove_org_member(&org.id, &w.id).await), 1);
    assert_eq!(ok(s.remove_org_member(&org.id, &w.id).await), 0);
    assert_eq!(
        keys(&ok(s.list_org_members(&org.id).await)),
        keys_of(&[&mv, &mu])
    );
}

/// Invitation reads and writes: get, the pending invitation of an email
/// (accepted ones skipped), newest-first listing, count created since an
/// instant, patch and delete (`NotFound` when missing).
pub async fn org_invitation_operations(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let org = b::seed_org(s, &u.id).await;
    let other = b::seed_org(s, &u.id).await;
    let accepted = s
        .create_org_invitation(OrgInvitation {
            status: InvitationStatus::Accepted,
            ..b::org_invitation(&org.id, &u.id, "a@example.com")
        })
        .await
        .expect("create");
    let pending = s
        .create_org_invitation(b::org_invitation(&org.id, &u.id, "a@example.com").created(10))
        .await
        .unwrap();
    let b_inv = s
        .create_org_invitation(OrgInvitation {
            created_at: instant(20),
            role: "admin".into(),
            ..b::org_invitation(&org.id, &u.id, "b@example.com")
        })
        .await
        .unwrap();
    let elsewhere = s
        .create_org_invitation(b::org_invitation(&other.id, &u.id, "a@example.com"))
        .await
        .unwrap();
    assert_reference(
        s.create_org_invitation(b::org_invitation(&org.id, "usr_missing", "c@example.com"))
            .await,
    );

    assert_found(ctx, s.get_org_invitation(&b_inv.id).await, &b_inv);
    assert!(absent(s.get_org_invitation("inv_missing").await));
    assert_found(
        ctx,
        s.find_pending_org_invitation(&org.id, "a@example.com")
            .await,
        &pending,
    );
    assert_found(
        ctx,
        s.find_pending_org_invitation(&other.id, "a@example.com")
            .await,
        &elsewhere,
    );
    assert!(absent(
        s.find_pending_org_invitation(&org.id, "c@example.com")
            .await
    ));
    assert_eq!(
        keys(&ok(s.list_org_invitations(&org.id).await)),
        keys_of(&[&b_inv, &pending, &accepted])
    );
    assert_eq!(
        ok(s.count_org_invitations_since(&org.id, instant(5)).await),
        2
    );
    assert_eq!(
        ok(s.count_org_invitations_since(&org.id, instant(-60)).await),
        3
    );
    assert_eq!(
        ok(s.count_org_invitations_since(&org.id, instant(30)).await),
        0
    );

    let patch = OrgInvitationPatch {
        role: Some("billing".into()),
        expires_at: Some(instant(172_800)),
        ..OrgInvitationPatch::default()
    };
    let want = OrgInvitation {
        role: "billing".into(),
        expires_at: instant(172_800),
        ..pending.clone()
    };
    assert_returns(
        ctx,
        s.update_org_invitation(&pending.id, &patch).await,
        &want,
    );
    assert_not_found(s.update_org_invitation("inv_missing", &patch).await);

    ok(s.delete_org_invitation(&pending.id).await);
    assert!(absent(
        s.find_pending_org_invitation(&org.id, "a@example.com")
            .await
    ));
    assert_not_found(s.delete_org_invitation(&pending.id).await);
}

/// `accept_org_invitation` accepts a pending, unexpired invitation once and
/// adds the member in the same step; `None` for accepted, expired or
/// missing invitations (adding nobody); `Conflict` with nothing changed
/// when the user is already a member.
pub async fn org_invitation_accept_is_compare_and_set(ctx: &Ctx) {
    let s = ctx.store();
    let [u, v, w] = b::seed_users(s).await;
    let org = b::seed_org(s, &u.id).await;
    let inv = s
        .create_org_invitation(b::org_invitation(&org.id, &u.id, &v.email))
        .await
        .unwrap();
    let member = OrgMember {
        joined_at: instant(60),
        ..b::org_member(&org.id, &v.id, "member")
    };
    let (accepted, added) = existing(
        s.accept_org_invitation(&inv.id, member.clone(), instant(60))
            .await,
    );
    assert_same(
        ctx,
        &accepted,
        &OrgInvitation {
            status: InvitationStatus::Accepted,
            ..inv.clone()
        },
    );
    assert_same(ctx, &added, &member);
    assert_found(ctx, s.get_org_member(&org.id, &v.id).await, &member);

    let second = b::org_member(&org.id, &w.id, "member");
    assert!(absent(
        s.accept_org_invitation(&inv.id, second, instant(61)).await
    ));
    assert!(
        absent(s.get_org_member(&org.id, &w.id).await),
        "a lost accept adds nobody"
    );

    let stale = s
        .create_org_invitation(b::org_invitation(&org.id, &u.id, &w.email).expiring(100))
        .await
        .unwrap();
    assert!(absent(
        s.accept_org_invitation(
            &stale.id,
            b::org_member(&org.id, &w.id, "member"),
            instant(5000)
        )
        .await
    ));
    assert_eq!(
        existing(s.get_org_invitation(&stale.id).await).status,
        InvitationStatus::Pending
    );
    assert!(absent(s.get_org_member(&org.id, &w.id).await));

    let again = s
        .create_org_invitation(b::org_invitation(&org.id, &u.id, &v.email))
        .await
        .unwrap();
    assert_conflict(
        s.accept_org_invitation(
            &again.id,
            b::org_member(&org.id, &v.id, "admin"),
            instant(60),
        )
        .await,
    );
    assert_eq!(
        existing(s.get_org_invitation(&again.id).await).status,
        InvitationStatus::Pending,
        "nothing changed"
    );
    assert_eq!(
        existing(s.get_org_member(&org.id, &v.id).await).role,
        "member"
    );

    assert!(absent(
        s.accept_org_invitation(
            "inv_missing",
            b::org_member(&org.id, &w.id, "member"),
            instant(60)
        )
        .await
    ));
    assert_eq!(ok(s.count_org_members(&org.id, None).await), 1);
}

/// `expire_org_invitations` marks pending invitations past their expiry;
/// `purge_expired_org_invitations` deletes expired ones whatever their status.
pub async fn org_invitation_expire_and_purge(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let org = b::seed_org(s, &u.id).await;
    let mk = |expires: i64, status: InvitationStatus| OrgInvitation {
        expires_at: instant(expires),
        status,
        ..b::org_invitation(&org.id, &u.id, "x@example.com")
    };
    let due = s
        .create_org_invitation(mk(100, InvitationStatus::Pending))
        .await
        .unwrap();
    let later = s
        .create_org_invitation(mk(10_000, InvitationStatus::Pending))
        .await
        .unwrap();
    let done = s
        .create_org_invitation(mk(100, InvitationStatus::Accepted))
        .await
        .unwrap();
    assert_eq!(ok(s.expire_org_invitations(instant(5000)).await), 1);
    assert_eq!(
        existing(s.get_org_invitation(&due.id).await).status,
        InvitationStatus::Expired
    );
    assert_eq!(
        existing(s.get_org_invitation(&later.id).await).status,
        InvitationStatus::Pending
    );
    assert_eq!(
        existing(s.get_org_invitation(&done.id).await).status,
        InvitationStatus::Accepted
    );
    assert_eq!(ok(s.expire_org_invitations(instant(5000)).await), 0);

    assert_eq!(ok(s.purge_expired_org_invitations(instant(5000)).await), 2);
    assert!(absent(s.get_org_invitation(&due.id).await));
    assert!(absent(s.get_org_invitation(&done.id).await));
    assert!(present(s.get_org_invitation(&later.id).await));
}

/// Role operations: names unique per organization (`Conflict`), find by
/// name, list by name, patch (`NotFound` when missing), delete by name (0 or 1).
pub async fn org_role_operations(ctx: &Ctx) {
    let s = ctx.store();
    let u = b::seed_user(s).await;
    let org = b::seed_org(s, &u.id).await;
    let other = b::seed_org(s, &u.id).await;
    let viewer = ok(s.create_org_role(b::org_role(&org.id, "viewer")).await);
    let admin = s
        .create_org_role(OrgRole {
            permissions: vec![],
            ..b::org_role(&org.id, "admin")
        })
        .await
        .unwrap();
    let billing = ok(s.create_org_role(b::org_role(&org.id, "billing")).await);
    let theirs = s
        .create_org_role(b::org_role(&other.id, "admin"))
        .await
        .expect("same name elsewhere");
    assert_conflict(s.create_org_role(b::org_role(&org.id, "admin")).await);
    assert_reference(s.create_org_role(b::org_role("org_missing", "admin")).await);

    assert_found(ctx, s.find_org_role(&org.id, "admin").await, &admin);
    assert_found(ctx, s.find_org_role(&other.id, "admin").await, &theirs);
    assert!(absent(s.find_org_role(&org.id, "owner").await));
    assert_eq!(
        keys(&ok(s.list_org_roles(&org.id).await)),
        keys_of(&[&admin, &billing, &viewer])
    );

    let patch = OrgRolePatch {
        permissions: Some(vec!["members:invite".into(), "billing:*".into()]),
        ..Default::default()
    };
    let want = OrgRole {
        permissions: vec!["members:invite".into(), "billing:*".into()],
        ..admin.clone()
    };
    assert_returns(ctx, s.update_org_role(&admin.id, &patch).await, &want);
    assert_not_found(s.update_org_role("role_missing", &patch).await);

    assert_eq!(ok(s.delete_org_role(&org.id, "admin").await), 1);
    assert_eq!(ok(s.delete_org_role(&org.id, "admin").await), 0);
    assert_eq!(
        keys(&ok(s.list_org_roles(&org.id).await)),
        keys_of(&[&billing, &viewer])
    );
    assert!(present(s.find_org_role(&other.id, "admin").await));
}

/// `SsoConnectionStore`: domains are stored and matched lower-cased (unique),
/// only enabled connections are found by domain, the organization's
/// connections oldest first, patch and delete (`NotFound` when missing).
pub async fn sso_connection_operations(ctx: &Ctx) {
    let s = ctx.store();
    let acme = s
        .create_sso_connection(b::sso_connection("org_1", "Acme.EXAMPLE"))
        .await
        .expect("create");
    assert_eq!(acme.domain, "acme.example");
    assert_conflict(
        s.create_sso_connection(b::sso_connection("org_2", "ACME.example"))
            .await,
    );
    let saml = s
        .create_sso_connection(SsoConnection {
            r#type: SsoType::Saml,
            created_at: instant(10),
            ..b::sso_connection("org_1", "initech.example")
        })
        .await
        .unwrap();
    let off = s
        .create_sso_connection(SsoConnection {
            enabled: false,
            ..b::sso_connection("org_2", "globex.example")
        })
        .await
        .unwrap();

    assert_found(ctx, s.get_sso_connection(&acme.id).await, &acme);
    assert!(absent(s.get_sso_connection("sso_missing").await));
    assert_found(
        ctx,
        s.find_enabled_sso_connection_by_domain("ACME.Example")
            .await,
        &acme,
    );
    assert_found(
        ctx,
        s.find_enabled_sso_connection_by_domain("initech.example")
            .await,
        &saml,
    );
    assert!(
        absent(
            s.find_enabled_sso_connection_by_domain("globex.example")
                .await
        ),
        "disabled"
    );
    assert!(absent(
        s.find_enabled_sso_connection_by_domain("nowhere.example")
            .await
    ));
    assert_eq!(
        keys(&ok(s.list_sso_connections_by_org("org_1").await)),
        keys_of(&[&acme, &saml])
    );
    assert_eq!(
        keys(&ok(s.list_sso_connections_by_org("org_2").await)),
        keys_of(&[&off])
    );

    let patch = SsoConnectionPatch {
        enabled: Some(false),
        provider_id: Some("idp_new".into()),
        ..Default::default()
    };
    let want = SsoConnection {
        enabled: false,
        provider_id: "idp_new".into(),
        ..acme.clone()
    };
    assert_returns(ctx, s.update_sso_connection(&acme.id, &patch).await, &want);
    assert!(absent(
        s.find_enabled_sso_connection_by_domain("acme.example")
            .await
    ));
    let enable = SsoConnectionPatch {
        enabled: Some(true),
        ..Default::default()
    };
    ok(s.update_sso_connection(&off.id, &enable).await);
    assert!(present(
        s.find_enabled_sso_connection_by_domain("globex.example")
            .await
    ));
    assert_not_found(s.update_sso_connection("sso_missing", &patch).await);

    ok(s.delete_sso_connection(&saml.id).await);
    assert!(absent(s.get_sso_connection(&saml.id).await));
    assert_not_found(s.delete_sso_connection(&saml.id).await);
}
