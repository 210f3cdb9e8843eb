// The floor of any gatekeeper that runs zfs as a separate process: a static program that does
// nothing but fork, execve its arguments with a fixed environment, and wait. No dynamic
// loading, no policy, no sandbox: bench/run-overhead compares the gatekeeper against it.
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    static const char* const env[] = {"PATH=/nonexistent", "LC_ALL=C", nullptr};
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::execve(argv[1], argv + 1, const_cast<char* const*>(env));
        ::_exit(127);
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return 126;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
