"""Tests for analysis/calibration/transactions.py: reading, validation and row accounting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.calibration import load_transactions, transactions_from_frame
from analysis.calibration.transactions import BLANK_LINE, MERGED_SAME_DAY
from scenarios.errors import DataError


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _accounted(log) -> bool:
    return log.n_rows_read == log.n_rows_used + sum(count for _, count in log.exclusions)


# --------------------------------------------------------------------------- happy paths


def test_cdnow_whitespace_file_is_read_with_guessed_columns(cdnow_log):
    """CDNOW's whitespace layout, YYYYMMDD dates and dollar_value column are recognised."""
    assert cdnow_log.columns == {"customer": "customer_id", "date": "date",
                                 "amount": "dollar_value"}
    assert cdnow_log.n_rows_read == 69_659
    assert cdnow_log.n_customers == 23_570
    assert cdnow_log.first_date == pd.Timestamp("1997-01-01")
    assert cdnow_log.last_date == pd.Timestamp("1998-06-30")
    # zero-padded ids survive as text
    assert cdnow_log.data["customer"].iloc[0] == "00001"


def test_cdnow_same_day_rows_are_merged_and_reported(cdnow_log):
    """Same-day rows are folded into one transaction, counted, and the amounts conserved."""
    reasons = dict(cdnow_log.exclusions)
    assert reasons[MERGED_SAME_DAY] == 69_659 - cdnow_log.n_rows_used
    assert _accounted(cdnow_log)
    raw = pd.read_csv(cdnow_log.source, sep=r"\s+", dtype={"customer_id": str})
    assert cdnow_log.data["amount"].sum() == pytest.approx(raw["dollar_value"].sum(), rel=1e-12)
    assert not cdnow_log.data.duplicated(["customer", "date"]).any()


def test_csv_with_iso_dates_and_unmerged_rows(tmp_path):
    """A CSV with ISO dates loads; merge_same_day=False keeps every row."""
    path = _write(tmp_path, "log.csv", "id,order_date,amount\n"
                  "7,2024-01-02,10.5\n7,2024-01-02,4.5\n8,2024-02-01,3\n")
    merged = load_transactions(path)
    assert merged.n_rows_used == 2 and merged.exclusions == ((MERGED_SAME_DAY, 1),)
    assert merged.data["amount"].tolist() == [15.0, 3.0]
    kept = load_transactions(path, merge_same_day=False)
    assert kept.n_rows_used == 3 and kept.exclusions == ()


def test_explicit_columns_separator_and_date_format(tmp_path):
    """Explicit column names, a ';' separator and a day-first date format are honoured."""
    path = _write(tmp_path, "log.txt", "client;when;paid;other\n"
                  "a;31/12/2023;1,5;x\nb;01/01/2024;2;y\n")
    with pytest.raises(DataError, match=r"data row 1 \(line 2\), column 'paid'.*'1,5'"):
        load_transactions(path, customer_col="client", date_col="when", amount_col="paid",
                          date_format="%d/%m/%Y")
    path.write_text("client;when;paid\na;31/12/2023;1.5\nb;01/01/2024;2\n")
    log = load_transactions(path, customer_col="client", date_col="when", amount_col="paid",
                            date_format="%d/%m/%Y")
    assert log.data["date"].tolist() == [pd.Timestamp("2023-12-31"), pd.Timestamp("2024-01-01")]


def test_parquet_and_frame_inputs_agree(tmp_path):
    """Parquet files and in-memory frames go through the same checks and give the same log."""
    frame = pd.DataFrame({"customer": [2, 1, 1], "date": pd.to_datetime(
        ["2024-03-01 10:00", "2024-01-01 09:00", "2024-01-01 17:30"]), "amount": [1.0, 2.0, 3.0]})
    path = tmp_path / "log.parquet"
    frame.to_parquet(path)
    from_file = load_transactions(path)
    from_frame = transactions_from_frame(frame)
    pd.testing.assert_frame_equal(from_file.data, from_frame.data)
    assert from_file.data["customer"].tolist() == [1, 2]
    assert from_file.data["amount"].tolist() == [5.0, 1.0]
    # Arrow date32 columns (Python dates) load the same way as timestamps
    frame["date"] = frame["date"].dt.date
    frame.to_parquet(path)
    pd.testing.assert_frame_equal(load_transactions(path).data, from_frame.data)


