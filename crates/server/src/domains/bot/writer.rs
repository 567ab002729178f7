//! Group commit for the bot's hot writes: update receipts, claims of stored updates and
//! processing outcomes (with the user the update came from). Callers hand their write to a
//! writer task and wait for its commit; the task writes whatever queued up while its previous
//! commit was in flight in ONE transaction (multi-row statements), then answers everyone.
//! Nothing is acknowledged before it is committed, but a burst of N updates costs one commit
//! (one fsync on PostgreSQL, one WAL append on SQLite) instead of 2·N, the chats' next pending
//! updates are found by one query per batch, and SQLite's single writer is never fought over by
//! the pool's connections (whose busy handler sleeps for milliseconds).
//!
//! Batching is adaptive, without a timer: an idle writer commits a lone update at once; under
//! load the batch is whatever arrived during the last commit (at most [`MAX_BATCH`]). SQLite
//! has one writer task; PostgreSQL several ([`POSTGRES_WRITERS`]), each owning a share of the
//! chats.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::repo::{self, Claim, Finish, NewUpdate, UserTouch};
use crate::db::{Db, DbError, DbResult};

/// Writes per transaction at most (keeps statements well under both backends' bind limits).
const MAX_BATCH: usize = 256;
/// Writes waiting for the writer; beyond this, callers wait to enqueue (back-pressure).
const QUEUE: usize = 4096;
/// Writer tasks on PostgreSQL. Its commits wait for a WAL flush, and concurrent commits share
/// one flush, so several writers keep the disk busy while one batch waits. SQLite has a single
/// writer lock: one task there.
const POSTGRES_WRITERS: usize = 4;
/// A batch slower than this is logged with where its time went: every update behind it waited.
const SLOW_BATCH: Duration = Duration::from_millis(200);

/// What a receipt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Newly stored; `claimed` when it was stored claimed by the caller (process it now).
    New { claimed: bool },
    /// This (bot, update_id) was already stored: a redelivery.
    Duplicate,
}

/// A claimed update's payload and chat, when the claim was taken.
pub type Claimed = Option<repo::ClaimedUpdate>;

enum Op {
    Receive(NewUpdate, oneshot::Sender<DbResult<Stored>>),
    Claim(Claim, oneshot::Sender<DbResult<Claimed>>),
    Finish(Finish, oneshot::Sender<DbResult<Option<i64>>>),
}

/// What one write did, aligned with the batch.
#[derive(Debug, Clone)]
enum Done {
    Stored(Stored),
    Claimed(Claimed),
    /// An outcome was recorded; the chat's next pending update (for finished updates).
    Finished(Option<i64>),
}

/// The handle to the process's writer tasks; cheap to share. With several writers, all writes
/// of one chat go to the same one, so a chat's receipts and outcomes stay in order (the next
/// update of a chat is found by the transaction that finished the one before).
pub struct Writer {
    queues: Vec<mpsc::Sender<Op>>,
}

impl Writer {
    /// Start the writer tasks (they end when the last handle is dropped). Needs a Tokio runtime.
    pub fn start(db: Db) -> Self {
        let writers = crate::on_pool!(&db, pool => sqlite { 1 } postgres { POSTGRES_WRITERS });
        let queues = (0..writers)
            .map(|_| {
                let (queue, rx) = mpsc::channel(QUEUE / writers);
                tokio::spawn(run(db.clone(), rx));
                queue
            })
            .collect();
        Self { queues }
    }

    /// The writer of a chat (or, without one, of an update).
    fn queue(&self, key: i64) -> &mpsc::Sender<Op> {
        &self.queues[key.rem_euclid(self.queues.len() as i64) as usize]
    }

    /// Store a received update (claimed by `row.claim` when no earlier update of its chat is
    /// pending). Returns after the commit.
    pub async fn receive(&self, row: NewUpdate) -> DbResult<Stored> {
        let (tx, rx) = oneshot::channel();
        let key = row.chat_id.unwrap_or(row.update_id);
        self.submit(key, Op::Receive(row, tx), rx).await
    }

    /// Claim a stored update (see [`repo::claim_update`]); its payload and chat when claimed.
    /// Returns after the commit.
    pub async fn claim(&self, claim: Claim) -> DbResult<Claimed> {
        let (tx, rx) = oneshot::channel();
        let key = claim.update_id;
        self.submit(key, Op::Claim(claim, tx), rx).await
    }

    /// Record the outcome of processing an update and upsert its user. Returns after the commit,
    /// with the chat's next pending update when this one is finished (not back to pending).
    pub async fn finish(&self, finish: Finish) -> DbResult<Option<i64>> {
        let (tx, rx) = oneshot::channel();
        let key = finish.chat_id.unwrap_or(finish.update_id);
        self.submit(key, Op::Finish(finish, tx), rx).await
    }

