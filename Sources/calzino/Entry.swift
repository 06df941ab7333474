import Dispatch

/// The process's entry. Swift's async `main` parks the main thread in `dispatch_main`, which on Linux calls
/// `pthread_exit` and traps the thread in a destructor: glibc then counts it as exiting, and `setuid` and
/// `setgid` (the privilege drop, `user:`) skip it, so it stays root and `ps` shows the process as root. Here
/// the main thread waits on a semaphore instead, signals unblocked as in `dispatch_main`'s final
/// `sigsuspend` (the graceful-shutdown and reload signals go to Dispatch's signal sources; others, such as
/// the allocation counter's SIGUSR2 in benchmarks/allocations.sh, still find a thread), and a privilege drop
/// reaches it like every thread.
@main
enum Entry {
    static func main() {
        let finished = DispatchSemaphore(value: 0)
        // Detached: `main` belongs to the main actor, whose queue nothing drains while this thread waits.
        Task.detached {
            await Calzino.main()
            finished.signal()
        }
        finished.wait()
    }
}
