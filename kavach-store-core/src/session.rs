//! Human sessions, JWT refresh tokens and rotating refresh-token families.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

record! {
    /// Server-side human sessions; the session id is the `sub` of the signed session JWT/cookie.
    ///
    /// Table `kavach_sessions`.
    pub struct Session => "kavach_sessions", patch SessionPatch {
        /// `id`: Session id; the signed HS256 session JWT carries it as `sub`.
        pub id: String,
        /// `user_id`.
        pub user_id: String,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `metadata`.
        pub metadata: Option<serde_json::Value>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    references: ["user_id" -> "kavach_users"."id" NoAction];
    indexes: ["kavach_sessions_user_id": ["user_id"]];
}

record! {
    /// Hashed refresh tokens of the stateless JWT session plugin (single use).
    ///
    /// Table `kavach_jwt_refresh_tokens`.
    pub struct JwtRefreshToken => "kavach_jwt_refresh_tokens", patch JwtRefreshTokenPatch {
        /// `id`.
        pub id: String,
        /// `token_hash`: Hex SHA-256 of the raw refresh token.
        pub token_hash: String [secret],
        /// `user_id`.
        pub user_id: String,
        /// `used`.
        pub used: bool = false,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_jwt_refresh_tokens_token_hash_key": ["token_hash"]];
    references: ["user_id" -> "kavach_users"."id" Cascade];
    indexes: ["kavach_jwt_refresh_tokens_user_id": ["user_id"]];
}

record! {
    /// Rotation families for opaque refresh tokens (reuse detection, absolute lifetime).
    ///
    /// Table `kavach_refresh_token_families`.
    pub struct RefreshTokenFamily => "kavach_refresh_token_families", patch RefreshTokenFamilyPatch {
        /// `id`.
        pub id: String,
        /// `user_id`.
        pub user_id: String,
        /// `absolute_expires_at`: Hard upper bound; rotation never extends past it.
        pub absolute_expires_at: DateTime<Utc>,
        /// `revoked`: Drizzle plain integer 0/1; DDL uses the dialect boolean type.
        pub revoked: bool = false,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    references: ["user_id" -> "kavach_users"."id" Cascade];
    indexes: ["kavach_refresh_token_families_user_id": ["user_id"]];
}

record! {
    /// Individual one-time refresh tokens belonging to a family.
    ///
    /// Table `kavach_refresh_tokens`.
    pub struct RefreshToken => "kavach_refresh_tokens", patch RefreshTokenPatch {
        /// `id`.
        pub id: String,
        /// `family_id`.
        pub family_id: String,
        /// `token_hash`.
        pub token_hash: String [secret],
        /// `used`: Drizzle plain integer 0/1; DDL uses the dialect boolean type.
        pub used: bool = false,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_refresh_tokens_token_hash_key": ["token_hash"]];
    references: ["family_id" -> "kavach_refresh_token_families"."id" Cascade];
    indexes: ["kavach_refresh_tokens_family_id": ["family_id"]];
}

/// Human sessions.
///
/// ```
/// use chrono::{Duration, Utc};
/// use kavach_store_core::prelude::*;
///
/// /// Validates a session cookie and slides it forward, atomically: of two
/// /// concurrent requests with the same cookie only one gets the new session.
/// async fn check(store: &dyn KavachStore, session_id: &str, new_id: String) -> Result<Option<Session>, StoreError> {
///     let now = Utc::now();
///     let Some(session) = store.validate_session(session_id, now).await? else { return Ok(None) };
///     let renewed = Session { id: new_id, expires_at: now + Duration::days(7), created_at: now, ..session };
///     store.refresh_session(session_id, renewed).await
/// }
/// ```
#[async_trait]
pub trait SessionStore: RowStore {
    /// Inserts a session (`createSession`).
    async fn create_session(&self, session: Session) -> Result<Session> {
        self.create(session).await
    }

    /// The session with this id, expired or not (`findSessionById`).
    async fn get_session(&self, id: &str) -> Result<Option<Session>> {
        self.get(id).await
    }

