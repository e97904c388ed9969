//! Builders of valid model values (and the few seeding shortcuts that
//! insert them) for every case. Every builder gives fresh, lowercase ASCII ids
//! (`fixtures::id`) and timestamps from `fixtures::instant`; cases override
//! fields with struct-update syntax (`Agent { name: …, ..b::agent(&owner) }`).
//!
//! Instants: a builder's `created_at` is `instant(0)` and its expiry lies
//! hours later, so a `now` of `instant(60)` finds everything valid and one
//! of `instant(100_000)` finds everything expired, at any precision.

use chrono::{DateTime, Utc};
use kavach_store_core::prelude::*;
use serde_json::json;

use crate::fixtures::{id, instant};

/// A time at which every builder's expiry is still ahead.
pub fn now_valid() -> DateTime<Utc> {
    instant(60)
}

/// A time at which every builder's expiry has passed.
pub fn now_expired() -> DateTime<Utc> {
    instant(100_000)
}

// ---------------------------------------------------------------- instants

/// Values with an expiry, so a case can write `b::session(&u.id).expiring(100)`
/// for a session expiring at `instant(100)`.
pub trait Expires: Sized {
    /// The same value, expiring at `instant(secs)`.
    fn expiring(self, secs: i64) -> Self;
}

/// Values with a creation instant, so a case can write
/// `b::permission(&a.id).created(10)` for one created at `instant(10)`.
pub trait Created: Sized {
    /// The same value, created at `instant(secs)`.
    fn created(self, secs: i64) -> Self;
}

macro_rules! expires {
    ($($ty:ty),* $(,)?) => {$(
        impl Expires for $ty {
            fn expiring(self, secs: i64) -> Self {
                Self { expires_at: instant(secs).into(), ..self }
            }
        }
    )*};
}

macro_rules! created {
    ($($ty:ty),* $(,)?) => {$(
        impl Created for $ty {
            fn created(self, secs: i64) -> Self {
                Self { created_at: instant(secs), ..self }
            }
        }
    )*};
}

expires!(
    Agent,
    ApiKey,
    ApprovalRequest,
    DelegationChain,
    EmailOtp,
    EphemeralSession,
    FederationToken,
    JwtRefreshToken,
    MagicLink,
    OAuthAuthorizationCode,
    OAuthState,
    OidcAuthCode,
    OidcRefreshToken,
    OneTimeToken,
    OrgInvitation,
    PasskeyChallenge,
    PhoneVerification,
    RefreshToken,
    Session,
    TrustedDevice,
);

created!(
    Agent,
    AgentCard,
    ApiKey,
    ApprovalRequest,
    BudgetPolicy,
    DelegationChain,
    EmailOtp,
    EphemeralSession,
    FederationInstance,
    McpServer,
    OrgInvitation,
    Organization,
    PasskeyCredential,
    Permission,
    PhoneVerification,
    RebacRelationship,
    RebacResource,
    Session,
    Tenant,
);

// ---------------------------------------------------------------- users

/// A user with a unique id and email, created at `instant(0)`.
pub fn user() -> User {
    let id = id("usr");
    User {
        email: format!("{id}@example.com"),
        created_at: instant(0),
        updated_at: instant(0),
        id,
        ..User::default()
    }
}

/// A patch renaming a user to `name`.
pub fn user_rename(name: &str) -> UserPatch {
    UserPatch {
        name: Some(Some(name.into())),
        ..UserPatch::default()
    }
}

/// Inserts [`user()`].
pub async fn seed_user(store: &dyn KavachStore) -> User {
    store.create_user(user()).await.expect("create user")
}

/// Inserts `N` [`user()`]s.
pub async fn seed_users<const N: usize>(store: &dyn KavachStore) -> [User; N] {
    let mut users = Vec::with_capacity(N);
    for _ in 0..N {
        users.push(seed_user(store).await);
    }
    users.try_into().expect("N users")
}

/// A tenant with a unique slug.
pub fn tenant() -> Tenant {
    Tenant {
        id: id("ten"),
        name: "tenant".into(),
        slug: id("slug"),
        settings: Some(json!({"plan": "pro"})),
        status: TenantStatus::Active,
        created_at: instant(0),
        updated_at: instant(0),
    }
}

