// Campaign pages: the wizard's variable buttons, phone preview and live
// character/segment counter. The counter mirrors plugins/sms/encoding.py: GSM-7 160 septets in one part, 153
// a part when split; UCS-2 70/67 code units; extension characters take 2 septets; a part never ends inside an
// escape pair or a surrogate pair; a {variable} counts as ten characters. The server's count is the truth and
// is shown beside it after each step.
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "\f^{}\\[~]|€";
  var VARIABLE = /\{[a-z][a-z0-9_]{0,39}\}/g;

  function estimate(text) { return text.replace(VARIABLE, "xxxxxxxxxx"); }

  function cutsCount(units, single, part, breaks) {
    // units: array of unit widths; breaks(i) says whether a part may end before index i.
    var size = units.length;
    if (size === 0) return 0;
    if (size <= single) return 1;
    var count = 0, pos = 0;
    while (pos < size) {
      var end = Math.min(pos + part, size);
      if (end < size && !breaks(end)) end -= 1;
      count += 1;
      pos = end;
    }
    return count;
  }

  function measure(text) {
    var gsm = true, i, ch;
    for (i = 0; i < text.length; i++) {
      ch = text.charAt(i);
      if (BASIC.indexOf(ch) < 0 && EXTENSION.indexOf(ch) < 0) { gsm = false; break; }
    }
    if (gsm) {
      var septets = [];  // 1 per septet; an extension character is ESC + code (the pair must stay together)
      for (i = 0; i < text.length; i++) {
        ch = text.charAt(i);
        if (EXTENSION.indexOf(ch) >= 0) { septets.push("esc"); septets.push("x"); } else { septets.push("x"); }
      }
      var parts = cutsCount(septets, 160, 153, function (end) { return septets[end - 1] !== "esc"; });
      return { encoding: "GSM-7", length: septets.length, parts: parts, perPart: parts > 1 ? 153 : 160 };
    }
    var units = text.length;  // JS strings are UTF-16 code units, as UCS-2 counts them
    var arr = new Array(units);
    var p = cutsCount(arr, 70, 67, function (end) {
      var code = text.charCodeAt(end - 1);
      return !(code >= 0xd800 && code <= 0xdbff);
    });
    return { encoding: "Unicode (UCS-2)", length: units, parts: p, perPart: p > 1 ? 67 : 70 };
  }

  // "N parts" in the page's language: the page gives the catalogue's text for each plural category.
  function partsText(parts) {
    var counter = document.getElementById("counter");
    var category = new Intl.PluralRules(document.documentElement.lang || "en").select(parts);
    var pattern = counter.getAttribute("data-parts-" + category) || counter.getAttribute("data-parts-other");
    return pattern.replace("9999", String(parts));
  }

  function switches() {
    // Choosing another channel brings its form (its sender IDs, its fields); what was typed is kept. Choosing
    // another WhatsApp template (of the first step or of a cascade's step) brings its parameters the same way.
    [["select[data-switch-channel]", "[data-switch-button]"],
     ["select[data-switch-template]", "[data-switch-template-button]"],
     ["select[data-switch-step-template]", "[data-switch-step-template-button]"]].forEach(function (pair) {
      var select = document.querySelector(pair[0]);
      var button = document.querySelector(pair[1]);
      if (!select || !button) return;
      button.style.display = "none";  // without script, the button switches
      select.addEventListener("change", function () { select.form.requestSubmit(button); });
    });
    var sender = document.querySelector("select[name=sender_id]");
    var senderLabel = document.querySelector(".phone-sender");
    if (sender && senderLabel) {
      sender.addEventListener("change", function () {
        var option = sender.options[sender.selectedIndex];
        if (option && option.value) senderLabel.textContent = option.textContent;
      });
    }
    // A WhatsApp template: the phone shows its body with the parameters as typed.
    var body = document.getElementById("template-body");
    var preview = document.getElementById("phone-preview");
    var params = document.querySelectorAll("[data-param]");
    if (body && preview) {
      var fill = function () {
        preview.textContent = body.dataset.body.replace(/\{\{\s*(\d+)\s*\}\}/g, function (all, n) {
          var input = params[Number(n) - 1];
          return input ? input.value : "";
        });
      };
      params.forEach(function (input) { input.addEventListener("input", fill); });
      fill();
    }
    // Its text header shows the value typed for its parameter.
    var header = document.querySelector("[data-header-param]");
    var phoneHeader = document.getElementById("phone-header");
    if (header && phoneHeader) {
      header.addEventListener("input", function () {
        phoneHeader.textContent = header.dataset.header.replace(/\{\{\s*1\s*\}\}/g, function () { return header.value; });
      });
    }
  }

  // Recipients step: a doughnut of the chosen groups' sizes, redrawn as groups are ticked (Chart.js, if loaded).
  var PALETTE = ["#c2410c", "#2563eb", "#16a34a", "#9333ea", "#d97706", "#0891b2", "#db2777", "#4b5563"];
  function groupsChart() {
    var canvas = document.getElementById("groups-pie");
    if (!canvas || !window.Chart) return;
    var figure = canvas.closest("figure");
    var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=group_ids][data-size]"));
    var chart = new window.Chart(canvas, {
      type: "doughnut",
      data: { labels: [], datasets: [{ data: [], backgroundColor: PALETTE, borderWidth: 0 }] },
      options: { animation: false, cutout: "55%", plugins: { legend: { position: "bottom" } } },
    });
    function draw() {
      var all = boxes.filter(function (b) { return b.value === "all" && b.checked; });
      var chosen = all.length ? all : boxes.filter(function (b) { return b.checked; });
      figure.hidden = chosen.length === 0;
      chart.data.labels = chosen.map(function (b) { return b.dataset.label; });
      chart.data.datasets[0].data = chosen.map(function (b) { return Number(b.dataset.size); });
      chart.update();
    }
    boxes.forEach(function (b) { b.addEventListener("change", draw); });
    draw();
  }

  function wizard() {
    switches();
    groupsChart();
    var area = document.getElementById("message-text");
    if (!area) return;
    var counter = document.getElementById("counter");
    var preview = document.getElementById("phone-preview");
    var sms = (area.dataset.channel || "sms") === "sms";
    function update() {
      if (sms) {
        var m = measure(estimate(area.value));
        counter.textContent = m.length + " / " + (m.parts > 1 ? m.parts * m.perPart : m.perPart) +
          " · " + partsText(m.parts) + " · " + m.encoding;
      } else {
        // Viber and the like: one message whatever its length, up to the vendor's 1,000 characters.
        counter.textContent = estimate(area.value).length + " / 1000";
      }
      if (preview) preview.textContent = area.value;
    }
    area.addEventListener("input", update);
    // Variable buttons insert {name}; the emoji picker's buttons insert themselves; both where the cursor is.
    document.querySelectorAll("[data-variable], [data-insert]").forEach(function (button) {
      button.addEventListener("click", function () {
        var token = button.dataset.insert || "{" + button.dataset.variable + "}";
        var start = area.selectionStart, end = area.selectionEnd;
        area.setRangeText(token, start, end, "end");
        area.focus();
        update();
      });
    });
    // Viber's image and button: the phone shows them, and either makes the message a promotion.
    var image = document.getElementById("image-url");
    var caption = document.getElementById("button-caption");
    var traffic = document.getElementById("traffic-type");
    function rich() {
      var phoneImage = document.getElementById("phone-image");
      var phoneButton = document.getElementById("phone-button");
      if (image && phoneImage) {
        var url = image.value.trim();
        phoneImage.hidden = !/^https?:\/\/\S+$/.test(url);
        if (!phoneImage.hidden) phoneImage.src = url;
      }
      if (caption && phoneButton) {
        phoneButton.textContent = caption.value;
        phoneButton.hidden = !caption.value.trim();
      }
      if (traffic) {
        var promotion = (image && image.value.trim()) || (caption && caption.value.trim());
        traffic.textContent = promotion ? traffic.dataset.promotion : traffic.dataset.transaction;
      }
    }
    [image, caption].forEach(function (input) { if (input) input.addEventListener("input", rich); });
    rich();
    update();
  }

  window.campaignMeasure = measure;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wizard); else wizard();
})();
