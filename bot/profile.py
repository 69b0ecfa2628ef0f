r"""The corpus profile: what is specific to one corpus, as data.

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
    rating_dimensions: [{name: Tractability, asked: ['tractab\w*'], columns: ['tractable?']}]
    sections: {who: {heading: '^who should work on', asked: ['career']}}
    heading_cues: [{asked: 'feasib\w*', heading: 'feasib'}]

The last three say how people ask about the rating dimensions of the approach
map, about standard sections, and what section headings say; their defaults,
for approach documents, are the package's ``approach_profile.yaml``. A key a
profile gives replaces the default's, but for ``sections``, where a profile's
section replaces the default's of the same name (``null`` removes it) and the
others stay. A section marked ``last: true`` (the default's ``sources``) comes
after every other in an answer unless the question asks for it.

Nothing here is read at question time but what the index keeps (see
:meth:`Profile.to_json`), so an index answers the same wherever it is opened.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from bot.errors import BotError

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
    "sections",
    "heading_cues",
}

#: Keys whose defaults come from the package's approach_profile.yaml.
_DEFAULTED = ("rating_dimensions", "sections", "heading_cues")


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
    rating_dimensions: tuple[Mapping[str, Any], ...] = ()  # {name, asked: [patterns], columns: [headers]}
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # key → {heading, asked}
    heading_cues: tuple[Mapping[str, str], ...] = ()  # {asked, heading}
    source: str = ""  # the file it was read from ("" for the defaults)

    @property
    def dimension_names(self) -> tuple[str, ...]:
        return tuple(str(d["name"]) for d in self.rating_dimensions)

    @classmethod
    def defaults(cls) -> Profile:
        """The profile of a corpus that has none: approach documents' dimensions, sections and cues."""
        return _build(_defaults(), source="")

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
        return Profile.defaults()
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
    defaults = _defaults()
    if isinstance(raw.get("sections"), dict):  # sections are named: a profile's override the default's of that name
        raw = {**raw, "sections": {k: v for k, v in {**defaults.get("sections", {}), **raw["sections"]}.items() if v is not None}}
    return _build({**defaults, **raw}, source=str(chosen))


@functools.lru_cache(maxsize=1)
def _default_data() -> str:
    return (Path(__file__).with_name("approach_profile.yaml")).read_text("utf-8")


def _defaults() -> dict[str, Any]:
    """The package's defaults for the keys in _DEFAULTED (a fresh copy)."""
    import yaml

    data = yaml.safe_load(_default_data()) or {}
    return {k: data[k] for k in _DEFAULTED if k in data}


def _build(raw: dict[str, Any], source: str) -> Profile:
    def strings(key: str) -> tuple[str, ...]:
        value = raw.get(key) or ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str | int | float) for v in value):
            raise ProfileError(f"profile key '{key}' must be a list of strings")
        return tuple(str(v) for v in value)

    for key in ("noise_tables",):  # fail early on a bad pattern
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
        rating_dimensions=tuple(_patterned(raw, "rating_dimensions")),
        sections=_sections(raw),
        heading_cues=tuple(_patterned(raw, "heading_cues")),
        source=source,
    )




def _patterned(raw: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """A list of mappings whose ``asked``/``heading`` values are regular expressions (checked)."""
    items = raw.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ProfileError(f"profile key '{key}' must be a list of mappings")
    for item in items:
        _check_patterns(key, item)
    return [dict(i) for i in items]


def _sections(raw: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    sections = raw.get("sections") or {}
    if not isinstance(sections, dict) or not all(isinstance(v, dict) for v in sections.values()):
        raise ProfileError("profile key 'sections' must map a name to {heading, asked}")
    for item in sections.values():
        _check_patterns("sections", item)
    return {str(k): dict(v) for k, v in sections.items()}


def _check_patterns(key: str, item: Mapping[str, Any]) -> None:
    for field_name in ("asked", "heading"):
        value = item.get(field_name)
        for pattern in value if isinstance(value, list) else [value] if value else []:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                raise ProfileError(f"profile key '{key}': bad pattern {pattern!r}: {exc}") from None
