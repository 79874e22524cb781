// Import Contacts: drag and drop onto the file field, a size check before uploading, and the header toggle.
(() => {
  const form = document.querySelector("form[data-max-bytes]");
  if (form) {
    const zone = form.querySelector("[data-dropzone]");
    const input = form.querySelector("[data-file-input]");
    const name = form.querySelector("[data-file-name]");
    const clear = form.querySelector("[data-clear-file]");
    const sizeError = form.querySelector("[data-size-error]");
    const limit = Number(form.dataset.maxBytes);
    const show = () => {
      const file = input.files[0];
      name.hidden = !file;
      clear.hidden = !file;
      name.textContent = file ? `${file.name} · ${(file.size / 1024).toFixed(1)} KB` : "";
      sizeError.hidden = !file || file.size <= limit;
    };
    input.addEventListener("change", show);
    clear.addEventListener("click", () => { input.value = ""; show(); });
    ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    }));
    ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("dragging")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
    form.addEventListener("submit", (event) => {
      if (input.files[0] && input.files[0].size > limit) {
        event.preventDefault();
        sizeError.hidden = false;
      }
    });
  }
  const header = document.querySelector("[data-has-header]");
  const firstRow = document.querySelector("[data-first-row]");
  if (header && firstRow) {
    header.addEventListener("change", () => firstRow.classList.toggle("header-row", header.checked));
  }
  document.querySelectorAll(".preview-table select").forEach((select) => {
    select.addEventListener("change", () => select.classList.toggle("mapped", select.value !== ""));
  });
})();
