// Keyboard shortcuts for the queue and review pages. Everything here has a mouse/no-JS
// equivalent: the decision form is a plain form, highlights are links, reveal and "take the
// next item" are form buttons.
(function () {
  "use strict";
  const verdictKeys = {};  // filled from data-key attributes on the verdict radios
  document.querySelectorAll("input[name=verdict][data-key]").forEach(function (input) {
    verdictKeys[input.dataset.key] = input;
  });

  function highlights() {
    return Array.from(document.querySelectorAll("[data-highlight]"));
  }
  let current = -1;
  function go(step) {
    const all = highlights();
    if (!all.length) return;
    current = (current + step + all.length) % all.length;
    all.forEach(function (el) { el.classList.remove("current"); });
    const el = all[current];
    el.classList.add("current");
    el.scrollIntoView({ block: "center" });
    el.focus({ preventScroll: true });
  }
  function toggleHelp(show) {
    const help = document.getElementById("shortcut-help");
    if (help) help.hidden = show === undefined ? !help.hidden : !show;
  }
  function typing(target) {
    return target.closest("input[type=text], textarea, select, [contenteditable]");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") { toggleHelp(false); if (typing(event.target)) event.target.blur(); return; }
    if (typing(event.target)) return;
    const key = event.key;
    if (key === "?") { toggleHelp(); event.preventDefault(); return; }
    if (key === "j") { go(1); event.preventDefault(); return; }
    if (key === "k") { go(-1); event.preventDefault(); return; }
    if (key === "r") {
      const all = highlights();
      const scope = current >= 0 && all[current] ? all[current] : document;
      const button = scope.querySelector("button.reveal") || document.querySelector("button.reveal");
      if (button) { button.click(); event.preventDefault(); }
      return;
    }
    if (verdictKeys[key]) {
      verdictKeys[key].checked = true;
      verdictKeys[key].dispatchEvent(new Event("change", { bubbles: true }));
      const reason = document.getElementById("id_reason_code");
      if (reason) reason.focus();
      event.preventDefault();
      return;
    }
    const action = document.querySelector("[data-shortcut='" + key + "']");
    if (action) { action.click(); event.preventDefault(); }
  });

  // Only show the reason codes that belong to the chosen verdict.
  function filterReasons() {
    const chosen = document.querySelector("input[name=verdict]:checked");
    const select = document.getElementById("id_reason_code");
    if (!select) return;
    Array.from(select.options).forEach(function (option) {
      const family = option.dataset.verdicts;
      option.hidden = Boolean(chosen && family && family.split(" ").indexOf(chosen.value) < 0);
    });
    if (select.selectedOptions[0] && select.selectedOptions[0].hidden) select.value = "";
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "verdict") filterReasons();
  });
  filterReasons();
})();
