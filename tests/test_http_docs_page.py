"""The human-readable API page, /docs, as a browser gets it."""

from __future__ import annotations

import re

import httpx


def test_docs_page_style_sheet_is_whole_rules_and_styles_table_cells(gateway_url: str) -> None:
    r = httpx.get(gateway_url + "/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    style = re.search(r"<style>(.*?)</style>", r.text, re.S)
    assert style is not None
    css = style.group(1)
    rules = re.findall(r"([^{}]+)\{([^{}]*)\}", css)
    # Every character belongs to a `selector{declarations}` rule: a stray brace would end one
    # rule early and make the browser drop the next.
    assert "".join(f"{selector}{{{body}}}" for selector, body in rules) == css, css
    selectors = {selector.strip(): body for selector, body in rules}
    assert set(selectors) == {"body", "td", "pre"}, selectors
    assert "padding" in selectors["td"] and "border-bottom" in selectors["td"]
