"""Reading a TA's CSV files (roster, extensions, overrides) into pydantic rows, with
every problem named by file and line, never half-read."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

Row = TypeVar("Row", bound=BaseModel)
MAX_BYTES = 16 << 20


class TableError(Exception):
    """A CSV file a TA wrote cannot be used; the message names the file and line."""


def column_key(header: str) -> str:
    """'SIS User ID', 'sis_id ' and 'Sis-Id' all become 'sis_user_id'-like keys."""
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def read_table(path: Path, model: type[Row], aliases: dict[str, str]) -> list[Row]:
    """Every row of `path` as `model`; headers are matched loosely through `aliases`
    (normalised header -> field). Blank lines and lines starting with # are skipped."""
    if path.stat().st_size > MAX_BYTES:
        raise TableError(f"{path}: larger than {MAX_BYTES >> 20} MB")
    try:
        text = path.read_text(encoding="utf-8-sig", errors="strict")
    except UnicodeDecodeError as exc:
        raise TableError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); save it "
                         "as 'CSV UTF-8' (a spreadsheet's 'Unicode text' is UTF-16)") from None
    # csv's own row splitting: only \r and \n end a row; str.splitlines would also split
    # at U+2028, NEL and form feeds inside a name, making a phantom student.
    reader = (row for row in csv.reader(io.StringIO(text, newline=""))
              if any(c.strip() for c in row) and not row[0].lstrip().startswith("#"))
    header = next(reader, None)
    if header is None:
        raise TableError(f"{path}: empty (expected a header line: "
                         f"{', '.join(model.model_fields)})")
    fields = [aliases.get(column_key(h), column_key(h)) for h in header]
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    missing = [n for n in required if n not in fields]
    if missing:
        raise TableError(f"{path}: no {', '.join(missing)} column (the header is "
                         f"{', '.join(header)})")
    rows = []
    for number, cells in enumerate(reader, 2):
        values = {f: c.strip() for f, c in zip(fields, cells) if f in model.model_fields}
        try:
            rows.append(model.model_validate(values))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise TableError(f"{path}, line {number}: {where}: {first['msg']}") from None
    return rows
