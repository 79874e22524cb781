// Contacts pages: row selection and the action bar, row menus placed by their button,
// column drag and drop. Everything works without this file; it only makes the pages quicker to use.
(function () {
  "use strict";

  // Selection -------------------------------------------------------------------------------------
  function refreshSelection(root) {
    const bar = root.querySelector("[data-bulk-bar]");
    const boxes = Array.from(root.querySelectorAll("input[type=checkbox][name=ids]"));
    const pageBox = root.querySelector("[data-select-page]");
    const allMatching = root.querySelector("[data-all-matching]");
    const picked = boxes.filter(function (box) { return box.checked; }).length;
    if (pageBox) {
      pageBox.checked = boxes.length > 0 && picked === boxes.length;
      pageBox.indeterminate = picked > 0 && picked < boxes.length;
    }
    if (!bar) return;
    const label = bar.querySelector("[data-selected-count]");
    const everything = allMatching && allMatching.checked;
    if (everything) label.textContent = label.dataset.templateAll;
    else if (picked === 1) label.textContent = label.dataset.templateOne;
    else label.textContent = label.dataset.templateMany.replace("__N__", String(picked));
    bar.hidden = picked === 0 && !everything;
  }

  function scopeOf(element) {
    return element.closest("#contacts-table") || element.closest("form") || document;
  }

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    const root = scopeOf(target);
    if (target.matches("[data-select-page]")) {
      root.querySelectorAll("input[type=checkbox][name=ids]").forEach(function (box) { box.checked = target.checked; });
      const allMatching = root.querySelector("[data-all-matching]");
      if (allMatching && !target.checked) allMatching.checked = false;
    } else if (target.matches("[data-all-matching]") && target.checked) {
      // "All N matching" covers this page too; ticking its rows shows what is included.
      root.querySelectorAll("input[type=checkbox][name=ids]").forEach(function (box) { box.checked = true; });
    } else if (target.name === "ids" && !target.checked) {
      const allMatching = root.querySelector("[data-all-matching]");
      if (allMatching) allMatching.checked = false;
    }
    refreshSelection(root);
  });

  // Empty filter fields stay out of the address bar, so that a copied link shows only the filters in use.
  document.addEventListener("htmx:configRequest", function (event) {
    const data = event.detail.formData;
    if (!data || event.detail.verb !== "get") return;
    Array.from(data.entries()).forEach(function (entry) { if (entry[1] === "") data.delete(entry[0]); });
  });

  // A filter the server cannot use comes back as 400/422 with the reason inside the table block: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const status = event.detail.xhr.status;
    if ((status === 400 || status === 422) && event.detail.target.id === "contacts-table") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target instanceof HTMLSelectElement && target.matches("[data-autosubmit]") && target.form) {
      target.form.requestSubmit();
    }
  });

  // Row menus: a popover opens under its button (or above it near the bottom) instead of mid-screen ---
  document.addEventListener("beforetoggle", function (event) {
    const menu = event.target;
    if (!(menu instanceof HTMLElement) || !menu.matches(".row-menu") || event.newState !== "open") return;
    const button = document.querySelector('[popovertarget="' + menu.id + '"]');
    if (!button) return;
    const box = button.getBoundingClientRect();
    menu.style.top = box.bottom + 4 + "px";
    menu.style.right = Math.max(8, window.innerWidth - box.right) + "px";
    menu.dataset.placed = "1";
    menu.dataset.buttonTop = String(box.top);
  }, true);
  document.addEventListener("toggle", function (event) {
    const menu = event.target;
    if (!(menu instanceof HTMLElement) || !menu.dataset.placed || event.newState !== "open") return;
    if (menu.getBoundingClientRect().bottom > window.innerHeight - 8) {
      menu.style.top = Math.max(8, parseFloat(menu.dataset.buttonTop) - menu.offsetHeight - 4) + "px";
    }
  }, true);

  // Column order: drag and drop, and the arrow buttons move rows here instead of posting ------------
  function setupSortable(list) {
    if (list.dataset.ready) return;
    list.dataset.ready = "1";
    let dragged = null;
    function refreshArrows() {
      const rows = Array.from(list.children);
      rows.forEach(function (row, index) {
        row.querySelector("[name=up]").disabled = index === 0;
        row.querySelector("[name=down]").disabled = index === rows.length - 1;
      });
    }
    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("li");
      if (!dragged) return;
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.key);
    });
    list.addEventListener("dragover", function (event) {
      const over = event.target.closest("li");
      if (!dragged || !over || over === dragged) return;
      event.preventDefault();
      const box = over.getBoundingClientRect();
      list.insertBefore(dragged, event.clientY > box.top + box.height / 2 ? over.nextSibling : over);
    });
    list.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      dragged = null;
      refreshArrows();
    });
    list.addEventListener("click", function (event) {
      const button = event.target.closest("button[name=up], button[name=down]");
      if (!button) return;
      event.preventDefault();
      const row = button.closest("li");
      if (button.name === "up" && row.previousElementSibling) list.insertBefore(row, row.previousElementSibling);
      if (button.name === "down" && row.nextElementSibling) list.insertBefore(row.nextElementSibling, row);
      refreshArrows();
      button.focus();
    });
  }

  function init(root) {
    root.querySelectorAll("[data-sortable]").forEach(setupSortable);
    const scope = root.querySelector("#contacts-table") || root;
    refreshSelection(scope);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function () { init(document.querySelector("#contacts-table") || document); });
})();