// ---------------------------------------------------------------- agents

/// An active autonomous agent of `owner_id`, expiring a day later.
pub fn agent(owner_id: &str) -> Agent {
    Agent {
        id: id("agt"),
        owner_id: owner_id.into(),
        tenant_id: None,
        name: "agent".into(),
        r#type: AgentType::Autonomous,
        status: AgentStatus::Active,
        token_hash: id("tokhash"),
        token_prefix: "kv_12345678".into(),
        expires_at: Some(instant(86_400)),
        last_active_at: None,
        metadata: Some(json!({})),
        created_at: instant(0),
        updated_at: instant(0),
    }
}

/// Inserts [`agent()`] for `owner_id`.
pub async fn seed_agent(store: &dyn KavachStore, owner_id: &str) -> Agent {
    store
        .create_agent(agent(owner_id))
        .await
        .expect("create agent")
}

/// Inserts `N` [`agent()`]s of `owner_id`.
pub async fn seed_agents<const N: usize>(store: &dyn KavachStore, owner_id: &str) -> [Agent; N] {
    let mut agents = Vec::with_capacity(N);
    for _ in 0..N {
        agents.push(seed_agent(store, owner_id).await);
    }
    agents.try_into().expect("N agents")
}

/// Inserts one [`agent()`] of `owner_id` per id in `ids`, with that id.
pub async fn seed_agents_with_ids(store: &dyn KavachStore, owner_id: &str, ids: &[&str]) {
    for id in ids {
        let agent = Agent {
            id: (*id).into(),
            ..agent(owner_id)
        };
        store.create_agent(agent).await.expect("create agent");
    }
}

/// Inserts a user and one agent of theirs.
pub async fn seed_user_agent(store: &dyn KavachStore) -> (User, Agent) {
    let user = seed_user(store).await;
    let agent = seed_agent(store, &user.id).await;
    (user, agent)
}

/// A permission of `agent_id` on `mcp:github:*`.
pub fn permission(agent_id: &str) -> Permission {
    Permission {
        id: id("perm"),
        agent_id: agent_id.into(),
        resource: "mcp:github:*".into(),
        actions: vec!["read".into(), "write".into()],
        constraints: Some(json!({"maxCallsPerHour": 10})),
        created_at: instant(0),
    }
}

/// An agent card of `agent_id`.
pub fn agent_card(agent_id: &str) -> AgentCard {
    AgentCard {
        id: id("card"),
        agent_id: agent_id.into(),
        name: "card".into(),
        description: Some("does things".into()),
        version: "1.0.0".into(),
        protocols: vec!["a2a".into()],
        capabilities: json!([{"name": "search"}]),
        auth_requirements: json!({"type": "bearer"}),
        endpoint: Some("https://agent.example.com".into()),
        metadata: None,
        created_at: instant(0),
        updated_at: instant(0),
    }
}

/// The DID of `agent_id`.
pub fn agent_did(agent_id: &str) -> AgentDid {
    AgentDid {
        agent_id: agent_id.into(),
        did: format!("did:key:{}", id("z")),
        method: DidMethod::Key,
        public_key_jwk: r#"{"kty":"OKP"}"#.into(),
        did_document: r#"{"id":"did"}"#.into(),
        created_at: instant(0),
    }
}

/// An active first-hop delegation from `from` to `to`, expiring an hour later.
pub fn delegation(from: &str, to: &str) -> DelegationChain {
    DelegationChain {
        id: id("dlg"),
        from_agent_id: from.into(),
        to_agent_id: to.into(),
        permissions: json!([{"resource": "mcp:github:*", "actions": ["read"]}]),
        depth: 1,
        max_depth: 3,
        status: DelegationStatus::Active,
        expires_at: instant(3600),
        created_at: instant(0),
    }
}

/// Inserts [`delegation()`] from `from` to `to`.
pub async fn seed_delegation(store: &dyn KavachStore, from: &str, to: &str) -> DelegationChain {
    store
        .create_delegation_chain(delegation(from, to))
        .await
        .expect("create delegation chain")
}

