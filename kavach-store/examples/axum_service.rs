//! A small HTTP service on `Arc<dyn KavachStore>`: the backend is chosen by
//! URL, the handlers do not know which one it is.
//!
//! ```text
//! cargo run --example axum_service -- sqlite://kavach-axum.db
//! curl -X POST localhost:3000/agents -H 'content-type: application/json' \
//!      -d '{"owner_email":"ada@example.com","name":"bot"}'
//! curl localhost:3000/whoami -H "authorization: Bearer <token from above>"
//! curl localhost:3000/audit  -H "authorization: Bearer <token>"
//! ```
//!
//! Routes: `POST /agents` creates a user (if needed) and an agent and returns
//! its bearer token once; every other route authenticates the bearer token by
//! its SHA-256 hash and writes an audit entry per request.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use kavach_store::prelude::*;
use sha2::{Digest, Sha256};

#[derive(Clone)]
struct AppState {
    store: Arc<dyn KavachStore>,
}

type ApiError = (StatusCode, String);

fn internal(e: StoreError) -> ApiError {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(serde::Deserialize)]
struct NewAgentRequest {
    owner_email: String,
    name: String,
}

async fn create_agent(
    State(app): State<AppState>,
    Json(req): Json<NewAgentRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = Utc::now();
    let owner = match app
        .store
        .find_user_by_email(&req.owner_email)
        .await
        .map_err(internal)?
    {
        Some(user) => user,
        None => {
            let user = User {
                id: uuid::Uuid::now_v7().to_string(),
                email: req.owner_email.clone(),
                created_at: now,
                updated_at: now,
                ..User::default()
            };
            match app.store.create_user(user).await {
                Ok(user) => user,
                // Another request created the same email first.
                Err(e) if e.is_conflict() => app
                    .store
                    .find_user_by_email(&req.owner_email)
                    .await
                    .map_err(internal)?
                    .ok_or((StatusCode::CONFLICT, "user vanished".into()))?,
                Err(e) => return Err(internal(e)),
            }
        }
    };
    let token = format!("kv_{}", uuid::Uuid::new_v4().simple());
    let agent = Agent {
        id: uuid::Uuid::now_v7().to_string(),
        owner_id: owner.id,
        name: req.name,
        token_hash: sha256_hex(&token),
        token_prefix: token[..11].to_string(),
        metadata: Some(serde_json::json!({})),
        created_at: now,
        updated_at: now,
        ..Agent::default()
    };
    let agent = app.store.create_agent(agent).await.map_err(internal)?;
    Ok(Json(
        serde_json::json!({ "agent_id": agent.id, "token": token }),
    ))
}

/// Authenticates the bearer token and records the request in the audit log.
async fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    action: &str,
) -> Result<Agent, ApiError> {
    let started = std::time::Instant::now();
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or((StatusCode::UNAUTHORIZED, "missing bearer token".into()))?;
    let agent = app
        .store
        .find_agent_by_token_hash(&sha256_hex(token))
        .await
        .map_err(internal)?
        .filter(|a| a.status == AgentStatus::Active)
        .ok_or((StatusCode::UNAUTHORIZED, "unknown or inactive token".into()))?;
    let now = Utc::now();
    app.store
        .touch_agent(&agent.id, now)
        .await
        .map_err(internal)?;
    let entry = AuditLog {
        id: uuid::Uuid::now_v7().to_string(),
        agent_id: agent.id.clone(),
        user_id: agent.owner_id.clone(),
        action: action.to_string(),
        resource: "http:axum_service".into(),
        parameters: Some(serde_json::json!({})),
        result: AuditResult::Allowed,
        duration_ms: started.elapsed().as_millis() as i64,
        timestamp: now,
        ..AuditLog::default()
    };
    app.store.create_audit_log(entry).await.map_err(internal)?;
    Ok(agent)
}

async fn whoami(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let agent = authenticate(&app, &headers, "whoami").await?;
    let permissions = app
        .store
        .list_permissions_by_agent(&agent.id)
        .await
        .map_err(internal)?;
    Ok(Json(
        serde_json::json!({ "agent": agent.name, "status": agent.status, "permissions": permissions.len() }),
    ))
}

#[derive(serde::Deserialize)]
struct AuditQuery {
    after: Option<String>,
    limit: Option<u32>,
}

async fn audit(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let agent = authenticate(&app, &headers, "audit.list").await?;
    let page = PageRequest {
        limit: Some(q.limit.unwrap_or(20)),
        after: q.after.map(Cursor::from),
    };
    let page = app
        .store
        .list_audit_logs(&AuditFilter::agent(&agent.id), &page)
        .await
        .map_err(|e| match e {
            e if e.is_invalid_input() => (StatusCode::BAD_REQUEST, e.to_string()),
            e => internal(e),
        })?;
    Ok(Json(
        serde_json::json!({ "items": page.items, "next": page.next }),
    ))
}

fn router(store: Arc<dyn KavachStore>) -> Router {
    Router::new()
        .route("/agents", post(create_agent))
        .route("/whoami", get(whoami))
        .route("/audit", get(audit))
        .with_state(AppState { store })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite://kavach-axum.db".to_string());
    let store = kavach_store::connect(&url, &ConnectOptions::default()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!(
        "serving {} on http://{}",
        kavach_store::redact(&url),
        listener.local_addr()?
    );
    axum::serve(listener, router(store)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Drives the service over real HTTP on a loopback port, with plain
    //! HTTP/1.1 written by hand (no client dependency).
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn request(addr: std::net::SocketAddr, head: &str, body: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let message = format!(
            "{head}\r\nhost: test\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(message.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let status = response[9..12].parse().unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    #[tokio::test]
    async fn agents_authenticate_by_token_hash_and_every_request_is_audited() {
        let store = kavach_store::connect("sqlite::memory:", &ConnectOptions::default())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router(store)).await });

        let (status, body) = request(
            addr,
            "POST /agents HTTP/1.1",
            r#"{"owner_email":"ada@example.com","name":"bot"}"#,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let created: serde_json::Value = serde_json::from_str(&body).unwrap();
        let token = created["token"].as_str().unwrap().to_string();

        let (status, _) = request(addr, "GET /whoami HTTP/1.1", "").await;
        assert_eq!(status, 401, "no token");
        let (status, _) = request(
            addr,
            "GET /whoami HTTP/1.1\r\nauthorization: Bearer kv_wrong",
            "",
        )
        .await;
        assert_eq!(status, 401, "unknown token");

        let auth = format!("authorization: Bearer {token}");
        let (status, body) = request(addr, &format!("GET /whoami HTTP/1.1\r\n{auth}"), "").await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains(r#""agent":"bot""#), "{body}");

        let (status, body) =
            request(addr, &format!("GET /audit?limit=1 HTTP/1.1\r\n{auth}"), "").await;
        assert_eq!(status, 200, "{body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        // whoami, then this audit.list (written before the listing): newest first.
        assert_eq!(page["items"][0]["action"], "audit.list", "{body}");
        let next = page["next"].as_str().expect("a second page").to_string();
        let (_, body) = request(
            addr,
            &format!("GET /audit?limit=5&after={next} HTTP/1.1\r\n{auth}"),
            "",
        )
        .await;
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(page["items"][0]["action"], "whoami", "{body}");

        let (status, _) =
            request(addr, &format!("GET /audit?after=zz HTTP/1.1\r\n{auth}"), "").await;
        assert_eq!(status, 400, "a bad cursor is the client's error");
    }
}
