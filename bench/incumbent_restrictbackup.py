#!/usr/bin/python3
"""The incumbent forced command, re-created for bench/run-overhead only. NEVER deploy it.

What the incumbent (mcdonc/.nixconfig, hosts/profiles/backupsource/restrictbackup.py; see
peers-and-security.md, "The incumbent we replace") does, step by step, written anew here:
  1. read SSH_ORIGINAL_COMMAND;
  2. append it, plus a newline, to a log file (a fixed path under /tmp in the original);
  3. if the command starts with zfs, zpool, echo, exit or command, hand the whole string to a
     shell with `-c` (exec, so the shell replaces Python); otherwise exit 0 having run nothing.
A prefix check followed by a shell is the hole zfs-gatekeeper closes: `zfs list; rm -rf /`
passes. Differences, both in the incumbent's favour for timing: the shell is /bin/sh (dash on
Debian) where the newest original execs bash, and the log is closed before the exec (the
original leaves it to be flushed, which an exec never does, so its log stays empty).

Usage: SSH_ORIGINAL_COMMAND='...' incumbent_restrictbackup.py [LOG_FILE]
"""
import os
import sys

SHELL = "/bin/sh"
ACCEPTED_PREFIXES = ("exit", "echo", "command", "zpool", "zfs")


def main():
    log_path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/commands"
    command = os.environ["SSH_ORIGINAL_COMMAND"]
    with open(log_path, "a") as log:
        log.write(command + "\n")
    if command.startswith(ACCEPTED_PREFIXES):
        os.execv(SHELL, [SHELL, "-c", command])


if __name__ == "__main__":
    main()