/// An allowed audit entry at `instant(at)`.
pub fn audit(agent_id: &str, user_id: &str, at: i64) -> AuditLog {
    AuditLog {
        id: id("aud"),
        agent_id: agent_id.into(),
        user_id: user_id.into(),
        action: "execute".into(),
        resource: "tool:file_read".into(),
        parameters: Some(json!({})),
        result: AuditResult::Allowed,
        reason: None,
        duration_ms: 5,
        tokens_cost: None,
        ip: Some("203.0.113.7".into()),
        user_agent: None,
        timestamp: instant(at),
    }
}

/// An audit entry ([`audit()`]) at `timestamp`.
pub fn audit_at(agent_id: &str, user_id: &str, timestamp: DateTime<Utc>) -> AuditLog {
    AuditLog {
        timestamp,
        ..audit(agent_id, user_id, 0)
    }
}

/// A registered MCP server with a unique endpoint.
pub fn mcp_server() -> McpServer {
    McpServer {
        id: id("mcp"),
        name: "github".into(),
        endpoint: format!("https://{}.example.com/mcp", id("host")),
        tools: vec!["search".into(), "create_issue".into()],
        auth_required: true,
        rate_limit_rpm: Some(60),
        status: McpServerStatus::Active,
        created_at: instant(0),
        updated_at: instant(0),
    }
}

/// A trust score of `agent_id`.
pub fn trust_score(agent_id: &str, score: i64, level: TrustLevel) -> TrustScore {
    TrustScore {
        agent_id: agent_id.into(),
        score,
        level,
        factors: json!({"denials": 0}),
        computed_at: instant(0),
    }
}

/// A pending approval request expiring ten minutes later.
pub fn approval(agent_id: &str, user_id: &str) -> ApprovalRequest {
    ApprovalRequest {
        id: id("apr"),
        agent_id: agent_id.into(),
        user_id: user_id.into(),
        action: "execute".into(),
        resource: "tool:deploy".into(),
        arguments: Some(json!({"env": "prod"})),
        status: ApprovalStatus::Pending,
        expires_at: instant(600),
        responded_at: None,
        responded_by: None,
        created_at: instant(0),
    }
}

/// An active budget policy.
pub fn budget_policy(agent_id: Option<&str>, user_id: Option<&str>) -> BudgetPolicy {
    BudgetPolicy {
        id: id("bud"),
        agent_id: agent_id.map(Into::into),
        user_id: user_id.map(Into::into),
        tenant_id: None,
        limits: json!({"maxCostPerDay": 10_000_000}),
        current_usage: json!({"costToday": 0}),
        action: BudgetAction::Warn,
        status: BudgetStatus::Active,
        created_at: instant(0),
    }
}

/// A cost event of `agent_id` recorded at `instant(at)`.
pub fn cost_event(agent_id: &str, at: i64, cost_micros: i64) -> CostEvent {
    CostEvent {
        id: id("cost"),
        agent_id: agent_id.into(),
        tool: "openai:gpt-4o".into(),
        input_tokens: Some(100),
        output_tokens: Some(20),
        cost_micros,
        currency: "USD".into(),
        metadata: None,
        delegation_chain_id: None,
        recorded_at: instant(at),
    }
}

/// A cost event ([`cost_event`]) recorded at `recorded_at`.
pub fn cost_at(agent_id: &str, recorded_at: DateTime<Utc>) -> CostEvent {
    CostEvent {
        recorded_at,
        ..cost_event(agent_id, 0, 1_500)
    }
}

/// The temporary agent of an ephemeral session.
pub fn ephemeral_agent(owner_id: &str) -> Agent {
    Agent {
        r#type: AgentType::Delegated,
        token_prefix: "kveph_12345678".into(),
        metadata: Some(json!({"ephemeral": true})),
        ..agent(owner_id)
    }
}

/// An active ephemeral session over `agent` (same token hash), expiring an
/// hour later, with `max_actions` allowed.
pub fn ephemeral_session(agent: &Agent, max_actions: Option<i64>) -> EphemeralSession {
    let id = id("eph");
    EphemeralSession {
        agent_id: agent.id.clone(),
        owner_id: agent.owner_id.clone(),
        token_hash: agent.token_hash.clone(),
        expires_at: instant(3600),
        max_actions,
        actions_used: 0,
        status: EphemeralStatus::Active,
        audit_group_id: id.clone(),
        created_at: instant(0),
        updated_at: instant(0),
        id,
    }
}

