// The ControlMaster and its sessions. The master is our child (killed with us by PDEATHSIG),
// its socket lives in a mkdtemp 0700 directory, and every session repeats the hardened options,
// so that if the socket were gone the fallback connection would be just as strict.
#include "puller/ssh.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "puller/lines.hpp"

namespace puller {

Argv SshMaster::common_options() const {
    return {"-F", "none", // no user or system ssh_config: behaviour is ours
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "UserKnownHostsFile=" + job_.known_hosts,
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "UpdateHostKeys=no",
            "-o", "IdentitiesOnly=yes",
            "-o", "IdentityAgent=none",
            "-i", job_.ssh_key,
            "-p", std::to_string(job_.port),
            "-o", "ConnectTimeout=" + std::to_string(job_.connect_timeout),
            "-o", "ServerAliveInterval=15",
            "-o", "ServerAliveCountMax=4",
            "-o", "LogLevel=ERROR",
            "-x", "-a",
            "-T"};
}

std::string SshMaster::begin() {
    std::string tmpl = job_.runtime_dir + "/zfs-puller.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr)
        return "cannot create a private directory in " + job_.runtime_dir + ": " +
               std::strerror(errno);
    dir_ = tmpl; // mkdtemp makes it 0700
    socket_ = dir_ + "/master";
    log_ = dir_ + "/master.log";
    const int log_fd =
        ::open(log_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (log_fd < 0) return "cannot create " + log_ + ": " + std::strerror(errno);

    Argv argv{job_.ssh};
    const Argv opts = common_options();
    argv.insert(argv.end(), opts.begin(), opts.end());
    for (const char* o : {"ControlMaster=yes", "ControlPersist=no"})
        argv.insert(argv.end(), {"-o", o});
    argv.insert(argv.end(), {"-S", socket_, "-N", "--", job_.user + "@" + job_.host});
    pid_ = spawn(argv, -1, -1, log_fd);
    ::close(log_fd);
    if (pid_ < 0) return "cannot start " + job_.ssh + ": " + std::strerror(errno);
    return "";
}

std::string SshMaster::wait_ready() {
    if (pid_ < 0) return "ssh master not started";
    // The socket appears (linked into place) only once the master is authenticated and listens;
    // connect_timeout bounds all of it (connection, key exchange, login).
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(job_.connect_timeout);
    while (true) {
        struct stat st {};
        if (::lstat(socket_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) return "";
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            std::ifstream in(log_);
            std::stringstream s;
            s << in.rdbuf();
            const std::string why = last_line(s.str());
            return "ssh to " + job_.user + "@" + job_.host + " failed" +
                   (why.empty() ? "" : ": " + why);
        }
        if (g_signal != 0) return "interrupted";
        if (std::chrono::steady_clock::now() > deadline)
            return "ssh to " + job_.host + ": no connection after " +
                   std::to_string(job_.connect_timeout) + " s (connect_timeout)";
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void SshMaster::stop() {
    if (pid_ > 0) {
        Argv argv{
            job_.ssh, "-F", "none", "-S", socket_, "-O", "exit", "--", job_.user + "@" + job_.host};
        const Captured c = run_capture(argv);
        // Whatever -O exit said, the master must go and be reaped.
        int status = 0;
        for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
            if (i == 50 || c.status != 0) ::kill(pid_, SIGTERM);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (::waitpid(pid_, &status, WNOHANG) == 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
        pid_ = -1;
    }
    if (!dir_.empty()) {
        ::unlink(socket_.c_str());
        ::unlink(log_.c_str());
        ::rmdir(dir_.c_str());
        dir_.clear();
    }
}

Argv SshMaster::session(const std::string& command, bool reads_stdin) {
    ++sessions_;
    Argv argv{job_.ssh};
    const Argv opts = common_options();
    argv.insert(argv.end(), opts.begin(), opts.end());
    argv.insert(argv.end(), {"-o", "ControlMaster=no", "-S", socket_});
    if (!reads_stdin) argv.push_back("-n");
    // One argument: OpenSSH joins the words after the host with spaces anyway.
    argv.insert(argv.end(), {job_.user + "@" + job_.host, "--", command});
    return argv;
}

Captured run_remote(SshMaster& master, const std::string& command, const CaptureLimits& limits) {
    return run_capture(master.session(command), limits);
}

} // namespace puller
