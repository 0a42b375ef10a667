/* Assessment entry grids (issue 3 §2): spreadsheet keys, paste from Excel, autosave.
 *
 * No inline handlers: the page carries its data in data-* attributes and in the JSON block
 * #grid-config (messages, limits, comment bank, save URL). Every edit is validated here with the
 * service's own wording, then saved in batches through one JSON endpoint; the server checks again
 * and stores all edits of a batch or none. Each versioned row (mark or facts) travels with the
 * version the page knows, so a concurrent change is refused instead of overwritten.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-grid]");
  var configNode = document.getElementById("grid-config");
  if (!root || !configNode) return;
  var config = JSON.parse(configNode.textContent);
  var table = root.querySelector("table.grid");
  if (!config.editable || !table || !table.tBodies.length) return;

  var M = config.messages;
  var SAVE_DELAY = 400;
  var RETRY_DELAY = 5000;
  var SAVED_FLASH = 1500;
  var CODE = /#([0-9A-Za-z\u00C0-\u1EF9_.\-]{1,20})/g;
  var ARROWS = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };

  var sheet = table.dataset.sheet;
  var period = table.dataset.period;
  var statusNode = document.querySelector(".grid-status");
  var messageList = document.querySelector(".grid-messages");

  var grid = []; // grid[r][c]: the editable cells, row by row
  var info = new Map(); // cell -> {enrolment, key, field, rowKey, r, c, name, label, saved, good}
  var byId = new Map(); // "enrolment|key|field" -> cell
  var versions = new Map(); // rowKey -> version the page knows
  var pending = new Set(); // valid edits waiting to be sent
  var problems = new Map(); // cell -> message (refused by the server, or invalid)
  var inflight = null; // {cells, values}
  var timer = null;
  var tabStart = null; // column where a run of Tab started (Enter returns to it, as in Excel)

  var tip = document.createElement("div");
  tip.className = "grid-tip";
  tip.setAttribute("role", "alert");
  tip.hidden = true;
  document.body.appendChild(tip);
  var tipTimer = null;

  function fmt(template, params) {
    return template.replace(/%\((\w+)\)s/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }

  function rowKeyOf(enrolment, key) {
    return sheet === "facts" ? enrolment + "|facts" : enrolment + "|" + key;
  }

  Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
    var enrolment = parseInt(tr.dataset.enrolment, 10);
    if (!enrolment) return;
    var name = tr.querySelector(".name").textContent.trim();
    var line = [];
    tr.querySelectorAll("[data-cell]").forEach(function (cell) {
      var key = cell.dataset.key;
      var rowKey = rowKeyOf(enrolment, key);
      var label = cell.getAttribute("aria-label") || "";
      versions.set(rowKey, parseInt(cell.dataset.version, 10) || 0);
      info.set(cell, {
        enrolment: enrolment, key: key, field: cell.dataset.field, rowKey: rowKey,
        r: grid.length, c: line.length, name: name, label: label.slice(name.length + 2),
        saved: cell.value, good: cell.value
      });
      byId.set(enrolment + "|" + key + "|" + cell.dataset.field, cell);
      line.push(cell);
    });
    grid.push(line);
  });

  /* ---------- validation (mirrors hocba.assessment.cells) ---------- */

  function ok(value) { return { ok: true, value: value }; }
  function bad(message) { return { ok: false, message: message }; }

  function expand(cell, text) {
    var entries = (config.bank || {})[cell.dataset.key] || {};
    return text.replace(CODE, function (whole, code) {
      var found = entries[code.toUpperCase()];
      return found === undefined ? whole : found;
    });
  }

  function check(cell, raw) {
    var kind = cell.dataset.kind;
    var text = String(raw == null ? "" : raw).normalize("NFC").trim();
    var upper = text.toUpperCase();
    if (kind === "level") {
      return ["", "T", "H", "C"].indexOf(upper) >= 0 ? ok(upper) : bad(fmt(M.subjectLevel, { v: text }));
    }
    if (kind === "clevel") {
      if (upper === "D") upper = "Đ";
      return ["", "T", "Đ", "C"].indexOf(upper) >= 0 ? ok(upper) : bad(fmt(M.competencyLevel, { v: text }));
    }
    if (kind === "score") {
      if (text === "") return ok("");
      if (!/^\d+$/.test(text)) return bad(fmt(M.scoreNotInteger, { v: text }));
      var score = parseInt(text, 10);
      if (score < config.scoreMin || score > config.scoreMax) {
        return bad(fmt(M.scoreRange, { v: score, lo: config.scoreMin }));
      }
      return ok(String(score));
    }
    if (kind === "comment") {
      text = expand(cell, text);
      if (text.length > config.commentMax) {
        return bad(fmt(M.commentLength, { n: text.length, max: config.commentMax }));
      }
      return ok(text);
    }
    return checkFact(cell, text);
  }

  function checkFact(cell, text) {
    if (text === "") return ok("");
    var limits = config.factLimits[cell.dataset.key];
    var number = text.replace(",", ".");
    if (!/^\d+(\.\d+)?$/.test(number)) return bad(fmt(M.notNumber, { v: text }));
    var value = parseFloat(number);
    if (limits[2] && value !== Math.floor(value)) return bad(M.daysInteger);
    if (value < limits[0] || value > limits[1]) {
      return bad(fmt(M.factRange, { v: text, lo: limits[0], hi: limits[1] }));
    }
    return ok(text.replace(".", ","));
  }

  /* ---------- cell states and messages ---------- */

  function setState(cell, name, message) {
    cell.classList.remove("is-pending", "is-saving", "is-saved", "is-error", "is-conflict");
    if (name) cell.classList.add("is-" + name);
    if (message) {
      cell.title = message;
      cell.setAttribute("aria-invalid", "true");
      problems.set(cell, message);
    } else {
      cell.removeAttribute("title");
      cell.removeAttribute("aria-invalid");
      problems.delete(cell);
    }
    renderProblems();
  }

  function renderProblems() {
    messageList.textContent = "";
    grid.forEach(function (line) {
      line.forEach(function (cell) {
        if (!problems.has(cell)) return;
        var data = info.get(cell);
        var item = document.createElement("li");
        var link = document.createElement("button");
        link.type = "button";
        link.className = "link";
        link.dataset.r = data.r;
        link.dataset.c = data.c;
        link.textContent = data.name + " · " + data.label;
        item.appendChild(link);
        item.appendChild(document.createTextNode(": " + problems.get(cell)));
        if (cell.classList.contains("is-conflict")) item.className = "conflict";
        messageList.appendChild(item);
      });
    });
  }

  messageList.addEventListener("click", function (event) {
    var link = event.target.closest("button[data-r]");
    if (link) focusCell(grid[+link.dataset.r][+link.dataset.c]);
  });

  function status(text, state) {
    statusNode.textContent = text;
    statusNode.dataset.state = state;
  }

  function showTip(cell, message) {
    var box = cell.getBoundingClientRect();
    tip.textContent = message;
    tip.hidden = false;
    var left = Math.max(8, Math.min(box.left, window.innerWidth - tip.offsetWidth - 8));
    var top = box.bottom + 4;
    if (top + tip.offsetHeight > window.innerHeight - 8) top = box.top - tip.offsetHeight - 4;
    tip.style.left = left + "px";
    tip.style.top = top + "px";
    clearTimeout(tipTimer);
    tipTimer = setTimeout(hideTip, 6000);
  }

  function hideTip() {
    tip.hidden = true;
  }

  function refuse(cell, message) {
    cell.classList.add("is-refused");
    setTimeout(function () { cell.classList.remove("is-refused"); }, 1200);
    showTip(cell, message);
  }

  /* ---------- editing ---------- */

  function isInflight(cell) {
    return inflight !== null && inflight.cells.indexOf(cell) >= 0;
  }

  function edited(cell, immediate) {
    var data = info.get(cell);
    var result = check(cell, cell.value);
    if (!result.ok) {
      pending.delete(cell);
      setState(cell, "error", result.message);
      showTip(cell, result.message);
      return;
    }
    if (cell.value !== result.value) cell.value = result.value;
    data.good = result.value;
    if (result.value === data.saved && !isInflight(cell)) {
      pending.delete(cell);
      setState(cell, null);
    } else {
      pending.add(cell);
      setState(cell, "pending");
      if (!inflight) status(M.unsaved, "pending");
    }
    schedule(immediate ? 0 : SAVE_DELAY);
  }

  function revert(cell) {
    var data = info.get(cell);
    cell.value = data.saved;
    data.good = data.saved;
    pending.delete(cell);
    setState(cell, null);
    hideTip();
    autosize(cell);
    if (cell.dataset.kind !== "comment") cell.select();
  }

  // A printable key in a level, score or fact cell. Returns true when the key was handled here
  // (accepted or refused); false lets the browser insert it (facts: so the cell stays editable
  // as text and is checked when left).
  function typeChar(cell, ch) {
    var kind = cell.dataset.kind;
    var result;
    if (kind === "level" || kind === "clevel") {
      result = check(cell, ch);
      if (!result.ok) return refuse(cell, result.message) || true;
      cell.value = result.value;
      cell.select();
      return edited(cell) || true;
    }
    var next = cell.value.slice(0, cell.selectionStart) + ch + cell.value.slice(cell.selectionEnd);
    if (kind === "score") {
      result = check(cell, next);
      if (!result.ok) return refuse(cell, result.message) || true;
      cell.value = next;
      cell.setSelectionRange(next.length, next.length);
      return edited(cell) || true;
    }
    var allowed = kind === "integer" ? /^\d*$/ : /^\d*([.,]\d*)?$/;
    if (allowed.test(next)) {
      cell.classList.add("is-pending");
      return false;
    }
    refuse(cell, kind === "integer" && /[.,]/.test(ch) ? M.daysInteger : fmt(M.notNumber, { v: next }));
    return true;
  }

  /* ---------- moving around ---------- */

  function focusCell(cell) {
    if (!cell) return;
    cell.focus();
    cell.scrollIntoView({ block: "nearest", inline: "nearest" });
    if (cell.dataset.kind === "comment") {
      cell.setSelectionRange(cell.value.length, cell.value.length);
    } else {
      cell.select();
    }
  }

  function moveTo(r, c) {
    if (r < 0 || r >= grid.length || !grid[r].length) return;
    focusCell(grid[r][Math.max(0, Math.min(c, grid[r].length - 1))]);
  }

  function moveBy(cell, dr, dc) {
    var data = info.get(cell);
    moveTo(data.r + dr, data.c + dc);
  }

  function tab(cell, backwards) {
    var data = info.get(cell);
    if (tabStart === null) tabStart = data.c;
    var r = data.r;
    var c = data.c + (backwards ? -1 : 1);
    if (c >= grid[r].length) { r += 1; c = 0; tabStart = 0; }
    if (c < 0) { r -= 1; c = r >= 0 ? grid[r].length - 1 : 0; tabStart = null; }
    moveTo(r, c);
  }

  function enter(cell, up) {
    var data = info.get(cell);
    var column = tabStart === null ? data.c : tabStart;
    tabStart = null;
    moveTo(data.r + (up ? -1 : 1), column);
  }

  function atTextEdge(cell, key) {
    if (cell.selectionStart !== cell.selectionEnd) return false;
    if (key === "ArrowUp") return cell.value.lastIndexOf("\n", cell.selectionStart - 1) < 0;
    if (key === "ArrowDown") return cell.value.indexOf("\n", cell.selectionEnd) < 0;
    return false;
  }

  function insertNewline(cell) {
    var start = cell.selectionStart;
    cell.value = cell.value.slice(0, start) + "\n" + cell.value.slice(cell.selectionEnd);
    cell.setSelectionRange(start + 1, start + 1);
    autosize(cell);
  }

  table.addEventListener("keydown", function (event) {
    var cell = event.target.closest && event.target.closest("[data-cell]");
    if (!cell || event.isComposing) return;
    var kind = cell.dataset.kind;
    var key = event.key;
    hideTip();
    if (key === "Tab") {
      event.preventDefault();
      return tab(cell, event.shiftKey);
    }
    if (key === "Escape") {
      event.preventDefault();
      return revert(cell);
    }
    if (key === "Enter") {
      event.preventDefault();
      if (kind === "comment" && (event.shiftKey || event.altKey)) return insertNewline(cell);
      return enter(cell, event.shiftKey);
    }
    if (ARROWS[key]) {
      if (kind === "comment" && !event.altKey) {
        var wordJump = event.ctrlKey && (key === "ArrowLeft" || key === "ArrowRight");
        var vertical = key === "ArrowUp" || key === "ArrowDown";
        if (wordJump || !vertical || !(event.ctrlKey || atTextEdge(cell, key))) return;
      }
      event.preventDefault();
      tabStart = null;
      return moveBy(cell, ARROWS[key][0], ARROWS[key][1]);
    }
    if (kind === "comment" || event.ctrlKey || event.metaKey || event.altKey) return;
    if ((key === "Delete" || key === "Backspace") && (kind === "level" || kind === "clevel")) {
      event.preventDefault();
      cell.value = "";
      return edited(cell);
    }
    if (key.length === 1 && typeChar(cell, key)) event.preventDefault();
  });

  // Input that bypassed keydown (IME, phone keyboards, drag and drop, autocorrect).
  table.addEventListener("input", function (event) {
    var cell = event.target.closest("[data-cell]");
    if (!cell) return;
    var kind = cell.dataset.kind;
    var data = info.get(cell);
    if (kind === "comment") return autosize(cell);
    if (kind === "number" || kind === "integer") return cell.classList.add("is-pending");
    var typed = kind === "score" ? cell.value : cell.value.trim().slice(-1);
    var result = check(cell, typed);
    if (!result.ok) {
      cell.value = data.good;
      return refuse(cell, result.message);
    }
    cell.value = result.value;
    edited(cell);
  });

  // Comments and facts are checked and queued when the cell is left (comments expand #CODE).
  table.addEventListener("focusout", function (event) {
    var cell = event.target.closest("[data-cell]");
    if (!cell) return;
    if (cell.value === info.get(cell).good) {
      if (!pending.has(cell)) cell.classList.remove("is-pending");
      return;
    }
    edited(cell);
    autosize(cell);
  });

  table.addEventListener("focusin", function (event) {
    var cell = event.target.closest("[data-cell]");
    if (!cell) return;
    if (cell.dataset.kind !== "comment") return cell.select();
    // A one-line comment opens as a larger box; near the right edge it opens to the left.
    var box = cell.parentNode.getBoundingClientRect();
    var area = root.getBoundingClientRect();
    cell.parentNode.classList.toggle("opens-left", box.left + 360 > area.right);
  });

  table.addEventListener("mousedown", function () {
    tabStart = null;
    hideTip();
  });

  window.addEventListener("scroll", hideTip, { passive: true });
  root.addEventListener("scroll", hideTip, { passive: true });

  /* ---------- paste a block copied from Excel ---------- */

  function parseBlock(text) {
    // Tab-separated rows; Excel quotes cells holding tabs, newlines or quotes.
    var rows = [[]];
    var field = "";
    var i = 0;
    var quoted = false;
    text = text.replace(/\r\n?/g, "\n").replace(/\n$/, "");
    while (i < text.length) {
      var ch = text[i];
      if (quoted) {
        if (ch === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
        if (ch === '"') { quoted = false; i += 1; continue; }
        field += ch;
      } else if (ch === '"' && field === "") {
        quoted = true;
      } else if (ch === "\t") {
        rows[rows.length - 1].push(field);
        field = "";
      } else if (ch === "\n") {
        rows[rows.length - 1].push(field);
        rows.push([]);
        field = "";
      } else {
        field += ch;
      }
      i += 1;
    }
    rows[rows.length - 1].push(field);
    return rows;
  }

  function paste(cell, text) {
    var start = info.get(cell);
    var block = parseBlock(text);
    var targets = [];
    var errors = [];
    var clipped = 0;
    block.forEach(function (values, i) {
      var line = grid[start.r + i];
      values.forEach(function (value, j) {
        var target = line && line[start.c + j];
        if (!target) { clipped += 1; return; }
        var result = check(target, value);
        if (result.ok) {
          targets.push([target, result.value]);
        } else {
          var data = info.get(target);
          errors.push(fmt(M.pasteCell, { row: data.r + 1, column: data.label, message: result.message }));
        }
      });
    });
    if (errors.length) {
      refuse(cell, M.pasteRefused + " " + errors.slice(0, 3).join(" "));
      return;
    }
    targets.forEach(function (pair) {
      pair[0].value = pair[1];
      autosize(pair[0]);
      edited(pair[0], true);
    });
    if (clipped) showTip(cell, fmt(M.pasteClipped, { n: clipped }));
  }

  table.addEventListener("paste", function (event) {
    var cell = event.target.closest("[data-cell]");
    var data = event.clipboardData || window.clipboardData;
    if (!cell || !data) return;
    var text = data.getData("text/plain") || data.getData("text") || "";
    var single = text.replace(/(\r\n|\n|\r)$/, ""); // Excel ends a copied cell with a newline
    event.preventDefault();
    if (cell.dataset.kind !== "comment" || /[\t\n\r]/.test(single)) return paste(cell, text);
    // One value into a comment: insert it at the caret; checked when the cell is left.
    var start = cell.selectionStart;
    cell.value = cell.value.slice(0, start) + single + cell.value.slice(cell.selectionEnd);
    cell.setSelectionRange(start + single.length, start + single.length);
    autosize(cell);
  });

  /* ---------- saving ---------- */

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return root.dataset.csrf || (match ? decodeURIComponent(match[1]) : "");
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(flush, delay);
  }

  function now() {
    var d = new Date();
    return [d.getHours(), d.getMinutes(), d.getSeconds()]
      .map(function (n) { return String(n).padStart(2, "0"); }).join(":");
  }

  function flush() {
    timer = null;
    if (inflight || pending.size === 0) return;
    var batch = [];
    grid.forEach(function (line) {
      line.forEach(function (cell) { if (pending.has(cell)) batch.push(cell); });
    });
    pending.clear();
    var edits = batch.map(function (cell) {
      var data = info.get(cell);
      return {
        enrolment: data.enrolment, sheet: sheet, key: data.key, period: period,
        field: data.field, value: cell.value, version: versions.get(data.rowKey)
      };
    });
    inflight = { cells: batch, values: batch.map(function (cell) { return cell.value; }) };
    batch.forEach(function (cell) { setState(cell, "saving"); });
    status(M.saving, "saving");
    fetch(config.saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken(),
        "X-Requested-With": "XMLHttpRequest"
      },
      body: JSON.stringify({ edits: edits })
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        finish(response.status, body);
      });
    }, function () {
      finish(0, null);
    });
  }

  function requeue(cells, values) {
    cells.forEach(function (cell, i) {
      if (cell.value === values[i] && !problems.has(cell)) {
        pending.add(cell);
        setState(cell, "pending");
      }
    });
  }

  function finish(code, body) {
    var sent = inflight;
    inflight = null;
    if (code === 200 && body && body.saved) {
      saved(sent, body);
    } else if ((code === 400 || code === 403) && body && body.errors) {
      rejected(sent, body.errors);
    } else if (code === 401) {
      requeue(sent.cells, sent.values);
      status(fmt(M.error, { message: M.expired }), "error");
      return;
    } else {
      requeue(sent.cells, sent.values);
      status(fmt(M.error, { message: M.offline }), "error");
      schedule(code === 409 ? SAVE_DELAY * 2 : RETRY_DELAY);
      return;
    }
    if (pending.size) schedule(SAVE_DELAY);
  }

  function saved(sent, body) {
    body.saved.forEach(function (item) {
      var rowKey = rowKeyOf(item.enrolment, item.key);
      versions.set(rowKey, Math.max(versions.get(rowKey) || 0, item.version));
      var cell = byId.get(item.enrolment + "|" + item.key + "|" + item.field);
      if (cell) info.get(cell).saved = item.value;
    });
    sent.cells.forEach(function (cell, i) {
      var data = info.get(cell);
      if (cell.value !== sent.values[i] || pending.has(cell)) return; // edited again meanwhile
      cell.value = data.saved;
      data.good = data.saved;
      autosize(cell);
      setState(cell, "saved");
      setTimeout(function () { cell.classList.remove("is-saved"); }, SAVED_FLASH);
    });
    Object.keys(body.year_end || {}).forEach(function (enrolment) {
      var node = table.querySelector('[data-year-end="' + enrolment + '"]');
      if (!node) return;
      var result = body.year_end[enrolment];
      node.textContent = result.text;
      node.title = (result.result ? result.reasons : result.missing).join("; ");
      node.classList.toggle("incomplete", !result.result);
    });
    if (problems.size) {
      status(fmt(M.error, { message: fmt(M.refusedCells, { n: problems.size }) }), "error");
    } else {
      status(fmt(M.savedAt, { time: now() }), "saved");
    }
  }

  function rejected(sent, errors) {
    var refusedCells = new Set();
    errors.forEach(function (error) {
      var cell = error.index === null || error.index === undefined ? null : sent.cells[error.index];
      if (!cell) return;
      refusedCells.add(cell);
      setState(cell, error.conflict ? "conflict" : "error", error.message);
    });
    if (!refusedCells.size) {
      // A refusal of the whole batch (e.g. no right on the class): every cell shows it.
      sent.cells.forEach(function (cell) {
        refusedCells.add(cell);
        setState(cell, "error", errors[0] ? errors[0].message : "");
      });
    }
    var shown = refusedCells.has(document.activeElement) ? document.activeElement : sent.cells.filter(function (cell) {
      return refusedCells.has(cell);
    })[0];
    if (shown) showTip(shown, problems.get(shown) || "");
    var others = sent.cells.filter(function (cell) { return !refusedCells.has(cell); });
    requeue(others, others.map(function (cell) { return sent.values[sent.cells.indexOf(cell)]; }));
    status(fmt(M.error, { message: fmt(M.refusedCells, { n: problems.size }) }), "error");
  }

  /* ---------- comment cells grow with their text (subject grid) ---------- */

  function autosize(cell) {
    if (!cell.classList.contains("autosize")) return;
    cell.style.height = "auto";
    cell.style.height = cell.scrollHeight + "px";
  }

  var growing = table.querySelectorAll("textarea.autosize");
  var heights = Array.prototype.map.call(growing, function (cell) { return cell.scrollHeight; });
  Array.prototype.forEach.call(growing, function (cell, i) { cell.style.height = heights[i] + "px"; });

  /* ---------- never leave with unsaved edits ---------- */

  function hasUnsaved() {
    if (pending.size || inflight || problems.size) return true;
    return grid.some(function (line) {
      return line.some(function (cell) { return cell.value !== info.get(cell).saved; });
    });
  }

  window.addEventListener("beforeunload", function (event) {
    if (!hasUnsaved()) return;
    event.preventDefault();
    event.returnValue = "";
  });

  root.classList.add("is-ready");
})();
