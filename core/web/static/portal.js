// Behaviour shared by every page, from a file so the Content-Security-Policy can forbid inline script.
(function () {
  "use strict";

  // A form with data-confirm asks before it submits (removals); in the capture phase, before htmx sees it.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    // API keys: show the expiry the chosen period gives, computed as the server does (days or calendar months).
    const select = document.getElementById("period"), out = document.getElementById("expiry-preview");
    if (select && out) {
      const update = function () {
        const d = new Date(), p = select.value;
        if (p === "never") { out.textContent = out.dataset.never; return; }
        if (p.endsWith("d")) d.setDate(d.getDate() + parseInt(p, 10));
        if (p === "3m") d.setMonth(d.getMonth() + 3);
        if (p === "1y") d.setFullYear(d.getFullYear() + 1);
        out.textContent = out.dataset.until + " " + d.toISOString().slice(0, 10);
      };
      select.addEventListener("change", update);
      update();
    }
    // API keys: copy a new key to the clipboard.
    const copy = document.getElementById("copy-key");
    if (copy) {
      copy.addEventListener("click", function () {
        const field = document.getElementById("new-key");
        field.select();
        (navigator.clipboard ? navigator.clipboard.writeText(field.value) : Promise.resolve(document.execCommand("copy")))
          .then(function () { copy.textContent = copy.dataset.done; });
      });
    }
  });
})();
