"""Gradescope's "Export submissions" zip: `submission_metadata.yml` beside one folder
per submission. The metadata maps each folder to its `:submitters:` (`:name:`,
`:sid:`, `:email:`) and its `:created_at:` time; a group submission counts for each
of its members. The student id is the SID, or the email when there is none."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.batch.layouts.base import Found, LayoutError, Read, as_utc, files_under, skip

if TYPE_CHECKING:
    import yaml

METADATA = "submission_metadata.yml"
MAX_METADATA = 64 * 1024 * 1024


@cache
def _loader() -> type[yaml.SafeLoader]:
    """Safe YAML that reads Ruby's tagged objects (`!ruby/hash:...`) as plain data.

    Made on first use: PyYAML loads only for a Gradescope download, not with every
    `grade batch` (whose course comes from its JSON cache)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)  # type: ignore[arg-type]

    Loader.add_multi_constructor("!", untagged)
    return Loader


def _field(record: dict[str, Any], name: str) -> Any:
    """Gradescope writes keys as Ruby symbols (`:sid`); accept plain keys too."""
    return record.get(f":{name}", record.get(name))


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value.strip()))
        except ValueError:
            return None
    return None


def read_metadata(path: Path) -> dict[str, Any]:
    if path.stat().st_size > MAX_METADATA:
        raise LayoutError(f"{path.name} is larger than {MAX_METADATA >> 20} MB")
    import yaml

    try:
        data = yaml.load(path.read_text(encoding="utf-8", errors="replace"), _loader())
    except yaml.YAMLError as exc:
        raise LayoutError(f"{path.name} is not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise LayoutError(f"{path.name} does not map submission folders to submitters")
    return data


def read_gradescope(root: Path) -> Read:
    metadata = read_metadata(root / METADATA)
    found: list[Found] = []
    skipped = []
    for entry in sorted(root.iterdir()):
        if entry.name == METADATA or entry.name.startswith("."):
            continue
        record = metadata.get(entry.name)
        if not isinstance(record, dict) or not entry.is_dir() or entry.is_symlink():
            skipped.append(skip(entry.name, f"not a submission folder listed in {METADATA}"))
            continue
        files = tuple(files_under(entry, depth=3))
        when = _time(_field(record, "created_at"))
        for person in _field(record, "submitters") or []:
            if not isinstance(person, dict):
                continue
            sid = str(_field(person, "sid") or "").strip()
            email = str(_field(person, "email") or "").strip()
            found.append(Found(sid or email, entry, files, when,
                               name=str(_field(person, "name") or ""), email=email))
    return sorted(found, key=lambda f: f.id), skipped
