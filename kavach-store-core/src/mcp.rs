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

/// Registered MCP servers.
#[async_trait]
pub trait McpServerStore: RowStore {
    /// Inserts a server (`createMcpServer`). `Conflict` on a duplicate endpoint.
    async fn create_mcp_server(&self, server: McpServer) -> Result<McpServer> {
        self.create(server).await
    }
    /// The server with this id.
    async fn get_mcp_server(&self, id: &str) -> Result<Option<McpServer>> {
        self.get(id).await
    }
    /// The server at this endpoint (`findMcpServerByEndpoint`).
    async fn find_mcp_server_by_endpoint(&self, endpoint: &str) -> Result<Option<McpServer>> {
        self.find_first(Cond::eq("endpoint", endpoint), &[]).await
    }
    /// Every server, oldest first (`listMcpServers`).
    async fn list_mcp_servers(&self) -> Result<Vec<McpServer>> {
        self.find_all(Cond::All, CREATED_ASC, None).await
    }
    /// Applies a patch. `NotFound` when missing.
    async fn update_mcp_server(&self, id: &str, patch: &McpServerPatch) -> Result<McpServer> {
        self.update::<McpServer>(id, patch).await
    }
    /// Deletes a server. `NotFound` when missing.
    async fn delete_mcp_server(&self, id: &str) -> Result<()> {
        self.delete::<McpServer>(id).await
    }
}

impl<T: RowStore + ?Sized> McpServerStore for T {}
