//! Connection threads: one writer connection and several reader connections,
//! each owned by a dedicated OS thread fed by a channel.
//!
//! rusqlite is synchronous. Running each call through `spawn_blocking` costs
//! ~10× a point lookup (perf-notes pitfall 5), so every connection lives on
//! its own long-lived thread and callers send it boxed jobs; the async side
//! only awaits a oneshot reply. Reads go to the most recently idle reader
//! ([`ReaderPool`]; WAL lets them read while the writer writes). The writer runs autocommit writes and, when
//! a transaction is open, only that transaction's jobs: other writes wait in
//! a queue for at most `busy_timeout` and then fail with a retryable error,
//! exactly as they would on a second SQLite connection.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kavach_store_core::StoreError;
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::{busy_timeout_elapsed, worker_gone};

/// Work for a connection thread: [`Job::execute`] on the connection, then
/// [`Job::reply`] (separate, so a reader can make itself available again
/// before its caller, woken by the reply, sends the next read).
pub(crate) trait Job: Send {
    /// Runs on the connection, keeping the result.
    fn execute(&mut self, conn: &mut Connection);
    /// Sends the result (nothing, if `execute` panicked: the caller then
    /// gets `Unavailable`).
    fn reply(self: Box<Self>);
    /// Replies with an error without running.
    fn fail(self: Box<Self>, err: StoreError);
}

struct FnJob<F, T> {
    f: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<F, T> Job for FnJob<F, T>
where
    F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send,
    T: Send,
{
    fn execute(&mut self, conn: &mut Connection) {
        if let Some(f) = self.f.take() {
            self.result = Some(f(conn));
        }
    }
    fn reply(self: Box<Self>) {
        if let Some(result) = self.result {
            let _ = self.reply.send(result);
        }
    }
    fn fail(self: Box<Self>, err: StoreError) {
        let _ = self.reply.send(Err(err));
    }
}

/// A job and the receiver of its reply.
pub(crate) fn job<T, F>(f: F) -> (Box<dyn Job>, Reply<T>)
where
    F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    (
        Box::new(FnJob {
            f: Some(f),
            result: None,
            reply: tx,
        }),
        Reply(rx),
    )
}

/// The pending reply of a job.
pub(crate) struct Reply<T>(oneshot::Receiver<Result<T, StoreError>>);

impl<T> Reply<T> {
    pub(crate) async fn wait(self) -> Result<T, StoreError> {
        // A dropped sender means the thread died (a panic in the job).
        self.0.await.unwrap_or_else(|_| Err(worker_gone()))
    }
}

/// Messages to the writer thread.
pub(crate) enum WriterMsg {
    /// An autocommit job (or one that manages its own transaction and ends it).
    Run(Box<dyn Job>),
    /// Starts transaction `id`: the job runs `BEGIN IMMEDIATE`; when the
    /// connection is in a transaction afterwards, only messages of `id` run
    /// until it ends.
    Begin { id: u64, job: Box<dyn Job> },
    /// A job inside transaction `id`.
    Tx { id: u64, job: Box<dyn Job> },
    /// Ends transaction `id`: the job commits or rolls back; `None` (the
    /// transaction object was dropped) rolls back.
    End { id: u64, job: Option<Box<dyn Job>> },
}

/// Executes a job; a panic in it must not take the connection thread down
/// (the job's reply is then dropped and its caller gets `Unavailable`).
fn execute_guarded(job: &mut Box<dyn Job>, conn: &mut Connection) {
    let _ = catch_unwind(AssertUnwindSafe(|| job.execute(conn)));
}

fn run_guarded(mut job: Box<dyn Job>, conn: &mut Connection) {
    execute_guarded(&mut job, conn);
    job.reply();
}

/// Rolls back whatever transaction is open on `conn`.
pub(crate) fn ensure_autocommit(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
}

/// Dispatch of reads to the reader threads.
///
/// Each reader has its own channel. A read goes to the reader that became
/// idle most recently (LIFO): at low concurrency one thread, with warm CPU
/// caches and a warm connection, serves everything, instead of the readers
/// taking turns (measured: a shared queue over 4 readers made a point lookup
/// ~2× slower at one task than 1 reader). When every reader is busy, reads
/// wait in a backlog that readers drain before going idle again.
pub(crate) struct ReaderPool {
    senders: Vec<flume::Sender<Box<dyn Job>>>,
    state: Arc<Mutex<PoolState>>,
}

#[derive(Default)]
pub(crate) struct PoolState {
    idle: Vec<usize>,
    backlog: VecDeque<Box<dyn Job>>,
    closed: bool,
}

/// The receiving side of one reader thread.
pub(crate) struct ReaderSlot {
    index: usize,
    rx: flume::Receiver<Box<dyn Job>>,
    state: Arc<Mutex<PoolState>>,
}

impl ReaderPool {
    /// A pool of `n` readers and the slots their threads serve.
    pub(crate) fn new(n: usize) -> (ReaderPool, Vec<ReaderSlot>) {
        let state = Arc::new(Mutex::new(PoolState {
            idle: (0..n).rev().collect(),
            ..PoolState::default()
        }));
        let (senders, slots) = (0..n)
            .map(|index| {
                let (tx, rx) = flume::unbounded();
                (
                    tx,
                    ReaderSlot {
                        index,
                        rx,
                        state: state.clone(),
                    },
                )
            })
            .unzip();
        (ReaderPool { senders, state }, slots)
    }

    /// Hands a read to an idle reader, or queues it for the next free one.
    pub(crate) fn dispatch(&self, job: Box<dyn Job>) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.closed {
            return Err(worker_gone());
        }
        match state.idle.pop() {
            Some(i) => {
                drop(state);
                self.senders[i].send(job).map_err(|_| worker_gone())
            }
            None => {
                state.backlog.push_back(job);
                Ok(())
            }
        }
    }

    /// Stops the readers once they have drained the backlog.
    pub(crate) fn close(&mut self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        self.senders.clear();
    }
}

