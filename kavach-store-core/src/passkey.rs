//! Passkey (WebAuthn) credentials and challenges.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// What a passkey challenge is for.
    pub enum ChallengeType {
        /// `registration`
        Registration = "registration",
        /// `authentication`
        Authentication = "authentication",
    }
    default Authentication;
}

record! {
    /// Registered WebAuthn/FIDO2 credentials (public key, signature counter) per user.
    ///
    /// Table `kavach_passkey_credentials`.
    pub struct PasskeyCredential => "kavach_passkey_credentials", patch PasskeyCredentialPatch {
        /// `id`.
        pub id: String,
        /// `user_id`.
        pub user_id: String,
        /// `credential_id`: base64url credential id.
        pub credential_id: String,
        /// `public_key`: base64url COSE public key.
        pub public_key: String,
        /// `counter`: WebAuthn signature counter (clone detection).
        pub counter: i64 = 0i64,
        /// `device_name`.
        pub device_name: Option<String>,
        /// `transports`: JSON string array, e.g. ["internal","usb"]
        pub transports: Option<String>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `last_used_at`.
        pub last_used_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_passkey_credentials_credential_id_key": ["credential_id"]];
    references: ["user_id" -> "kavach_users"."id" NoAction];
    indexes: ["kavach_passkey_credentials_user_id": ["user_id"]];
}

record! {
    /// Short-lived WebAuthn registration/authentication challenges.
    ///
    /// Table `kavach_passkey_challenges`.
    pub struct PasskeyChallenge => "kavach_passkey_challenges", patch PasskeyChallengePatch {
        /// `id`.
        pub id: String,
        /// `challenge`.
        pub challenge: String,
        /// `user_id`: NULL for discoverable-credential logins; no FK.
        pub user_id: Option<String>,
        /// `type`: Column named `type`.
        pub r#type: ChallengeType,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_passkey_challenges_challenge_key": ["challenge"]];
}
