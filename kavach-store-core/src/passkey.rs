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

/// Passkey credentials and the challenges of WebAuthn ceremonies.
#[async_trait]
pub trait PasskeyStore: RowStore {
    /// Inserts a credential. `Conflict` on a duplicate credential id.
    async fn create_passkey_credential(
        &self,
        credential: PasskeyCredential,
    ) -> Result<PasskeyCredential> {
        self.create(credential).await
    }
    /// The credential with this row id.
    async fn get_passkey_credential(&self, id: &str) -> Result<Option<PasskeyCredential>> {
        self.get(id).await
    }
    /// The credential with this WebAuthn credential id.
    async fn find_passkey_credential_by_credential_id(
        &self,
        credential_id: &str,
    ) -> Result<Option<PasskeyCredential>> {
        self.find_first(Cond::eq("credential_id", credential_id), &[])
            .await
    }
    /// Credentials of a user, oldest first.
    async fn list_passkey_credentials_by_user(
        &self,
        user_id: &str,
    ) -> Result<Vec<PasskeyCredential>> {
        self.find_all(Cond::eq("user_id", user_id), CREATED_ASC, None)
            .await
    }
    /// Records a successful assertion: sets the signature counter and
    /// `last_used_at` only if `new_counter` is greater than the stored one
    /// (or both are 0, for authenticators without a counter). Returns the
    /// updated credential, or `None` when the counter did not advance
    /// (a possible cloned authenticator) or the credential is missing.
    async fn advance_passkey_counter(
        &self,
        credential_id: &str,
        new_counter: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<PasskeyCredential>> {
        let advanced = if new_counter == 0 {
            Cond::eq("counter", 0i64)
        } else {
            Cond::lt("counter", new_counter)
        };
        let filter = Cond::eq("credential_id", credential_id).and(advanced);
        let set = vec![
            Assign::Set("counter", new_counter.into()),
            Assign::Set("last_used_at", at.into()),
        ];
        Ok(self
            .update_where_returning::<PasskeyCredential>(filter, set)
            .await?
            .pop())
    }
    /// Applies a patch (e.g. device name). `NotFound` when missing.
    async fn update_passkey_credential(
        &self,
        id: &str,
        patch: &PasskeyCredentialPatch,
    ) -> Result<PasskeyCredential> {
        self.update::<PasskeyCredential>(id, patch).await
    }
    /// Deletes a user's credential by credential id; returns how many rows.
    async fn delete_passkey_credential(&self, credential_id: &str, user_id: &str) -> Result<u64> {
        self.delete_where::<PasskeyCredential>(
            Cond::eq("credential_id", credential_id).and(Cond::eq("user_id", user_id)),
        )
        .await
    }
    /// Inserts a challenge.
    async fn create_passkey_challenge(
        &self,
        challenge: PasskeyChallenge,
    ) -> Result<PasskeyChallenge> {
        self.create(challenge).await
    }
    /// Consumes a challenge atomically: deletes it and returns it if it had
    /// not expired (`expires_at > now`); expired ones are deleted too. Of N
    /// concurrent verifications exactly one gets `Some`.
    async fn consume_passkey_challenge(
        &self,
        challenge: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PasskeyChallenge>> {
        let removed = self
            .delete_where_returning::<PasskeyChallenge>(Cond::eq("challenge", challenge))
            .await?;
        Ok(removed.into_iter().find(|c| c.expires_at > now))
    }
    /// Deletes challenges with `expires_at < now`; returns how many.
    async fn purge_expired_passkey_challenges(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<PasskeyChallenge>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> PasskeyStore for T {}
