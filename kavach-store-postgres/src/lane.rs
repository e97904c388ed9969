//! The connections single-statement operations run on.
//!
//! sqlx's pool pings every connection when it is returned (a Sync round
//! trip in a spawned task), whatever `test_before_acquire` says. On this
//! project's 2-core machines that ping costs about as much server and client
//! CPU as the point lookup it follows: measured with the `hot_paths` bench,
//! a token lookup took 160 µs through the pool and 62 µs on a held
//! connection at one task (13.3 k/s vs 21 k/s at 16 tasks).
//!
//! The lane is a minimal LIFO set of connections of its own (same connect
//! options as the pool) for the store's one-statement operations, which
//! never leave session state behind: a connection goes back to the lane
//! after a statement that completed (successfully or with a database error,
//! after which PostgreSQL is ready again); any other error, or a future
//! dropped mid-statement, closes it. Transactions, migrations and the
//! caller's own work keep using the sqlx pool. Idle and lifetime limits are
//! applied when a connection is taken.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{Semaphore, SemaphorePermit};

struct Idle {
    conn: PgConnection,
    created: Instant,
    used: Instant,
}

/// See the module documentation.
pub(crate) struct Lane {
    options: PgConnectOptions,
    idle: Mutex<Vec<Idle>>,
    permits: Semaphore,
    capacity: usize,
    acquire_timeout: Duration,
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
}

impl std::fmt::Debug for Lane {
    // No connect options: they hold the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lane")
            .field("capacity", &self.capacity)
            .field("idle", &self.idle.lock().map(|v| v.len()).unwrap_or(0))
            .finish()
    }
}

/// A connection taken from the lane; dropped without [`Taken::give_back`]
/// it is closed.
pub(crate) struct Taken<'a> {
    lane: &'a Lane,
    conn: Option<PgConnection>,
    created: Instant,
    /// Came from the idle list (it may have died while idle).
    pub reused: bool,
    _permit: SemaphorePermit<'a>,
}

impl Taken<'_> {
    pub fn conn(&mut self) -> &mut PgConnection {
        self.conn
            .as_mut()
            .expect("connection present until given back")
    }

    /// Returns the connection for the next statement.
    pub fn give_back(mut self) {
        if let (Some(conn), Ok(mut idle)) = (self.conn.take(), self.lane.idle.lock()) {
            idle.push(Idle {
                conn,
                created: self.created,
                used: Instant::now(),
            });
        }
    }
}

impl Lane {
    pub fn new(
        options: PgConnectOptions,
        capacity: usize,
        acquire_timeout: Duration,
        idle_timeout: Option<Duration>,
        max_lifetime: Option<Duration>,
    ) -> Lane {
        Lane {
            options,
            idle: Mutex::new(Vec::with_capacity(capacity)),
            permits: Semaphore::new(capacity),
            capacity,
            acquire_timeout,
            idle_timeout,
            max_lifetime,
        }
    }

    fn expired(&self, idle: &Idle, now: Instant) -> bool {
        self.max_lifetime
            .is_some_and(|d| now.duration_since(idle.created) > d)
            || self
                .idle_timeout
                .is_some_and(|d| now.duration_since(idle.used) > d)
    }

    /// A connection: the most recently used idle one, or a new one.
    pub async fn take(&self) -> Result<Taken<'_>, sqlx::Error> {
        let deadline = Instant::now() + self.acquire_timeout;
        let permit = tokio::time::timeout(self.acquire_timeout, self.permits.acquire())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let now = Instant::now();
        loop {
            let next = self.idle.lock().map_err(|_| sqlx::Error::PoolClosed)?.pop();
            match next {
                Some(idle) if self.expired(&idle, now) => drop(idle),
                Some(idle) => {
                    return Ok(Taken {
                        lane: self,
                        conn: Some(idle.conn),
                        created: idle.created,
                        reused: true,
                        _permit: permit,
                    });
                }
                None => break,
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let conn = tokio::time::timeout(left, self.options.connect())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        Ok(Taken {
            lane: self,
            conn: Some(conn),
            created: Instant::now(),
            reused: false,
            _permit: permit,
        })
    }

    /// Closes the idle connections; later takes fail with `PoolClosed`.
    pub async fn close(&self) {
        self.permits.close();
        let idle: Vec<Idle> = self
            .idle
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for i in idle {
            let _ = i.conn.close().await;
        }
    }
}
