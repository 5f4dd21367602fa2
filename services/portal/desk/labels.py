"""A refused desk form in the form's own words: the service names a JSON field ("note: 最多 500
个字符"), a council member knows the field by its label ("处理结果"). The label is read from the
page as rendered, in the form that shows the refusal, so it stays the one the person sees when a
template changes; the field itself is marked (aria-invalid, described by the refusal)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from markupsafe import escape

REFUSED_ID = "refused"  # the refusal's paragraph (desk/_desk.html)
# the services' fields the desk's forms call otherwise (the form takes yuan, reads it as fen)
FORM_NAMES = {"budget_fen": "budget"}
_NOTE = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")  # "受理说明 (选填)" → "受理说明"


@dataclass
class _Form:
    labels: dict[str, str] = field(default_factory=dict)  # element id → label text
    fields: list[tuple[str, str, int, str]] = field(default_factory=list)  # name, id, at, tag
    refusal: tuple[int, int] | None = None  # where the refusal's text starts and ends


class _Reader(HTMLParser):
    """The forms of a page: their labels, fields (with where each tag starts) and which one
    holds the refusal."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.starts = [0] + [m.end() for m in re.finditer("\n", html)]
        self.forms: list[_Form] = []
        self.form: _Form | None = None
        self.label: tuple[str, list[str]] | None = None
        self.in_refusal = False

    def at(self) -> int:
        line, column = self.getpos()
        return self.starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.form = _Form()
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "label" and a.get("for"):
            self.label = (a["for"], [])
        elif tag in ("input", "textarea", "select") and a.get("name"):
            self.form.fields.append((a["name"], a.get("id", ""), self.at(),
                                     self.get_starttag_text() or ""))
        elif tag == "p" and a.get("id") == REFUSED_ID:
            start = self.at() + len(self.get_starttag_text() or "")
            self.form.refusal, self.in_refusal = (start, start), True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "label" and self.label and self.form is not None:
            self.form.labels[self.label[0]] = "".join(self.label[1]).strip()
            self.label = None
        elif tag == "p" and self.in_refusal and self.form and self.form.refusal:
            self.form.refusal = (self.form.refusal[0], self.at())
            self.in_refusal = False

    def handle_data(self, data: str) -> None:
        if self.label:
            self.label[1].append(data)


def in_own_words(html: str, detail: str, fields: dict[str, str]) -> str:
    """The page with its refusal naming the field by its label and the field marked invalid;
    unchanged when the refused form has no field of the names the service gave."""
    reader = _Reader(html)
    reader.feed(html)
    reader.close()
    form = next((f for f in reader.forms if f.refusal), None)
    if form is None or form.refusal is None:
        return html
    for name, said in fields.items():
        named = FORM_NAMES.get(name, name)
        found = next((f for f in form.fields if f[0] == named), None)
        if found is None:
            continue
        _, element_id, at, tag = found
        label = _NOTE.sub("", form.labels.get(element_id, ""))
        # the service's detail named the JSON field ("…: note: 最多 500 个字符"): say the label
        text = f"{label}: {said}" if label and said != detail else detail
        marks = ' aria-invalid="true"'
        if "aria-describedby" not in tag:
            marks += f' aria-describedby="{REFUSED_ID}"'
        end = at + len(tag) - (2 if tag.endswith("/>") else 1)
        start, stop = form.refusal
        # edits from the end of the page first, so the earlier offsets stay right
        edits = sorted([(start, stop, str(escape(text))), (end, end, marks)], reverse=True)
        for a, b, words in edits:
            html = html[:a] + words + html[b:]
        return html
    return html