/// The reader loop: jobs sent to this reader, then the backlog, until the
/// pool is closed.
pub(crate) fn reader_loop(mut conn: Connection, slot: ReaderSlot) {
    while let Ok(job) = slot.rx.recv() {
        let mut next = Some(job);
        while let Some(mut job) = next.take() {
            execute_guarded(&mut job, &mut conn);
            ensure_autocommit(&conn);
            {
                let mut state = slot.state.lock().unwrap_or_else(|e| e.into_inner());
                match state.backlog.pop_front() {
                    Some(queued) => next = Some(queued),
                    None => state.idle.push(slot.index),
                }
            }
            // Idle again before the caller wakes up: its next read comes
            // back to this (warm) thread.
            job.reply();
        }
    }
}

/// The writer loop.
pub(crate) fn writer_loop(
    mut conn: Connection,
    rx: flume::Receiver<WriterMsg>,
    busy_timeout: Duration,
) {
    // Messages that arrived while a transaction held the writer, with their
    // arrival time (for the busy_timeout deadline).
    let mut pending: VecDeque<(WriterMsg, Instant)> = VecDeque::new();
    loop {
        let msg = match pending.pop_front() {
            Some((msg, _)) => msg,
            None => match rx.recv() {
                Ok(msg) => msg,
                Err(_) => return,
            },
        };
        match msg {
            WriterMsg::Run(job) => {
                run_guarded(job, &mut conn);
                // A job must not leave a transaction open behind it.
                ensure_autocommit(&conn);
            }
            WriterMsg::Begin { id, job } => {
                run_guarded(job, &mut conn);
                if !conn.is_autocommit()
                    && !transaction_loop(&mut conn, &rx, id, busy_timeout, &mut pending)
                {
                    return;
                }
            }
            WriterMsg::Tx { job, .. } => job.fail(not_active()),
            // The end of a transaction that never started (its BEGIN failed
            // or timed out): nothing to do.
            WriterMsg::End { job, .. } => {
                if let Some(job) = job {
                    job.fail(not_active());
                }
            }
        }
    }
}

fn not_active() -> StoreError {
    StoreError::Backend {
        message: "the transaction is no longer active".into(),
        source: None,
    }
}

/// Serves transaction `id` until it ends. Returns false when the store is
/// gone (every sender dropped).
fn transaction_loop(
    conn: &mut Connection,
    rx: &flume::Receiver<WriterMsg>,
    id: u64,
    busy_timeout: Duration,
    pending: &mut VecDeque<(WriterMsg, Instant)>,
) -> bool {
    loop {
        expire(pending, busy_timeout);
        // Messages of this transaction queued while it waited to begin (e.g.
        // the `End` of a transaction whose `begin` future was dropped) come first.
        let queued = pending
            .iter()
            .position(|(m, _)| matches!(m, WriterMsg::Tx { id: t, .. } | WriterMsg::End { id: t, .. } if *t == id));
        if let Some(msg) = queued.and_then(|i| pending.remove(i)).map(|(m, _)| m) {
            if serve(conn, id, msg, pending) {
                return true;
            }
            continue;
        }
        let deadline = pending
            .iter()
            .filter(|(m, _)| matches!(m, WriterMsg::Run(_) | WriterMsg::Begin { .. }))
            .map(|(_, at)| *at + busy_timeout)
            .min();
        let msg = match deadline {
            Some(d) => match rx.recv_deadline(d) {
                Ok(m) => m,
                Err(flume::RecvTimeoutError::Timeout) => continue,
                Err(flume::RecvTimeoutError::Disconnected) => {
                    ensure_autocommit(conn);
                    return false;
                }
            },
            None => match rx.recv() {
                Ok(m) => m,
                Err(_) => {
                    ensure_autocommit(conn);
                    return false;
                }
            },
        };
        if serve(conn, id, msg, pending) {
            return true;
        }
    }
}

/// Handles one message while transaction `id` holds the writer; true when
/// the transaction has ended.
fn serve(
    conn: &mut Connection,
    id: u64,
    msg: WriterMsg,
    pending: &mut VecDeque<(WriterMsg, Instant)>,
) -> bool {
    match msg {
        WriterMsg::Tx { id: tid, job } if tid == id => {
            run_guarded(job, conn);
            // The job ended the transaction (e.g. caller SQL ran COMMIT):
            // later jobs of `id` are refused.
            conn.is_autocommit()
        }
        WriterMsg::End { id: tid, job } if tid == id => {
            match job {
                Some(job) => run_guarded(job, conn),
                None => ensure_autocommit(conn),
            }
            // A failed COMMIT leaves the transaction open: roll it back.
            ensure_autocommit(conn);
            true
        }
        other => {
            pending.push_back((other, Instant::now()));
            false
        }
    }
}

/// Fails the queued writes and begins that waited longer than `busy_timeout`.
fn expire(pending: &mut VecDeque<(WriterMsg, Instant)>, busy_timeout: Duration) {
    let now = Instant::now();
    if !pending.iter().any(|(m, at)| {
        matches!(m, WriterMsg::Run(_) | WriterMsg::Begin { .. }) && *at + busy_timeout <= now
    }) {
        return;
    }
    for (msg, at) in std::mem::take(pending) {
        if at + busy_timeout > now {
            pending.push_back((msg, at));
            continue;
        }
        match msg {
            WriterMsg::Run(job) | WriterMsg::Begin { job, .. } => job.fail(busy_timeout_elapsed()),
            other => pending.push_back((other, at)),
        }
    }
}