def test_blank_lines_are_counted_and_line_numbers_stay_right(tmp_path):
    """Blank lines are listed as exclusions and later errors still cite the file's line."""
    path = _write(tmp_path, "log.csv", "customer,date,amount\n1,2024-01-01,1\n\n"
                  "2,2024-01-02,2\n")
    log = load_transactions(path)
    assert dict(log.exclusions) == {BLANK_LINE: 1}
    assert _accounted(log)
    path.write_text("customer,date,amount\n1,2024-01-01,1\n\n2,2024-01-02,-2\n")
    with pytest.raises(DataError, match=r"data row 3 \(line 4\), column 'amount'"):
        load_transactions(path)


# --------------------------------------------------------------------------- bad inputs


def test_missing_column_lists_available_columns(tmp_path):
    """A named column that does not exist raises DataError listing the real columns."""
    path = _write(tmp_path, "log.csv", "customer,date,amount\n1,2024-01-01,1\n")
    with pytest.raises(DataError, match=r"log\.csv: column 'spend' \(given as amount_col\) "
                                        r"not found; available columns: 'customer', 'date', "
                                        r"'amount'"):
        load_transactions(path, amount_col="spend")


def test_unguessable_column_lists_available_columns(tmp_path):
    """When no column looks like an amount, the error names the columns and the option."""
    path = _write(tmp_path, "log.csv", "customer,date,qty\n1,2024-01-01,1\n")
    with pytest.raises(DataError, match=r"no amount column found.*amount_col=.*'qty'"):
        load_transactions(path)


def test_unparseable_date_names_row_and_value(tmp_path):
    """The first unparseable date is reported with its row, line, column and value."""
    path = _write(tmp_path, "log.csv", "customer,date,amount\n1,2024-01-01,1\n"
                  "2,2024-13-45,2\n3,notadate,3\n")
    with pytest.raises(DataError, match=r"log\.csv: data row 2 \(line 3\), column 'date': "
                                        r"cannot parse date '2024-13-45'.*2 unparseable"):
        load_transactions(path)


def test_negative_amount_names_row(tmp_path):
    """A negative amount raises DataError naming the row and what is allowed."""
    path = _write(tmp_path, "log.txt", "customer_id date dollar_value\n"
                  "1 19970101 5.0\n2 19970102 -3.5\n")
    with pytest.raises(DataError, match=r"log\.txt: data row 2 \(line 3\), column "
                                        r"'dollar_value': negative amount '-3.5'.*>= 0"):
        load_transactions(path)


def test_non_numeric_amount_names_row(tmp_path):
    """A non-numeric amount raises DataError naming the row and value."""
    path = _write(tmp_path, "log.csv", "customer,date,amount\n1,2024-01-01,12\n"
                  "2,2024-01-02,12 USD\n")
    with pytest.raises(DataError, match=r"data row 2 \(line 3\), column 'amount': amount "
                                        r"'12 USD' is not a finite number"):
        load_transactions(path)


def test_missing_value_names_row(tmp_path):
    """An empty customer id is reported with its row rather than dropped."""
    path = _write(tmp_path, "log.csv", "customer,date,amount\n1,2024-01-01,1\n,2024-01-02,2\n")
    with pytest.raises(DataError, match=r"data row 2 \(line 3\), column 'customer': missing "
                                        r"customer"):
        load_transactions(path)


@pytest.mark.parametrize("text", ["", "customer,date,amount\n", "\n\n"])
def test_empty_file(tmp_path, text):
    """Empty files and header-only files raise DataError naming the file."""
    path = _write(tmp_path, "empty.csv", text)
    with pytest.raises(DataError, match=r"empty\.csv: (the file is empty|no data rows)"):
        load_transactions(path)


def test_missing_file(tmp_path):
    """A path that does not exist raises DataError, not a bare OSError."""
    with pytest.raises(DataError, match=r"nope\.csv: no such file"):
        load_transactions(tmp_path / "nope.csv")


def test_ambiguous_columns_must_be_named(tmp_path):
    """Two equally plausible amount columns are not guessed between."""
    path = _write(tmp_path, "log.csv", "customer,date,net_sales,gross_sales\n1,2024-01-01,1,2\n")
    with pytest.raises(DataError, match=r"cannot tell which column holds the amount"):
        load_transactions(path)
    log = load_transactions(path, amount_col="gross_sales")
    assert log.data["amount"].tolist() == [2.0]


def test_frame_rows_are_one_based(tmp_path):
    """Errors on in-memory frames cite 1-based positions without line numbers."""
    frame = pd.DataFrame({"customer": [1, 2], "date": ["2024-01-01", "2024-01-02"],
                          "amount": [1.0, np.nan]})
    with pytest.raises(DataError, match=r"<DataFrame>: data row 2, column 'amount': missing"):
        transactions_from_frame(frame)
