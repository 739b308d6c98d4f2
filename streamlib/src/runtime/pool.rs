//! The worker pool shared by every clock domain of a runtime: work-stealing deques, and
//! workers that sleep when there is nothing to do.
//!
//! Jobs pushed from outside the pool (a domain's thread, a dedicated actor's thread) go to a
//! global injector; jobs a worker makes (successors made ready) go to its own deque, from which
//! idle workers steal. A push wakes at most as many sleeping workers as there are new jobs, so a
//! tick whose work fits on one thread wakes nobody, and more workers do not mean more wake-ups.
//!
//! A worker stuck in an actor whose stop timed out is replaced ([`Pool::replace`]): the pool
//! keeps its size, and the stuck thread exits if its call ever returns.

use std::collections::HashSet;
use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_deque::{Injector, Stealer, Worker};
use parking_lot::{Condvar, Mutex, RwLock};

use super::cell::{adopt_thread_token, new_thread_token};
use super::tick::{run_job, Job};
use crate::error::{Error, Result};
use crate::uri::ActorUri;

/// The cores of this machine, 2 when the system cannot tell: a runtime's default worker count.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The worker threads shared by all domains of a runtime.
pub(crate) struct Pool {
    /// How many chunks of one tick can run at once: one per worker and one on the domain's own
    /// thread, but no more than the machine has cores (a chunk beyond that only waits for a
    /// core, and moves its actors' data between caches).
    pub(crate) parallel_chunks: usize,
    injector: Injector<Job>,
    stealers: RwLock<Vec<Stealer<Job>>>,
    /// Workers in (or about to enter) their sleep.
    sleeping: AtomicUsize,
    sleep: Mutex<()>,
    wake: Condvar,
    exiting: AtomicBool,
    /// Tokens of workers replaced while stuck: they exit when their call returns.
    retired: Mutex<HashSet<usize>>,
    /// Whether `retired` is non-empty, so a worker's loop takes no lock in the common case.
    any_retired: AtomicBool,
    /// Each worker's thread token and handle.
    handles: Mutex<Vec<(usize, JoinHandle<()>)>>,
}

/// Where a thread puts the jobs it makes: its own deque (a worker) or the injector.
pub(crate) struct Push<'a> {
    pool: &'a Pool,
    local: Option<&'a Worker<Job>>,
}

impl Push<'_> {
    /// Queues `job` and wakes a sleeping worker to take it, if any sleeps.
    pub(crate) fn push(&self, job: Job) {
        match self.local {
            Some(local) => local.push(job),
            None => self.pool.injector.push(job),
        }
        self.pool.wake(1);
    }
}

impl Pool {
    pub(crate) fn start(threads: usize) -> Result<Arc<Pool>> {
        let pool = Arc::new(Pool {
            parallel_chunks: (threads + 1).min(cores()),
            injector: Injector::new(),
            stealers: RwLock::new(Vec::new()),
            sleeping: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
            exiting: AtomicBool::new(false),
            retired: Mutex::new(HashSet::new()),
            any_retired: AtomicBool::new(false),
            handles: Mutex::new(Vec::new()),
        });
        for _ in 0..threads {
            pool.add_worker()?;
        }
        Ok(pool)
    }