    /// The session if it is still valid (`expires_at > now`); an expired
    /// session is deleted and `None` returned (KavachOS's `validate`).
    async fn validate_session(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        match self.get::<Session>(id).await? {
            Some(session) if session.expires_at > now => Ok(Some(session)),
            Some(_) => {
                self.delete_where::<Session>(Cond::eq("id", id).and(Cond::le("expires_at", now)))
                    .await?;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// Sessions of a user, newest first.
    async fn list_sessions_by_user(&self, user_id: &str) -> Result<Vec<Session>> {
        self.find_all(Cond::eq("user_id", user_id), CREATED_DESC, None)
            .await
    }

    /// Number of unexpired sessions of a user (multi-session limits).
    async fn count_active_sessions_by_user(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        self.count::<Session>(Cond::eq("user_id", user_id).and(Cond::gt("expires_at", now)))
            .await
    }

    /// Applies a patch (e.g. new metadata). `NotFound` when missing.
    async fn update_session(&self, id: &str, patch: &SessionPatch) -> Result<Session> {
        self.update::<Session>(id, patch).await
    }

    /// Replaces a session by a new one atomically (KavachOS's auto-refresh):
    /// the old row is deleted and `new_session` inserted in one transaction.
    /// Of several concurrent refreshes of one session exactly one gets
    /// `Some`; the others get `None` (the old session is gone).
    async fn refresh_session(&self, old_id: &str, new_session: Session) -> Result<Option<Session>> {
        let tx = self.begin().await?;
        let removed = tx
            .delete_where_returning::<Session>(Cond::eq("id", old_id))
            .await?;
        if removed.is_empty() {
            tx.rollback().await?;
            return Ok(None);
        }
        let created = tx.create(new_session).await?;
        tx.commit().await?;
        Ok(Some(created))
    }

    /// Deletes a session (`deleteSession`). `NotFound` when missing.
    async fn delete_session(&self, id: &str) -> Result<()> {
        self.delete::<Session>(id).await
    }

    /// Deletes every session of a user (`revokeAll`); returns how many.
    async fn delete_sessions_by_user(&self, user_id: &str) -> Result<u64> {
        self.delete_where::<Session>(Cond::eq("user_id", user_id))
            .await
    }

    /// Deletes the user's sessions except `keep_id`; returns how many.
    async fn delete_other_sessions(&self, user_id: &str, keep_id: &str) -> Result<u64> {
        self.delete_where::<Session>(Cond::eq("user_id", user_id).and(Cond::ne("id", keep_id)))
            .await
    }

    /// Deletes sessions with `expires_at < now` (strictly;
    /// `deleteExpiredSessions`); returns how many.
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<Session>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> SessionStore for T {}

/// Single-use refresh tokens of the stateless JWT session plugin.
#[async_trait]
pub trait JwtRefreshTokenStore: RowStore {
    /// Inserts a token (`createJwtRefreshToken`).
    async fn create_jwt_refresh_token(&self, token: JwtRefreshToken) -> Result<JwtRefreshToken> {
        self.create(token).await
    }

    /// The token with this hash, used or expired included (`findJwtRefreshToken`).
    async fn find_jwt_refresh_token(&self, token_hash: &str) -> Result<Option<JwtRefreshToken>> {
        self.find_first(Cond::eq("token_hash", token_hash), &[])
            .await
    }

    /// Unconditionally marks a token used by id (`markJwtRefreshTokenUsed`).
    /// `NotFound` when missing. Prefer [`JwtRefreshTokenStore::consume_jwt_refresh_token`].
    async fn mark_jwt_refresh_token_used(&self, id: &str) -> Result<()> {
        let patch = JwtRefreshTokenPatch {
            used: Some(true),
            ..Default::default()
        };
        self.update::<JwtRefreshToken>(id, &patch).await.map(|_| ())
    }

    /// Consumes a token: marks it used if it is unused and unexpired
    /// (`expires_at > now`) and returns it. Of N concurrent callers exactly
    /// one gets `Some`.
    async fn consume_jwt_refresh_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<JwtRefreshToken>> {
        let filter = Cond::eq("token_hash", token_hash)
            .and(Cond::eq("used", false))
            .and(Cond::gt("expires_at", now));
        let mut rows = self
            .update_where_returning::<JwtRefreshToken>(
                filter,
                vec![Assign::Set("used", true.into())],
            )
            .await?;
        Ok(rows.pop())
    }

    /// Marks every unused token of a user used (logout everywhere); returns how many.
    async fn revoke_jwt_refresh_tokens_by_user(&self, user_id: &str) -> Result<u64> {
        self.update_where::<JwtRefreshToken>(
            Cond::eq("user_id", user_id).and(Cond::eq("used", false)),
            vec![Assign::Set("used", true.into())],
        )
        .await
    }

    /// Deletes tokens with `expires_at < now`; returns how many.
    async fn purge_expired_jwt_refresh_tokens(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<JwtRefreshToken>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> JwtRefreshTokenStore for T {}

/// Result of presenting a rotating refresh token.
#[derive(Clone, Debug, PartialEq)]
pub enum RefreshTokenOutcome {
    /// The token was valid and is now used; issue the next one in `family`.
    Consumed {
        /// The consumed token.
        token: RefreshToken,
        /// Its family.
        family: RefreshTokenFamily,
    },
    /// No token has this hash.
    NotFound,
    /// The family was revoked earlier.
    Revoked,
    /// The token or its family's absolute lifetime has expired (an expired
    /// family is revoked).
    Expired,
    /// The token had already been used: possible theft; the whole family has
    /// been revoked.
    Reused,
}

/// Rotating refresh tokens grouped in families, with reuse detection.
#[async_trait]
pub trait RefreshTokenStore: RowStore {
    /// Inserts a family.
    async fn create_refresh_token_family(
        &self,
        family: RefreshTokenFamily,
    ) -> Result<RefreshTokenFamily> {
        self.create(family).await
    }

    /// The family with this id.
    async fn get_refresh_token_family(&self, id: &str) -> Result<Option<RefreshTokenFamily>> {
        self.get(id).await
    }

    /// Inserts a token of a family. `Reference` when the family is missing.
    async fn create_refresh_token(&self, token: RefreshToken) -> Result<RefreshToken> {
        self.create(token).await
    }

    /// The token with this hash.
    async fn find_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>> {
        self.find_first(Cond::eq("token_hash", token_hash), &[])
            .await
    }

    /// Presents a token, in one transaction: checks the family (revoked,
    /// absolute expiry), the token's expiry, then marks it used only if it
    /// was unused. Of N concurrent presenters of one token exactly one gets
    /// [`RefreshTokenOutcome::Consumed`]; a presenter that finds it already
    /// used gets [`RefreshTokenOutcome::Reused`] and the family is revoked.
    async fn consume_refresh_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<RefreshTokenOutcome> {
        let tx = self.begin().await?;
        let Some(token) = tx
            .find_first::<RefreshToken>(Cond::eq("token_hash", token_hash), &[])
            .await?
        else {
            return Ok(RefreshTokenOutcome::NotFound);
        };
        let Some(family) = tx.get::<RefreshTokenFamily>(&token.family_id).await? else {
            return Ok(RefreshTokenOutcome::NotFound);
        };
        let revoke_family = || {
            tx.update_where::<RefreshTokenFamily>(
                Cond::eq("id", family.id.clone()),
                vec![Assign::Set("revoked", true.into())],
            )
        };
        let outcome = if family.revoked {
            RefreshTokenOutcome::Revoked
        } else if family.absolute_expires_at <= now {
            revoke_family().await?;
            RefreshTokenOutcome::Expired
        } else if token.expires_at <= now {
            RefreshTokenOutcome::Expired
        } else {
            let mut used = tx
                .update_where_returning::<RefreshToken>(
                    Cond::eq("id", token.id.clone()).and(Cond::eq("used", false)),
                    vec![Assign::Set("used", true.into())],
                )
                .await?;
            match used.pop() {
                Some(token) => RefreshTokenOutcome::Consumed { token, family },
                None => {
                    revoke_family().await?;
                    RefreshTokenOutcome::Reused
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Revokes one family; returns false when it does not exist.
    async fn revoke_refresh_token_family(&self, id: &str) -> Result<bool> {
        let n = self
            .update_where::<RefreshTokenFamily>(
                Cond::eq("id", id),
                vec![Assign::Set("revoked", true.into())],
            )
            .await?;
        Ok(n > 0)
    }

    /// Revokes every family of a user; returns how many were not yet revoked.
    async fn revoke_refresh_token_families_by_user(&self, user_id: &str) -> Result<u64> {
        self.update_where::<RefreshTokenFamily>(
            Cond::eq("user_id", user_id).and(Cond::eq("revoked", false)),
            vec![Assign::Set("revoked", true.into())],
        )
        .await
    }

    /// Deletes tokens with `expires_at < now` and families whose absolute
    /// lifetime ended before `now` (with their tokens); returns rows deleted.
    async fn purge_expired_refresh_tokens(&self, now: DateTime<Utc>) -> Result<u64> {
        let tx = self.begin().await?;
        let families: Vec<RefreshTokenFamily> = tx
            .find_all(Cond::lt("absolute_expires_at", now), &[], None)
            .await?;
        let ids: Vec<String> = families.into_iter().map(|f| f.id).collect();
        let mut n = tx
            .delete_where::<RefreshToken>(Cond::lt("expires_at", now))
            .await?;
        n += tx
            .delete_where::<RefreshToken>(Cond::is_in("family_id", ids.clone()))
            .await?;
        n += tx
            .delete_where::<RefreshTokenFamily>(Cond::is_in("id", ids))
            .await?;
        tx.commit().await?;
        Ok(n)
    }
}

impl<T: RowStore + ?Sized> RefreshTokenStore for T {}
