/*
 * Kepai Station: unsaved drafts of the visit forms, kept in the browser.
 *
 * A commissioner in a barn types half a visit, the phone's browser is closed or the
 * connection drops: the values come back the next time the same form is opened.
 *
 * - A form opts in with data-draft-form (which form: visit-new-short, visit-new-full,
 *   visit-edit-<id>) and data-draft-user (the user's id), see templates/visits/_draft.html.
 *   The draft lives in localStorage under "kepai-draft:<user>:<form>", so one user never
 *   sees another's draft on a shared laptop.
 * - Every change (typing, dates, selects, ticks, picker picks) saves the draft, debounced,
 *   and at once when the page is hidden or submitted. Hidden fields (the CSRF token) and
 *   files are never kept (a browser cannot keep a chosen photo), but for a hidden field
 *   marked data-draft-keep: the id a new visit will have, so that a draft sent again
 *   after a lost answer is saved once.
 * - A fresh form (GET; data-draft-fresh="true") with a draft gets its values back and
 *   shows the notice; a 422 re-render keeps the posted values and goes on saving.
 *   An edit's draft is only restored onto the same version of the visit
 *   (data-draft-base); if the visit changed meanwhile the draft is dropped and the
 *   notice says so, rather than silently overwrite someone else's change.
 * - A draft is deleted only when the server confirmed the save: a submit notes the draft
 *   as pending for this tab (sessionStorage), and the next page clears it only if it
 *   carries data-draft-saved (the visit page after a successful save). Any other next
 *   page (the form again with errors, the login page, an error) leaves the draft.
 * - Drafts older than MAX_AGE_DAYS are deleted. Logging out keeps them (see README).
 *
 * Nothing here is needed: without JavaScript or localStorage the forms work as before.
 */
