// The process designer's live check (templates/designer/edit.html): while the admin types, the
// TOML is sent to the same loader the save uses, and the message at the field and the diagram
// follow. Without JavaScript the "Kontrollér" button does the same with a plain POST.
(function () {
  "use strict";
  var form = document.getElementById("designer-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var source = document.getElementById("source");
  var message = document.getElementById("source-fejl");
  var diagram = document.getElementById("designer-diagram");
  var group = source.closest(".form-group");
  var timer = null;
  var latest = 0;

  function show(result) {
    message.textContent = result.message;
    group.classList.toggle("form-error", !result.valid);
    if (result.valid) {
      source.removeAttribute("aria-invalid");
      source.setAttribute("aria-describedby", "source-hint");
      diagram.innerHTML = '<figure class="diagram">' + result.svg + "</figure>";
    } else {
      source.setAttribute("aria-invalid", "true");
      source.setAttribute("aria-describedby", "source-hint source-fejl");
    }
  }

  function check() {
    var sent = ++latest;
    var body = new FormData(form);
    body.delete("handling");
    fetch(form.getAttribute("data-check-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json();
    }).then(function (result) {
      if (sent === latest) { show(result); }
    }).catch(function () { /* the buttons still check and save without the live view */ });
  }

  source.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 600);
  });
})();
