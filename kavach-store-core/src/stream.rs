//! Persisted stream events.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

record! {
    /// Persisted server-sent events kept for replay to reconnecting clients.
    ///
    /// Table `kavach_stream_events`.
    pub struct StreamEvent => "kavach_stream_events", patch StreamEventPatch {
        /// `id`: Event id supplied by the emitter.
        pub id: String,
        /// `type`: Event type name. Column named `type`.
        pub r#type: String,
        /// `timestamp`.
        pub timestamp: DateTime<Utc>,
        /// `data`.
        pub data: serde_json::Value,
        /// `agent_id`: No FK.
        pub agent_id: Option<String>,
        /// `user_id`: No FK.
        pub user_id: Option<String>,
    }
    primary_key: id;
    indexes: ["kavach_stream_events_timestamp": ["timestamp"], "kavach_stream_events_type_timestamp": ["type", "timestamp"]];
}
