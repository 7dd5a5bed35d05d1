"""Hugepages for the memif benchmarks, or --no-huge when they cannot be had.

With root: reserve enough free 2 MB pages (raising vm.nr_hugepages), mount a
private hugetlbfs in the work folder, and give every DPDK process
`--huge-dir DIR --single-file-segments -m MB`; memif clients then run with
`zero-copy=yes`. Without root, or when the reservation fails: `--no-huge -m
MB` (memif copy mode). `release()` unmounts and restores vm.nr_hugepages.
A Memory made with `huge_dir` uses pages someone else reserved (no release).
"""
import os
import re
import subprocess

HUGE_PAGES = 768  # 2 MB pages: the largest set of processes at once, with slack


class Memory:
    """Hugepages for the run when possible (root), else --no-huge (memif copy mode)."""

    def __init__(self, work, want, huge_dir=None):
        self.mode, self.why, self.dir, self.old = "no-huge", "", None, None
        self.owned = True
        if huge_dir:
            self.mode, self.dir, self.owned = "hugepages", huge_dir, False
            return
        if not want:
            self.why = "--no-huge given"
            return
        if os.geteuid() != 0:
            self.why = "not root: hugepages cannot be reserved"
            return
        try:
            with open("/proc/sys/vm/nr_hugepages") as f:
                self.old = int(f.read())
            with open("/proc/meminfo") as f:
                free = int(re.search(r"HugePages_Free:\s+(\d+)", f.read()).group(1))
            if free < HUGE_PAGES:
                with open("/proc/sys/vm/nr_hugepages", "w") as f:
                    f.write(str(self.old + HUGE_PAGES - free))
            with open("/proc/meminfo") as f:
                free = int(re.search(r"HugePages_Free:\s+(\d+)", f.read()).group(1))
            if free < HUGE_PAGES:
                self.release()
                self.why = f"only {free} free 2 MB hugepages after asking for {HUGE_PAGES}"
                return
            self.dir = os.path.join(work, "huge")
            os.makedirs(self.dir, exist_ok=True)
            subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev", self.dir],
                           check=True, capture_output=True)
            self.mode = "hugepages"
        except (OSError, ValueError, AttributeError, subprocess.CalledProcessError) as e:
            self.release()
            self.why = f"hugepage setup failed: {e}"

    def eal(self, mb):
        if self.mode == "hugepages":
            return ["--huge-dir", self.dir, "--single-file-segments", "-m", str(mb)]
        return ["--no-huge", "-m", str(mb)]

    def cleanup(self, file_prefix):
        """Delete the hugepage files a finished (or crashed) process left behind."""
        if self.mode != "hugepages" or not self.dir:
            return
        for f in os.listdir(self.dir):
            if f.startswith(file_prefix):
                try:
                    os.unlink(os.path.join(self.dir, f))
                except OSError:
                    pass

    @property
    def zero_copy(self):
        return ",zero-copy=yes" if self.mode == "hugepages" else ""

    def describe(self):
        return ("hugepages, memif clients zero-copy" if self.mode == "hugepages"
                else f"--no-huge, memif copy mode{' (' + self.why + ')' if self.why else ''}")

    def release(self):
        if not self.owned:
            return
        if self.dir:
            subprocess.run(["umount", self.dir], capture_output=True)
            self.dir = None
        if self.old is not None:
            try:
                with open("/proc/sys/vm/nr_hugepages", "w") as f:
                    f.write(str(self.old))
            except OSError:
                pass
            self.old = None