    async fn submit<T>(&self, key: i64, op: Op, rx: oneshot::Receiver<DbResult<T>>) -> DbResult<T> {
        let gone = || DbError::Unavailable("the bot's writer stopped".into());
        self.queue(key).send(op).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Op>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let ops = std::mem::take(&mut batch);
        let mut timing = Timing::start();
        let result = apply(&db, &ops, &mut timing).await;
        timing.report(ops.len());
        match result {
            Ok(results) => answer(ops, results),
            // One bad write (say, an update of a bot deleted meanwhile) must not fail the others:
            // write each alone. An outage fails them all; their callers answer 503 / retry.
            Err(err) if ops.len() > 1 && !matches!(err, DbError::Unavailable(_)) => {
                for op in ops {
                    let one = [op];
                    let result = apply(&db, &one, &mut Timing::start()).await;
                    let [op] = one;
                    match result {
                        Ok(results) => answer(vec![op], results),
                        Err(err) => fail(op, &err),
                    }
                }
            }
            Err(err) => {
                for op in ops {
                    fail(op, &err);
                }
            }
        }
    }
}

fn answer(ops: Vec<Op>, results: Vec<Option<Done>>) {
    for (op, done) in ops.into_iter().zip(results) {
        // A caller that went away (client disconnected) no longer needs the answer.
        let _ = match op {
            Op::Receive(_, reply) => {
                let stored = match done {
                    Some(Done::Stored(stored)) => stored,
                    _ => Stored::Duplicate,
                };
                reply.send(Ok(stored)).map_err(drop)
            }
            Op::Claim(_, reply) => {
                let claimed = match done {
                    Some(Done::Claimed(claimed)) => claimed,
                    _ => None,
                };
                reply.send(Ok(claimed)).map_err(drop)
            }
            Op::Finish(_, reply) => {
                let next = match done {
                    Some(Done::Finished(next)) => next,
                    _ => None,
                };
                reply.send(Ok(next)).map_err(drop)
            }
        };
    }
}

fn fail(op: Op, err: &DbError) {
    let err = copy(err);
    let _ = match op {
        Op::Receive(_, reply) => reply.send(Err(err)).map_err(drop),
        Op::Claim(_, reply) => reply.send(Err(err)).map_err(drop),
        Op::Finish(_, reply) => reply.send(Err(err)).map_err(drop),
    };
}

fn copy(err: &DbError) -> DbError {
    match err {
        DbError::Unavailable(e) => DbError::Unavailable(e.clone()),
        DbError::Conflict(e) => DbError::Conflict(e.clone()),
        DbError::Constraint(e) => DbError::Constraint(e.clone()),
        DbError::NotFound => DbError::NotFound,
        DbError::Other { context, source } => DbError::Other {
            context: context.clone(),
            source: source.clone(),
        },
    }
}

/// Where a batch's time went: waiting for the transaction (on SQLite, the write lock), the
/// statements, the commit.
struct Timing {
    started: Instant,
    begun: Option<Instant>,
    written: Option<Instant>,
}

impl Timing {
    fn start() -> Self {
        Timing {
            started: Instant::now(),
            begun: None,
            written: None,
        }
    }

    fn report(&self, ops: usize) {
        let total = self.started.elapsed();
        metrics::histogram!("bot_writer_batch_seconds").record(total.as_secs_f64());
        if total >= SLOW_BATCH {
            let ms = |from: Instant, to: Option<Instant>| {
                to.map(|to| to.duration_since(from).as_millis())
            };
            tracing::warn!(
                ops,
                total_ms = total.as_millis(),
                begin_ms = ms(self.started, self.begun),
                statements_ms = self.begun.and_then(|b| ms(b, self.written)),
                commit_ms = self.written.map(|w| w.elapsed().as_millis()),
                "slow bot write batch"
            );
        }
    }
}

