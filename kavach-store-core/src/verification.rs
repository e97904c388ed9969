//! Single-use verification values: one-time tokens, magic links, email and phone codes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// What a one-time token is for.
    pub enum TokenPurpose {
        /// `email-verify`
        EmailVerify = "email-verify",
        /// `password-reset`
        PasswordReset = "password-reset",
        /// `invitation`
        Invitation = "invitation",
        /// `custom`
        Custom = "custom",
    }
    default Custom;
}

record! {
    /// Hashed single-use tokens for email verification, password reset, invitations and custom flows.
    ///
    /// Table `kavach_one_time_tokens`.
    pub struct OneTimeToken => "kavach_one_time_tokens", patch OneTimeTokenPatch {
        /// `id`.
        pub id: String,
        /// `token_hash`: Hex SHA-256 of the raw token.
        pub token_hash: String [secret],
        /// `purpose`.
        pub purpose: TokenPurpose,
        /// `identifier`: Email, user id or any caller key.
        pub identifier: String,
        /// `metadata`.
        pub metadata: Option<serde_json::Value>,
        /// `used`.
        pub used: bool = false,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_one_time_tokens_token_hash_key": ["token_hash"]];
    indexes: ["kavach_one_time_tokens_identifier_purpose": ["identifier", "purpose"]];
}

record! {
    /// Passwordless email login links (token stored as-is).
    ///
    /// Table `kavach_magic_links`.
    pub struct MagicLink => "kavach_magic_links", patch MagicLinkPatch {
        /// `id`.
        pub id: String,
        /// `email`.
        pub email: String,
        /// `token`: Raw token stored in plaintext (unlike the other single-use tables).
        pub token: String [secret],
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `used`.
        pub used: bool = false,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_magic_links_token_key": ["token"]];
    indexes: ["kavach_magic_links_email": ["email"]];
}

record! {
    /// Hashed email one-time login codes with an attempt counter.
    ///
    /// Table `kavach_email_otps`.
    pub struct EmailOtp => "kavach_email_otps", patch EmailOtpPatch {
        /// `id`.
        pub id: String,
        /// `email`: Not unique; the core deletes older codes for the address before inserting.
        pub email: String,
        /// `code_hash`: Hash of the numeric code.
        pub code_hash: String [secret],
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `attempts`.
        pub attempts: i64 = 0i64,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    indexes: ["kavach_email_otps_email": ["email"]];
}

record! {
    /// Hashed SMS one-time codes per phone number with an attempt counter.
    ///
    /// Table `kavach_phone_verifications`.
    pub struct PhoneVerification => "kavach_phone_verifications", patch PhoneVerificationPatch {
        /// `id`.
        pub id: String,
        /// `phone_number`: Not unique; older codes for the number are deleted first.
        pub phone_number: String,
        /// `code_hash`.
        pub code_hash: String [secret],
        /// `attempts`.
        pub attempts: i64 = 0i64,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    indexes: ["kavach_phone_verifications_phone": ["phone_number"]];
}

/// Single-use tokens (email verification, password reset, invitations, …).
#[async_trait]
pub trait OneTimeTokenStore: RowStore {
    /// Inserts a token.
    async fn create_one_time_token(&self, token: OneTimeToken) -> Result<OneTimeToken> {
        self.create(token).await
    }
    /// The token with this hash, used or expired included.
    async fn find_one_time_token(&self, token_hash: &str) -> Result<Option<OneTimeToken>> {
        self.find_first(Cond::eq("token_hash", token_hash), &[])
            .await
    }
    /// Consumes a token: marks it used if it is unused, unexpired
    /// (`expires_at > now`) and, when given, of `purpose`; returns it. Of N
    /// concurrent callers exactly one gets `Some`.
    async fn consume_one_time_token(
        &self,
        token_hash: &str,
        purpose: Option<TokenPurpose>,
        now: DateTime<Utc>,
    ) -> Result<Option<OneTimeToken>> {
        let filter = Cond::eq("token_hash", token_hash)
            .and(Cond::eq("used", false))
            .and(Cond::gt("expires_at", now))
            .and_opt(purpose, |p| Cond::eq("purpose", p));
        Ok(self
            .update_where_returning::<OneTimeToken>(filter, vec![Assign::Set("used", true.into())])
            .await?
            .pop())
    }
    /// Marks every unused, unexpired token of an identifier (and purpose)
    /// used (`revokeTokens`); returns how many.
    async fn revoke_one_time_tokens(
        &self,
        identifier: &str,
        purpose: Option<TokenPurpose>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let filter = Cond::eq("identifier", identifier)
            .and_opt(purpose, |p| Cond::eq("purpose", p))
            .and(Cond::eq("used", false))
            .and(Cond::gt("expires_at", now));
        self.update_where::<OneTimeToken>(filter, vec![Assign::Set("used", true.into())])
            .await
    }
    /// Deletes tokens with `expires_at < now`; returns how many.
    async fn purge_expired_one_time_tokens(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<OneTimeToken>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> OneTimeTokenStore for T {}

/// Magic sign-in links.
#[async_trait]
pub trait MagicLinkStore: RowStore {
    /// Inserts a link.
    async fn create_magic_link(&self, link: MagicLink) -> Result<MagicLink> {
        self.create(link).await
    }
    /// The link with this token, used or expired included.
    async fn find_magic_link(&self, token: &str) -> Result<Option<MagicLink>> {
        self.find_first(Cond::eq("token", token), &[]).await
    }
    /// Consumes a link: marks it used if unused and unexpired (`expires_at >
    /// now`) and returns it. Of N concurrent clicks exactly one gets `Some`.
    async fn consume_magic_link(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<MagicLink>> {
        let filter = Cond::eq("token", token)
            .and(Cond::eq("used", false))
            .and(Cond::gt("expires_at", now));
        Ok(self
            .update_where_returning::<MagicLink>(filter, vec![Assign::Set("used", true.into())])
            .await?
            .pop())
    }
    /// Deletes every link sent to an email; returns how many.
    async fn delete_magic_links_by_email(&self, email: &str) -> Result<u64> {
        self.delete_where::<MagicLink>(Cond::eq("email", email))
            .await
    }
    /// Deletes links with `expires_at < now`; returns how many.
    async fn purge_expired_magic_links(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<MagicLink>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> MagicLinkStore for T {}

/// One-time codes sent by email or SMS, with a bounded attempt counter.
#[async_trait]
pub trait OtpStore: RowStore {
    /// Replaces any code of this email by `otp`, in one transaction.
    async fn replace_email_otp(&self, otp: EmailOtp) -> Result<EmailOtp> {
        let tx = self.begin().await?;
        tx.delete_where::<EmailOtp>(Cond::eq("email", otp.email.clone()))
            .await?;
        let otp = tx.create(otp).await?;
        tx.commit().await?;
        Ok(otp)
    }
    /// The unexpired (`expires_at > now`) code of an email.
    async fn find_email_otp(&self, email: &str, now: DateTime<Utc>) -> Result<Option<EmailOtp>> {
        self.find_first(
            Cond::eq("email", email).and(Cond::gt("expires_at", now)),
            CREATED_DESC,
        )
        .await
    }
    /// Counts one verification attempt atomically, only while `attempts <
    /// max_attempts`; returns the row after the increment, or `None` when
    /// the attempts are used up (or the code is gone). N parallel guesses
    /// can never exceed the bound.
    async fn record_email_otp_attempt(
        &self,
        id: &str,
        max_attempts: i64,
    ) -> Result<Option<EmailOtp>> {
        let filter = Cond::eq("id", id).and(Cond::lt("attempts", max_attempts));
        Ok(self
            .update_where_returning::<EmailOtp>(filter, vec![Assign::Add("attempts", 1)])
            .await?
            .pop())
    }
    /// Deletes a code (after success). Returns false when already gone, so
    /// of two concurrent successful verifications only one sees `true`.
    async fn delete_email_otp(&self, id: &str) -> Result<bool> {
        Ok(self.delete_where::<EmailOtp>(Cond::eq("id", id)).await? > 0)
    }
    /// Deletes email codes with `expires_at < now`; returns how many.
    async fn purge_expired_email_otps(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<EmailOtp>(Cond::lt("expires_at", now))
            .await
    }
    /// Replaces any code of this phone number by `verification`, in one transaction.
    async fn replace_phone_verification(
        &self,
        verification: PhoneVerification,
    ) -> Result<PhoneVerification> {
        let tx = self.begin().await?;
        tx.delete_where::<PhoneVerification>(Cond::eq(
            "phone_number",
            verification.phone_number.clone(),
        ))
        .await?;
        let verification = tx.create(verification).await?;
        tx.commit().await?;
        Ok(verification)
    }
    /// The unexpired (`expires_at > now`) code of a phone number.
    async fn find_phone_verification(
        &self,
        phone_number: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PhoneVerification>> {
        self.find_first(
            Cond::eq("phone_number", phone_number).and(Cond::gt("expires_at", now)),
            CREATED_DESC,
        )
        .await
    }
    /// Counts one attempt atomically while `attempts < max_attempts`; see
    /// [`OtpStore::record_email_otp_attempt`].
    async fn record_phone_verification_attempt(
        &self,
        id: &str,
        max_attempts: i64,
    ) -> Result<Option<PhoneVerification>> {
        let filter = Cond::eq("id", id).and(Cond::lt("attempts", max_attempts));
        Ok(self
            .update_where_returning::<PhoneVerification>(filter, vec![Assign::Add("attempts", 1)])
            .await?
            .pop())
    }
    /// Deletes a phone code; false when already gone.
    async fn delete_phone_verification(&self, id: &str) -> Result<bool> {
        Ok(self
            .delete_where::<PhoneVerification>(Cond::eq("id", id))
            .await?
            > 0)
    }
    /// Deletes phone codes with `expires_at < now`; returns how many.
    async fn purge_expired_phone_verifications(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<PhoneVerification>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> OtpStore for T {}