(function () {
  "use strict";

  var PREFIX = "kepai-draft:";
  var PENDING = "kepai-draft-pending";
  var MAX_AGE_DAYS = 7;
  var SAVE_DELAY_MS = 400;
  var started = typeof WeakSet === "function" ? new WeakSet() : null;
  var flushCurrent = null;  // saves the open form's draft now, if a save is waiting

  // Storage that may be missing or full (private mode, old phones): never break the form.
  function read(store, key) {
    try { return JSON.parse(store.getItem(key)); } catch (e) { return null; }
  }
  function write(store, key, value) {
    try { store.setItem(key, JSON.stringify(value)); } catch (e) { /* draft not kept */ }
  }
  function remove(store, key) {
    try { store.removeItem(key); } catch (e) { /* nothing to remove */ }
  }

  function isExpired(draft) {
    return !draft || typeof draft.savedAt !== "number" ||
      Date.now() - draft.savedAt > MAX_AGE_DAYS * 86400000;
  }

  // Deletes every expired draft (of any user): unsaved work is not kept for ever.
  function sweepExpired() {
    try {
      for (var i = localStorage.length - 1; i >= 0; i--) {
        var key = localStorage.key(i);
        if (key && key.indexOf(PREFIX) === 0 && isExpired(read(localStorage, key))) {
          remove(localStorage, key);
        }
      }
    } catch (e) { /* no storage */ }
  }

  // The fields a draft keeps: every named control of the form except files, buttons and
  // hidden ones (the CSRF token), but for those marked data-draft-keep (the id a new visit
  // will have: the server saves a form with the same id once). Search boxes of the pickers
  // belong to no form, so they are not here.
  function keptControls(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !el.disabled &&
        (el.type !== "hidden" || el.hasAttribute("data-draft-keep")) &&
        ["file", "submit", "button", "reset", "image"].indexOf(el.type) < 0 &&
        el.tagName !== "BUTTON" && el.tagName !== "FIELDSET";
    });
  }

  // {name: [values]}: a ticked box or a selected option adds its value; a text adds its text.
  // A picker's chosen ids are its ticked boxes and its selected options, under one name.
  function valuesOf(form) {
    var values = {};
    keptControls(form).forEach(function (el) {
      var list = values[el.name] || (values[el.name] = []);
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked && list.indexOf(el.value) < 0) { list.push(el.value); }
      } else if (el.type === "select-multiple") {
        Array.prototype.forEach.call(el.selectedOptions || el.options, function (opt) {
          if (opt.selected && list.indexOf(opt.value) < 0) { list.push(opt.value); }
        });
      } else {
        list.push(el.value);
      }
    });
    return values;
  }

  // Puts a draft's values back. A picked id that is now a ticked box is ticked; one that
  // is only in the picker's list is selected there, and a "change" lets htmx show it among
  // the chosen (visits.chosen); if that request fails the selection still submits it.
  function restoreValues(form, values) {
    var controls = keptControls(form);
    var boxes = {};
    controls.forEach(function (el) {
      if (el.type === "checkbox") { (boxes[el.name] || (boxes[el.name] = [])).push(el.value); }
    });
    var picked = [];
    controls.forEach(function (el) {
      var list = values[el.name];
      if (!list) { return; }  // a field the draft does not know keeps the server's value
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = list.indexOf(el.value) >= 0;
      } else if (el.type === "select-multiple") {
        var any = false;
        Array.prototype.forEach.call(el.options, function (opt) {
          opt.selected = list.indexOf(opt.value) >= 0 && (boxes[el.name] || []).indexOf(opt.value) < 0;
          any = any || opt.selected;
        });
        if (any) { picked.push(el); }
      } else if (el.type === "select-one") {
        var known = Array.prototype.some.call(el.options, function (opt) { return opt.value === list[0]; });
        if (known) { el.value = list[0]; }
      } else {
        el.value = list[0] === undefined ? "" : list[0];
      }
    });
    picked.forEach(function (el) { el.dispatchEvent(new Event("change", { bubbles: true })); });
  }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  // "11月28日 17:40" or "28 Nov, 17:40", in the page's language.
  function formatWhen(ms) {
    var when = new Date(ms);
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
        month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false
      }).format(when);
    } catch (e) {
      return when.toLocaleString();
    }
  }

  // The notice's text comes from the template with "{when}" in it; the template is kept in
  // data-text, as htmx's history may bring back a page whose notice was already filled.
  function resetNotice(notice) {
    notice.hidden = true;
    Array.prototype.forEach.call(notice.querySelectorAll("p"), function (p) {
      if (!p.hasAttribute("data-text")) { p.setAttribute("data-text", p.textContent); }
      p.textContent = p.getAttribute("data-text");
      p.hidden = true;
    });
  }

  function showNotice(notice, which, savedAt) {
    if (!notice) { return; }
    var text = notice.querySelector(which);
    text.textContent = text.getAttribute("data-text").replace("{when}", formatWhen(savedAt));
    text.hidden = false;
    notice.querySelector("[data-draft-discard]").hidden = which !== "[data-draft-restored]";
    notice.hidden = false;
  }

  // One form that keeps a draft.
  function startDraft(form) {
    var key = PREFIX + form.getAttribute("data-draft-user") + ":" + form.getAttribute("data-draft-form");
    var base = form.getAttribute("data-draft-base");
    var notice = form.ownerDocument.querySelector("[data-draft-notice]");
    var timer = null;
    // What the server put in the pickers, to put back on discard without asking it again.
    var pickers = Array.prototype.map.call(form.querySelectorAll(".picker .chosen, .picker select"),
      function (el) { return { el: el, html: el.innerHTML }; });
    var initial = valuesOf(form);

    // Keeps the form's values unless they are what the draft already holds or, with no
    // draft yet, what the server gave: opening a form and reading it makes no draft. A form
    // sent back with errors holds the user's own values, so ``always`` keeps those.
    function save(always) {
      clearTimeout(timer);
      timer = null;
      var values = valuesOf(form);
      var draft = read(localStorage, key);
      if (draft ? same(draft.values, values) : !always && same(initial, values)) { return; }
      write(localStorage, key, { savedAt: Date.now(), base: base, values: values });
    }
    function saveSoon() {
      clearTimeout(timer);
      timer = setTimeout(save, SAVE_DELAY_MS);
    }

    form.addEventListener("input", saveSoon);
    form.addEventListener("change", saveSoon);
    // A pick (htmx renders the chosen list) or a village search (new options) changes
    // values without an input event.
    form.addEventListener("htmx:afterSettle", saveSoon);
    form.addEventListener("submit", function () {
      save(true);
      write(sessionStorage, PENDING, { key: key, visit: form.getAttribute("data-draft-visit") });
    });
    flushCurrent = function () { if (timer) { save(); } };

    if (notice) {
      resetNotice(notice);
      notice.querySelector("[data-draft-discard]").addEventListener("click", function () {
        clearTimeout(timer);
        timer = null;
        remove(localStorage, key);
        pickers.forEach(function (p) { p.el.innerHTML = p.html; });
        form.reset();
        Array.prototype.forEach.call(form.querySelectorAll('.picker input[type="search"]'),
          function (el) { el.value = ""; });
        notice.hidden = true;
      });
    }

    if (form.getAttribute("data-draft-fresh") !== "true") {  // 422: the posted values stay
      save(true);
      return;
    }
    var draft = read(localStorage, key);
    if (isExpired(draft) || !draft.values) { return; }
    if (draft.base !== base) {  // an edit whose visit was changed since the draft began
      remove(localStorage, key);
      showNotice(notice, "[data-draft-stale]", draft.savedAt);
      return;
    }
    restoreValues(form, draft.values);
    showNotice(notice, "[data-draft-restored]", draft.savedAt);
  }

  // The page after a submit: clear the submitted draft if the server confirmed the save.
  function settlePending(root) {
    var pending = read(sessionStorage, PENDING);
    if (!pending) { return; }
    remove(sessionStorage, PENDING);
    var saved = root.querySelector("[data-draft-saved]");
    if (saved && (!pending.visit || pending.visit === saved.getAttribute("data-draft-saved"))) {
      remove(localStorage, pending.key);
    }
  }

  // Runs for the first page and for every page htmx swaps in (boosted links and forms,
  // history): only for whole pages, which contain <main>, not for small fragments.
  function startPage(root) {
    var main = root.matches && root.matches("main") ? root : root.querySelector && root.querySelector("main");
    if (!main || (started && started.has(main))) { return; }
    if (started) { started.add(main); }
    settlePending(main);
    sweepExpired();
    Array.prototype.forEach.call(main.querySelectorAll("form[data-draft-form]"), startDraft);
  }

  document.addEventListener("htmx:load", function (event) { startPage(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.htmx) { startPage(document.body); }  // htmx, when present, starts it (htmx:load)
  });
  // The browser may be closed or the tab killed without warning: keep what is typed now.
  window.addEventListener("pagehide", function () { if (flushCurrent) { flushCurrent(); } });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && flushCurrent) { flushCurrent(); }
  });
})();