/// Creates an ephemeral session (with its agent) for `owner_id`.
pub async fn seed_ephemeral(
    store: &dyn KavachStore,
    owner_id: &str,
    max_actions: Option<i64>,
) -> EphemeralSession {
    let agent = ephemeral_agent(owner_id);
    let session = ephemeral_session(&agent, max_actions);
    store
        .create_ephemeral_session(agent, &[], session)
        .await
        .expect("create ephemeral session")
}

// ---------------------------------------------------------------- sessions

/// A session of `user_id` expiring an hour later.
pub fn session(user_id: &str) -> Session {
    Session {
        id: id("ses"),
        user_id: user_id.into(),
        expires_at: instant(3600),
        metadata: Some(json!({"ip": "203.0.113.7"})),
        created_at: instant(0),
    }
}

/// An unused JWT refresh token expiring an hour later.
pub fn jwt_refresh_token(user_id: &str) -> JwtRefreshToken {
    JwtRefreshToken {
        id: id("jrt"),
        token_hash: id("jrthash"),
        user_id: user_id.into(),
        used: false,
        expires_at: instant(3600),
        created_at: instant(0),
    }
}

/// A live refresh-token family ending a day later.
pub fn token_family(user_id: &str) -> RefreshTokenFamily {
    RefreshTokenFamily {
        id: id("fam"),
        user_id: user_id.into(),
        absolute_expires_at: instant(86_400),
        revoked: false,
        created_at: instant(0),
    }
}

/// Inserts [`token_family`] for `user_id`.
pub async fn seed_token_family(store: &dyn KavachStore, user_id: &str) -> RefreshTokenFamily {
    store
        .create_refresh_token_family(token_family(user_id))
        .await
        .expect("create refresh-token family")
}

/// An unused refresh token of `family_id` expiring an hour later.
pub fn refresh_token(family_id: &str) -> RefreshToken {
    RefreshToken {
        id: id("rt"),
        family_id: family_id.into(),
        token_hash: id("rthash"),
        used: false,
        expires_at: instant(3600),
        created_at: instant(0),
    }
}

/// Inserts [`refresh_token`] of `family_id`.
pub async fn seed_refresh_token(store: &dyn KavachStore, family_id: &str) -> RefreshToken {
    store
        .create_refresh_token(refresh_token(family_id))
        .await
        .expect("create refresh token")
}

// ---------------------------------------------------------------- oauth

