"""Lines to typed event rows, in bulk, with the compiled grammars.

One batch of lines goes through three steps, each a handful of polars
expressions over the whole batch:

1. **Envelope** -- the envelope plans are tried in order, each on the lines the
   previous ones left; a line no envelope fits is ``unparsed`` (``no-envelope``).
   A plan is tested without captures before it captures, unless a sample of
   the lines all match it (once the parser has seen a batch: unless nearly all
   the lines matched it last time): a failed capture costs several times a test.
2. **Dispatch** -- the daemon (last component of the syslog tag) picks the
   grammar family; lines of programs we do not model become ``other-program``
   events. Per family prefix, a capture-free search finds the prefix (queue id)
   and the longest dispatch key.
3. **Kinds** -- each (family, key) group runs the plan of its first candidate
   kind; rows it fails go to the next candidate (kinds sharing the key, then
   those of shorter keys), again tested before captured: for a text every line of
   the kind contains, when it has one the key does not already say, else by its
   regex. Rows no candidate takes are ``unparsed`` (``unknown-shape``).

Result rows are grouped by kind ("parts"): each part has only the columns its
grammar can fill, cast to the types in :mod:`loganalyzer.schema`. Given a
:class:`~loganalyzer.timestamps.ChunkTimes`, the batch's timestamps are settled
to UTC in one pass (year-less ones in a provisional year the reader may still
correct).

:func:`parse_line` is the same pipeline on one line with pyparsing itself, for
``loganalyzer explain`` and the differential test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property

import polars as pl
import pyparsing as pp

from .grammars import DAEMONS, ENVELOPES, EXIM_INNER, FAMILIES, daemon_of
from .grammars.elements import END, Family, Kind, opt, seq, text
from .plans import HEAD, Plan, compile_plan, dispatch_keys, escape, required_literals, to_regex
from .schema import EVENTS
from .timestamps import YEARLESS, ChunkTimes, iso_to_utc, local_columns, yearless_columns

__all__ = ["BatchResult", "LineResult", "Parser", "parse_line"]

OTHER_PROGRAM = "other-program"
NO_ENVELOPE = "no-envelope"
UNKNOWN_SHAPE = "unknown-shape"

#: Rows of a group tried against a plan to decide whether testing the whole group is worth it.
SAMPLE = 256
#: The fewest characters (spaces aside) of a text a candidate's lines are tested for (:meth:`Candidate.needle`).
NEEDLE = 4

#: Columns every event part starts with (besides its grammar's fields).
BASE = ("seq", "line_no", "ts", "_year", *YEARLESS, "host", "program", "daemon", "pid", "kind")


@dataclass(frozen=True)
class Candidate:
    """A kind of one family, with the compiled plan of its body.

    The family prefix (``QUEUEID: ``) is read once by the dispatch regex, so the
    plan covers only the body: it runs on the text after the prefix, except for
    kinds that never carry one (``prefix == "none"``), which see the whole
    message exactly as their grammar does.
    """

    family: str
    kind: Kind
    plan: Plan
    part: str  # key of the output part: family/kind-index
    literals: tuple[str, ...] = ()  # texts every line it takes contains (:func:`~loganalyzer.plans.required_literals`)

    @property
    def name(self) -> str:
        return self.kind.name

    def needle(self, key: str) -> str | None:
        """A text to test the lines of dispatch key ``key`` for, before capturing: the longest that
        every line this kind takes contains and that the key does not already say (each line of the
        key starts with it); None when no such text is long enough to tell lines apart."""
        return next((t for t in self.literals if len(t.strip()) >= NEEDLE and t not in key), None)


@dataclass(frozen=True)
class Dispatch:
    """How the lines of one family prefix find their prefix, queue id, body and dispatch key.

    Whole matches without capture groups are found by the regex engine's DFA, far
    cheaper than captures on a pattern of a hundred alternatives; only the short
    prefix text is captured, for its queue id.
    """

    find_prefix: str | None  # the family prefix (``QUEUEID: ``), optional on every line
    prefix_fields: str | None  # the same with its named groups
    find_key: str  # the longest dispatch key at the start of the body

    def apply(self, group: pl.DataFrame) -> pl.DataFrame:
        """``group`` with ``_queue_id``, ``_body`` (the message after the prefix) and ``_key``."""
        msg = group.get_column("msg")
        queue_id = pl.repeat(None, len(msg), dtype=pl.String, eager=True).alias("_queue_id")  # no Python list
        body = msg
        if self.find_prefix is not None and self.prefix_fields is not None:
            prefix = msg.str.extract_all(self.find_prefix).list.first()
            if prefix.is_not_null().any():
                fields = prefix.str.extract_groups(self.prefix_fields).struct.unnest()
                if "queue_id" in fields.columns:
                    queue_id = fields.get_column("queue_id").alias("_queue_id")
                body = pl.select(msg.str.slice(prefix.str.len_chars().fill_null(0))).to_series()
        key = body.str.extract_all(self.find_key).list.first().fill_null("")
        return group.with_columns(key.alias("_key"), queue_id, body.alias("_body"))


def worth_testing(text: pl.Series, head: str) -> bool:
    """Whether to test ``text`` against a plan before capturing with it, or to capture at once.

    A match test costs a fraction of a capture and spares the rows that would
    fail it a failed capture, which costs several tests; on rows the plan
    takes, the test is wasted. Most groups are of one shape (a file of one
    envelope, a dispatch key of one kind): when a sample all matches, the
    whole group is captured at once. Either way the same rows match.
    """
    return not text.head(SAMPLE).str.contains(head).all()


@dataclass
class BatchResult:
    """What one batch produced: event parts by part key, and unparsed rows."""

    parts: dict[str, pl.DataFrame] = field(default_factory=dict)
    unparsed: pl.DataFrame | None = None


def _field_dtypes() -> dict[str, pl.DataType]:
    schema = EVENTS.polars()
    return dict(schema.items())


def _slice_from(text: pl.Series, start: pl.Series) -> pl.Series:
    """``text[start:]`` row by row (characters)."""
    return pl.DataFrame({"t": text, "n": start}).select(pl.col("t").str.slice(pl.col("n")))["t"]


class Parser:
    """The compiled grammars. Build once (compiling takes a few milliseconds)."""

    def __init__(self) -> None:
        self.envelopes = [(name, compile_plan(g)) for name, g in ENVELOPES]
        #: per envelope, a test (no captures) for "any of the envelopes before it": see ``_first_envelope``
        self.envelopes_before = [
            "^(?:" + "|".join(to_regex(g, capture=False) for _, g in ENVELOPES[:i]) + ")" for i in range(len(ENVELOPES))
        ]
        self.exim_inner = compile_plan(EXIM_INNER)
        self.candidates: dict[tuple[str, str], list[Candidate]] = {}
        self.dispatch: dict[str, Dispatch] = {}  # family prefix regex -> how to read prefix and key
        self.family_prefix: dict[str, str] = {}
        self.dtypes = _field_dtypes()
        by_prefix: dict[str, set[str]] = {}
        for fname, fam in FAMILIES.items():
            prefix = to_regex(fam.prefix, capture=False) if fam.prefix is not None else ""
            self.family_prefix[fname] = prefix
            keys = by_prefix.setdefault(prefix, set())
            for kind in fam.kinds:
                keys.update(dispatch_keys(kind.body))
        for prefix, keys in by_prefix.items():
            alternatives = "|".join(escape(k) for k in sorted(keys, key=lambda k: (-len(k), k)) if k)
            fields = f"^{to_regex(self._prefix_of(prefix))}" if prefix else None
            self.dispatch[prefix] = Dispatch(f"^(?:{prefix})" if prefix else None, fields, f"^(?:{alternatives})")
        self._compiled: dict[tuple[str, int], Candidate] = {}
        #: per envelope, or candidate of one dispatch key: whether its rows were last captured at once
        #: (see ``_tests_first``)
        self._at_once: dict[tuple[str, ...], bool] = {}
        #: candidates of one dispatch key whose needle let through lines their grammar did not take
        self._no_needle: set[tuple[str, ...]] = set()

    @staticmethod
    def _prefix_of(regex: str) -> pp.ParserElement:
        """The family prefix grammar whose non-capturing regex is ``regex``."""
        for fam in FAMILIES.values():
            if fam.prefix is not None and to_regex(fam.prefix, capture=False) == regex:
                return fam.prefix
        raise KeyError(regex)

    # -- candidates -----------------------------------------------------------

    def _candidate(self, fname: str, index: int) -> Candidate:
        key = (fname, index)
        if key not in self._compiled:
            fam = FAMILIES[fname]
            kind = fam.kinds[index]
            plan = compile_plan(seq(kind.body, END))
            self._compiled[key] = Candidate(fname, kind, plan, f"{fname}/{index}", required_literals(kind.body))
        return self._compiled[key]

    def candidates_for(self, fname: str, key: str) -> list[Candidate]:
        """Kinds of ``fname`` to try for dispatch ``key``: longest matching key first."""
        cache_key = (fname, key)
        if cache_key not in self.candidates:
            fam = FAMILIES[fname]
            ranked: list[tuple[int, int, int]] = []
            for i, kind in enumerate(fam.kinds):
                best = max((len(k) for k in dispatch_keys(kind.body) if key.startswith(k)), default=-1)
                if best >= 0:
                    ranked.append((-best, i, i))
            self.candidates[cache_key] = [self._candidate(fname, i) for _, _, i in sorted(ranked)]
        return self.candidates[cache_key]

    @cached_property
    def daemon_family(self) -> dict[str, str]:
        return dict(DAEMONS)

    # -- test or capture -----------------------------------------------------------

    def _tests_first(self, slot: tuple[str, ...], text: pl.Series, head: str) -> bool:
        """Whether to test ``text`` against a plan's ``head`` before capturing: as the rows of ``slot``
        (an envelope, or a candidate of one dispatch key) went the last time, else by a sample
        (:func:`worth_testing`).

        The sample costs about a millisecond (a regex compiled, 256 rows searched), and a
        chunk of an Exim log asks it some forty times, a Postfix one some thirty: 0.15 and
        0.1 us a line in the parse workers. A worker parses chunk after chunk of the same
        logs, whose groups go the same way each time, so after the first chunk each
        decision is the one the last rows of its group called for (:meth:`_went`). Either
        way the same rows match: only the cost differs.
        """
        at_once = self._at_once.get(slot)
        return worth_testing(text, head) if at_once is None else not at_once

    def _went(self, slot: tuple[str, ...], matched: pl.Series) -> None:
        """Remember how the rows of ``slot`` went (``matched``: a test's or a capture's mask): captured at
        once next time when nearly all of them matched (no more than one in :data:`SAMPLE` failed, about
        what a sample that all matched lets through), else tested first."""
        self._at_once[slot] = matched.sum() * SAMPLE > len(matched) * (SAMPLE - 1)

    # -- plans -------------------------------------------------------------------

    @staticmethod
    def run_plan(frame: pl.DataFrame, column: str, plan: Plan) -> tuple[pl.DataFrame, pl.Series]:
        """Apply ``plan`` to ``frame[column]``: (fields as strings, matched mask)."""
        text_col = frame.get_column(column)
        work = text_col + " " if plan.sentinel else text_col
        return Parser._run_part(work, text_col, plan, None)

    @staticmethod
    def _run_part(
        work: pl.Series, text_col: pl.Series, plan: Plan, offset: pl.Series | None
    ) -> tuple[pl.DataFrame, pl.Series]:
        """One plan of a chain on ``work`` (what the plans before it left of the line, plus the sentinel).

        ``offset`` is where ``work`` starts in ``text_col`` (None: at 0), so that free text is
        always sliced from the line itself, without the sentinel space.
        """
        caps = work.str.extract_groups(plan.head).struct.unnest()
        head = caps.get_column(HEAD)
        ok = head.is_not_null()
        out = caps.drop(HEAD)
        if plan.rest or plan.until or plan.then:
            taken = head.str.len_chars()
            end = taken if offset is None else offset + taken
            if plan.rest:
                out = out.with_columns(_slice_from(text_col, end).alias(plan.rest))
            elif plan.until:
                assert plan.then and plan.until_pattern
                rest = _slice_from(text_col, end)
                free = rest.str.replace(plan.until_pattern, "")
                trailer = _slice_from(rest, free.str.len_chars())
                sub, sub_ok = Parser._run_part(trailer, trailer, plan.then, None)
                ok = ok & sub_ok
                out = pl.concat([out.with_columns(free.alias(plan.until)), sub], how="horizontal")
            else:  # a cut: the next plan takes what this one left
                assert plan.then
                sub, sub_ok = Parser._run_part(_slice_from(work, taken), text_col, plan.then, end)
                ok = ok & sub_ok
                out = pl.concat([out, sub], how="horizontal")
        return out, ok.fill_null(False)

    # -- one batch ---------------------------------------------------------------

    def parse_batch(
        self, lines: pl.DataFrame, *, source: str, raw: bool = False, times: ChunkTimes | None = None
    ) -> BatchResult:
        """Parse ``lines`` (columns seq, line_no, line) from one source.

        With ``times`` every line's ``ts`` is settled to UTC in one pass over the
        batch (year-less ones in its provisional year); without, lines that need
        the year or the zone keep only their pending time columns.

        With ``raw`` the parts keep every field as the text the grammar matched
        (envelope fields prefixed ``env_``) instead of typed columns: the
        differential test compares that with pyparsing.
        """
        result = BatchResult()
        pending = lines
        enveloped: list[pl.DataFrame] = []
        for name, plan in self.envelopes[self._first_envelope(lines.get_column("line")) :]:
            if pending.is_empty():
                break
            rest = None
            slot = ("envelope", name)
            if self._tests_first(slot, pending.get_column("line"), plan.head):
                # a match test without captures is several times cheaper than a failed capture:
                # captures run only on the lines whose envelope this is (and the failures of ``until``)
                maybe = pending.get_column("line").str.contains(plan.head)
                self._went(slot, maybe)
                if not maybe.any():  # a file usually has one envelope: nothing to capture
                    continue
                rest, pending = pending.filter(~maybe), pending.filter(maybe)
            fields, ok = self.run_plan(pending, "line", plan)
            if rest is None:
                self._went(slot, ok)
            if ok.any():
                hit = pl.concat([pending.select("seq", "line_no"), fields], how="horizontal").filter(ok)
                frame = self._envelope_frame(hit, name)
                if raw:
                    frame = frame.hstack(hit.drop("seq", "line_no").rename(lambda c: f"env_{c}"))
                enveloped.append(frame)
            pending = pending.filter(~ok)
            if rest is not None:
                pending = pl.concat([rest, pending]).sort("seq") if not pending.is_empty() else rest
        unparsed = [self._unparsed(pending, NO_ENVELOPE)] if not pending.is_empty() else []
        if enveloped:
            env = pl.concat(enveloped, how="diagonal")
            self._parse_messages(env, result, unparsed, raw=raw, times=times)
        if unparsed:
            frame = pl.concat(unparsed, how="diagonal_relaxed")
            result.unparsed = frame.join(lines.select("seq", "line"), on="seq", how="left").rename({"line": "raw"})
        return result

    def _first_envelope(self, text: pl.Series) -> int:
        """Where the envelope loop may start: past the envelopes that no line of ``text`` has.

        A file has one envelope as a rule, and the loop tests the envelopes before it one by
        one (for an Exim file five, 0.2 us a line). When a sample of lines all has one
        envelope, the ones before it are tested together, in one pass; if no line has any
        of them, the loop starts at that envelope. The lines take the envelopes they would
        take in order.
        """
        sample = text.head(SAMPLE)
        for i, (_, plan) in enumerate(self.envelopes):
            if sample.str.contains(plan.head).all():
                return i if i and not text.str.contains(self.envelopes_before[i]).any() else 0
        return 0

    @staticmethod
    def _envelope_frame(hit: pl.DataFrame, name: str) -> pl.DataFrame:
        """The common envelope columns, whatever the envelope: time (or its pending parts), host, program, pid."""
        cols = hit.columns
        nothing = {
            "ts": pl.lit(None, dtype=pl.Datetime("us", "UTC")),
            "_year": pl.lit(None, dtype=pl.Int16),
            "_month": pl.lit(None, dtype=pl.Int8),
            "_day": pl.lit(None, dtype=pl.Int8),
            "_tod_us": pl.lit(None, dtype=pl.Int64),
            "_local": pl.lit(None, dtype=pl.Datetime("us")),
        }
        time: dict[str, pl.Expr] = dict(nothing)
        if "month" in cols:
            time.update(
                (e.meta.output_name(), e) for e in yearless_columns(pl.col("month"), pl.col("day"), pl.col("clock"))
            )
        elif "timestamp" in cols:
            time["ts"] = iso_to_utc(pl.col("timestamp"))
        elif "local_time" in cols:
            offset = pl.col("tz_offset") if "tz_offset" in cols else None
            time.update((e.meta.output_name(), e) for e in local_columns(pl.col("local_time"), offset))
        if "program" not in cols:  # Exim's own log files name no program
            hit = hit.with_columns(pl.lit("exim").alias("program"))
        if "host" not in cols:
            hit = hit.with_columns(pl.lit(None, dtype=pl.String).alias("host"))
        programs = hit.get_column("program").unique().to_list()
        daemons = {p: daemon_of(p) for p in programs if p is not None}
        program = pl.col("program")
        return hit.select(
            "seq",
            "line_no",
            *(e.alias(k) for k, e in time.items()),
            # categorical from here on: every later filter and gather moves ints, not text
            pl.col("host").cast(pl.Categorical),
            program.cast(pl.Categorical),
            program.replace_strict(daemons, default=None, return_dtype=pl.String).cast(pl.Categorical).alias("daemon"),
            pl.col("pid").cast(pl.Int32, strict=False),
            pl.col("msg"),
            # through syslog, Exim's own timestamp and split marker may start the message
            pl.lit(name != "exim").alias("_wrapped"),
        )

    def _parse_messages(
        self,
        env: pl.DataFrame,
        result: BatchResult,
        unparsed: list[pl.DataFrame],
        *,
        raw: bool = False,
        times: ChunkTimes | None = None,
    ) -> None:
        families = env.get_column("daemon").replace_strict(self.daemon_family, default=None, return_dtype=pl.String)
        env = env.with_columns(families.alias("_family"))
        wrapped = pl.col("_family").eq_missing("exim") & pl.col("_wrapped")  # no family: not Exim
        tails = None
        if env.select(wrapped.any()).item():
            exim, tails = self._exim_inner(env.filter(wrapped), raw=raw)
            env = pl.concat([env.filter(~wrapped), exim], how="diagonal_relaxed")
        env = env.drop("_wrapped")
        if times is not None:
            env = times.settle(env)
            tails = times.settle(tails, observe=False) if tails is not None else None
        if tails is not None and not tails.is_empty():
            self._emit(result, "continuation", tails.select(*BASE[:-1]).with_columns(kind=pl.lit("continuation")))
        modelled = env.filter(pl.col("_family").is_not_null())
        other = env.filter(pl.col("_family").is_null())
        if not other.is_empty():
            self._emit(result, OTHER_PROGRAM, other.drop("msg", "_family").with_columns(kind=pl.lit(OTHER_PROGRAM)))
        if modelled.is_empty():
            return
        prefixes = modelled.get_column("_family").replace_strict(self.family_prefix, return_dtype=pl.String)
        modelled = modelled.with_columns(prefixes.alias("_prefix"))
        keyed = []
        for (prefix,), group in modelled.group_by("_prefix", maintain_order=True):
            keyed.append(self.dispatch[str(prefix)].apply(group))
        work = pl.concat(keyed, how="diagonal_relaxed")
        for (fname, key), group in work.group_by("_family", "_key", maintain_order=True):
            rest = group
            candidates = self.candidates_for(str(fname), str(key))
            for cand in candidates:
                if rest.is_empty():
                    break
                skipped = None
                text = rest.get_column("msg" if cand.kind.prefix == "none" else "_body")
                # as for envelopes: test before capturing, when other kinds share the key (Exim's connection and
                # disconnection lines do) and the rows left do not all look like this kind's
                slot = (str(fname), str(key), cand.part)
                several = len(candidates) > 1  # (a key of one kind is always captured at once)
                tested = several and self._tests_first(slot, text, cand.plan.head)
                needle = None
                if tested:
                    # a text every line of the kind contains, if it has one, is searched for faster than
                    # its regex runs; lines that have it and still do not match fail the capture below
                    needle = cand.needle(str(key)) if slot not in self._no_needle else None
                    maybe = text.str.contains(needle, literal=True) if needle else text.str.contains(cand.plan.head)
                    self._went(slot, maybe)
                    if not maybe.any():  # the usual case for most later candidates: nothing to capture
                        continue
                    skipped, rest = rest.filter(~maybe), rest.filter(maybe)
                fields, ok = self._run_candidate(rest, cand)
                if several and not tested:
                    self._went(slot, ok)
                elif needle and ok.sum() * 2 < len(ok):  # the needle told too few lines apart: the regex next time
                    self._no_needle.add(slot)
                if ok.any():
                    hit = pl.concat([rest, fields], how="horizontal").filter(ok)
                    self._emit(result, cand.part, self._typed(hit, cand, raw=raw))
                rest = rest.filter(~ok)
                if skipped is not None and not skipped.is_empty():
                    rest = pl.concat([skipped, rest]) if not rest.is_empty() else skipped
            if not rest.is_empty():
                unparsed.append(self._unparsed_enveloped(rest))

    def _exim_inner(self, rows: pl.DataFrame, *, raw: bool) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        """Exim's own timestamp and ``[n/m]`` split marker off the message (syslog-wrapped Exim).

        Exim's timestamp carries the year: it replaces the syslog one. Split
        parts of one long line (same host and pid, numbered from 1) are joined
        into the first part; the others are returned apart, to become
        ``continuation`` events.
        """
        fields, _ = self.run_plan(rows, "msg", self.exim_inner)
        inner = rows.with_columns(fields.get_column("msg").alias("msg"))
        stamp = fields.get_column("exim_timestamp")
        if stamp.is_not_null().any():
            naive = stamp.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False)
            has = naive.is_not_null()
            inner = inner.with_columns(
                pl.when(has).then(naive).otherwise(pl.col("_local")).alias("_local"),
                *(pl.when(has).then(None).otherwise(pl.col(c)).alias(c) for c in ("ts", "_month", "_day", "_tod_us")),
            )
        if raw:
            inner = inner.with_columns(
                fields.get_column(c).alias(f"env_{c}") for c in ("exim_timestamp", "split_part", "split_total")
            )
        part = fields.get_column("split_part").cast(pl.Int32, strict=False)
        if part.is_null().all():
            return inner, None
        inner = inner.with_columns(part.alias("_part"))
        split = inner.filter(pl.col("_part").is_not_null()).sort("host", "pid", "seq")
        split = split.with_columns((pl.col("_part") == 1).cast(pl.Int32).cum_sum().over("host", "pid").alias("_joint"))
        heads = (
            split.filter(pl.col("_joint") > 0)
            .group_by("host", "pid", "_joint", maintain_order=True)
            .agg(pl.col("seq").first(), pl.col("msg").str.join(""))
        )
        joined = split.filter(pl.col("_part") == 1).drop("msg").join(heads.select("seq", "msg"), on="seq", how="left")
        tails = split.filter((pl.col("_joint") > 0) & (pl.col("_part") > 1)).drop("_part", "_joint")
        lone = split.filter(pl.col("_joint") == 0)  # parts whose first part is not in this batch
        whole = inner.filter(pl.col("_part").is_null())
        joined_all = pl.concat([whole, joined, lone], how="diagonal_relaxed").drop("_part", "_joint", strict=False)
        return joined_all, tails

    def _run_candidate(self, rows: pl.DataFrame, cand: Candidate) -> tuple[pl.DataFrame, pl.Series]:
        """Fields and matched mask of ``cand`` on ``rows``, with the family prefix rules."""
        has_prefix = rows.get_column("_queue_id").is_not_null()
        if cand.kind.prefix == "none":
            return self.run_plan(rows, "msg", cand.plan)
        fields, ok = self.run_plan(rows, "_body", cand.plan)
        if "queue_id" not in fields.columns:
            fields = fields.with_columns(rows.get_column("_queue_id").alias("queue_id"))
        if cand.kind.prefix == "required":
            ok = ok & has_prefix
        return fields, ok

    def _typed(self, hit: pl.DataFrame, cand: Candidate, *, raw: bool = False) -> pl.DataFrame:
        fields = cand.plan.all_fields()
        names = [n for n in ("queue_id", *fields) if n in hit.columns and (n in fields or n == "queue_id")]
        names = list(dict.fromkeys(names))
        if raw:
            envelope = [c for c in hit.columns if c.startswith("env_")]
            return hit.select(*BASE[:-1], pl.lit(cand.name).alias("kind"), *names, *envelope)
        casts = []
        for n in names:
            dtype = self.dtypes[n]
            col = pl.col(n)
            if dtype == pl.String:
                casts.append(col)
            elif dtype == pl.Categorical:
                casts.append(col.cast(pl.Categorical))
            else:
                casts.append(col.str.strip_chars().cast(dtype, strict=False))
        return hit.select(*BASE[:-1], pl.lit(cand.name).alias("kind"), *casts)

    @staticmethod
    def _emit(result: BatchResult, part: str, frame: pl.DataFrame) -> None:
        base = [c for c in BASE if c in frame.columns]
        text = [c for c in ("host", "program", "daemon", "kind") if frame.schema[c] == pl.String]
        cast = [pl.col(c).cast(pl.Categorical) for c in text]
        frame = frame.with_columns(cast).select(*base, *[c for c in frame.columns if c not in base])
        if part in result.parts:
            result.parts[part] = pl.concat([result.parts[part], frame])
        else:
            result.parts[part] = frame

    @staticmethod
    def _unparsed(frame: pl.DataFrame, problem: str) -> pl.DataFrame:
        return frame.select(
            "seq",
            "line_no",
            pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("ts"),
            pl.lit(None, dtype=pl.Int16).alias("_year"),
            *[
                pl.lit(None, dtype=dt).alias(c)
                for c, dt in (
                    ("_month", pl.Int8),
                    ("_day", pl.Int8),
                    ("_tod_us", pl.Int64),
                    ("_local", pl.Datetime("us")),
                )
            ],
            pl.lit(None, dtype=pl.String).alias("host"),
            pl.lit(None, dtype=pl.String).alias("program"),
            pl.lit(problem).alias("problem"),
        )

    @staticmethod
    def _unparsed_enveloped(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(
            "seq", "line_no", "ts", "_year", *YEARLESS, "host", "program", pl.lit(UNKNOWN_SHAPE).alias("problem")
        )


# --- the pyparsing path ---------------------------------------------------------


@dataclass
class LineResult:
    """What the pyparsing path made of one line."""

    envelope: str | None = None
    envelope_fields: dict[str, str] = field(default_factory=dict)
    family: str | None = None
    key: str | None = None
    kind: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    tried: list[tuple[str, pp.ParseBaseException]] = field(default_factory=list)

    @property
    def problem(self) -> str | None:
        if self.envelope is None:
            return NO_ENVELOPE
        if self.family is None:
            return OTHER_PROGRAM
        return None if self.kind is not None else UNKNOWN_SHAPE


def _parse_all(grammar: pp.ParserElement, text: str) -> pp.ParseResults:
    """``parse_string(parse_all=True)`` on the text as it is.

    pyparsing expands tabs before parsing unless the top-level element says not to;
    the bulk path sees the tabs, and some lines have them (Exim logs an
    Authentication-Results header with its folding tabs), so both must match the
    same characters. (``parse_with_tabs`` marks the element itself: copying one
    copies its whole tree.)
    """
    return grammar.parse_with_tabs().parse_string(text, parse_all=True)


@cache
def _line_grammar(family: str, index: int) -> pp.ParserElement:
    """The whole-line grammar of one kind, built once: building one copies its tree."""
    fam = FAMILIES[family]
    return fam.grammar(fam.kinds[index])


@cache
def _prefix_and_rest(family: str) -> pp.ParserElement:
    prefix = FAMILIES[family].prefix
    assert prefix is not None
    return seq(opt(prefix), text("__rest"))


def _rest_after_prefix(fam: Family, message: str) -> str:
    if fam.prefix is None:
        return message
    return str(_parse_all(_prefix_and_rest(fam.name), message)["__rest"])


def parse_line(line: str) -> LineResult:
    """Parse one line with pyparsing, mirroring the bulk pipeline step by step."""
    out = LineResult()
    for name, grammar in ENVELOPES:
        try:
            out.envelope_fields = _parse_all(grammar, line).as_dict()
        except pp.ParseBaseException as exc:
            out.tried.append((f"envelope {name}", exc))
            continue
        out.envelope = name
        break
    else:
        return out
    message = out.envelope_fields.get("msg", "")
    daemon = daemon_of(out.envelope_fields.get("program", "exim"))
    out.family = DAEMONS.get(daemon)
    if out.family is None:
        return out
    if out.family == "exim" and out.envelope != "exim":  # only through syslog
        inner = _parse_all(EXIM_INNER, message).as_dict()
        message = inner.pop("msg")
        out.envelope_fields.update(inner)
        if int(inner.get("split_part", 1)) > 1:
            out.kind = "continuation"
            return out
    fam = FAMILIES[out.family]
    rest = _rest_after_prefix(fam, message)
    ranked = sorted(
        (
            (-max(len(k) for k in dispatch_keys(kind.body) if rest.startswith(k)), i, kind)
            for i, kind in enumerate(fam.kinds)
            if any(rest.startswith(k) for k in dispatch_keys(kind.body))
        ),
        key=lambda t: (t[0], t[1]),
    )
    if ranked:
        out.key = rest[: -ranked[0][0]]
    for _, index, kind in ranked:
        try:
            out.fields = _parse_all(_line_grammar(out.family, index), message).as_dict()
        except pp.ParseBaseException as exc:
            out.tried.append((kind.name, exc))
            continue
        out.kind = kind.name
        break
    return out
