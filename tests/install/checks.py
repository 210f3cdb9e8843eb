"""PASS/FAIL bookkeeping of tests/install/check-pages and check-install (imported, never run)."""

import subprocess


class Checks:
    """Counts checks and prints one PASS or FAIL line each; summary() is the `N passed, N
    failed` line that meson's log and tests/run-all read."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail="", note=""):
        """detail explains a failure; note is printed with a pass. Returns ok."""
        if ok:
            self.passed += 1
            print(f"PASS {name}" + (f" ({note})" if note else ""), flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}", flush=True)
        return bool(ok)

    def summary(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


def run(argv):
    """argv's exit status and output; a program that is not installed exits 127, as in sh."""
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except FileNotFoundError:
        return subprocess.CompletedProcess(argv, 127, f"{argv[0]}: not installed (tests/install-deps test)")