/// A confidential OAuth client with a unique `client_id`.
pub fn oauth_client() -> OAuthClient {
    OAuthClient {
        id: id("oac"),
        client_id: id("client"),
        client_secret: Some("s3cret".into()),
        client_name: Some("Claude".into()),
        client_uri: None,
        redirect_uris: vec!["https://app.example.com/cb".into()],
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        response_types: vec!["code".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        r#type: OAuthClientType::Confidential,
        disabled: false,
        metadata: None,
        created_at: instant(0),
        updated_at: instant(0),
    }
}

/// Inserts [`oauth_client`].
pub async fn seed_oauth_client(store: &dyn KavachStore) -> OAuthClient {
    store
        .create_oauth_client(oauth_client())
        .await
        .expect("create OAuth client")
}

/// An access token with a refresh token; access expires an hour later,
/// refresh two hours later.
pub fn oauth_access_token(client_id: &str, user_id: &str) -> OAuthAccessToken {
    OAuthAccessToken {
        id: id("oat"),
        access_token: id("access"),
        refresh_token: Some(id("refresh")),
        client_id: client_id.into(),
        user_id: user_id.into(),
        scopes: "mcp:read mcp:write".into(),
        resource: Some("https://mcp.example.com".into()),
        access_token_expires_at: instant(3600),
        refresh_token_expires_at: Some(instant(7200)),
        created_at: instant(0),
    }
}

/// An authorization code expiring ten minutes later.
pub fn oauth_code(client_id: &str, user_id: &str) -> OAuthAuthorizationCode {
    OAuthAuthorizationCode {
        id: id("oacode"),
        code: id("code"),
        client_id: client_id.into(),
        user_id: user_id.into(),
        redirect_uri: "https://app.example.com/cb".into(),
        scopes: "mcp:read".into(),
        code_challenge: Some("challenge".into()),
        code_challenge_method: Some("S256".into()),
        resource: None,
        expires_at: instant(600),
        created_at: instant(0),
    }
}

/// A GitHub account linked to `user_id`.
pub fn oauth_account(user_id: &str) -> OAuthAccount {
    OAuthAccount {
        id: id("oacc"),
        user_id: user_id.into(),
        provider: "github".into(),
        provider_account_id: id("gh"),
        access_token: id("ghtoken"),
        refresh_token: None,
        expires_at: Some(instant(3600)),
        created_at: instant(0),
        updated_at: instant(0),
    }
}

/// The state of a social-login redirect, expiring ten minutes later.
pub fn oauth_state() -> OAuthState {
    OAuthState {
        state: id("state"),
        code_verifier: id("verifier"),
        redirect_uri: "https://app.example.com/cb".into(),
        provider: "github".into(),
        expires_at: instant(600),
        created_at: instant(0),
    }
}

// ---------------------------------------------------------------- organizations

/// An organization of `owner_id` with a unique slug.
pub fn organization(owner_id: &str) -> Organization {
    Organization {
        id: id("org"),
        name: "acme".into(),
        slug: id("acme"),
        owner_id: owner_id.into(),
        metadata: None,
        created_at: instant(0),
        updated_at: instant(0),
    }
}

/// Inserts [`organization`].
pub async fn seed_org(store: &dyn KavachStore, owner_id: &str) -> Organization {
    store
        .create_organization(organization(owner_id))
        .await
        .expect("create organization")
}

/// A membership with `role`.
pub fn org_member(org_id: &str, user_id: &str, role: &str) -> OrgMember {
    OrgMember {
        id: id("mem"),
        org_id: org_id.into(),
        user_id: user_id.into(),
        role: role.into(),
        joined_at: instant(0),
    }
}

/// Inserts [`org_member`].
pub async fn seed_member(
    store: &dyn KavachStore,
    org_id: &str,
    user_id: &str,
    role: &str,
) -> OrgMember {
    store
        .add_org_member(org_member(org_id, user_id, role))
        .await
        .expect("add organization member")
}

/// A pending invitation expiring a day later.
pub fn org_invitation(org_id: &str, invited_by: &str, email: &str) -> OrgInvitation {
    OrgInvitation {
        id: id("inv"),
        org_id: org_id.into(),
        email: email.into(),
        role: "member".into(),
        invited_by: invited_by.into(),
        status: InvitationStatus::Pending,
        expires_at: instant(86_400),
        created_at: instant(0),
    }
}

/// Inserts [`org_invitation`].
pub async fn seed_invitation(
    store: &dyn KavachStore,
    org_id: &str,
    invited_by: &str,
    email: &str,
) -> OrgInvitation {
    store
        .create_org_invitation(org_invitation(org_id, invited_by, email))
        .await
        .expect("create organization invitation")
}

/// A role named `name`.
pub fn org_role(org_id: &str, name: &str) -> OrgRole {
    OrgRole {
        id: id("role"),
        org_id: org_id.into(),
        name: name.into(),
        permissions: vec!["billing:read".into()],
    }
}

/// An enabled OIDC SSO connection for `domain`.
pub fn sso_connection(org_id: &str, domain: &str) -> SsoConnection {
    SsoConnection {
        id: id("sso"),
        org_id: org_id.into(),
        provider_id: id("idp"),
        r#type: SsoType::Oidc,
        domain: domain.into(),
        enabled: true,
        created_at: instant(0),
    }
}

// ---------------------------------------------------------------- credentials

/// A passkey credential with counter 0.
pub fn passkey_credential(user_id: &str) -> PasskeyCredential {
    PasskeyCredential {
        id: id("pk"),
        user_id: user_id.into(),
        credential_id: id("cred"),
        public_key: "pQECAyYgASFYIA".into(),
        counter: 0,
        device_name: Some("laptop".into()),
        transports: Some(r#"["internal"]"#.into()),
        created_at: instant(0),
        last_used_at: instant(0),
    }
}

/// An authentication challenge expiring five minutes later.
pub fn passkey_challenge(user_id: Option<&str>) -> PasskeyChallenge {
    PasskeyChallenge {
        id: id("pkc"),
        challenge: id("chal"),
        user_id: user_id.map(Into::into),
        r#type: ChallengeType::Authentication,
        expires_at: instant(300),
        created_at: instant(0),
    }
}

/// A one-time token expiring an hour later.
pub fn one_time_token(identifier: &str, purpose: TokenPurpose) -> OneTimeToken {
    OneTimeToken {
        id: id("ott"),
        token_hash: id("otthash"),
        purpose,
        identifier: identifier.into(),
        metadata: None,
        used: false,
        expires_at: instant(3600),
        created_at: instant(0),
    }
}

/// A magic link expiring fifteen minutes later.
pub fn magic_link(email: &str) -> MagicLink {
    MagicLink {
        id: id("ml"),
        email: email.into(),
        token: id("mltoken"),
        expires_at: instant(900),
        used: false,
        created_at: instant(0),
    }
}

/// An email code expiring ten minutes later.
pub fn email_otp(email: &str) -> EmailOtp {
    EmailOtp {
        id: id("eotp"),
        email: email.into(),
        code_hash: id("codehash"),
        expires_at: instant(600),
        attempts: 0,
        created_at: instant(0),
    }
}

/// An SMS code expiring ten minutes later.
pub fn phone_verification(phone_number: &str) -> PhoneVerification {
    PhoneVerification {
        id: id("pv"),
        phone_number: phone_number.into(),
        code_hash: id("codehash"),
        attempts: 0,
        expires_at: instant(600),
        created_at: instant(0),
    }
}

/// A disabled TOTP setup.
pub fn totp(user_id: &str) -> Totp {
    Totp {
        user_id: user_id.into(),
        secret: "JBSWY3DPEHPK3PXP".into(),
        enabled: false,
        backup_codes: json!(["hash1", "hash2"]),
        created_at: instant(0),
        updated_at: instant(0),
    }
}

/// A device trusted at `instant(0)` for a day.
pub fn trusted_device(user_id: &str, fingerprint: &str) -> TrustedDevice {
    TrustedDevice {
        id: id("dev"),
        user_id: user_id.into(),
        fingerprint: fingerprint.into(),
        label: "Firefox on Linux".into(),
        trusted_at: instant(0),
        expires_at: instant(86_400),
    }
}

/// A username account.
pub fn username_account(user_id: &str, username: &str) -> UsernameAccount {
    UsernameAccount {
        id: id("una"),
        user_id: user_id.into(),
        username: username.into(),
        password_hash: "$argon2id$v=19$...".into(),
        created_at: instant(0),
        updated_at: instant(0),
    }
}

/// A password login at `instant(at)`.
pub fn login(user_id: &str, at: i64) -> LoginHistory {
    LoginHistory {
        id: id("login"),
        user_id: user_id.into(),
        method: "password".into(),
        ip: Some("203.0.113.7".into()),
        user_agent: Some("curl/8".into()),
        timestamp: instant(at),
    }
}

/// A login ([`login`]) at `timestamp`.
pub fn login_at(user_id: &str, timestamp: DateTime<Utc>) -> LoginHistory {
    LoginHistory {
        timestamp,
        ..login(user_id, 0)
    }
}

/// An API key without expiry.
pub fn api_key(user_id: &str) -> ApiKey {
    ApiKey {
        id: id("key"),
        user_id: user_id.into(),
        name: "ci".into(),
        key_hash: id("keyhash"),
        key_prefix: "kos_12345678".into(),
        permissions: vec!["agents:read".into()],
        expires_at: None,
        last_used_at: None,
        created_at: instant(0),
    }
}

/// An OIDC relying party with a unique `client_id`.
pub fn oidc_client() -> OidcClient {
    OidcClient {
        id: id("oidc"),
        client_id: id("rp"),
        client_secret_hash: id("secrethash"),
        client_name: "relying party".into(),
        redirect_uris: vec!["https://rp.example.com/cb".into()],
        grant_types: vec!["authorization_code".into()],
        response_types: vec!["code".into()],
        scopes: vec!["openid".into(), "email".into()],
        token_endpoint_auth_method: "client_secret_post".into(),
        created_at: instant(0),
        updated_at: instant(0),
    }
}

/// An unused OIDC code expiring ten minutes later.
pub fn oidc_code(client_id: &str, user_id: &str) -> OidcAuthCode {
    OidcAuthCode {
        id: id("oidccode"),
        code_hash: id("codehash"),
        client_id: client_id.into(),
        user_id: user_id.into(),
        redirect_uri: "https://rp.example.com/cb".into(),
        scopes: "openid email".into(),
        nonce: Some("n0nce".into()),
        code_challenge: None,
        code_challenge_method: None,
        used: false,
        expires_at: instant(600),
        created_at: instant(0),
    }
}

/// An OIDC refresh token expiring a day later.
pub fn oidc_refresh_token(client_id: &str, user_id: &str) -> OidcRefreshToken {
    OidcRefreshToken {
        id: id("oidcrt"),
        token_hash: id("rthash"),
        client_id: client_id.into(),
        user_id: user_id.into(),
        scopes: "openid".into(),
        revoked: false,
        expires_at: instant(86_400),
        created_at: instant(0),
    }
}

// ---------------------------------------------------------------- misc

/// A stream event of `type` at `instant(at)`.
pub fn stream_event(r#type: &str, at: i64) -> StreamEvent {
    StreamEvent {
        id: id("evt"),
        r#type: r#type.into(),
        timestamp: instant(at),
        data: json!({"n": at}),
        agent_id: None,
        user_id: None,
    }
}

/// A stream event ([`stream_event`]) at `timestamp`.
pub fn event_at(r#type: &str, timestamp: DateTime<Utc>) -> StreamEvent {
    StreamEvent {
        timestamp,
        ..stream_event(r#type, 0)
    }
}

/// A ReBAC resource, optionally under a parent `(id, type)`.
pub fn rebac_resource(r#type: &str, parent: Option<(&str, &str)>) -> RebacResource {
    RebacResource {
        id: id(r#type),
        r#type: r#type.into(),
        parent_id: parent.map(|(id, _)| id.into()),
        parent_type: parent.map(|(_, t)| t.into()),
        created_at: instant(0),
    }
}

/// A relationship row for `tuple`.
pub fn rebac_relationship(tuple: &RelationTuple) -> RebacRelationship {
    RebacRelationship {
        id: id("rel"),
        subject_type: tuple.subject_type.clone(),
        subject_id: tuple.subject_id.clone(),
        relation: tuple.relation.clone(),
        object_type: tuple.object_type.clone(),
        object_id: tuple.object_id.clone(),
        created_at: instant(0),
    }
}

/// A relation tuple.
pub fn tuple(subject: (&str, &str), relation: &str, object: (&str, &str)) -> RelationTuple {
    RelationTuple {
        subject_type: subject.0.into(),
        subject_id: subject.1.into(),
        relation: relation.into(),
        object_type: object.0.into(),
        object_id: object.1.into(),
    }
}

/// A federated instance with a unique `instance_id`.
pub fn federation_instance() -> FederationInstance {
    FederationInstance {
        id: id("fed"),
        instance_id: id("inst"),
        instance_url: "https://peer.example.com".into(),
        public_key_jwk: Some(r#"{"kty":"OKP"}"#.into()),
        trust_level: FederationTrustLevel::Limited,
        discovered_at: Some(instant(0)),
        created_at: instant(0),
        updated_at: instant(0),
    }
}

/// A received federation token expiring an hour later.
pub fn federation_token(agent_id: &str) -> FederationToken {
    FederationToken {
        id: id("ftok"),
        token_jti: id("jti"),
        agent_id: agent_id.into(),
        source_instance_id: "peer".into(),
        target_instance_id: Some("self".into()),
        direction: FederationDirection::Received,
        permissions: vec!["read".into()],
        trust_score: Some(70),
        expires_at: instant(3600),
        created_at: instant(0),
    }
}