/// Write a batch in one transaction; the receipts' outcomes, aligned with `ops`.
async fn apply(db: &Db, ops: &[Op], timing: &mut Timing) -> DbResult<Vec<Option<Done>>> {
    let mut tx = db.begin().await?;
    timing.begun = Some(Instant::now());
    let mut results: Vec<Option<Done>> = vec![None; ops.len()];

    let receipts: Vec<(usize, &NewUpdate)> = ops
        .iter()
        .enumerate()
        .filter_map(|(i, op)| match op {
            Op::Receive(row, _) => Some((i, row)),
            _ => None,
        })
        .collect();
    if !receipts.is_empty() {
        // The same update twice in one batch: the first is the receipt, the others replays.
        let mut seen = HashSet::new();
        let unique: Vec<(usize, &NewUpdate)> = receipts
            .into_iter()
            .filter(|(i, row)| {
                let first = seen.insert((row.bot_id.as_str(), row.update_id));
                if !first {
                    results[*i] = Some(Done::Stored(Stored::Duplicate));
                }
                first
            })
            .collect();
        // Claim at receipt only when no earlier update of the chat is pending, in the table or in
        // this batch; otherwise the row waits for whoever processes that earlier one.
        let mut earliest: HashMap<(&str, i64), i64> = HashMap::new();
        for (_, row) in &unique {
            if let Some(chat) = row.chat_id {
                let e = earliest
                    .entry((row.bot_id.as_str(), chat))
                    .or_insert(i64::MAX);
                *e = (*e).min(row.update_id);
            }
        }
        let mut chats_by_bot: HashMap<&str, Vec<i64>> = HashMap::new();
        for (_, row) in &unique {
            if let (Some(chat), Some(_)) = (row.chat_id, &row.claim) {
                chats_by_bot
                    .entry(row.bot_id.as_str())
                    .or_default()
                    .push(chat);
            }
        }
        for (bot_id, mut chats) in chats_by_bot {
            chats.sort_unstable();
            chats.dedup();
            for (chat, min) in repo::earliest_pending(&mut tx, bot_id, &chats).await? {
                let e = earliest.entry((bot_id, chat)).or_insert(i64::MAX);
                *e = (*e).min(min);
            }
        }
        let rows: Vec<(&NewUpdate, bool)> = unique
            .iter()
            .map(|(_, row)| {
                let first_of_chat = row.chat_id.is_none_or(|chat| {
                    earliest.get(&(row.bot_id.as_str(), chat)).copied() == Some(row.update_id)
                });
                (*row, row.claim.is_some() && first_of_chat)
            })
            .collect();
        let inserted: HashSet<(String, i64)> = repo::insert_updates(&mut tx, &rows)
            .await?
            .into_iter()
            .collect();
        for ((i, row), (_, claimed)) in unique.iter().zip(&rows) {
            results[*i] = Some(Done::Stored(
                if inserted.contains(&(row.bot_id.clone(), row.update_id)) {
                    Stored::New { claimed: *claimed }
                } else {
                    Stored::Duplicate
                },
            ));
        }
    }

    // One row per user per statement (PostgreSQL refuses to upsert a row twice in one): the
    // latest wins, keeping a language an earlier update told us.
    let mut users: Vec<UserTouch> = Vec::new();
    let mut at: HashMap<(&str, i64), usize> = HashMap::new();
    for op in ops {
        if let Op::Finish(
            Finish {
                user: Some(user), ..
            },
            _,
        ) = op
        {
            match at.get(&(user.tenant_id.as_str(), user.user_id)) {
                Some(&j) => {
                    let language = user.language.clone().or(users[j].language.take());
                    let start_payload =
                        user.start_payload.clone().or(users[j].start_payload.take());
                    users[j] = UserTouch {
                        language,
                        start_payload,
                        ..user.clone()
                    };
                }
                None => {
                    at.insert((user.tenant_id.as_str(), user.user_id), users.len());
                    users.push(user.clone());
                }
            }
        }
    }
    if !users.is_empty() {
        repo::upsert_users(&mut tx, &users.iter().collect::<Vec<_>>()).await?;
    }

    // Outcomes grouped by how they ended (almost always: one bot, all `done`).
    let mut outcomes: HashMap<(&str, repo::UpdateOutcome<'_>), Vec<i64>> = HashMap::new();
    let mut latest = i64::MIN;
    for op in ops {
        if let Op::Finish(f, _) = op {
            latest = latest.max(f.now);
            outcomes
                .entry((f.bot_id.as_str(), f.outcome()))
                .or_default()
                .push(f.update_id);
        }
    }
    for ((bot_id, outcome), ids) in outcomes {
        repo::finish_updates(&mut tx, bot_id, &ids, outcome, latest).await?;
    }

    // The next pending update of each chat whose update just finished, read after the outcomes
    // (so the finished ones are no longer pending): whoever finished one goes on with the next.
    let mut finished_chats: HashMap<&str, Vec<i64>> = HashMap::new();
    for op in ops {
        if let Op::Finish(f, _) = op
            && f.status != repo::UpdateStatus::Pending
            && let Some(chat) = f.chat_id
        {
            finished_chats
                .entry(f.bot_id.as_str())
                .or_default()
                .push(chat);
        }
    }
    let mut next: HashMap<(&str, i64), i64> = HashMap::new();
    for (bot_id, mut chats) in finished_chats {
        chats.sort_unstable();
        chats.dedup();
        for (chat, min) in repo::earliest_pending(&mut tx, bot_id, &chats).await? {
            next.insert((bot_id, chat), min);
        }
    }
    for (i, op) in ops.iter().enumerate() {
        if let Op::Finish(f, _) = op {
            let after = (f.status != repo::UpdateStatus::Pending)
                .then(|| {
                    f.chat_id
                        .and_then(|chat| next.get(&(f.bot_id.as_str(), chat)).copied())
                })
                .flatten();
            results[i] = Some(Done::Finished(after));
        }
    }

    // Claims last: an update whose predecessor finished in this batch can be taken at once.
    for (i, op) in ops.iter().enumerate() {
        if let Op::Claim(claim, _) = op {
            results[i] = Some(Done::Claimed(repo::claim_update(&mut tx, claim).await?));
        }
    }

    timing.written = Some(Instant::now());
    tx.commit().await?;
    Ok(results)
}
