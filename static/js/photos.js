/*
 * Kepai Station: photos made small on the phone, before they travel.
 *
 * The station keeps every photo at most 1600 px on its long side (app/core/attachments.py
 * re-encodes and checks whatever it receives: this script only saves bytes and time on a
 * slow link). So a JPEG or PNG chosen in a form that sends files
 * (form[enctype="multipart/form-data"]), when it is larger than that or heavy, is drawn
 * at most 1600 px on a canvas and encoded as JPEG at quality 0.85; the chosen files are
 * replaced (DataTransfer) before the form is sent. The original's EXIF block is carried
 * over (the server reads the photo's date, time and position from it) with its
 * orientation set upright, as the browser already turned the picture.
 * Whatever the browser cannot do (no canvas, no DataTransfer, a format it cannot decode,
 * HEIC on most browsers, PDFs) leaves the original as chosen, silently.
 *
 * Before sending, the files are checked against what the station accepts: each file at
 * most data-max-file bytes (on the input, when it says) and all of them together below
 * the request cap (data-max-request on <main>); an over-limit choice is refused on the
 * page, by name, instead of a 413 after a long upload.
 */
(function () {
  "use strict";

  var MAX_SIDE = 1600;
  var QUALITY = 0.85;
  var LIGHT_BYTES = 700 * 1024;     // a photo already within 1600 px and this light is sent as is
  var MAX_PIXELS = 80 * 1000 * 1000;  // the server refuses more, with its reason: sent as is
  var FORM_MARGIN = 256 * 1024;     // the form's other fields, within the request cap
  var HEAD_BYTES = 256 * 1024;      // where a JPEG's EXIF and size are found
  var jobs = typeof WeakMap === "function" ? new WeakMap() : null;  // input -> {promise, generation}

  function canShrink() {
    try {
      return !!(jobs && window.Promise && window.DataTransfer && new DataTransfer().items &&
        HTMLCanvasElement.prototype.toBlob && window.Blob && Blob.prototype.arrayBuffer && window.File);
    } catch (e) {
      return false;
    }
  }

  function text(key, values) {
    var texts = document.getElementById("kepai-texts");
    var el = texts && texts.content && texts.content.querySelector('[data-key="' + key + '"]');
    var result = el ? el.textContent.trim() : "";
    Object.keys(values || {}).forEach(function (name) {
      result = result.replace("{" + name + "}", values[name]);
    });
    return result;
  }

  // "33.6 MB", as app/core/files.py size_text writes sizes.
  function sizeText(bytes) {
    if (bytes >= 1048576) { return (bytes / 1048576).toPrecision(3).replace(/\.?0+$/, "") + " MB"; }
    if (bytes >= 1024) { return (bytes / 1024).toPrecision(3).replace(/\.?0+$/, "") + " KB"; }
    return bytes + " B";
  }

  // ---- what the file's first bytes say: size, and for a JPEG its EXIF block ----

  function jpegHead(bytes) {
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    var head = { exif: null, orientation: 1, width: 0, height: 0 };
    if (view.byteLength < 4 || view.getUint16(0) !== 0xFFD8) { return null; }
    var at = 2;
    while (at + 4 <= view.byteLength) {
      if (view.getUint8(at) !== 0xFF) { break; }
      var marker = view.getUint8(at + 1);
      if (marker === 0xFF) { at += 1; continue; }  // fill byte
      if (marker === 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker === 0x01) { at += 2; continue; }
      var length = view.getUint16(at + 2);
      if (marker === 0xE1 && !head.exif && at + 2 + length <= view.byteLength &&
          view.getUint32(at + 4) === 0x45786966 && view.getUint16(at + 8) === 0) {  // "Exif\0\0"
        head.exif = bytes.slice(at, at + 2 + length);
        head.orientation = orientationOf(head.exif);
      }
      if (marker >= 0xC0 && marker <= 0xCF && marker !== 0xC4 && marker !== 0xC8 && marker !== 0xCC) {
        if (at + 9 <= view.byteLength) {
          head.height = view.getUint16(at + 5);
          head.width = view.getUint16(at + 7);
        }
        break;
      }
      if (marker === 0xDA) { break; }  // the picture itself: no size found
      at += 2 + length;
    }
    return head;
  }

  // The offset of IFD0's orientation value (tag 0x0112) in an APP1 Exif segment, or -1.
  function orientationAt(segment) {
    try {
      var view = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
      var tiff = 10;  // FF E1, length, "Exif\0\0"
      var little = view.getUint16(tiff) === 0x4949;
      var ifd = tiff + view.getUint32(tiff + 4, little);
      var count = view.getUint16(ifd, little);
      for (var i = 0; i < count; i++) {
        var entry = ifd + 2 + i * 12;
        if (view.getUint16(entry, little) === 0x0112) { return { at: entry + 8, little: little }; }
      }
    } catch (e) { /* a damaged EXIF block: no orientation */ }
    return null;
  }

  function orientationOf(segment) {
    var where = orientationAt(segment);
    if (!where) { return 1; }
    var view = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
    var value = view.getUint16(where.at, where.little);
    return value >= 1 && value <= 8 ? value : 1;
  }

  function uprightExif(segment) {
    var copy = segment.slice();
    var where = orientationAt(copy);
    if (where) { new DataView(copy.buffer).setUint16(where.at, 1, where.little); }
    return copy;
  }

  function pngHead(bytes) {
    if (bytes.length < 24 || bytes[0] !== 0x89 || bytes[1] !== 0x50) { return null; }
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { exif: null, orientation: 1, width: view.getUint32(16), height: view.getUint32(20) };
  }

  // ---- decoding and drawing ----

  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () {
        return decodeWithImage(file);
      });
    }
    return decodeWithImage(file);
  }

  function decodeWithImage(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("not decoded")); };
      img.src = url;
    });
  }

  function toBlob(canvas) {
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (blob) { if (blob) { resolve(blob); } else { reject(new Error("no blob")); } },
        "image/jpeg", QUALITY);
    });
  }

  function jpegName(name) {
    return (name || "photo").replace(/\.(jpe?g|png)$/i, "") + ".jpg";
  }

  // The file to send instead of ``file``: smaller, or the very same when it cannot be or
  // need not be.
  function shrink(file) {
    if (!/^image\/(jpeg|png)$/i.test(file.type)) { return Promise.resolve(file); }
    var head = null;
    return file.slice(0, HEAD_BYTES).arrayBuffer().then(function (buffer) {
      var bytes = new Uint8Array(buffer);
      head = /png/i.test(file.type) ? pngHead(bytes) : jpegHead(bytes);
      if (head && head.width && head.height) {
        if (head.width * head.height > MAX_PIXELS) { return null; }
        if (Math.max(head.width, head.height) <= MAX_SIDE && file.size <= LIGHT_BYTES) { return null; }
      }
      return decode(file);
    }).then(function (picture) {
      if (!picture) { return file; }
      var width = picture.width || picture.naturalWidth;
      var height = picture.height || picture.naturalHeight;
      var scale = Math.min(1, MAX_SIDE / Math.max(width, height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      var context = canvas.getContext("2d");
      context.fillStyle = "#fff";  // a PNG's transparent parts, on white
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.imageSmoothingEnabled = true;
      context.imageSmoothingQuality = "high";
      context.drawImage(picture, 0, 0, canvas.width, canvas.height);
      if (picture.close) { picture.close(); }
      return toBlob(canvas).then(function (blob) {
        var parts = [blob];
        if (head && head.exif) {
          // Did the browser turn the picture upright? A quarter turn swaps its sides; for
          // the other turns, a browser that honours EXIF orientation at all does.
          var turned = head.orientation >= 5 ?
            (width === head.height && height === head.width && width !== height) :
            !!(window.CSS && CSS.supports && CSS.supports("image-orientation", "from-image"));
          var exif = turned || head.orientation === 1 ? uprightExif(head.exif) : head.exif;
          parts = [blob.slice(0, 2), exif, blob.slice(2)];  // after the new file's SOI marker
        }
        var smaller = new Blob(parts, { type: "image/jpeg" });
        if (smaller.size >= file.size) { return file; }
        return new File([smaller], jpegName(file.name), { type: "image/jpeg", lastModified: file.lastModified });
      });
    }).catch(function () { return file; });
  }

  // ---- the forms ----

  function fieldOf(input) { return input.closest(".field") || input.parentNode; }

  function note(input, className, message) {
    var field = fieldOf(input);
    var old = field.querySelector("." + className.split(" ").join("."));
    if (old) { old.parentNode.removeChild(old); }
    if (!message) { return null; }
    var p = document.createElement("p");
    p.className = className;
    p.textContent = message;
    if (className === "error photo-error") { p.setAttribute("role", "alert"); }
    field.appendChild(p);
    return p;
  }

  function isUploadInput(el) {
    return el && el.tagName === "INPUT" && el.type === "file" && el.form &&
      (el.form.getAttribute("enctype") || "").toLowerCase() === "multipart/form-data";
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!isUploadInput(input)) { return; }
    note(input, "error photo-error", null);
    if (!canShrink() || !input.files || !input.files.length) { return; }
    var files = Array.prototype.slice.call(input.files);
    if (!files.some(function (f) { return /^image\/(jpeg|png)$/i.test(f.type); })) { return; }
    var previous = jobs.get(input);
    var job = { generation: (previous ? previous.generation : 0) + 1 };
    note(input, "hint photo-status", text("shrinking"));
    input.setAttribute("aria-busy", "true");
    job.promise = Promise.all(files.map(shrink)).then(function (results) {
      if (jobs.get(input) !== job) { return; }  // chosen again meanwhile: that choice wins
      if (results.some(function (f, i) { return f !== files[i]; })) {
        try {
          var transfer = new DataTransfer();
          results.forEach(function (f) { transfer.items.add(f); });
          input.files = transfer.files;
        } catch (e) { /* the originals stay chosen */ }
      }
    }).then(function () {
      if (jobs.get(input) === job) {
        jobs.delete(input);
        input.removeAttribute("aria-busy");
        note(input, "hint photo-status", null);
      }
    });
    jobs.set(input, job);
  });

  function uploadInputs(form) {
    return Array.prototype.filter.call(form.querySelectorAll('input[type="file"]'), function (input) {
      return input.files && input.files.length && !input.disabled;
    });
  }

  // What the station would refuse for its size, said on the page; true if something is.
  function refuseTooLarge(form) {
    var inputs = uploadInputs(form);
    var total = 0;
    var refused = false;
    inputs.forEach(function (input) {
      var limit = parseInt(input.getAttribute("data-max-file"), 10);
      var messages = [];
      Array.prototype.forEach.call(input.files, function (file) {
        total += file.size;
        if (limit && file.size > limit) {
          messages.push(text("file-too-large", { name: file.name, size: sizeText(file.size), limit: sizeText(limit) }));
        }
      });
      note(input, "error photo-error", messages.join(" ") || null);
      refused = refused || messages.length > 0;
    });
    var main = document.querySelector("main[data-max-request]");
    var cap = main ? parseInt(main.getAttribute("data-max-request"), 10) : 0;
    if (!refused && cap && inputs.length && total > cap - FORM_MARGIN) {
      note(inputs[0], "error photo-error",
        text("all-too-large", { size: sizeText(total), limit: sizeText(cap) }));
      refused = true;
    }
    if (refused) {
      var first = form.querySelector(".photo-error");
      if (first && first.scrollIntoView) { first.scrollIntoView({ block: "center" }); }
    }
    return refused;
  }

  // Before any other handler (htmx's, the draft's): wait for the photos being made smaller,
  // then send the form again with the same button; refuse what is too large.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.tagName !== "FORM" || (form.getAttribute("enctype") || "").toLowerCase() !== "multipart/form-data") {
      return;
    }
    var waiting = jobs ? uploadInputs(form).map(function (input) { return jobs.get(input); })
      .filter(Boolean).map(function (job) { return job.promise; }) : [];
    if (waiting.length && form.requestSubmit) {
      event.preventDefault();
      event.stopImmediatePropagation();
      var submitter = event.submitter && event.submitter.form === form ? event.submitter : null;
      if (submitter) { submitter.disabled = true; }
      Promise.all(waiting).then(function () {
        if (submitter) { submitter.disabled = false; }
        if (document.body.contains(form)) { form.requestSubmit(submitter || undefined); }
      });
      return;
    }
    if (refuseTooLarge(form)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
