//! Background work. Every instance runs its own housekeeping; the leader (one instance per
//! database, elected by a lease row) runs the registered [`Worker`]s. Each worker is a single
//! step function that tests can drive directly.
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

pub mod jobs;
pub mod leader;

use crate::state::AppState;

/// One kind of background work, run periodically on the leader.
pub trait Worker: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn interval(&self) -> Duration;
    /// Do one unit of work. Errors are logged and counted; the loop goes on.
    fn step(&self, state: &AppState) -> impl Future<Output = anyhow::Result<()>> + Send;
}

type StepFuture<'a> = std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;

/// Object-safe wrapper so the registry can hold different workers.
trait DynWorker: Send + Sync {
    fn name(&self) -> &'static str;
    fn interval(&self) -> Duration;
    fn step<'a>(&'a self, state: &'a AppState) -> StepFuture<'a>;
}

impl<W: Worker> DynWorker for W {
    fn name(&self) -> &'static str {
        Worker::name(self)
    }
    fn interval(&self) -> Duration {
        Worker::interval(self)
    }
    fn step<'a>(&'a self, state: &'a AppState) -> StepFuture<'a> {
        Box::pin(Worker::step(self, state))
    }
}

#[derive(Clone, Default)]
pub struct Registry {
    workers: Vec<Arc<dyn DynWorker>>,
}

impl Registry {
    /// The workers this build runs on the leader.
    pub fn standard() -> Self {
        let mut registry = Registry::default();
        registry.register(leader::StaleLeasePruner);
        registry.register(crate::domains::templates::workers::RenderCachePruner);
        registry.register(crate::domains::bot::workers::BotSetup::default());
        registry.register(crate::domains::bot::workers::UpdateSweeper);
        registry.register(crate::domains::bot::workers::UpdatePruner);
        registry.register(crate::domains::bot::workers::Poller::default());
        registry.register(crate::domains::connections::workers::ConnectionSetup::default());
        registry.register(crate::domains::connections::workers::ConnectionPoller::default());
        registry.register(crate::domains::forex::workers::ForexWorker::default());
        registry
            .register(jobs::JobRunner::default().with(crate::domains::broadcast::BroadcastSender));
        registry
    }

    pub fn register(&mut self, worker: impl Worker) {
        self.workers.push(Arc::new(worker));
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.workers.iter().map(|w| w.name()).collect()
    }

    /// Run every worker until `stop` flips to true.
    pub fn spawn_all(&self, state: &AppState, stop: watch::Receiver<bool>) -> JoinSet<()> {
        let mut set = JoinSet::new();
        for worker in &self.workers {
            let worker = worker.clone();
            let state = state.clone();
            let mut stop = stop.clone();
            set.spawn(async move {
                loop {
                    if *stop.borrow() {
                        break;
                    }
                    if let Err(err) = worker.step(&state).await {
                        metrics::counter!("worker_errors_total", "worker" => worker.name())
                            .increment(1);
                        tracing::warn!(worker = worker.name(), error = %err, "worker step failed");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(worker.interval()) => {}
                        _ = stop.changed() => {}
                    }
                }
            });
        }
        set
    }
}
