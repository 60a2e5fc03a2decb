"""Benchmark loganalyzer against the MTA's own report tool on a synthetic, realistic log (issues 4 and 5).

What is measured
================

1. **The input.** A deterministic (seeded) log of a busy MX + submission host
   over several days, written once into ``--workdir`` under a name made of the
   MTA, generator version, seed, size and generator options, and reused while
   it exists:

   * ``--mta postfix`` (:mod:`.postfix`): BSD syslog of whole SMTP sessions
     (port 25, submission, postscreen) with consistent ``disconnect``
     statistics, queue-id lifecycles, deferrals with retries, bounces, amavis,
     postgrey, OpenDKIM/OpenDMARC/policyd-spf lines and a few percent of lines
     from programs loganalyzer does not model. About 150 bytes a line, so the
     default 1,270,000 lines make the ~190 MB log of issue 5's protocol.
   * ``--mta exim`` (:mod:`.exim`): Exim's own mainlog of arrivals, local and
     remote deliveries, deferrals and queue runs, bounces, greylisting and
     other ACL rejections, TLS errors, AUTH attacks, protocol errors, probes
     and DKIM lines. Exim 4.96 (6-6-2 message ids) is upgraded to 4.97.1
     (6-11-4) after ``--exim-upgrade-hours``; Debian's log_selector gains
     ``+smtp_connection +smtp_no_mail +pid +incoming_port +incoming_interface
     +dkim_verbose`` after ``--exim-extras-hours``. About 145 bytes a line.

   Client addresses come from ``10.0.0.0/8`` and the documentation ranges;
   names use ``example`` domains.
2. **The runs.** Each tool runs in a fresh child process, spawned by a small
   helper (``python -S -I``, about 8 MB) rather than by the benchmark: Linux
   charges a child with the peak RSS of the process that spawned it, and the
   benchmark has polars loaded (~130 MB), which would hide every smaller figure.
   Wall time is taken around ``posix_spawn`` .. ``os.wait4`` and peak RSS is
   the ``ru_maxrss`` that ``wait4`` returns for that child alone. Tools run
   alternately, ``--runs`` times each (every other round in reverse order, so
   that no command always follows the same one), after one read of the log(s)
   to warm the page cache:

   * ``loganalyzer parse --stats FILE`` (mode ``parse``), which also says how
     many lines loganalyzer left unparsed;
   * ``loganalyzer scan --no-dns FILE`` (mode ``scan``; DNS would time the
     network). An honest first run: when ``scan --help`` lists ``--cache-dir``,
     each timed run gets a fresh, empty cache directory, so the figure includes
     writing the parse cache as a real first scan does;
   * ``scan-cached``: one untimed scan fills a cache directory, then the timed
     scans of the unchanged file use it. Without ``--cache-dir`` this is just
     a repeated scan. Every loganalyzer child also gets ``XDG_CACHE_HOME`` set
     to its run's directory, so no run can see another's cache;
   * the baseline, ``pflogsumm FILE > /dev/null`` (Debian package
     ``pflogsumm``) or ``eximstats FILE > /dev/null`` (package ``exim4-base``,
     which installs no daemon); skipped with a message when not installed;
   * with ``--growth``, ``scan`` on a 4x larger log of the same seed as well.

   ``--jobs N`` is passed to loganalyzer. ``loganalyzer`` is the console
   script next to ``sys.executable`` (the same virtualenv), or that
   interpreter running ``loganalyzer.cli.main``.
3. **The figures.** Per tool: median wall seconds, lines/s (lines / median
   wall), median peak RSS in MB and the ratio of its wall time to the
   baseline's, both as the ratio of the medians (what the targets use) and as
   the median of each round's ratio (``paired``: steadier when the machine's
   speed drifts, as a virtual machine's does); the machine (CPU model, cores, Python, polars, baseline
   version); loganalyzer's unparsed lines; for eximstats, how many of the
   log's arrivals it counted.
4. **The targets** of issue 5, each with the measured figure and pass/FAIL
   (:mod:`.targets`): scan wall / baseline wall <= 0.33, scan >= 450,000
   lines/s, peak RSS <= 400 MB, scan's peak RSS on the 4x log <= 1.5x that on
   the 1x log, scan-cached wall < 1/4 of scan's. Unmeasured targets say so.

eximstats as shipped with Exim 4.96 (Debian 12) reads message ids at fixed
16-character offsets, so it skips every line with a 4.97 id: the benchmark
reports how many arrivals it counted and, when it missed some, says so. Use
``--exim-upgrade-hours never`` for a log it reads completely.

Reproduce
=========

::

    apt-get install --no-install-recommends pflogsumm exim4-base
    python -m loganalyzer.bench                          # issue 5: Postfix, 1.27M lines, all modes, 3 runs
    python -m loganalyzer.bench --growth                 # and the 4x log for the memory-growth target
    python -m loganalyzer.bench --mta exim               # issue 4: Exim mainlog against eximstats
    python -m loganalyzer.bench --mta exim --exim-upgrade-hours never   # all 4.96 ids, read fully by eximstats 4.96
    python -m loganalyzer.bench --lines 200000 --runs 1 --mode scan,scan-cached --json
    python -m loganalyzer.bench --mta exim --generate-only --lines 3000   # just write the log
"""

from .command import GROWTH_FACTOR, main
from .exim import EXTRA_SELECTORS, iter_exim_lines
from .logs import (
    DEFAULT_LINES,
    GENERATOR_VERSIONS,
    EximOptions,
    GeneratedLog,
    count_lines,
    ensure_log,
    generate_exim,
    generate_postfix,
)
from .postfix import iter_postfix_lines
from .runs import BASELINES, MODES, Measurement, ToolResult, machine_info, measure, run_benchmark
from .targets import TARGETS, Check, Target, check_targets, figures

__all__ = [
    "BASELINES",
    "DEFAULT_LINES",
    "EXTRA_SELECTORS",
    "GENERATOR_VERSIONS",
    "GROWTH_FACTOR",
    "MODES",
    "TARGETS",
    "Check",
    "EximOptions",
    "GeneratedLog",
    "Measurement",
    "Target",
    "ToolResult",
    "check_targets",
    "count_lines",
    "ensure_log",
    "figures",
    "generate_exim",
    "generate_postfix",
    "iter_exim_lines",
    "iter_postfix_lines",
    "machine_info",
    "main",
    "measure",
    "run_benchmark",
]
