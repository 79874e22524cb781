"""Every destructive button of the portal asks before it acts (issue 18 item 5): a form whose submit button is
styled as dangerous carries ``data-confirm`` (portal.js asks the question), unless the page it belongs to is itself
the confirmation or the action asks for a reason first."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S)
# Pages where the dangerous button is the answer to a question already on the page, or needs a reason typed first.
ASKS_ALREADY = {
    "core/message_templates/templates/message_templates/delete.html",  # "Delete anyway" after the list of users
    "core/message_templates/templates/message_templates/vendor_delete.html",  # the same, for WhatsApp templates
    "core/contacts/templates/contacts/bulk.html",  # the bulk action's own confirmation page
    "core/tenancy/templates/admin/request.html",  # Decline needs its reason typed in the same form
}


def test_every_dangerous_button_asks_first():
    unasked = []
    for path in sorted(ROOT.glob("core/**/templates/**/*.html")) + sorted(ROOT.glob("plugins/**/templates/**/*.html")):
        name = str(path.relative_to(ROOT))
        if name in ASKS_ALREADY:
            continue
        for form in FORM.findall(path.read_text()):
            opening = form.split(">", 1)[0]
            if "btn-danger" in form and "data-confirm" not in opening:
                unasked.append(f"{name}: {opening[:100]}")
    assert unasked == []
