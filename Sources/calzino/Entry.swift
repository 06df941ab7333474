import Dispatch
import Glibc

/// The process's entry. Swift's async `main` parks the main thread in `dispatch_main`, which on Linux calls
/// `pthread_exit` and traps the thread in a destructor: glibc then counts it as exiting, and `setuid` and
/// `setgid` (the privilege drop, `user:`) skip it, so it stays root and `ps` shows the process as root. Here
/// the main thread waits on a semaphore instead, with the signals blocked as `dispatch_main` blocks them
/// (the signal sources of graceful shutdown read them), and a privilege drop reaches it like every thread.
@main
enum Entry {
    static func main() {
        let finished = DispatchSemaphore(value: 0)
        // Detached: `main` belongs to the main actor, whose queue nothing drains while this thread waits.
        Task.detached {
            await Calzino.main()
            finished.signal()
        }
        var signals = sigset_t()
        sigfillset(&signals)
        // Faults stay deliverable to the thread that causes them, as in dispatch_main.
        for fault in [SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGBUS, SIGSEGV, SIGSYS] {
            sigdelset(&signals, fault)
        }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        finished.wait()
    }
}