    /// How a thread outside the pool pushes jobs.
    pub(crate) fn outside(&self) -> Push<'_> {
        Push {
            pool: self,
            local: None,
        }
    }

    /// Queues jobs from outside the pool and wakes up to `jobs.len()` sleeping workers.
    pub(crate) fn inject(&self, jobs: impl IntoIterator<Item = Job>) {
        let mut n = 0;
        for job in jobs {
            self.injector.push(job);
            n += 1;
        }
        self.wake(n);
    }

    /// Wakes up to `n` sleeping workers.
    fn wake(&self, n: usize) {
        // Pairs with the fence in `sleep_until_work`: either this sees the worker sleeping, or
        // the worker sees the job pushed before this.
        fence(Ordering::SeqCst);
        let sleeping = self.sleeping.load(Ordering::Relaxed);
        if sleeping == 0 {
            return;
        }
        let _guard = self.sleep.lock();
        for _ in 0..n.min(sleeping) {
            self.wake.notify_one();
        }
    }

    /// Starts one more worker thread.
    fn add_worker(self: &Arc<Self>) -> Result<()> {
        let local = Worker::new_fifo();
        let index = {
            let mut stealers = self.stealers.write();
            stealers.push(local.stealer());
            stealers.len() - 1
        };
        let pool = self.clone();
        let token = new_thread_token();
        let handle = std::thread::Builder::new()
            .name(format!("streamlib-worker-{index}"))
            .spawn(move || {
                adopt_thread_token(token);
                pool.work(local, token)
            })
            .map_err(|e| Error::os("spawning a worker thread", e))?;
        self.handles.lock().push((token, handle));
        Ok(())
    }

    /// Replaces the worker with token `token`, stuck in an actor that was detached: it exits
    /// when (if ever) that call returns. Returns whether `token` named a worker of this pool.
    /// `actor` is the one it is stuck in, for the logs.
    pub(crate) fn replace(self: &Arc<Self>, token: usize, actor: &ActorUri) -> bool {
        let known = self.handles.lock().iter().any(|(t, _)| *t == token);
        if !known || !self.retired.lock().insert(token) {
            return false;
        }
        self.any_retired.store(true, Ordering::Release);
        if let Err(error) = self.add_worker() {
            tracing::error!(%actor, %error, "cannot replace a stuck worker; the pool runs one short");
        }
        true
    }

    /// The loop of a worker: run jobs, steal when out, sleep when there is nothing.
    fn work(&self, local: Worker<Job>, me: usize) {
        let push = Push {
            pool: self,
            local: Some(&local),
        };
        loop {
            let retired =
                || self.any_retired.load(Ordering::Acquire) && self.retired.lock().contains(&me);
            if self.exiting.load(Ordering::Acquire) || retired() {
                return;
            }
            match self.find(&local) {
                Some(job) => run_job(job, &push),
                None => self.sleep_until_work(&local),
            }
        }
    }

    fn find(&self, local: &Worker<Job>) -> Option<Job> {
        if let Some(job) = local.pop() {
            return Some(job);
        }
        loop {
            let mut retry = false;
            match self.injector.steal_batch_and_pop(local) {
                crossbeam_deque::Steal::Success(job) => return Some(job),
                crossbeam_deque::Steal::Retry => retry = true,
                crossbeam_deque::Steal::Empty => {}
            }
            for stealer in self.stealers.read().iter() {
                match stealer.steal() {
                    crossbeam_deque::Steal::Success(job) => return Some(job),
                    crossbeam_deque::Steal::Retry => retry = true,
                    crossbeam_deque::Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.read().iter().any(|s| !s.is_empty())
    }

    fn sleep_until_work(&self, local: &Worker<Job>) {
        let mut guard = self.sleep.lock();
        self.sleeping.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if !self.has_work() && local.is_empty() && !self.exiting.load(Ordering::Acquire) {
            // The timeout only bounds a wake-up lost to a bug; pushes wake workers.
            self.wake.wait_for(&mut guard, Duration::from_secs(1));
        }
        self.sleeping.fetch_sub(1, Ordering::Relaxed);
    }

    /// Stops the workers, waiting up to `timeout` for them to finish their current job.
    pub(crate) fn shutdown(&self, timeout: Duration) {
        self.exiting.store(true, Ordering::Release);
        {
            let _guard = self.sleep.lock();
            self.wake.notify_all();
        }
        let handles: Vec<_> = self.handles.lock().drain(..).map(|(_, h)| h).collect();
        let me = std::thread::current().id();
        let others = handles.into_iter().filter(|h| h.thread().id() != me);
        join_all(others.collect(), timeout);
    }
}

/// Joins threads, giving up (detaching the rest) after `timeout`.
pub(crate) fn join_all(threads: Vec<JoinHandle<()>>, timeout: Duration) {
    let deadline = super::cell::deadline(timeout);
    for thread in threads {
        while !thread.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        if thread.is_finished() {
            let _ = thread.join();
        }
    }
}
