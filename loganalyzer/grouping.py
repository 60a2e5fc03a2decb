"""Rows of one key together, each key's rows in seq (or time) order: what the running sums that cut
sessions and number lifecycles read.

Which key comes first does not matter to those sums, only that a key's rows
are together and in order. So the rows are not sorted on their keys as such
(a sort on text, or on several columns, is several times slower and holds more
memory): each key becomes one integer (:func:`key_ids`), the rows are put in
seq order and then sorted, keeping that order, on that integer alone, on a
narrow frame of (integer, seq, row number); the rows are then moved to that
order once, a few columns at a time (:func:`moved`). :func:`in_seq_order` moves
rows into seq order the same way.

The host and an Int32 key (a pid) pack into one integer exactly. Any other key
(a queue id, a client address) is hashed, and two keys may then share a value:
once the rows are in order that shows as a key changing where the integer does
not (:func:`shared`), and the keys are then numbered instead (:func:`numbered`,
exact and slower). On the 5.08M-line benchmark log the Postfix queue-id lines
(2.5M) were put in order in 0.35 s holding 115 MB beside them, against 0.8 s
and 180 MB for the sort on (queue id, seq).

Once grouped, a group's lines are found by their seq: :func:`looked_up` gives
each row of a table the group of its seq, and :func:`replaced` renames groups,
through an array over the seqs (:func:`placed`) rather than a hash table.
"""

from __future__ import annotations

import polars as pl

__all__ = [
    "grouped",
    "in_seq_order",
    "key_ids",
    "key_starts",
    "looked_up",
    "moved",
    "numbered",
    "placed",
    "replaced",
    "shared",
]


def key_ids(frame: pl.DataFrame, keys: list[str]) -> tuple[pl.Series, bool]:
    """``_key``, one integer per key of ``frame`` so that sorts and comparisons move no text, and whether it is exact.

    The host and an Int32 key (a pid) pack into one integer, exactly (while
    the host's category code fits 30 bits). Any other key is hashed, and two
    keys may then share a value: :func:`grouped` checks with :func:`shared`
    once the rows are in order, and falls back on :func:`numbered`.
    """
    packs = len(keys) == 2 and keys[0] == "host" and frame.schema[keys[1]] == pl.Int32
    if packs and (frame.select(pl.col("host").to_physical().max()).item() or 0) < (1 << 30):
        # hosts are null in Exim's own files: 0 for none, codes from 1; likewise the Int32 shifted to 1..2**32
        host = (pl.col("host").to_physical().cast(pl.UInt64) + 1).fill_null(0)
        value = (pl.col(keys[1]).cast(pl.Int64) + (1 << 31) + 1).fill_null(0).cast(pl.UInt64)
        return frame.select((host * (1 << 33) + value).alias("_key")).to_series(), True
    return frame.select(pl.struct(keys).hash().alias("_key")).to_series(), False


def numbered(frame: pl.DataFrame, keys: list[str]) -> pl.Series:
    """``_key``: the distinct keys of ``frame`` numbered (exact, slower than a hash)."""
    numbers = frame.select(keys).unique().with_row_index("_key").with_columns(pl.col("_key").cast(pl.UInt64))
    return frame.select(keys).join(numbers, on=keys, how="left", nulls_equal=True, maintain_order="left")["_key"]


def key_starts() -> pl.Expr:
    """Whether a row starts its key's rows (rows grouped by ``_key``)."""
    return (pl.col("_key") != pl.col("_key").shift(1)).fill_null(True)


def shared(ordered: pl.DataFrame, keys: list[str]) -> bool:
    """Whether two keys share a ``_key`` in ``ordered``, whose rows are grouped by it: they would meet there."""
    differs = pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys)
    return bool(ordered.select((~key_starts() & differs).fill_null(False).any()).item())


def grouped(rows: pl.LazyFrame, keys: list[str], *, by_time: bool) -> pl.DataFrame:
    """``rows`` with their ``_key`` (:func:`key_ids`), each key's rows together, in (ts, seq) order
    with ``by_time``, else in seq order.

    In seq order is also in time order within each key unless times go back
    along the seqs (two log files read together, a clock set back); with
    ``by_time`` that is checked, and the rows sorted on (_key, ts, seq) then.
    """
    frame = rows.collect()
    ids, exact = key_ids(frame, keys)
    order = _order(frame, ids, by_time=by_time)
    columns = frame.get_columns()
    del frame, ids  # the frame's columns are let go one by one as they are moved
    ordered = moved(columns, order.get_column("_row")).hstack([order.get_column("_key")])
    if not exact and shared(ordered, keys):  # two keys share a hash (rare): number them, and order again
        ordered = ordered.drop("_key")
        order = _order(ordered, numbered(ordered, keys), by_time=by_time)
        ordered = ordered[order.get_column("_row")].hstack([order.get_column("_key")])
    return ordered


def _order(frame: pl.DataFrame, ids: pl.Series, *, by_time: bool) -> pl.DataFrame:
    """(_row, _key): the rows of ``frame`` in (_key, seq) order, or (_key, ts, seq) with ``by_time``."""
    narrow = frame.select(
        ids.alias("_key"), "seq", pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"), *(["ts"] if by_time else [])
    )
    order = narrow.sort("seq").sort("_key", maintain_order=True)
    if by_time:
        back = (~key_starts() & (pl.col("ts") < pl.col("ts").shift(1))).fill_null(False) | pl.col("ts").is_null()
        if order.select(back.any()).item():
            order = order.sort("_key", "ts", "seq")
    return order.select("_row", "_key")


