// Keyboard shortcuts for the queue and review pages, as the README lists them and the "?"
// help shows them. Everything here has a mouse/no-JS equivalent: the decision form is a
// plain form, highlights are links, reveal, skip, renew and "take the next item" are buttons.
// No key means two things on two pages: a verdict's key (the verdicts table) is never one of
// the keys below (RESERVED_KEYS in review/decisions/verdicts.py).
(function () {
  "use strict";
  const verdictKeys = {};  // filled from data-key attributes on the verdict radios
  document.querySelectorAll("input[name=verdict][data-key]").forEach(function (input) {
    verdictKeys[input.dataset.key] = input;
  });
  const panel = document.querySelector("[data-decision-panel]");
  const decisionForm = panel && panel.querySelector("form[data-decision-form]");
  const reasonSelect = document.getElementById("id_reason_code");

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
    return target.closest("input[type=text], input[type=search], textarea, select, [contenteditable]");
  }

  // The reasons that go with the chosen verdict, in the order listed; "1" is the first.
  function visibleReasons() {
    if (!reasonSelect) return [];
    return Array.from(reasonSelect.options).filter(function (option) {
      return option.value && !option.hidden;
    });
  }
  function chooseReason(option) {
    if (!option) return;
    reasonSelect.value = option.value;
    reasonSelect.dispatchEvent(new Event("change", { bubbles: true }));
  }
  function stepReason(step) {
    const reasons = visibleReasons();
    if (!reasons.length) return;
    const at = reasons.findIndex(function (option) { return option.selected; });
    const next = at < 0 ? (step > 0 ? 0 : reasons.length - 1)
      : Math.min(Math.max(at + step, 0), reasons.length - 1);
    chooseReason(reasons[next]);
  }

  // Enter submits the decision from anywhere in the decision panel; in Notes, where Enter is
  // a new line, Ctrl+Enter (or Cmd+Enter) does. A button keeps its own Enter (Skip, Renew).
  function submitOnEnter(event) {
    if (event.key !== "Enter" || !decisionForm || !panel.contains(event.target)) return false;
    const target = event.target;
    if (target.closest("button, a, input[type=submit]")) return false;
    const form = target.closest("form");
    if (form && form !== decisionForm) return false;  // another form in the panel (skip)
    if (target.closest("textarea") && !(event.ctrlKey || event.metaKey)) return false;
    event.preventDefault();
    decisionForm.requestSubmit();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (submitOnEnter(event)) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (key === "Escape") { toggleHelp(false); if (typing(event.target)) event.target.blur(); return; }
    const onReason = reasonSelect && event.target === reasonSelect;
    // The reason: arrow keys on the reason list, or its number from anywhere but a text field.
    if (onReason && (key === "ArrowDown" || key === "ArrowUp")) {
      stepReason(key === "ArrowDown" ? 1 : -1);
      event.preventDefault();
      return;
    }
    if (reasonSelect && /^[1-9]$/.test(key) && (onReason || !typing(event.target))) {
      chooseReason(visibleReasons()[Number(key) - 1]);
      event.preventDefault();
      return;
    }
    if (typing(event.target)) return;
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
      if (reasonSelect) reasonSelect.focus();
      event.preventDefault();
      return;
    }
    const action = document.querySelector("[data-shortcut='" + key + "']");
    if (action) { action.click(); event.preventDefault(); }
  });

  // Only show the reason codes that belong to the chosen verdict, each with its number.
  function filterReasons() {
    const chosen = document.querySelector("input[name=verdict]:checked");
    if (!reasonSelect) return;
    Array.from(reasonSelect.options).forEach(function (option) {
      const family = option.dataset.verdicts;
      if (option.dataset.label === undefined) option.dataset.label = option.text;
      option.hidden = Boolean(chosen && family && family.split(" ").indexOf(chosen.value) < 0);
      option.text = option.dataset.label;
    });
    if (reasonSelect.selectedOptions[0] && reasonSelect.selectedOptions[0].hidden) reasonSelect.value = "";
    visibleReasons().forEach(function (option, at) {
      if (at < 9) option.text = option.dataset.label + " (" + (at + 1) + ")";
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "verdict") filterReasons();
  });
  filterReasons();

  // The pinned side column (artemis.css) is as tall as the window below what is above the
  // review on screen: the page header until it scrolls away (two to four rows, by width and
  // role), then nothing. Measured here, as --pinned-top, once a frame at most.
  const pinned = document.querySelector(".review > .side-col.pinned");
  if (pinned) {
    let queued = false;
    let given = "";
    const fit = function () {
      queued = false;
      const top = Math.max(0, Math.round(pinned.parentElement.getBoundingClientRect().top)) + "px";
      if (top !== given) pinned.style.setProperty("--pinned-top", (given = top));
    };
    const later = function () {
      if (!queued) { queued = true; requestAnimationFrame(fit); }
    };
    window.addEventListener("scroll", later, { passive: true });
    window.addEventListener("resize", later);
    fit();
  }

  // The lease: its time left, counted down from what the server said when the page was
  // drawn (no clock comparison between machines), and renewed by "t", the Renew button or the
  // page's heartbeat. A refusal (the lease was lost) is shown in place of the countdown.
  const lease = document.querySelector("[data-lease-left]");
  if (lease) {
    const shown = lease.querySelector("[data-lease-time]");
    const status = lease.querySelector("[data-lease-status]");
    const full = Number(lease.dataset.leaseSeconds);
    let endsAt = performance.now() + Number(lease.dataset.leaseLeft) * 1000;
    const tick = function () {
      const left = Math.max(0, Math.round((endsAt - performance.now()) / 1000));
      const text = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (shown.textContent !== text) shown.textContent = text;
      lease.classList.toggle("lease-low", left <= 60);
      if (left === 0) status.textContent = "The lease ran out: take the item from the queue again.";
    };
    const renewed = function () {
      endsAt = performance.now() + full * 1000;
      status.textContent = "Renewed.";
      tick();
    };
    const refused = function (text) { status.textContent = text || "Could not renew the lease."; };
    const button = lease.querySelector("[data-lease-renew]");
    button.addEventListener("click", function () {
      const token = document.querySelector("input[name=csrfmiddlewaretoken]");
      fetch(button.dataset.url, {
        method: "POST",
        headers: { "X-CSRFToken": token ? token.value : "" },
        credentials: "same-origin",
      }).then(function (response) {
        if (response.status === 204) renewed();
        else response.text().then(refused);
      }, function () { refused(); });
    });
    // The heartbeat (htmx, every two minutes) renews it too.
    document.body.addEventListener("htmx:afterRequest", function (event) {
      if (!event.target.hasAttribute("data-lease-heartbeat")) return;
      if (event.detail.xhr.status === 204) { endsAt = performance.now() + full * 1000; tick(); }
      else refused(event.detail.xhr.responseText);
    });
    tick();
    setInterval(tick, 1000);
  }
})();
