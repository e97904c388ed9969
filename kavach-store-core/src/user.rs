//! Human accounts (`kavach_users`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

record! {
    /// Human accounts; every agent, session, key and credential hangs off a user row. Also carries admin ban flags and Stripe/Polar billing mirrors.
    ///
    /// Table `kavach_users`.
    pub struct User => "kavach_users", patch UserPatch {
        /// `id`: App-generated string (core modules use UUID v4; the email package uses `usr_` + hex).
        pub id: String,
        /// `email`: Some modules write synthetic addresses: `anon_<id>@...` (anonymous), `<digits>@phone.local` (phone), `<username>@username.local` (username).
        pub email: String,
        /// `username`.
        pub username: Option<String>,
        /// `name`.
        pub name: Option<String>,
        /// `external_id`.
        pub external_id: Option<String>,
        /// `external_provider`.
        pub external_provider: Option<String>,
        /// `metadata`: Free-form object; used for `anonymous`, `phone`, additional user fields and SCIM data.
        pub metadata: Option<serde_json::Value>,
        /// `banned`: Drizzle declares a plain integer (core writes 0/1 numbers); DDL/Prisma treat it as boolean.
        pub banned: bool = false,
        /// `ban_reason`.
        pub ban_reason: Option<String>,
        /// `ban_expires_at`.
        pub ban_expires_at: Option<DateTime<Utc>>,
        /// `force_password_reset`: Same 0/1 integer-vs-boolean split as `banned`.
        pub force_password_reset: bool = false,
        /// `email_verified`: Same 0/1 split; absent from the Prisma model.
        pub email_verified: bool = false,
        /// `stripe_customer_id`.
        pub stripe_customer_id: Option<String>,
        /// `stripe_subscription_id`.
        pub stripe_subscription_id: Option<String>,
        /// `stripe_subscription_status`.
        pub stripe_subscription_status: Option<String>,
        /// `stripe_price_id`.
        pub stripe_price_id: Option<String>,
        /// `stripe_current_period_end`.
        pub stripe_current_period_end: Option<DateTime<Utc>>,
        /// `stripe_cancel_at_period_end`: Drizzle boolean mode (0/1 on SQLite).
        pub stripe_cancel_at_period_end: bool = false,
        /// `polar_customer_id`.
        pub polar_customer_id: Option<String>,
        /// `polar_subscription_id`.
        pub polar_subscription_id: Option<String>,
        /// `polar_subscription_status`.
        pub polar_subscription_status: Option<String>,
        /// `polar_product_id`.
        pub polar_product_id: Option<String>,
        /// `polar_current_period_end`.
        pub polar_current_period_end: Option<DateTime<Utc>>,
        /// `polar_cancel_at_period_end`: Drizzle boolean mode (0/1 on SQLite).
        pub polar_cancel_at_period_end: bool = false,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_users_email_key": ["email"], "kavach_users_username_key": ["username"], "kavach_users_stripe_customer_id_key": ["stripe_customer_id"], "kavach_users_polar_customer_id_key": ["polar_customer_id"]];
}
