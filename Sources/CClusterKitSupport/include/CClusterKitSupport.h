// CClusterKitSupport: the few POSIX/Linux calls ClusterKit's process supervisor needs that Swift cannot make
// directly (fork with child-side setup, prctl, pidfd, the wait-status macros).
#ifndef CCLUSTERKITSUPPORT_H
#define CCLUSTERKITSUPPORT_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// How to start one supervised node process (see `ck_spawn`).
typedef struct ck_spawn_request {
    /// The program to execute: a path (absolute, or relative to the node's working directory).
    const char *executable;
    /// The argument vector, NULL-terminated; `argv[0]` is the program name.
    char *const *argv;
    /// The complete environment, NULL-terminated `KEY=VALUE` strings.
    char *const *envp;
    /// The node's name, used in the messages the child writes to its standard error.
    const char *node_name;
    /// The working directory, or NULL to keep the supervisor's.
    const char *directory;
    /// A file for standard output (opened after changing directory), or NULL.
    const char *stdout_file;
    /// A file for standard error (opened after changing directory), or NULL.
    const char *stderr_file;
    /// The write end of the standard output pipe (always given; replaced by `stdout_file` when set).
    int stdout_fd;
    /// The write end of the standard error pipe (always given; replaced by `stderr_file` when set).
    int stderr_fd;
    /// Non-zero when `cpu_affinity` is set.
    int has_cpu_affinity;
    /// The CPU to pin the process to.
    int cpu_affinity;
    /// The signal the child gets when the forking thread dies (Linux `PR_SET_PDEATHSIG`), 0 for none.
    int parent_death_signal;
} ck_spawn_request;

/// Forks and executes a supervised node.
///
/// The child, using only async-signal-safe calls: becomes the leader of a new process group; sets the
/// parent-death signal and exits at once if the parent is already gone; restores default signal dispositions and
/// an empty signal mask; reads standard input from /dev/null and writes standard output and error to the given
/// pipes; changes to `directory`; opens `stderr_file` then `stdout_file` (O_WRONLY|O_CREAT|O_TRUNC|O_APPEND, 0600);
/// sets the CPU affinity (a failure only warns); marks every other descriptor close-on-exec; executes the program.
/// A failing step writes Zeek's message (`node '<name>' failed to chdir to <dir>: <reason>`, ...) to standard error
/// and exits with status 1 (127 when the program cannot be executed).
///
/// Returns the child's process id (also its process group id), or -1 with `*error` set when fork fails.
pid_t ck_spawn(const ck_spawn_request *request, int *error);

/// Opens a pidfd for a process (Linux 5.3+): readable once the process has exited. Returns -1 with errno set when
/// unsupported.
int ck_pidfd_open(pid_t pid);

/// Creates a pipe whose read end is non-blocking; both ends are close-on-exec. Returns 0, or -1 with errno set.
int ck_output_pipe(int fds[2]);

/// Creates a pipe with both ends non-blocking and close-on-exec. Returns 0, or -1 with errno set.
int ck_nonblocking_pipe(int fds[2]);

/// Whether a child has exited, without reaping it (waitid with WNOWAIT): 1 when it has (it stays a zombie, so its
/// pid and process group id are not reused yet), 0 while it runs, -1 when it is not a child (any more).
int ck_has_exited(pid_t pid);

/// Reaps a child without blocking: returns its pid with `*status` set, 0 while it runs, or -1 with errno set.
pid_t ck_reap(pid_t pid, int *status);

/// Whether a wait status says the process exited (WIFEXITED).
int ck_status_exited(int status);
/// The exit status of an exited process (WEXITSTATUS).
int ck_status_exit_code(int status);
/// Whether a wait status says the process was killed by a signal (WIFSIGNALED).
int ck_status_signaled(int status);
/// The signal that killed the process (WTERMSIG).
int ck_status_signal(int status);

#ifdef __cplusplus
}
#endif

#endif
