//! # kavach-store-core
//!
//! The contract of kavach-store: the KavachOS data model as Rust types, one
//! async trait per aggregate, typed errors, filters and pagination. No
//! database code lives here.
//!
//! ## Layers
//!
//! * **Model types** ([`User`], [`Agent`], [`AuditLog`], … — one per
//!   `kavach_*` table, 48 in all, listed in [`all_tables()`]). Field names are
//!   the column names. Each has a patch type (`AgentPatch`) and a
//!   [`TableDef`].
//! * **Domain traits** ([`UserStore`], [`AgentStore`], [`AuditStore`],
//!   [`SessionStore`], …): the named operations of KavachOS's Prisma adapter
//!   and core, with race-safe primitives (consume-once, atomic increments,
//!   compare-and-set transitions) instead of read-modify-write. They are
//!   implemented **once, here**, for every [`RowStore`].
//! * **Backend contract** ([`RowStore`], [`Transactional`], [`Transaction`]):
//!   a few row-level primitives over [`Select`], [`Update`], [`Delete`],
//!   [`Upsert`] and [`Sum`]. A backend implements these and gets every
//!   domain trait, with the same semantics as every other backend; the
//!   `conformance-tests` crate checks that.
//!
//! ```
//! use kavach_store_core::prelude::*;
//!
//! async fn authenticate(store: &dyn KavachStore, token_hash: &str) -> Result<Option<Agent>, StoreError> {
//!     let Some(agent) = store.find_agent_by_token_hash(token_hash).await? else {
//!         return Ok(None);
//!     };
//!     let _permissions = store.list_permissions_by_agent(&agent.id).await?;
//!     Ok(Some(agent))
//! }
//! ```
#![warn(missing_docs)]

#[macro_use]
mod record;

pub mod admin;
pub mod error;
pub mod page;
pub mod query;
pub mod schema;
pub mod store;
pub mod value;

pub mod account;
pub mod agent;
pub mod api_key;
pub mod approval;
pub mod audit;
pub mod budget;
pub mod delegation;
pub mod ephemeral;
pub mod federation;
pub mod mcp;
pub mod mfa;
pub mod oauth;
pub mod oidc;
pub mod org;
pub mod passkey;
pub mod purge;
pub mod rate_limit;
pub mod rebac;
pub mod session;
pub mod stream;
pub mod tenant;
pub mod trust;
pub mod user;
pub mod verification;

pub use error::{BoxError, Result, StoreError};
pub use page::{Cursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest};
pub use query::{
    Assign, CREATED_ASC, CREATED_DESC, CmpOp, Cond, Delete, LikePattern, OrderBy, Param, Select,
    Shape, Sum, Update, Upsert,
};
pub use record::{Patch, Record, decode_rows};
pub use schema::{ColumnDef, DefaultValue, ForeignKey, IndexDef, OnDelete, TableDef, UniqueDef};
pub use store::{KavachStore, RecordStore, RowStore, Transaction, Transactional, transaction};
pub use value::{ColumnKind, ColumnValue, Row, Value, truncate_to_millis};

pub use account::*;
pub use agent::*;
pub use api_key::*;
pub use approval::*;
pub use audit::*;
pub use budget::*;
pub use delegation::*;
pub use ephemeral::*;
pub use federation::*;
pub use mcp::*;
pub use mfa::*;
pub use oauth::*;
pub use oidc::*;
pub use org::*;
pub use passkey::*;
pub use purge::*;
pub use rate_limit::*;
pub use rebac::*;
pub use session::*;
pub use stream::*;
pub use tenant::*;
pub use trust::*;
pub use user::*;
pub use verification::*;

/// Every table, parents before children (the creation order of KavachOS's
/// DDL): the order to create, copy or count tables in. Adding a table means
/// adding its `record!` block and one line here.
pub fn all_tables() -> &'static [&'static TableDef] {
    static ALL: std::sync::LazyLock<Vec<&'static TableDef>> = std::sync::LazyLock::new(|| {
        vec![
            User::table_def(),
            Tenant::table_def(),
            Agent::table_def(),
            Permission::table_def(),
            DelegationChain::table_def(),
            AuditLog::table_def(),
            RateLimit::table_def(),
            McpServer::table_def(),
            Session::table_def(),
            OAuthClient::table_def(),
            OAuthAccessToken::table_def(),
            OAuthAuthorizationCode::table_def(),
            OAuthAccount::table_def(),
            OAuthState::table_def(),
            BudgetPolicy::table_def(),
            AgentCard::table_def(),
            ApprovalRequest::table_def(),
            TrustScore::table_def(),
            Organization::table_def(),
            OrgMember::table_def(),
            OrgInvitation::table_def(),
            OrgRole::table_def(),
            PasskeyCredential::table_def(),
            PasskeyChallenge::table_def(),
            OneTimeToken::table_def(),
            AgentDid::table_def(),
            MagicLink::table_def(),
            EmailOtp::table_def(),
            Totp::table_def(),
            SsoConnection::table_def(),
            ApiKey::table_def(),
            UsernameAccount::table_def(),
            PhoneVerification::table_def(),
            TrustedDevice::table_def(),
            LoginHistory::table_def(),
            OidcClient::table_def(),
            OidcAuthCode::table_def(),
            OidcRefreshToken::table_def(),
            CostEvent::table_def(),
            EphemeralSession::table_def(),
            JwtRefreshToken::table_def(),
            StreamEvent::table_def(),
            RebacResource::table_def(),
            RebacRelationship::table_def(),
            FederationInstance::table_def(),
            FederationToken::table_def(),
            RefreshTokenFamily::table_def(),
            RefreshToken::table_def(),
        ]
    });
    &ALL
}

/// The table definition by name.
pub fn table_by_name(name: &str) -> Option<&'static TableDef> {
    all_tables().iter().copied().find(|t| t.name == name)
}

/// Everything a service needs in scope: model types, every domain trait,
/// the store traits, errors, queries and pages.
pub mod prelude {
    pub use crate::*;
}
