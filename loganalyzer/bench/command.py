"""``python -m loganalyzer.bench``: options, the runs, and the tables (or JSON) they print."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .exim import EXTRA_SELECTORS
from .logs import DEFAULT_LINES, GENERATOR_VERSIONS, MTAS, EximOptions, GeneratedLog, count_arrivals, ensure_log
from .runs import (
    BASELINES,
    MODES,
    BenchRun,
    baseline_version,
    eximstats_received,
    find_baseline,
    machine_info,
    run_benchmark,
)
from .targets import Check, check_targets, figures

__all__ = ["GROWTH_FACTOR", "build_parser", "main", "parse_modes"]

DEFAULT_WORKDIR = "bench-out"
#: Issue 5: a log this many times larger may need at most 1.5x the memory.
GROWTH_FACTOR = 4


def parse_modes(text: str) -> tuple[str, ...]:
    """``parse,scan``-style mode lists; ``both`` is parse and scan, ``all`` every mode."""
    names: list[str] = []
    for part in text.split(","):
        part = part.strip()
        expanded = {"both": ("parse", "scan"), "all": MODES}.get(part, (part,))
        for name in expanded:
            if name not in MODES:
                raise argparse.ArgumentTypeError(f"unknown mode {name!r} (choose from {', '.join(MODES)}, both, all)")
            if name not in names:
                names.append(name)
    if not names:
        raise argparse.ArgumentTypeError("give at least one mode")
    return tuple(names)


def _hours(text: str) -> float | None:
    """Hours after the start, or ``never``."""
    if text.strip().lower() == "never":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected hours or 'never', got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("hours must not be negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m loganalyzer.bench",
        description="Time loganalyzer (parse, scan, cached scan) against pflogsumm or eximstats on a generated log "
        "and check issue 5's targets.",
    )
    p.add_argument("--mta", choices=MTAS, default="postfix", help="log to generate and baseline (default %(default)s)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--lines", type=int, default=None, help=f"lines to generate (default {DEFAULT_LINES:,})")
    size.add_argument("--size-mb", type=float, default=None, help="generate this many MB instead of --lines")
    p.add_argument(
        "--workdir",
        default=DEFAULT_WORKDIR,
        help="where logs and caches are written; logs are reused (default %(default)s)",
    )
    p.add_argument("--seed", type=int, default=1, help="generator seed (default %(default)s)")
    p.add_argument("--hosts", type=int, default=1, help="Postfix servers logging into the file (default %(default)s)")
    p.add_argument(
        "--exim-upgrade-hours",
        type=_hours,
        default=EximOptions().upgrade_hours,
        metavar="HOURS|never",
        help="when Exim 4.96 becomes 4.97.1 (6-11-4 message ids); 0: from the start (default %(default)s)",
    )
    p.add_argument(
        "--exim-extras-hours",
        type=_hours,
        default=EximOptions().extras_hours,
        metavar="HOURS|never",
        help=f"when the log_selector gains {EXTRA_SELECTORS}; 0: from the start (default %(default)s)",
    )
    p.add_argument("--runs", type=int, default=3, help="timed runs of each tool (default %(default)s)")
    p.add_argument(
        "--mode",
        type=parse_modes,
        default=MODES,
        metavar="MODES",
        help=f"comma-separated loganalyzer commands to time: {', '.join(MODES)}; both = parse,scan; all (default)",
    )
    p.add_argument("--jobs", type=int, default=None, help="passed to loganalyzer as --jobs")
    p.add_argument(
        "--growth",
        action="store_true",
        help=f"also generate a {GROWTH_FACTOR}x larger log and compare scan's peak RSS on both",
    )
    p.add_argument(
        "--versus-postfix",
        action="store_true",
        help="with --mta exim: also time parse --stats on a Postfix log of the same size, in the same rounds",
    )
    p.add_argument(
        "--keep",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the generated logs in --workdir for the next run (default: keep)",
    )
    p.add_argument(
        "--no-baseline", "--no-pflogsumm", dest="no_baseline", action="store_true", help="do not run the baseline"
    )
    p.add_argument("--generate-only", action="store_true", help="write the log(s), print their figures, time nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    return p


def _file_info(log: GeneratedLog, args: argparse.Namespace) -> dict[str, Any]:
    info: dict[str, Any] = {
        "mta": args.mta,
        "path": str(log.path),
        "lines": log.lines,
        "bytes": log.bytes,
        "avg_line_bytes": round(log.avg_line_bytes, 1),
        "seed": args.seed,
        "generator_version": GENERATOR_VERSIONS[args.mta],
        "generated_s": round(log.seconds, 1) if log.seconds else None,
    }
    if args.mta == "postfix":
        info["hosts"] = args.hosts
    else:
        info["exim_upgrade_hours"] = args.exim_upgrade_hours
        info["exim_extras_hours"] = args.exim_extras_hours
    return info


def _fmt(value: float | None, key: str) -> str:
    if value is None:
        return "-"
    if key == "scan_lines_per_s" or value >= 1000:
        return f"{value:,.0f}"
    if key == "peak_rss_mb":
        return f"{value:.0f}"
    return f"{value:.2f}"


def render_results(bench: BenchRun) -> str:
    """The runs as a table: medians, lines/s, peak RSS and the ratio to the baseline."""
    from tabulate import tabulate

    baseline = bench.baseline
    rows = []
    for r in bench.results:
        d = r.to_dict(baseline)
        ratio, paired = d["wall_ratio_vs_baseline"], d["paired_ratio_vs_baseline"]
        rows.append(
            (
                r.name,
                f"{r.lines:,}",
                f"{d['median_wall_s']:.2f}",
                f"{d['lines_per_s']:,}" if d["lines_per_s"] else "-",
                f"{d['median_peak_rss_mb']:.0f}",
                f"{ratio:.2f}" if ratio is not None else "-",
                f"{paired:.2f}" if paired is not None else "-",
                f"{min(m.wall_s for m in r.runs):.2f}..{max(m.wall_s for m in r.runs):.2f}",
            )
        )
    name = baseline.name if baseline else "baseline"
    headers = ("tool", "lines", "median wall s", "lines/s", "peak RSS MB", f"wall / {name}", "paired", "wall min..max")
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def render_targets(checks: Sequence[Check], baseline: str) -> str:
    """The targets next to what was measured, with pass/FAIL."""
    from tabulate import tabulate

    rows = [
        (
            c.target.label.replace("baseline", baseline),
            _fmt(c.value, c.target.key),
            f"{c.target.op} {_fmt(c.target.limit, c.target.key)}",
            c.verdict,
        )
        for c in checks
    ]
    return tabulate(rows, headers=("target", "measured", "limit", "result"), tablefmt="simple")


def _coverage_note(bench: BenchRun, log: GeneratedLog) -> tuple[dict[str, Any] | None, str | None]:
    """Whether eximstats counted the messages the log holds; a note when it missed some."""
    baseline = bench.baseline
    if baseline is None or baseline.name != "eximstats":
        return None, None
    received = eximstats_received(bench.baseline_output)
    arrivals = count_arrivals(log.path)
    coverage = {"arrivals_in_log": arrivals, "eximstats_received": received}
    if received is None or received >= 0.99 * arrivals:
        return coverage, None
    note = (
        f"eximstats counted {received:,} of the log's {arrivals:,} arrivals: eximstats before Exim 4.97 reads "
        "message ids at fixed 16-character offsets and skips lines with 4.97's 23-character ids, so its time covers "
        "less work than loganalyzer's. For a like-for-like baseline use --exim-upgrade-hours never (all 4.96 ids)."
    )
    return coverage, note


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.mta == "exim" and args.hosts != 1:
        parser.error("--hosts is for Postfix: Exim writes one mainlog per host")
    if args.versus_postfix and args.mta != "exim":
        parser.error("--versus-postfix compares an Exim log with a Postfix one: use it with --mta exim")
    if args.lines is not None and args.lines < 1:
        parser.error("--lines must be at least 1")
    if args.size_mb is not None and args.size_mb <= 0:
        parser.error("--size-mb must be positive")

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    lines = args.lines if args.lines is not None or args.size_mb is not None else DEFAULT_LINES
    exim = EximOptions(args.exim_upgrade_hours, args.exim_extras_hours)
    common = {"mta": args.mta, "seed": args.seed, "hosts": args.hosts, "exim": exim}
    progress(f"log: preparing in {args.workdir} ...")
    log = ensure_log(args.workdir, lines=lines, size_mb=args.size_mb, **common)
    verb = f"generated in {log.seconds:.1f} s" if log.seconds else "reused"
    progress(
        f"log: {log.path} ({log.lines:,} lines, {log.bytes / 1e6:.1f} MB, {log.avg_line_bytes:.1f} bytes/line, {verb})"
    )
    growth = None
    if args.growth:
        big_lines = lines * GROWTH_FACTOR if lines is not None else None
        big_size = args.size_mb * GROWTH_FACTOR if args.size_mb is not None else None
        growth = ensure_log(args.workdir, lines=big_lines, size_mb=big_size, **common)
        verb = f"generated in {growth.seconds:.1f} s" if growth.seconds else "reused"
        progress(f"growth log: {growth.path} ({growth.lines:,} lines, {growth.bytes / 1e6:.1f} MB, {verb})")
    reference = None
    if args.versus_postfix:
        reference = ensure_log(args.workdir, lines=lines, size_mb=args.size_mb, **(common | {"mta": "postfix"}))
        verb = f"generated in {reference.seconds:.1f} s" if reference.seconds else "reused"
        progress(f"Postfix log: {reference.path} ({reference.lines:,} lines, {reference.bytes / 1e6:.1f} MB, {verb})")
    file_info = _file_info(log, args)
    growth_info = _file_info(growth, args) if growth else None
    machine = machine_info()
    logs = [g for g in (log, growth, reference) if g]
    try:
        if args.generate_only:
            if args.json:
                print(json.dumps({"machine": machine, "file": file_info, "growth_file": growth_info}, indent=2))
            else:
                print("\n".join(str(g.path) for g in logs))
            return 0
        return _bench(args, log, growth, reference, machine, file_info, growth_info, progress)
    except RuntimeError as exc:  # a tool failed: say which, with the end of its standard error
        progress(f"error: {exc}")
        return 1
    finally:
        if not args.keep:
            for g in logs:
                g.path.unlink(missing_ok=True)


def _bench(
    args: argparse.Namespace,
    log: GeneratedLog,
    growth: GeneratedLog | None,
    reference: GeneratedLog | None,
    machine: dict[str, Any],
    file_info: dict[str, Any],
    growth_info: dict[str, Any] | None,
    progress: Callable[[str], None],
) -> int:
    spec = BASELINES[args.mta]
    path = None if args.no_baseline else find_baseline(spec.name)
    if path is None and not args.no_baseline:
        progress(
            f"{spec.name} not found: skipping the comparison. Install it with `{spec.install}` "
            f"(Debian/Ubuntu package {spec.package})."
        )
    machine["baseline"] = baseline_version(spec.name, path) if path else None
    modes = list(args.mode)
    if growth and "scan" not in modes:
        modes.append("scan")  # the growth ratio compares with scan on the 1x log
    if reference and "parse" not in modes:
        modes.insert(0, "parse")  # the Postfix log's parse is compared with the Exim log's
    bench = run_benchmark(
        log,
        modes=modes,
        runs=args.runs,
        jobs=args.jobs,
        baseline=(spec.name, path) if path else None,
        growth=growth,
        reference=reference,
        workdir=args.workdir,
        progress=progress,
    )
    coverage, note = _coverage_note(bench, log)
    if note:
        bench.notes.append(note)
    checks = check_targets(figures(bench.results))
    baseline = bench.baseline
    if args.json:
        print(
            json.dumps(
                {
                    "machine": machine,
                    "file": file_info,
                    "growth_file": growth_info,
                    "reference_file": {"path": str(reference.path), "lines": reference.lines, "bytes": reference.bytes}
                    if reference
                    else None,
                    "runs": args.runs,
                    "jobs": args.jobs,
                    "modes": modes,
                    "cache_dir_option": bench.cache_dir_option,
                    "loganalyzer_counted": bench.counted,
                    "baseline": spec.name if baseline else None,
                    "baseline_coverage": coverage,
                    "results": [r.to_dict(baseline) for r in bench.results],
                    "targets": [c.to_dict() for c in checks],
                    "notes": bench.notes,
                },
                indent=2,
            )
        )
        return 0
    from tabulate import tabulate

    counted = bench.counted
    unparsed = "-" if counted["unparsed"] is None else f"{counted['unparsed']:,}"
    if counted["unparsed"] is not None and counted["lines"]:
        unparsed += f" of {counted['lines']:,} lines"
    if args.mta == "exim":
        upgrade, extras = args.exim_upgrade_hours, args.exim_extras_hours
        generator = (
            ("Exim 4.96 throughout" if upgrade is None else f"Exim 4.96 -> 4.97.1 at {upgrade:g}h")
            + ", "
            + ("Debian's log_selector only" if extras is None else f"extra selectors from {extras:g}h")
        )
    else:
        generator = f"{args.hosts} host(s)"
    cache = (
        "scan: fresh empty --cache-dir per run; scan-cached: one dir filled by an untimed scan"
        if bench.cache_dir_option
        else "scan has no --cache-dir (fresh XDG_CACHE_HOME per run)"
    )
    info = [
        ("cpu", f"{machine['cpu']} ({machine['nproc']} cores)"),
        ("python / polars", f"{machine['python']} / {machine['polars']}"),
        ("loganalyzer", f"{machine['loganalyzer']}" + (f" --jobs {args.jobs}" if args.jobs else "")),
        (spec.name, machine["baseline"] or f"not run ({spec.install})"),
        ("log", f"{log.path} (seed {args.seed}; {generator})"),
        ("size", f"{log.lines:,} lines, {log.bytes / 1e6:.1f} MB, {log.avg_line_bytes:.1f} bytes/line"),
    ]
    if growth:
        info.append(("growth log", f"{growth.path} ({growth.lines:,} lines, {growth.bytes / 1e6:.1f} MB)"))
    if reference:
        info.append(("Postfix log", f"{reference.path} ({reference.lines:,} lines, {reference.bytes / 1e6:.1f} MB)"))
    info += [
        ("unparsed", unparsed),
        ("cache", cache),
        ("runs", f"{args.runs} per tool, alternating; medians below"),
    ]
    if coverage and coverage["eximstats_received"] is not None:
        info.append(
            ("eximstats read", f"{coverage['eximstats_received']:,} of {coverage['arrivals_in_log']:,} arrivals")
        )
    print(tabulate(info, tablefmt="plain"))
    print()
    print(render_results(bench))
    print()
    print(render_targets(checks, baseline.name if baseline else "baseline"))
    for text in bench.notes:
        print(f"\nnote: {text}")
    return 0
