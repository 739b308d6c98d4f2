//! Dedicated actors: an actor on a thread of its own (device I/O, a window), still run in its
//! place in its clock's order.
//!
//! The domain hands the actor its turn of each tick through a channel; the thread runs it and
//! releases its successors. Stopping takes the sender away under a lock and sends a last `Stop`:
//! no turn can be handed after it, and every turn handed before it is finished first (FIFO), so
//! a tick never waits on a thread that is gone and no tick is kept alive in a dead channel.

use std::sync::{Arc, Weak};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use super::cell::{adopt_thread_token, deadline, new_thread_token, RuntimeCell};
use super::stopwatch;
use super::tick::{Later, TickRun};
use crate::error::{Error, Result};

enum Message {
    Run(Arc<TickRun>, u32),
    Stop(Sender<bool>),
}

/// The handle of a dedicated actor's thread.
pub(crate) struct Dedicated {
    sender: Mutex<Option<Sender<Message>>>,
}

/// The receiving end, until the thread is started with its cell.
pub(crate) struct DedicatedStart {
    receiver: Receiver<Message>,
    token: usize,
}

impl Dedicated {
    pub(crate) fn new() -> (Dedicated, DedicatedStart) {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let token = new_thread_token();
        (
            Dedicated {
                sender: Mutex::new(Some(sender)),
            },
            DedicatedStart { receiver, token },
        )
    }

    /// Hands the actor its turn of `run`; `false` if the thread was stopped.
    pub(crate) fn run(&self, run: Arc<TickRun>, node: u32) -> bool {
        let sender = self.sender.lock();
        sender
            .as_ref()
            .is_some_and(|s| s.send(Message::Run(run, node)).is_ok())
    }

    /// Asks the thread to run `on_stop` and end; the receiver gets `true` once it did. `None`
    /// if it was stopped already.
    pub(crate) fn stop(&self) -> Option<Receiver<bool>> {
        let sender = self.sender.lock().take()?;
        let (reply, replied) = crossbeam_channel::bounded(1);
        sender.send(Message::Stop(reply)).ok()?;
        Some(replied)
    }
}

impl DedicatedStart {
    /// Starts the thread of `cell`.
    pub(crate) fn spawn(self, cell: &Arc<RuntimeCell>) -> Result<()> {
        let weak = Arc::downgrade(cell);
        let DedicatedStart { receiver, token } = self;
        std::thread::Builder::new()
            .name(format!("streamlib-{}", cell.entry.uri.instance_id()))
            .spawn(move || {
                adopt_thread_token(token);
                dedicated_loop(weak, receiver)
            })
            .map(drop)
            .map_err(|e| Error::os("spawning a dedicated actor thread", e))
    }
}

/// The loop of a dedicated actor's thread; ends when its sender is gone (after `Stop`).
fn dedicated_loop(cell: Weak<RuntimeCell>, receiver: Receiver<Message>) {
    while let Ok(message) = receiver.recv() {
        match message {
            Message::Run(run, node) => {
                if let Some(cell) = cell.upgrade() {
                    if !run.is_abandoned() {
                        run.enter();
                        cell.run(cell.hot(), &run.tick, run.late, stopwatch::now(), |f| {
                            run.fault(f)
                        });
                    }
                }
                let push = run.pool.outside();
                // Successors made ready here go to the pool, not this thread.
                run.finish_node(node, &push, &mut Later::none());
                run.complete(1);
            }
            Message::Stop(reply) => {
                if let Some(cell) = cell.upgrade() {
                    cell.stop_until(deadline(std::time::Duration::MAX));
                }
                let _ = reply.send(true);
            }
        }
    }
}
