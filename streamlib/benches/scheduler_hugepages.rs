//! The scheduler benchmarks of `scheduler.rs`, floor included, with mimalloc as the global
//! allocator: it backs its memory with transparent huge pages (2 MiB) where the kernel allows
//! them (`/sys/kernel/mm/transparent_hugepage/enabled`: `always` or `madvise`). With 10,000
//! actors a tick touches the cache lines of every actor's cell and registry entry, about two
//! per 4 KiB page; with 4 KiB pages that is more pages than the processor's translation cache
//! holds, and each actor pays a page walk. Beside `scheduler.rs` this shows what that costs.
//!
//! `cargo bench -p streamlib --bench scheduler_hugepages -- cpu_per_100ms_at_60hz`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "scheduler.rs"]
#[allow(dead_code)]
mod scheduler;

criterion::criterion_main!(scheduler::benches);
