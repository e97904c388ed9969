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
