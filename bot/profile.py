"""The corpus profile: what is specific to one corpus, as data.

A profile is a YAML file: ``bot.yaml`` at the corpus root, or a file given
with ``--profile`` / ``BOT_PROFILE``. Every key is optional; a corpus with no
profile gets the defaults below. Example::

    name: AI-safety approach wiki
    extensions: [.md, .mdx]          # which files are documents
    exclude: ["internal/**", "**/_*.md"]   # pages that are not for readers
    data: ../data                    # the site's entity and reference data (relative to the corpus folder)
    site: https://example.org/       # base URL: a citation links site + page path
    noise_tables: ["^\\[Parameter 1\\]"]  # tables whose header or first row matches are not indexed
    components: {drop: [Backlinks], renderers: {Crux: crux}}   # what MDX components mean (bot/mdx.py)
    examples: ["Is US-China cooperation possible?"]
    aliases: {international-coordination: [US-China cooperation]}
    rating_dimensions: [Tractability, Neglectedness]   # the columns of the approach map

Nothing here is read at question time but what the index keeps (see
:meth:`Profile.to_json`), so an index answers the same wherever it is opened.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from bot.errors import BotError

log = logging.getLogger(__name__)

#: The file a corpus folder may hold its profile in.
PROFILE_FILE = "bot.yaml"

_KEYS = {
    "name",
    "extensions",
    "exclude",
    "data",
    "site",
    "noise_tables",
    "components",
    "examples",
    "aliases",
    "rating_dimensions",
}


class ProfileError(BotError):
    """A profile file is missing or malformed; the message names the key."""


@dataclass(frozen=True)
class Profile:
    """What is specific to a corpus. The defaults suit a folder of markdown/MDX pages."""

    name: str = ""
    extensions: tuple[str, ...] = (".md", ".mdx")
    exclude: tuple[str, ...] = ()
    data: str = ""
    site: str = ""
    noise_tables: tuple[str, ...] = ()
    components: Mapping[str, Any] = field(default_factory=dict)
    examples: tuple[str, ...] = ()
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    rating_dimensions: tuple[str, ...] = ()
    source: str = ""  # the file it was read from ("" for the defaults)

    def is_document(self, rel: str) -> bool:
        """Whether the corpus-relative path ``rel`` names a document file."""
        return rel.lower().endswith(tuple(e.lower() for e in self.extensions))

    def excluded(self, rel: str) -> bool:
        """Whether the profile excludes the corpus-relative path ``rel``."""
        path = PurePosixPath(rel)
        return any(path.match(p) or fnmatch.fnmatch(rel, p) for p in self.exclude)

    def noise(self, headers: Sequence[str], first_row: Sequence[str]) -> bool:
        """Whether a table is noise (a placeholder table): a pattern matches
        its header line or its first row, cells joined by " | "."""
        lines = (" | ".join(headers), " | ".join(first_row))
        return any(re.search(p, line) for p in self.noise_tables for line in lines)

    def data_folder(self, corpus: Path) -> Path | None:
        """The data folder, a relative path read from the corpus folder."""
        if not self.data:
            return None
        return (corpus / self.data).resolve() if not Path(self.data).is_absolute() else Path(self.data)

    def url(self, doc_id: str) -> str:
        """The page's address on the site, when the profile gives a base."""
        if not self.site:
            return ""
        page = re.sub(r"(?:^|/)index$", "", doc_id)
        return self.site.rstrip("/") + "/" + (page + "/" if page else "")

    def to_json(self) -> dict[str, Any]:
        """The profile as JSON data (lists, not tuples: equal to itself read back)."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Profile:
        return _build(dict(data), source=str(data.get("source", "")))


def load_profile(corpus: str | os.PathLike[str], path: str | os.PathLike[str] | None = None) -> Profile:
    """The profile for ``corpus``: ``path`` if given, else ``<corpus>/bot.yaml``, else the defaults.

    Raises:
        ProfileError: the file is unreadable or malformed.
    """
    chosen = Path(path) if path else Path(corpus) / PROFILE_FILE
    if not chosen.is_file():
        if path:
            raise ProfileError(f"profile not found: {chosen}")
        return Profile()
    import yaml

    try:
        raw = yaml.safe_load(chosen.read_text("utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProfileError(f"cannot read the profile {chosen}: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict):
        raise ProfileError(f"the profile {chosen} must be a mapping of keys to values")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ProfileError(f"the profile {chosen} has unknown keys: {', '.join(unknown)} (known: {', '.join(sorted(_KEYS))})")
    return _build(raw, source=str(chosen))


def _build(raw: dict[str, Any], source: str) -> Profile:
    def strings(key: str) -> tuple[str, ...]:
        value = raw.get(key) or ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str | int | float) for v in value):
            raise ProfileError(f"profile key '{key}' must be a list of strings")
        return tuple(str(v) for v in value)

    for key in ("noise_tables",):
        for pattern in strings(key):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ProfileError(f"profile key '{key}': bad pattern {pattern!r}: {exc}") from None
    aliases = raw.get("aliases") or {}
    if not isinstance(aliases, dict):
        raise ProfileError("profile key 'aliases' must map a document id to a list of names")
    components = raw.get("components") or {}
    if not isinstance(components, dict):
        raise ProfileError("profile key 'components' must be a mapping (see bot/mdx.py ComponentRules)")
    try:
        from bot.mdx import ComponentRules

        ComponentRules.from_mapping(components)
    except ValueError as exc:
        raise ProfileError(f"profile key 'components': {exc}") from None
    extensions = tuple(e if e.startswith(".") else "." + e for e in strings("extensions")) or Profile.extensions
    return Profile(
        name=str(raw.get("name") or ""),
        extensions=extensions,
        exclude=strings("exclude"),
        data=str(raw.get("data") or ""),
        site=str(raw.get("site") or ""),
        noise_tables=strings("noise_tables"),
        components=components,
        examples=strings("examples"),
        aliases={str(k): tuple(str(a) for a in (v if isinstance(v, list) else [v])) for k, v in aliases.items()},
        rating_dimensions=strings("rating_dimensions"),
        source=source,
    )


