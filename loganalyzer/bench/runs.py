"""Timing the tools: each run a fresh child process, wall time and its own peak RSS.

A tiny helper process spawns each command: wall time is taken around
``posix_spawn`` .. ``os.wait4``, and peak RSS is the ``ru_maxrss`` that
``wait4`` returns for that child alone (not for earlier children, as
``RUSAGE_CHILDREN`` would). Tools run alternately so that a busy spell of a
shared machine slows all of them, not one, and every other round runs them
in reverse order (:func:`round_order`).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .logs import GeneratedLog

__all__ = [
    "BASELINES",
    "MODES",
    "Baseline",
    "BenchRun",
    "Measurement",
    "ToolResult",
    "eximstats_received",
    "find_baseline",
    "loganalyzer_argv",
    "machine_info",
    "measure",
    "round_order",
    "run_benchmark",
    "scan_options",
]

#: loganalyzer commands the benchmark can time.
MODES = ("parse", "scan", "scan-cached")


@dataclass(frozen=True)
class Measurement:
    """One run of one command: wall seconds, the child's peak RSS, its output."""

    wall_s: float
    peak_rss_kb: int
    stdout: str = ""


#: The measuring helper, run as ``python -S -I -c _SPAWN OUT ERR ARGV...``. Linux charges a
#: spawned child with the peak RSS of the process that spawned it (exec folds the old
#: address space's high-water mark into the child's ``ru_maxrss``), so a child of the
#: benchmark itself, which has polars loaded, would never report less than ~130 MB. This
#: helper imports nothing and is about 8 MB: that is the floor of every figure instead.
_SPAWN = """
import os, sys, time
out, err, *argv = sys.argv[1:]
flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
actions = [
    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
    (os.POSIX_SPAWN_OPEN, 1, out, flags, 0o600),
    (os.POSIX_SPAWN_OPEN, 2, err, flags, 0o600),
]
began = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - began
print(wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def measure(argv: Sequence[str], *, capture: bool = False, env: Mapping[str, str] | None = None) -> Measurement:
    """Run ``argv`` in a fresh process; its wall time and its own peak RSS (``wait4``).

    A small helper process spawns the command and times it (see ``_SPAWN``).
    Standard output is kept with ``capture``, else discarded; ``env`` is added
    to this process's environment. A non-zero exit raises ``RuntimeError`` with
    the end of standard error.
    """
    child_env = {**os.environ, **env} if env else None
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        out = os.path.join(tmp, "stdout") if capture else os.devnull
        err = os.path.join(tmp, "stderr")
        helper = [sys.executable, "-S", "-I", "-c", _SPAWN, out, err, *argv]
        done = subprocess.run(helper, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=child_env)
        fields = done.stdout.split()
        if done.returncode != 0 or len(fields) != 3:
            raise RuntimeError(f"could not run {' '.join(argv)}:\n{done.stderr[-2000:]}")
        wall, rss, code = float(fields[0]), int(fields[1]), int(fields[2])
        if code != 0:
            with open(err, encoding="utf-8", errors="replace") as fh:
                tail = fh.read()[-2000:]
            raise RuntimeError(f"{' '.join(argv)} exited {code}:\n{tail}")
        text = ""
        if capture:
            with open(out, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    return Measurement(wall, rss // 1024 if sys.platform == "darwin" else rss, text)


@dataclass
class ToolResult:
    """Every run of one tool on one log."""

    name: str
    argv: list[str]
    lines: int
    runs: list[Measurement] = field(default_factory=list)
    role: str = "loganalyzer"  # loganalyzer | baseline | growth | reference (the Postfix log beside an Exim one)
    cache: str | None = None  # what --cache-dir each run gets: "a fresh empty dir" or "the filled dir"

    @property
    def median_wall_s(self) -> float:
        return statistics.median(m.wall_s for m in self.runs)

    @property
    def median_rss_mb(self) -> float:
        return statistics.median(m.peak_rss_kb for m in self.runs) / 1024

    @property
    def lines_per_s(self) -> float:
        wall = self.median_wall_s
        return self.lines / wall if wall else 0.0

    def paired_ratio(self, other: ToolResult) -> float | None:
        """Median over rounds of this tool's wall time divided by ``other``'s in the same round.

        The tools run alternately, so a spell in which the machine runs slow
        (a virtual machine's neighbours) slows both runs of a round: the ratio
        of the pair is steadier than the ratio of the two medians.
        """
        pairs = [a.wall_s / b.wall_s for a, b in zip(self.runs, other.runs, strict=False) if b.wall_s > 0]
        return statistics.median(pairs) if pairs else None

    def paired_speed_ratio(self, other: ToolResult) -> float | None:
        """Median over rounds of this tool's lines/s divided by ``other``'s in the same round (two logs).

        Per round that is ``other``'s wall time over this one's, scaled by the two line counts.
        """
        inverse = other.paired_ratio(self)
        return inverse * self.lines / other.lines if inverse is not None and other.lines else None

    def to_dict(self, baseline: ToolResult | None) -> dict[str, Any]:
        wall = self.median_wall_s
        compared = baseline is not None and baseline is not self and self.role not in ("growth", "reference")
        ratio = wall / baseline.median_wall_s if compared and baseline else None
        paired = self.paired_ratio(baseline) if compared and baseline else None
        return {
            "tool": self.name,
            "role": self.role,
            "command": self.command(),
            "lines": self.lines,
            "runs": len(self.runs),
            "wall_s": [round(m.wall_s, 3) for m in self.runs],
            "peak_rss_mb": [round(m.peak_rss_kb / 1024, 1) for m in self.runs],
            "median_wall_s": round(wall, 3),
            "lines_per_s": round(self.lines_per_s) if wall else None,
            "median_peak_rss_mb": round(self.median_rss_mb, 1),
            "wall_ratio_vs_baseline": round(ratio, 3) if ratio is not None else None,
            "paired_ratio_vs_baseline": round(paired, 3) if paired is not None else None,
        }

    def command(self) -> list[str]:
        """The command line as run, with the cache directory described rather than named."""
        if self.cache is None:
            return list(self.argv)
        return [*self.argv[:-1], "--cache-dir", f"<{self.cache}>", self.argv[-1]]


def loganalyzer_argv() -> list[str]:
    """The ``loganalyzer`` command of this interpreter's environment."""
    script = Path(sys.executable).parent / "loganalyzer"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-c", "import sys; from loganalyzer.cli import main; sys.argv[0] = 'loganalyzer'; main()"]


@dataclass(frozen=True)
class Baseline:
    """The report tool an MTA's admins already run, and where Debian puts it."""

    name: str
    package: str
    mta: str

    @property
    def install(self) -> str:
        return f"apt-get install --no-install-recommends {self.package}"


BASELINES = {
    "postfix": Baseline("pflogsumm", "pflogsumm", "postfix"),
    "exim": Baseline("eximstats", "exim4-base", "exim"),
}


def find_baseline(name: str) -> str | None:
    """The script ``name`` (usually in /usr/sbin, which is not always on PATH)."""
    found = shutil.which(name)
    if found:
        return found
    for directory in ("/usr/sbin", "/usr/local/sbin", "/usr/bin"):
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def baseline_version(name: str, path: str) -> str | None:
    """``pflogsumm 1.1.5`` or ``eximstats 4.96`` (eximstats reports the Exim build it came with)."""
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    text = (done.stdout or done.stderr).strip()
    build = re.search(r"^build:\s*(\S+)", text, re.MULTILINE)
    if build:
        return f"{name} {build.group(1)}"
    first = text.splitlines()
    return first[0] if first else None


def scan_options() -> set[str]:
    """The long options ``loganalyzer scan --help`` lists (``--cache-dir`` is newer than the benchmark)."""
    try:
        done = subprocess.run(
            [*loganalyzer_argv(), "scan", "--help"], capture_output=True, text=True, timeout=120, check=False
        )
    except OSError:
        return set()
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", done.stdout))


def machine_info() -> dict[str, Any]:
    """CPU model, cores, Python, polars and loganalyzer versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    def dist(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "cpu": cpu,
        "nproc": cores,
        "python": platform.python_version(),
        "polars": dist("polars"),
        "loganalyzer": dist("loganalyzer"),
        "platform": platform.platform(),
    }


def _stat(text: str, label: str) -> int | None:
    found = re.search(rf"^{label}\s+([\d,]+)", text, re.MULTILINE)
    return int(found.group(1).replace(",", "")) if found else None


def parse_stats(text: str) -> dict[str, int | None]:
    """Lines read and unparsed lines (unknown shapes + lines that are not log lines) in a ``--stats`` summary."""
    shapes = _stat(text, "unparsed")
    other = re.search(r"; ([\d,]+) not log lines", text)
    unparsed = None if shapes is None else shapes + (int(other.group(1).replace(",", "")) if other else 0)
    return {"lines": _stat(text, "lines read"), "unparsed": unparsed}


def eximstats_received(text: str) -> int | None:
    """Messages eximstats counted as received (its grand total summary), or ``None`` when absent."""
    found = re.search(r"^\s*Received\s+\S+\s+(\d+)", text, re.MULTILINE)
    return int(found.group(1)) if found else None


def _byte_compile() -> None:
    """Compile the package's bytecode, as ``pip install`` leaves it.

    An editable install writes it on first import, unless ``PYTHONDONTWRITEBYTECODE``
    is set (as in some containers): then every timed process, each parse worker
    too, would compile the package's source again, 0.05-0.08 s of CPU each. A
    package that cannot be written to (a system install) keeps what it has.
    """
    import compileall

    import loganalyzer

    compileall.compile_dir(Path(loganalyzer.__file__).parent, quiet=1)


def _warm(path: Path) -> None:
    with path.open("rb") as fh:
        while fh.read(16 << 20):
            pass


@dataclass
class BenchRun:
    """What :func:`run_benchmark` measured."""

    results: list[ToolResult]
    counted: dict[str, int | None]
    cache_dir_option: bool
    notes: list[str] = field(default_factory=list)
    baseline_output: str = ""  # standard output of the baseline's first run

    def tool(self, name: str) -> ToolResult | None:
        return next((r for r in self.results if r.name == name), None)

    @property
    def baseline(self) -> ToolResult | None:
        return next((r for r in self.results if r.role == "baseline"), None)


def round_order(tools: list[ToolResult], index: int) -> list[ToolResult]:
    """The tools in the order of round ``index``: as given, then reversed, and so on.

    With one fixed order the same command always runs right after the same
    one (Postfix's ``parse`` after eximstats, say), and whatever that
    neighbour leaves behind -- a warm or cold cache, a busy or idle spell of
    the host -- would weigh on one side of a paired ratio every round.
    Reversing every other round gives each command each neighbour as often.
    """
    return list(tools) if index % 2 == 0 else tools[::-1]


class _CacheDirs:
    """Cache directories for loganalyzer's children, under the work directory.

    A first run must pay for writing the parse cache, as a real first scan
    does, so each timed run that is not ``scan-cached`` gets a fresh, empty
    directory, removed afterwards; ``scan-cached`` runs share one directory
    that an untimed scan filled. The directory is passed as ``--cache-dir``
    when ``scan`` has that option, and as ``XDG_CACHE_HOME`` (the cache's
    default root) in any case, so no run can find another run's entries.
    """

    def __init__(self, workdir: Path, option: bool) -> None:
        self.workdir = workdir
        self.option = option
        self.shared: Path | None = None

    def fresh(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="bench-cache-", dir=self.workdir))

    def shared_dir(self) -> Path:
        if self.shared is None:
            self.shared = self.fresh()
        return self.shared

    def argv(self, argv: list[str], directory: Path) -> list[str]:
        """``argv`` (a scan command ending in the log path) with ``--cache-dir`` when scan has it."""
        if not self.option or "scan" not in argv:
            return argv
        return [*argv[:-1], "--cache-dir", str(directory / "loganalyzer"), argv[-1]]

    @staticmethod
    def entries(directory: Path) -> set[str]:
        """What the cache directory holds: a hit adds nothing, a miss stores a new entry."""
        try:
            return set(os.listdir(directory / "loganalyzer"))
        except OSError:
            return set()

    def cleanup(self) -> None:
        if self.shared is not None:
            shutil.rmtree(self.shared, ignore_errors=True)
            self.shared = None


FRESH = "a fresh empty dir"
#: The tool that parses the Postfix log beside an Exim one.
REFERENCE = "loganalyzer parse (Postfix log)"


def _command(mode: str, base: list[str], jobs: int | None, path: Path) -> list[str]:
    extra = ["--jobs", str(jobs)] if jobs else []
    if mode == "parse":
        return [*base, "parse", "--stats", *extra, str(path)]
    # DNS lookups would time the network (or its timeouts), not loganalyzer.
    return [*base, "scan", "--no-dns", *extra, str(path)]


def run_benchmark(
    log: GeneratedLog,
    *,
    modes: Sequence[str] = MODES,
    runs: int = 3,
    jobs: int | None = None,
    baseline: tuple[str, str] | None = None,
    growth: GeneratedLog | None = None,
    reference: GeneratedLog | None = None,
    workdir: str | Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> BenchRun:
    """Time each loganalyzer mode and the baseline, alternately, ``runs`` times.

    ``baseline`` is (name, path) of pflogsumm or eximstats, run as
    ``baseline FILE > /dev/null``. ``growth`` is a larger log on which
    ``scan`` is timed too, for its peak RSS. ``reference`` is a Postfix log
    on which ``parse --stats`` is timed in each round too, beside an Exim log
    (issue 4: Exim read at least as fast). ``scan-cached`` first fills a
    cache with one untimed scan. Returns the results and what loganalyzer
    counted (``lines``, ``unparsed``) in its first ``parse --stats`` run.
    """
    unknown = set(modes) - set(MODES)
    if unknown:
        raise ValueError(f"unknown mode(s) {', '.join(sorted(unknown))}; choose from {', '.join(MODES)}")
    base = loganalyzer_argv()
    option = "--cache-dir" in scan_options()
    caches = _CacheDirs(Path(workdir) if workdir else log.path.parent, option)
    tools: list[ToolResult] = []
    for mode in modes:
        cache = None if mode == "parse" or not option else "the filled dir" if mode == "scan-cached" else FRESH
        tools.append(ToolResult(f"loganalyzer {mode}", _command(mode, base, jobs, log.path), log.lines, cache=cache))
    if baseline:
        name, path = baseline
        tools.append(ToolResult(name, [path, str(log.path)], log.lines, role="baseline"))
    if growth:
        argv = _command("scan", base, jobs, growth.path)
        tools.append(
            ToolResult(
                "loganalyzer scan (growth log)", argv, growth.lines, role="growth", cache=FRESH if option else None
            )
        )
    if reference:
        argv = _command("parse", base, jobs, reference.path)
        tools.append(ToolResult(REFERENCE, argv, reference.lines, role="reference"))
    bench = BenchRun(tools, {"lines": None, "unparsed": None}, option)
    if not option:
        bench.notes.append(
            "loganalyzer scan has no --cache-dir: each timed run gets a fresh XDG_CACHE_HOME instead, "
            "and scan-cached times repeated scans"
        )
    _byte_compile()
    for extra in (log, growth, reference):
        if extra:
            _warm(extra.path)
    try:
        if "scan-cached" in modes:
            fill = _command("scan", base, jobs, log.path)
            shared = caches.shared_dir()
            m = measure(caches.argv(fill, shared), env={"XDG_CACHE_HOME": str(shared)})
            progress(f"fill: scan to fill the cache         {m.wall_s:8.2f} s  {m.peak_rss_kb / 1024:8.1f} MB")
        for i in range(runs):
            for tool in round_order(tools, i):
                first = not tool.runs
                m, missed = _run_tool(tool, caches, capture=first)
                if missed:
                    bench.notes.append(
                        f"scan-cached run {i + 1} wrote a new cache entry instead of reusing the filled one; the "
                        "cache key covers loganalyzer's code, so was it edited during the benchmark?"
                    )
                if first and tool.name == "loganalyzer parse":
                    bench.counted = parse_stats(m.stdout)
                if first and tool.role == "baseline":
                    bench.baseline_output = m.stdout
                tool.runs.append(m)
                progress(f"run {i + 1}/{runs}: {tool.name:<30} {m.wall_s:8.2f} s  {m.peak_rss_kb / 1024:8.1f} MB")
    finally:
        caches.cleanup()
    return bench


def _run_tool(tool: ToolResult, caches: _CacheDirs, *, capture: bool) -> tuple[Measurement, bool]:
    """One run of ``tool``, and whether a ``scan-cached`` run missed the cache (it stored a new entry).

    ``capture`` keeps the tool's report (the first run's, to check what it counted).
    """
    if tool.role == "baseline":
        return measure(tool.argv, capture=capture), False
    if tool.name == "loganalyzer scan-cached":
        shared = caches.shared_dir()
        before = caches.entries(shared)
        m = measure(caches.argv(tool.argv, shared), capture=capture, env={"XDG_CACHE_HOME": str(shared)})
        return m, caches.option and bool(caches.entries(shared) - before)
    fresh = caches.fresh()
    try:
        return measure(caches.argv(tool.argv, fresh), capture=capture, env={"XDG_CACHE_HOME": str(fresh)}), False
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
