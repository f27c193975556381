"""Reading and validating customer transaction logs.

Core objects: :class:`TransactionLog` (a validated log: one row per transaction, plus an account
of every input row), :func:`load_transactions` (CSV, whitespace-separated text such as
``CDNOW_master.txt``, or Parquet) and :func:`transactions_from_frame` (the same checks for a
DataFrame already in memory).

Reading
-------
Delimited text with a one-character separator and Parquet files are read by Arrow (multithreaded
C++ parsing; only the three columns used are kept, customers dictionary-encoded, dates parsed once
per distinct text): the fast path. Any irregularity (a missing value, a value that is not a date
or a number, blank lines, whitespace-separated text such as ``CDNOW_master.txt``, gzip) sends
the file through the exact pandas path instead, which gives the same log or the error naming the
row. Either way ``data["customer"]`` is categorical (sorted ids as categories): a million
customers' ids are stored once, not once per row.

Rules
-----
* Bad input raises :class:`~scenarios.errors.DataError` naming the file, the data row (1-based, after
  the header; for text files also the line number) and/or the column, and what is allowed.
* No row disappears silently: ``n_rows_read == n_rows_used + sum(count for _, count in
  exclusions)``. Blank lines and rows folded into a same-day transaction of the same customer are
  listed in ``exclusions`` with their reason.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from scenarios.errors import DataError

__all__ = ["TransactionLog", "load_transactions", "transactions_from_frame",
           "MERGED_SAME_DAY", "BLANK_LINE"]

#: Exclusion reason for rows folded into another row of the same customer and day.
MERGED_SAME_DAY = "merged into a same-day transaction of the same customer (amounts summed)"
#: Exclusion reason for empty lines in a text file.
BLANK_LINE = "blank line"

_PARQUET_EXT = (".parquet", ".pq", ".parq")

# Column guesses: exact (normalised) names first, then name fragments, in priority order.
_GUESSES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "customer": (("customer_id", "customer", "customerid", "cust_id", "client_id", "user_id",
                  "userid", "member_id", "id"),
                 ("customer", "cust", "client", "user", "member", "id")),
    "date": (("date", "order_date", "transaction_date", "purchase_date", "invoice_date",
              "datetime", "timestamp", "time", "day"),
             ("date", "time", "day")),
    "amount": (("amount", "dollar_value", "value", "revenue", "sales", "spend", "monetary",
                "price", "total"),
               ("amount", "dollar", "value", "revenue", "sales", "spend", "monetary", "price",
                "total")),
}
_ARG = {"customer": "customer_col", "date": "date_col", "amount": "amount_col"}


@dataclass(frozen=True, eq=False)
class TransactionLog:
    """A validated transaction log.

    Attributes
    ----------
    data : pandas.DataFrame
        Columns ``customer`` (ids as read; strings for text files, so zero padding survives),
        ``date`` (``datetime64``, floored to the day) and ``amount`` (float >= 0), sorted by
        customer then date. With ``merge_same_day`` there is one row per customer and day.
    source : str
        File path, or a label for in-memory data.
    columns : dict
        Which input column was used for ``customer``, ``date`` and ``amount``.
    n_rows_read : int
        Data rows in the input (blank lines included for text files).
    n_rows_used : int
        Rows of ``data``.
    exclusions : tuple of (str, int)
        ``(reason, count)`` for every input row that is not its own row of ``data``.
    merged_same_day : bool
        Whether several rows of one customer on one day were folded into one transaction. When
        ``False`` every row is a transaction, and the summaries and fits count them apart.
    """

    data: pd.DataFrame
    source: str
    columns: dict[str, str]
    n_rows_read: int
    n_rows_used: int
    exclusions: tuple[tuple[str, int], ...] = field(default=())
    merged_same_day: bool = True

    @property
    def n_customers(self) -> int:
        """Number of distinct customers."""
        return int(self.data["customer"].nunique())

    @property
    def first_date(self) -> pd.Timestamp:
        """Earliest transaction date."""
        return pd.Timestamp(self.data["date"].min())

    @property
    def last_date(self) -> pd.Timestamp:
        """Latest transaction date."""
        return pd.Timestamp(self.data["date"].max())

    def __repr__(self) -> str:
        excl = "; ".join(f"{reason}: {count}" for reason, count in self.exclusions) or "none"
        return (f"TransactionLog(source={self.source!r}, rows_read={self.n_rows_read}, "
                f"rows_used={self.n_rows_used}, customers={self.n_customers}, "
                f"exclusions=[{excl}])")


# --------------------------------------------------------------------------- reading


def _open_text(path: str):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _sniff_sep(path: str) -> str:
    """Pick the field separator from the header line: ',', ';', tab, or runs of whitespace."""
    with _open_text(path) as fh:
        header = ""
        for line in fh:
            if line.strip():
                header = line
                break
    if not header:
        raise DataError(f"{path}: the file is empty (expected a header line naming the columns)")
    for sep in (",", ";", "\t", "|"):
        if sep in header:
            return sep
    return r"\s+"


def _read_raw(path: str, sep: str | None) -> tuple[pd.DataFrame, bool]:
    """Read every column as text (text files) or as stored (Parquet). Returns (frame, is_text)."""
    lower = path.lower()
    if lower.endswith(_PARQUET_EXT):
        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise DataError(f"{path}: cannot read as Parquet: {exc}") from exc
        # Arrow dates would become Python date objects in pandas; make them timestamps.
        for i, fld in enumerate(table.schema):
            if pa.types.is_date(fld.type):
                table = table.set_column(i, fld.name, table.column(i).cast(pa.timestamp("s")))
        return table.to_pandas(), False
    if os.path.getsize(path) == 0:
        raise DataError(f"{path}: the file is empty (expected a header line naming the columns)")
    sep = _sniff_sep(path) if sep is None else sep
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, engine="c")
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty (expected a header line naming the "
                        "columns)") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: cannot parse as delimited text (separator {sep!r}): "
                        f"{exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, True


def _normalise(name: str) -> str:
    return re.sub(r"[\s\-\.]+", "_", str(name).strip().lower())


def _resolve_columns(columns: list[str], given: Mapping[str, str | None],
                     source: str) -> dict[str, str]:
    available = ", ".join(repr(c) for c in columns)
    chosen: dict[str, str] = {}
    for role in ("customer", "date", "amount"):
        name = given.get(role)
        if name is not None:
            if name not in columns:
                raise DataError(f"{source}: column {name!r} (given as {_ARG[role]}) not found; "
                                f"available columns: {available}")
            chosen[role] = name
    for role in ("customer", "date", "amount"):
        if role in chosen:
            continue
        free = [c for c in columns if c not in chosen.values()]
        norm = {c: _normalise(c) for c in free}
        exact, words = _GUESSES[role]
        pick: str | None = None
        for candidate in exact:
            hits = [c for c in free if norm[c] == candidate]
            if hits:
                pick = hits[0]
                break
        if pick is None:
            for word in words:
                hits = [c for c in free if word in norm[c]]
                if len(hits) > 1:
                    raise DataError(
                        f"{source}: cannot tell which column holds the {role}: {hits} all "
                        f"match {word!r}; pass {_ARG[role]}=... . Available columns: {available}")
                if hits:
                    pick = hits[0]
                    break
        if pick is None:
            raise DataError(f"{source}: no {role} column found (tried names like "
                            f"{', '.join(exact[:4])}); pass {_ARG[role]}=... . "
                            f"Available columns: {available}")
        chosen[role] = pick
    if len(set(chosen.values())) < 3:
        raise DataError(f"{source}: customer, date and amount must be three different columns; "
                        f"got {chosen}")
    return chosen


def _where(source: str, pos: int, column: str, is_text: bool) -> str:
    """'file: data row N (line N+1), column 'c'' for the 0-based position ``pos``."""
    line = f" (line {pos + 2})" if is_text else ""
    return f"{source}: data row {pos + 1}{line}, column {column!r}"


_MISSING_TEXT = ["", "nan", "NaN", "NA", "N/A", "null", "None"]


def _is_text(values: pd.Series) -> bool:
    if values.dtype == object:
        return pd.api.types.infer_dtype(values, skipna=True) in ("string", "mixed",
                                                                 "mixed-integer")
    return pd.api.types.is_string_dtype(values)


def _missing(values: pd.Series) -> np.ndarray:
    """True where a value is absent: NaN/None, or blank / 'NA'-like text."""
    miss = values.isna().to_numpy().copy()
    if _is_text(values):
        miss |= values.astype(str).str.strip().isin(_MISSING_TEXT).to_numpy()
    return miss


def _parse_dates(values: pd.Series, fmt: str | None, source: str, column: str,
                 is_text: bool, positions: np.ndarray) -> np.ndarray:
    """Parse to datetime64[s] floored to the day; the first unparseable value raises."""
    if pd.api.types.is_datetime64_any_dtype(values) or (
            values.dtype == object
            and pd.api.types.infer_dtype(values, skipna=True) in ("date", "datetime")):
        parsed = pd.to_datetime(values)
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
    else:
        text = values.astype(str).str.strip()
        if fmt is None:
            first = text.iloc[0]
            if re.fullmatch(r"\d{8}", first):
                fmt = "%Y%m%d"
            elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", first):
                fmt = "%Y-%m-%d"
            else:
                fmt = "ISO8601"
        # Logs repeat the same few hundred dates millions of times: parse each distinct text once.
        codes, uniques = pd.factorize(text, use_na_sentinel=False)
        try:
            parsed_uniques = pd.to_datetime(pd.Series(np.asarray(uniques, dtype=object)),
                                            format=fmt, errors="coerce")
        except (ValueError, TypeError) as exc:
            raise DataError(f"{source}: column {column!r}: invalid date_format {fmt!r}: "
                            f"{exc}") from exc
        if getattr(parsed_uniques.dt, "tz", None) is not None:
            parsed_uniques = parsed_uniques.dt.tz_convert(None)
        parsed = pd.Series(parsed_uniques.to_numpy()[codes])
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if bad.size:
            pos = int(bad[0])
            raise DataError(
                f"{_where(source, int(positions[pos]), column, is_text)}: cannot parse date "
                f"{values.iloc[pos]!r} with format {fmt!r} ({bad.size} unparseable value(s) in "
                "all); pass date_format=... (e.g. '%Y%m%d' or '%d/%m/%Y')")
    out = parsed.dt.floor("D").to_numpy().astype("datetime64[s]")
    return out


def _fast_float(values: pd.Series) -> np.ndarray | None:
    """Cast text to float with Arrow (fast); ``None`` if any value does not convert."""
    try:
        arr = pa.array(values.to_numpy(dtype=object) if values.dtype == object else values)
        arr = pc.utf8_trim_whitespace(arr)
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return None


def _parse_amounts(values: pd.Series, source: str, column: str, is_text: bool,
                   positions: np.ndarray) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        amounts = values.to_numpy(dtype=float, na_value=np.nan)
        nonnum = np.zeros(amounts.size, dtype=bool)
    else:
        amounts = _fast_float(values)
        if amounts is None:  # some value is not a plain number: find it the slow way
            text = values.astype(str).str.strip()
            amounts = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float,
                                                                    na_value=np.nan)
        nonnum = np.isnan(amounts)
    bad = np.flatnonzero(nonnum | ~np.isfinite(amounts))
    if bad.size:
        pos = int(bad[0])
        where = _where(source, int(positions[pos]), column, is_text)
        raise DataError(f"{where}: amount {values.iloc[pos]!r} "
                        "is not a finite number (allowed: numbers >= 0, '.' as decimal point)")
    neg = np.flatnonzero(amounts < 0)
    if neg.size:
        pos = int(neg[0])
        raise DataError(f"{_where(source, int(positions[pos]), column, is_text)}: negative amount "
                        f"{values.iloc[pos]!r} ({neg.size} negative value(s) in all); amounts "
                        "must be >= 0 (remove refunds or net them out before loading)")
    return amounts


def _build(raw: pd.DataFrame, *, source: str, is_text: bool, given: Mapping[str, str | None],
           date_format: str | None, merge_same_day: bool) -> TransactionLog:
    cols = _resolve_columns([str(c) for c in raw.columns], given, source)
    frame = raw[[cols["customer"], cols["date"], cols["amount"]]]
    n_read = len(frame)
    exclusions: list[tuple[str, int]] = []
    missing = {role: _missing(frame[cols[role]]) for role in ("customer", "date", "amount")}
    positions = np.arange(n_read)
    # Blank lines (text files read with skip_blank_lines=False) are all-empty rows.
    blank = np.logical_and.reduce(list(missing.values())) if is_text else np.zeros(n_read, bool)
    if blank.any():
        exclusions.append((BLANK_LINE, int(blank.sum())))
        positions = np.flatnonzero(~blank)
        frame = frame.iloc[positions]
        missing = {role: mask[positions] for role, mask in missing.items()}
    if len(frame) == 0:
        raise DataError(f"{source}: no data rows (the file holds only a header or blank lines)")
    for role in ("customer", "date", "amount"):
        miss = np.flatnonzero(missing[role])
        if miss.size:
            pos = int(positions[miss[0]])
            raise DataError(f"{_where(source, pos, cols[role], is_text)}: missing {role} "
                            f"({miss.size} row(s) with an empty {role}); every row needs a "
                            "customer, a date and an amount")
    frame = frame.reset_index(drop=True)
    dates = _parse_dates(frame[cols["date"]], date_format, source, cols["date"], is_text,
                         positions)
    amounts = _parse_amounts(frame[cols["amount"]], source, cols["amount"], is_text, positions)
    customers = frame[cols["customer"]]
    if is_text:
        customers = customers.astype(str).str.strip()
    codes, uniques = pd.factorize(customers.reset_index(drop=True), sort=True)
    day = dates.astype("datetime64[D]").astype(np.int64)
    data, merged = _sort_and_merge(codes, pd.Index(uniques), day, amounts, merge_same_day)
    if merged:
        exclusions.append((MERGED_SAME_DAY, merged))
    return TransactionLog(data=data, source=source, columns=dict(cols), n_rows_read=n_read,
                          n_rows_used=len(data), exclusions=tuple(exclusions),
                          merged_same_day=merge_same_day)


def _sort_and_merge(codes: np.ndarray, uniques: pd.Index, day: np.ndarray, amount: np.ndarray,
                    merge: bool) -> tuple[pd.DataFrame, int]:
    """Sort by customer then day (``codes`` index the sorted ``uniques``; ``day`` counts days since
    1970); optionally sum rows sharing customer and day. The customer column is categorical."""
    codes = np.asarray(codes, dtype=np.int32)
    day = np.asarray(day, dtype=np.int64)
    amount = np.asarray(amount, dtype=float)
    if codes.size:
        lo = int(day.min())
        span = int(day.max()) - lo + 1
        # one stable sort of one integer key: customer rank, then day (ties keep file order);
        # none when the log is in that order already
        key = codes.astype(np.int64) * span + (day - lo)
        if not np.all(key[1:] >= key[:-1]):
            order = np.argsort(key, kind="stable")
            del key
            codes, day, amount = codes[order], day[order], amount[order]
            del order
        else:
            del key
    merged = 0
    if merge and codes.size:
        new = np.ones(codes.size, dtype=bool)
        new[1:] = (codes[1:] != codes[:-1]) | (day[1:] != day[:-1])
        if not new.all():
            starts = np.flatnonzero(new)
            amount = np.add.reduceat(amount, starts)
            codes, day = codes[starts], day[starts]
            merged = int(new.size - starts.size)
    out = pd.DataFrame({
        "customer": pd.Categorical.from_codes(codes, categories=uniques),
        "date": (day * 86_400).view("datetime64[s]"),
        "amount": amount,
    }, copy=False)
    return out, merged


# --------------------------------------------------------------------------- the Arrow fast path


def _data_lines(path: str) -> int:
    """Lines after the header (a last line without a newline counts), read in blocks."""
    newlines, last = 0, b"\n"
    with open(path, "rb") as fh:
        while block := fh.read(1 << 24):
            newlines += block.count(b"\n")
            last = block[-1:]
    return newlines - 1 + (last != b"\n")


def _arrow_table(path: str, sep: str | None, given: Mapping[str, str | None], date_format: str | None):
    """The three used columns as an Arrow table and the column choice; ``None`` to use the pandas path."""
    lower = path.lower()
    if lower.endswith(_PARQUET_EXT):
        try:
            names = pq.read_schema(path).names
        except Exception:  # noqa: BLE001 - the pandas path reports an unreadable file
            return None
        cols = _resolve_columns([str(c) for c in names], given, path)
        try:
            return pq.read_table(path, columns=[cols["customer"], cols["date"], cols["amount"]]), cols
        except Exception:  # noqa: BLE001
            return None
    if lower.endswith(".gz") or os.path.getsize(path) == 0:
        return None
    sep = _sniff_sep(path) if sep is None else sep
    if len(sep) != 1 or sep in "\"\n\r":
        return None
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        header_line = fh.readline()
    if not header_line.strip():
        return None  # blank lines before the header: the pandas path accounts for them
    header = [c.strip() for c in next(csv.reader([header_line], delimiter=sep))]
    if len(set(header)) != len(header):
        return None
    cols = _resolve_columns(header, given, path)
    try:
        # batch by batch: the parser holds a few blocks of the file at a time, not all of it
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(column_names=header, skip_rows=1, block_size=8 << 20),
            parse_options=pa_csv.ParseOptions(delimiter=sep),
            convert_options=pa_csv.ConvertOptions(
                include_columns=[cols["customer"], cols["date"], cols["amount"]],
                # ids as text (zero padding kept), each distinct id stored once; amounts as numbers
                # (anything else fails here and goes the pandas way, which names the row); dates as
                # Arrow reads them (ISO dates become dates), or as text when a format is given
                column_types={cols["customer"]: pa.dictionary(pa.int32(), pa.string()), cols["amount"]: pa.float64(),
                              **({cols["date"]: pa.string()} if date_format else {})},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        table = pa.Table.from_batches(list(reader), schema=reader.schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    if table.num_rows != _data_lines(path):
        return None  # blank lines (the pandas path counts them) or line breaks inside quotes
    return table, cols


def _is_missing_text(values: pa.Array) -> bool:
    trimmed = pc.utf8_trim_whitespace(values)
    return bool(pc.any(pc.is_in(trimmed, value_set=pa.array(_MISSING_TEXT))).as_py())


def _fast_build(path: str, sep: str | None, given: Mapping[str, str | None], date_format: str | None,
                merge_same_day: bool) -> TransactionLog | None:
    """The log read through Arrow, or ``None`` when anything needs the pandas path's care."""
    got = _arrow_table(path, sep, given, date_format)
    if got is None:
        return None
    table, cols = got
    table = table.unify_dictionaries()
    n_read = table.num_rows
    if n_read == 0:
        return None
    cust, date, amount = (table.column(cols[role]).combine_chunks()
                          for role in ("customer", "date", "amount"))
    if any(col.null_count for col in (cust, date, amount)):
        return None
    # customers: dictionary-encoded, ids trimmed, codes renumbered to the sorted ids
    if pa.types.is_dictionary(cust.type) and pa.types.is_string(cust.type.value_type):
        enc = cust
        ids = pc.utf8_trim_whitespace(enc.dictionary)
        if _is_missing_text(ids) or len(pc.unique(ids)) != len(ids):
            return None
    elif pa.types.is_string(cust.type) or pa.types.is_large_string(cust.type):
        enc = pc.dictionary_encode(cust)
        ids = pc.utf8_trim_whitespace(enc.dictionary)
        if _is_missing_text(ids) or len(pc.unique(ids)) != len(ids):
            return None
    elif pa.types.is_integer(cust.type):
        enc = pc.dictionary_encode(cust)
        ids = enc.dictionary
    else:
        return None
    rank_of = np.empty(len(ids), dtype=np.int64)
    order = pc.sort_indices(ids).to_numpy()
    rank_of[order] = np.arange(order.size)
    codes = rank_of.astype(np.int32)[enc.indices.to_numpy(zero_copy_only=False)]
    uniques = pd.Index(ids.take(pa.array(order)).to_pandas())
    # dates: a date or timestamp column as it is; text parsed once per distinct value
    if pa.types.is_date32(date.type):
        day = date.to_numpy(zero_copy_only=False).astype("datetime64[D]", copy=False).view(np.int64)
    elif pa.types.is_date(date.type) or (pa.types.is_timestamp(date.type) and date.type.tz is None):
        day = pc.cast(date, pa.timestamp("s")).to_numpy(zero_copy_only=False).astype("datetime64[D]").view(np.int64)
    elif pa.types.is_string(date.type) or pa.types.is_large_string(date.type) or pa.types.is_integer(date.type):
        enc_d = pc.dictionary_encode(date)
        texts = enc_d.dictionary if not pa.types.is_integer(date.type) else pc.cast(enc_d.dictionary, pa.string())
        if _is_missing_text(texts):
            return None
        try:
            parsed = _parse_dates(pd.Series(texts.to_pylist(), dtype=object), date_format, path, cols["date"],
                                  True, np.arange(len(texts)))
        except DataError:
            return None  # the pandas path names the row
        day = parsed.astype("datetime64[D]").astype(np.int64)[enc_d.indices.to_numpy(zero_copy_only=False)]
    else:
        return None
    # amounts: numbers as they are; text cast by Arrow
    if pa.types.is_integer(amount.type) or pa.types.is_floating(amount.type):
        values = amount.to_numpy(zero_copy_only=False).astype(float)
    elif pa.types.is_string(amount.type) or pa.types.is_large_string(amount.type):
        try:
            values = pc.cast(pc.utf8_trim_whitespace(amount), pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    else:
        return None
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        return None
    del table, cust, date, amount, enc
    pa.default_memory_pool().release_unused()  # the parser's buffers, before the sort needs memory
    data, merged = _sort_and_merge(codes, uniques, day, values, merge_same_day)
    exclusions = [(MERGED_SAME_DAY, merged)] if merged else []
    return TransactionLog(data=data, source=path, columns=dict(cols), n_rows_read=n_read, n_rows_used=len(data),
                          exclusions=tuple(exclusions), merged_same_day=merge_same_day)


def load_transactions(path: str | os.PathLike, *, customer_col: str | None = None,
                      date_col: str | None = None, amount_col: str | None = None,
                      date_format: str | None = None, sep: str | None = None,
                      merge_same_day: bool = True) -> TransactionLog:
    """Load a transaction log from CSV, whitespace-separated text or Parquet.

    Parameters
    ----------
    path : str or path-like
        ``.parquet``/``.pq`` files are read as Parquet; anything else as delimited text whose
        separator is sniffed from the header line (``,``, ``;``, tab, ``|``, else whitespace).
    customer_col, date_col, amount_col : str, optional
        Column names. When omitted they are guessed from the header (``customer_id``, ``id``,
        ``date``, ``amount``, ``dollar_value``, ``value``, ...).
    date_format : str, optional
        ``strftime`` format. By default ``YYYYMMDD`` digits and ISO 8601 are recognised.
    sep : str, optional
        Field separator for text files (regular expression allowed, e.g. ``r"\\s+"``).
    merge_same_day : bool
        Fold several rows of one customer on one day into a single transaction (amounts summed),
        the convention of the buy-till-you-die literature. Folded rows are counted in
        ``exclusions``.

    Returns
    -------
    TransactionLog

    Raises
    ------
    DataError
        Missing file or columns, empty file, unparseable dates, missing values, non-numeric or
        negative amounts. The message names the file, the data row and/or column.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("customer,date,amount\\n1,2024-01-02,10\\n"
    ...                  "1,2024-01-02,5\\n2,2024-01-03,7\\n")
    >>> log = load_transactions(p)
    >>> log.n_rows_read, log.n_rows_used, log.exclusions[0][1]
    (3, 2, 1)
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file")
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, expected a transaction file")
    given = {"customer": customer_col, "date": date_col, "amount": amount_col}
    fast = _fast_build(path, sep, given, date_format, merge_same_day)
    pa.default_memory_pool().release_unused()  # Arrow's buffers, now freed: what comes next needs the memory
    if fast is not None:
        return fast
    raw, is_text = _read_raw(path, sep)
    if len(raw.columns) == 0:
        raise DataError(f"{path}: the file is empty (expected a header line naming the columns)")
    return _build(raw, source=path, is_text=is_text,
                  given={"customer": customer_col, "date": date_col, "amount": amount_col},
                  date_format=date_format, merge_same_day=merge_same_day)


def transactions_from_frame(frame: pd.DataFrame, *, customer_col: str | None = None,
                            date_col: str | None = None, amount_col: str | None = None,
                            date_format: str | None = None, merge_same_day: bool = True,
                            source: str = "<DataFrame>") -> TransactionLog:
    """Validate an in-memory DataFrame exactly as :func:`load_transactions` validates a file.

    Row numbers in error messages are 1-based positions in ``frame``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{source}: expected a pandas DataFrame, got {type(frame).__name__}")
    if len(frame.columns) == 0:
        raise DataError(f"{source}: the frame has no columns")
    return _build(frame.reset_index(drop=True), source=source, is_text=False,
                  given={"customer": customer_col, "date": date_col, "amount": amount_col},
                  date_format=date_format, merge_same_day=merge_same_day)