def moved(columns: list[pl.Series], order: pl.Series) -> pl.DataFrame:
    """A frame of ``columns`` in ``order`` (row numbers), a few columns at a time (as many as polars
    has threads), each dropped from ``columns`` once moved: when the caller passes the only
    references to them (the frame that held them gone), the frame before and the frame after are
    not both held, only a few columns of the one before.

    Each column is made one chunk before it is gathered: a gather from a frame collected out of
    many files (60 chunks) took several times longer (the Exim message ids of the 1.27M-line
    benchmark log: 0.12 s against 0.01 s for the column in one chunk).
    """
    out: list[pl.DataFrame] = []
    step = max(1, pl.thread_pool_size())  # as many columns at a time as polars gathers in parallel
    while columns:
        batch = [c.rechunk() for c in columns[:step]]
        del columns[:step]
        out.append(pl.DataFrame(batch)[order])
        del batch
    return pl.concat(out, how="horizontal") if out else pl.DataFrame()


def in_seq_order(columns: list[pl.Series]) -> pl.DataFrame:
    """The frame of ``columns`` (one is ``seq``) sorted by seq, rows of one seq in the order they
    had; the rows moved once, and ``columns`` emptied as they are.

    ``DataFrame.sort`` of a wide frame held about three times the frame while it
    ran: 400 MB more for the 140 MB session index of a 5M-line log, against
    about 150 MB for the gather of every column here (:func:`moved`).
    Given ``frame.get_columns()`` of a frame nobody else holds, a column is let go
    once moved, and the frame is not held twice: passing the frame kept it whole
    until the end (the last step of Exim's session index of the 1.27M-line
    benchmark log peaked at 308 MB, now 282, with freed memory returned at once).
    """
    seq = next(c for c in columns if c.name == "seq")
    order = seq.to_frame().with_row_index("_row").sort("seq", maintain_order=True).get_column("_row")
    del seq
    return moved(columns, order)


def placed(at: pl.Series, values: pl.Series, length: int) -> pl.Series:
    """A Series of ``length`` with ``values`` at places ``at`` (distinct), null elsewhere: a lookup
    table over a stretch of seqs, or each row's value put back at its row."""
    return pl.Series(values.name, [], dtype=values.dtype).extend_constant(None, length).scatter(at, values)


#: :func:`looked_up` and :func:`replaced` make a table over a range of seqs when it is at most this
#: many times longer than what they are given, else they hash.
_SPREAD = 4


def _table_range(seqs: pl.Series, given: int) -> tuple[int, int] | None:
    """The lowest and highest of ``seqs`` when an array over them is worth making for ``given`` rows
    in all (:data:`_SPREAD`); None when there are none, or they are spread too far."""
    if seqs.is_empty() or given == 0:
        return None
    low, high = int(seqs.min()), int(seqs.max())  # type: ignore[arg-type]
    return (low, high) if high - low + 1 <= _SPREAD * given else None


def looked_up(rows: pl.DataFrame, index: pl.DataFrame, key: str) -> pl.DataFrame:
    """The ``rows`` whose seq is in ``index`` (one row per seq), with that seq's ``key`` (an integer,
    never null) added, in their order: an inner join on ``seq``, without hashing.

    The index of one window's groups covers a stretch of seqs, so its ``key`` goes into an
    array over that stretch and each row reads its place: Exim's arrivals and deliveries
    took 0.03-0.04 s a window by joins, 0.01 by the table. An index spread far wider than
    it is long (a few groups reaching across the log) is joined.
    """
    seqs = index.get_column("seq")
    span = _table_range(seqs, index.height + rows.height) if not rows.is_empty() else None
    if span is None:
        return rows.join(index.select("seq", key), on="seq", how="inner", maintain_order="left")
    low, high = span
    table = placed(seqs - low, index.get_column(key), high - low + 1)
    inside = rows.get_column("seq").is_between(low, high)
    found = rows.filter(inside) if not inside.all() else rows
    place = found.get_column("seq") - low
    return found.with_columns(table.gather(place)).filter(pl.col(key).is_not_null())


def replaced(values: pl.Series, old: pl.Series, new: pl.Series) -> pl.Series:
    """``values`` (integers, such as seqs) with each one of ``old`` (distinct) replaced by the ``new``
    at its place: ``Series.replace`` through an array over ``old``'s range rather than a hash table
    (0.04 to 0.01 s for the 607,000 process lines of the Exim benchmark log's session index), unless
    that range is far longer than the values.
    """
    if old.is_empty() or values.is_empty():
        return values
    span = _table_range(old, len(values) + len(old))
    if span is None:
        return values.replace(old, new)
    low, high = span
    table = placed(old - low, new.alias(values.name), high - low + 1)
    inside = values.is_between(low, high)
    at = (values - low).clip(0, high - low)  # outside the range: any place, not taken
    return pl.select(pl.when(inside).then(table.gather(at)).fill_null(values).alias(values.name)).to_series()
