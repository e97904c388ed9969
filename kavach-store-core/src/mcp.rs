//! Registered MCP servers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// Status of a registered MCP server.
    pub enum McpServerStatus {
        /// `active`
        Active = "active",
        /// `inactive`
        Inactive = "inactive",
    }
    default Active;
}

record! {
    /// Registry of MCP tool servers known to this KavachOS instance.
    ///
    /// Table `kavach_mcp_servers`.
    pub struct McpServer => "kavach_mcp_servers", patch McpServerPatch {
        /// `id`.
        pub id: String,
        /// `name`.
        pub name: String,
        /// `endpoint`.
        pub endpoint: String,
        /// `tools`.
        pub tools: Vec<String>,
        /// `auth_required`.
        pub auth_required: bool = true,
        /// `rate_limit_rpm`.
        pub rate_limit_rpm: Option<i64>,
        /// `status`.
        pub status: McpServerStatus = "active",
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_mcp_servers_endpoint_key": ["endpoint"]];
}
