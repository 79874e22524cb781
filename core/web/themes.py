"""White-label themes: a folder under tenants/<slug>/ with theme.toml, template overrides and static files."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

from core.settings import ROOT

TENANTS_DIR = ROOT / "tenants"
Colour = Annotated[str, Meta(pattern=r"^#[0-9a-fA-F]{6}$")]
# Font stacks go into a <style> block unescaped, so only names, quotes, commas and dashes are allowed.
FontStack = Annotated[str, Meta(pattern=r"^[A-Za-z0-9 ,'\-]{1,200}$")]


class Theme(msgspec.Struct, frozen=True, kw_only=True):
    """What theme.toml says; colours feed CSS variables, the logo is served from the theme's static folder."""

    slug: str = "default"
    brand_name: str = "Campaign Portal"
    primary: Colour = "#2563eb"
    primary_text: Colour = "#ffffff"
    accent: Colour = "#0ea5e9"
    sidebar: Colour = "#0f172a"
    sidebar_text: Colour = "#e2e8f0"
    font: FontStack = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
    logo: str = ""
    stylesheet: str = ""
    tagline: str = ""
    # A shared theme may be chosen by any reseller; otherwise a theme belongs to the portal named like its folder.
    shared: bool = False

    @property
    def folder(self) -> Path:
        return TENANTS_DIR / self.slug

    @property
    def template_dir(self) -> Path:
        return self.folder / "templates"

    @property
    def logo_url(self) -> str:
        return f"/theme/{self.slug}/{self.logo}" if self.logo else ""


def available_themes() -> list[str]:
    return sorted(p.name for p in TENANTS_DIR.iterdir() if (p / "theme.toml").is_file())


def themes_for(*, any_theme: bool, portal_slug: str) -> list[str]:
    """The themes a portal may use: every one for the system owner, else the shared ones and the portal's own.

    A reseller's brand folder is its own: another reseller must not dress a portal in it.
    """
    return [
        slug
        for slug in available_themes()
        if any_theme or slug == portal_slug or load_theme(slug).shared or slug == "default"
    ]


@cache
def load_theme(slug: str) -> Theme:
    """The theme named ``slug``; an unknown or broken theme falls back to the default look."""
    path = TENANTS_DIR / slug / "theme.toml"
    if not path.is_file():
        return Theme()
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return msgspec.convert({**data, "slug": slug}, Theme)
