// The `first` task's panel (uses serve/static/app.js).
"use strict";

$("first-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("first", null);
  try {
    const body = { model: $("first-model").value || null, texts: [$("first-text").value] };
    const answer = await (await api("/v1/first", body)).json();
    $("first-result").textContent = "starts with " + answer.letters[0];
  } catch (error) {
    showError("first", error);
  }
});
