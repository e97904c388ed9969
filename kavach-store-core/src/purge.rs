//! Every expiry purge at once, for maintenance jobs and the CLI.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

/// Rows deleted per table by [`PurgeStore::purge_expired`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// `(table, rows deleted)`, one entry per purge, in the order run.
    pub purged: Vec<(&'static str, u64)>,
}

impl PurgeReport {
    /// Rows deleted in all.
    pub fn total(&self) -> u64 {
        self.purged.iter().map(|(_, n)| n).sum()
    }
}

/// Runs every expiry purge.
#[async_trait]
pub trait PurgeStore: RowStore {
    /// Deletes every row whose expiry is before `now`, table by table (each
    /// purge is its own statement): sessions, JWT refresh tokens, rotating
    /// refresh tokens and families, OAuth access tokens (when the refresh
    /// token expired too), OAuth authorization codes and states, OIDC codes
    /// and refresh tokens, passkey challenges, one-time tokens, magic links,
    /// email and phone codes, trusted devices, ephemeral sessions, approval
    /// requests, organization invitations, API keys with an expiry,
    /// federation tokens and delegation chains. Agents are not deleted (see
    /// [`AgentStore::expire_agents`]); rate-limit windows, audit rows, cost
    /// and stream events have retention cut-offs of their own.
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<PurgeReport> {
        let mut r = PurgeReport::default();
        r.purged
            .push((Session::TABLE, self.delete_expired_sessions(now).await?));
        r.purged.push((
            JwtRefreshToken::TABLE,
            self.purge_expired_jwt_refresh_tokens(now).await?,
        ));
        r.purged.push((
            RefreshToken::TABLE,
            self.purge_expired_refresh_tokens(now).await?,
        ));
        r.purged.push((
            OAuthAccessToken::TABLE,
            self.purge_expired_oauth_access_tokens(now).await?,
        ));
        r.purged.push((
            OAuthAuthorizationCode::TABLE,
            self.purge_expired_oauth_authorization_codes(now).await?,
        ));
        r.purged.push((
            OAuthState::TABLE,
            self.purge_expired_oauth_states(now).await?,
        ));
        r.purged.push((
            OidcAuthCode::TABLE,
            self.purge_expired_oidc_auth_codes(now).await?,
        ));
        r.purged.push((
            OidcRefreshToken::TABLE,
            self.purge_expired_oidc_refresh_tokens(now).await?,
        ));
        r.purged.push((
            PasskeyChallenge::TABLE,
            self.purge_expired_passkey_challenges(now).await?,
        ));
        r.purged.push((
            OneTimeToken::TABLE,
            self.purge_expired_one_time_tokens(now).await?,
        ));
        r.purged
            .push((MagicLink::TABLE, self.purge_expired_magic_links(now).await?));
        r.purged
            .push((EmailOtp::TABLE, self.purge_expired_email_otps(now).await?));
        r.purged.push((
            PhoneVerification::TABLE,
            self.purge_expired_phone_verifications(now).await?,
        ));
        r.purged.push((
            TrustedDevice::TABLE,
            self.purge_expired_trusted_devices(now).await?,
        ));
        r.purged.push((
            EphemeralSession::TABLE,
            self.purge_expired_ephemeral_sessions(now).await?,
        ));
        r.purged.push((
            ApprovalRequest::TABLE,
            self.purge_expired_approval_requests(now).await?,
        ));
        r.purged.push((
            OrgInvitation::TABLE,
            self.purge_expired_org_invitations(now).await?,
        ));
        r.purged
            .push((ApiKey::TABLE, self.purge_expired_api_keys(now).await?));
        r.purged.push((
            FederationToken::TABLE,
            self.purge_expired_federation_tokens(now).await?,
        ));
        r.purged.push((
            DelegationChain::TABLE,
            self.purge_expired_delegation_chains(now).await?,
        ));
        Ok(r)
    }
}

impl<T: RowStore + ?Sized> PurgeStore for T {}
