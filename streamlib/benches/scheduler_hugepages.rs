//! The scheduler benchmarks of `scheduler.rs`, floor included, with mimalloc as the global
//! allocator: it backs its memory with transparent huge pages (2 MiB) where the kernel allows
//! them (`/sys/kernel/mm/transparent_hugepage/enabled`: `always` or `madvise`). The runtime keeps
//! what a tick touches of each actor in its own huge-page arena (`runtime/hot.rs`); the actors'
//! own data — their ports, the values they write — is the global allocator's, on 4 KiB pages
//! with the system's `malloc`, and with thousands of actors a tick waits on a page walk for each.
//! Beside `scheduler.rs` this shows what that costs.
//!
//! `cargo bench -p streamlib --bench scheduler_hugepages -- cpu_per_100ms_at_60hz`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "scheduler.rs"]
#[allow(dead_code)]
mod scheduler;

criterion::criterion_main!(scheduler::benches);
